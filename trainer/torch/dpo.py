"""DPO with PyTorch: the torch backend of `train.dpo` (trainer/dpo/torch.ts runs it).

    python3 trainer/torch/dpo.py ref   run.json   # reference log-probabilities -> run['refOut']
    python3 trainer/torch/dpo.py train run.json   # the training loop
    python3 trainer/torch/dpo.py check run.json   # loss and gradients of given micro-batches (tests)

`run.json` holds the resolved DpoRun of trainer/dpo/options.ts, `from` (a sluice.gpt/1 checkpoint
directory), `pairsDir` (pairs.json, tokens.bin, mask.bin: trainer/dpo/data.ts), `outDir` and
`stateDir`. Progress goes to stdout as JSON lines (`dpo`, `dpo-eval`, `info`, `checkpoint`,
`done`), diagnostics to stderr.

The losses are those of trainer/dpo/loss.ts (sigmoid = DPO, Rafailov et al. 2023; ipo = Azar et
al. 2023 eq. 17 on length-averaged log-probabilities, as TRL does; simpo = Meng, Xia & Chen 2024,
"SimPO: Simple Preference Optimization with a Reference-Free Reward", eq. 6:
-log sigmoid(beta/|y_w| log pi(y_w|x) - beta/|y_l| log pi(y_l|x) - gamma)), computed in float64
from per-sequence log-probabilities taken in float32 from the (bf16 on CUDA) logits.

On CUDA: bf16 autocast and torch.compile (where the installed torch has it), fused AdamW. On CPU:
float32, eager, deterministic: a run killed and restarted from its checkpoint continues with the
same losses, bit for bit.
"""
import copy
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import canonical_state, load_checkpoint, param_counts, write_safetensors  # noqa: E402
from loop import emit, grad_norm_and_clip, load_state, lr_at, make_optimizer, save_state, setup, write_model  # noqa: E402

M32 = 0xFFFFFFFF


def epoch_order(count, seed, epoch):
    """The micro-batch order of an epoch: trainer/dpo/data.ts `epochOrder`, bit for bit (mulberry32)."""
    out = list(range(count))
    s = (((((seed & M32) ^ 0x9E3779B9) * 2654435761) & M32) + epoch * 0x6D2B79F5) & M32

    def rand():
        nonlocal s
        s = (s + 0x6D2B79F5) & M32
        t = s
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t = t ^ ((t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32)
        return ((t ^ (t >> 14)) & M32) / 4294967296

    for i in range(count - 1, 0, -1):
        j = int(rand() * (i + 1))
        out[i], out[j] = out[j], out[i]
    return out


class PairSet:
    """pairs.json + tokens.bin + mask.bin (trainer/dpo/data.ts)."""

    def __init__(self, directory):
        with open(os.path.join(directory, 'pairs.json')) as f:
            self.header = json.load(f)
        if self.header.get('format') != 'sluice.dpo-pairs/1':
            raise ValueError(f'{directory}/pairs.json: format {self.header.get("format")!r}, expected sluice.dpo-pairs/1')
        self.tokens = np.fromfile(os.path.join(directory, 'tokens.bin'), dtype='<i4')
        self.mask = np.fromfile(os.path.join(directory, 'mask.bin'), dtype=np.uint8)
        if self.mask.size != self.tokens.size:
            raise ValueError(f'{directory}: {self.mask.size} mask entries for {self.tokens.size} tokens')
        self.pairs = self.header['pairs']
        self.max_tokens = self.header['maxTokens']

    def width(self, batch):
        """trainer/dpo/data.ts `batchWidth`."""
        longest = 2
        for i in batch:
            p = self.pairs[i]
            longest = max(longest, p['chosen'][1], p['rejected'][1])
        return min(self.max_tokens - 1, ((longest - 1 + 7) // 8) * 8)

    def batch(self, batch):
        """trainer/dpo/data.ts `pairBatch`: x, y, weight [2P, T] (chosen rows, then rejected), lengths, ref."""
        P, T = len(batch), self.width(batch)
        x = np.zeros((2 * P, T), dtype=np.int64)
        y = np.zeros((2 * P, T), dtype=np.int64)
        w = np.zeros((2 * P, T), dtype=np.float32)
        lc, lr_, rc, rr = [], [], [], []
        ref = self.header.get('ref')
        for r, i in enumerate(batch):
            p = self.pairs[i]
            for row, (off, n) in ((r, p['chosen']), (P + r, p['rejected'])):
                x[row, :n - 1] = self.tokens[off:off + n - 1]
                y[row, :n - 1] = self.tokens[off + 1:off + n]
                w[row, :n - 1] = self.mask[off + 1:off + n]
            lc.append(p['nChosen'])
            lr_.append(p['nRejected'])
            rc.append(ref['chosen'][i] if ref else float('nan'))
            rr.append(ref['rejected'][i] if ref else float('nan'))
        d = torch.float64
        return (torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(w), torch.tensor(lc, dtype=d), torch.tensor(lr_, dtype=d),
                torch.tensor(rc, dtype=d), torch.tensor(rr, dtype=d))


def seq_logps(model, x, y, w, autocast):
    """Summed log-probability of the weighted (response) targets of each row, float32 -> float64."""
    with autocast():
        logits = model(x)
    logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    return (logp * w).sum(-1).double()


def pair_losses(pc, pr, rc, rr, nc, nr, cfg):
    """Per-pair losses and rewards (float64): trainer/dpo/loss.ts `pairLosses`."""
    beta, kind = cfg['beta'], cfg['loss']
    if kind == 'sigmoid':
        z = beta * ((pc - pr) - (rc - rr))
        return -F.logsigmoid(z), beta * (pc - rc), beta * (pr - rr)
    if kind == 'ipo':
        h = (pc / nc - pr / nr) - (rc / nc - rr / nr)
        return (h - 1 / (2 * beta)) ** 2, beta * (pc / nc - rc / nc), beta * (pr / nr - rr / nr)
    if kind == 'simpo':
        z = beta * pc / nc - beta * pr / nr - cfg['gamma']
        return -F.logsigmoid(z), beta * pc / nc, beta * pr / nr
    raise ValueError(f'unknown loss {kind!r}')


class Totals:
    """trainer/dpo/loss.ts `RewardTotals`: sums of losses and rewards, ties count ½ in the accuracy."""

    def __init__(self):
        self.loss = self.chosen = self.rejected = self.correct = 0.0
        self.pairs = 0

    def add(self, loss, c, r):
        self.loss += float(loss.sum())
        self.chosen += float(c.sum())
        self.rejected += float(r.sum())
        self.correct += float((c > r).double().sum() + 0.5 * (c == r).double().sum())
        self.pairs += loss.numel()

    def summary(self):
        n = max(1, self.pairs)
        return {'loss': self.loss / n, 'chosenReward': self.chosen / n, 'rejectedReward': self.rejected / n,
                'rewardMargin': (self.chosen - self.rejected) / n, 'rewardAccuracy': self.correct / n}


def logps_of(model, pairs, batches, device, autocast):
    n = len(pairs.pairs)
    chosen, rejected = [float('nan')] * n, [float('nan')] * n
    with torch.no_grad():
        for batch in batches:
            x, y, w = pairs.batch(batch)[:3]
            s = seq_logps(model, x.to(device), y.to(device), w.to(device), autocast).cpu()
            P = len(batch)
            for r, i in enumerate(batch):
                chosen[i], rejected[i] = float(s[r]), float(s[P + r])
    return chosen, rejected


def cmd_ref(o):
    device, dtype_name, use_compile, autocast = setup(o)
    raw, _ = load_checkpoint(o['from'], device)
    model = torch.compile(raw) if use_compile else raw
    pairs = PairSet(o['pairsDir'])
    chosen, rejected = logps_of(model, pairs, pairs.header['train'] + pairs.header['heldoutBatches'], device, autocast)
    tmp = o['refOut'] + f'.tmp-{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump({'chosen': chosen, 'rejected': rejected, 'device': str(device), 'dtype': dtype_name}, f)
    os.replace(tmp, o['refOut'])


def evaluate(model, pairs, cfg, device, autocast):
    batches = pairs.header['heldoutBatches']
    if not batches:
        return None
    model.eval()
    tot = Totals()
    with torch.no_grad():
        for batch in batches:
            x, y, w, nc, nr, rc, rr = pairs.batch(batch)
            s = seq_logps(model, x.to(device), y.to(device), w.to(device), autocast).cpu()
            P = len(batch)
            tot.add(*pair_losses(s[:P], s[P:], rc, rr, nc, nr, cfg))
    model.train()
    return tot.summary()


def micro_step(model, pairs, batch, cfg, scale, device, autocast):
    """Forward + backward of one micro-batch; returns (per-pair losses, chosen rewards, rejected rewards, positions)."""
    x, y, w, nc, nr, rc, rr = pairs.batch(batch)
    s = seq_logps(model, x.to(device, non_blocking=True), y.to(device, non_blocking=True), w.to(device, non_blocking=True), autocast)
    P = len(batch)
    d = lambda t: t.to(device)  # noqa: E731
    loss, c, r = pair_losses(s[:P], s[P:], d(rc), d(rr), d(nc), d(nr), cfg)
    (loss.sum() * scale).backward()
    return loss.detach().cpu(), c.detach().cpu(), r.detach().cpu(), x.numel()


def cmd_check(o):
    """For each of `o['cases']` ({loss, gradsOut}): the loss and gradients (canonical names,
    [in, out], written to gradsOut) of `o['batches']` taken as one step, without an update."""
    device, _, _, autocast = setup(o)
    raw, _ = load_checkpoint(o['from'], device)
    raw.train()
    pairs = PairSet(o['pairsDir'])
    batches = o['batches']
    n = sum(len(b) for b in batches)
    for case in o['cases']:
        raw.zero_grad(set_to_none=True)
        tot = Totals()
        for batch in batches:
            loss, c, r, _ = micro_step(raw, pairs, batch, case['loss'], 1.0 / n, device, autocast)
            tot.add(loss, c, r)
        view = copy.deepcopy(raw)
        with torch.no_grad():
            for p, src in zip(view.parameters(), raw.parameters()):
                p.copy_(src.grad if src.grad is not None else torch.zeros_like(src))
        write_safetensors(case['gradsOut'], canonical_state(view))
        emit({'kind': 'check', 'case': case['loss']['loss'], **tot.summary()})


def fingerprint(o):
    keys = ['loss', 'optimizer', 'schedule', 'steps', 'gradAccum', 'seed', 'fingerprintId']
    return hashlib.sha256(json.dumps({k: o.get(k) for k in keys}, sort_keys=True).encode()).hexdigest()[:16]


def cmd_train(o):
    device, dtype_name, use_compile, autocast = setup(o)
    raw, meta = load_checkpoint(o['from'], device)
    raw.train()
    pairs = PairSet(o['pairsDir'])
    if not pairs.header.get('ref'):
        raise SystemExit(f'{o["pairsDir"]}/pairs.json has no reference log-probabilities')
    cfg = o['loss']
    opt, fused = make_optimizer(raw, o['optimizer'], device)
    train_batches = pairs.header['train']
    nb = len(train_batches)
    if nb == 0:
        raise SystemExit('train.dpo: no training pairs')
    state_path = os.path.join(o['stateDir'], 'dpo-state.pt')
    os.makedirs(o['stateDir'], exist_ok=True)
    os.makedirs(o['outDir'], exist_ok=True)
    fp = fingerprint(o)
    step = pos = epoch = n_pairs = tokens = 0
    history = []
    st = load_state(state_path, fp)
    if st is not None:
        raw.load_state_dict(st['model'])
        opt.load_state_dict(st['optim'])
        step, pos, epoch, n_pairs, tokens = st['step'], st['pos'], st['epoch'], st['pairs'], st['tokens']
        history = st['metrics']
    resumed = step
    for r in history:
        emit(r)
    model = torch.compile(raw) if use_compile else raw
    emit({'kind': 'info', 'device': str(device), 'deviceName': torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu',
          'torch': torch.__version__, 'dtype': dtype_name, 'compile': use_compile, 'fusedAdamW': fused,
          'params': param_counts(meta['model']), 'resumedFromStep': resumed, 'threads': torch.get_num_threads()})
    t_start = time.perf_counter()
    held = sum(len(b) for b in pairs.header['heldoutBatches'])

    def record(r):
        history.append(r)
        emit(r)

    def do_eval():
        t0 = time.perf_counter()
        f = evaluate(model, pairs, cfg, device, autocast)
        if f is not None:
            record({'kind': 'dpo-eval', 'step': step, **f, 'pairs': held, 'elapsedSeconds': time.perf_counter() - t_start})
        return time.perf_counter() - t0

    def checkpoint():
        save_state(state_path, {'fingerprint': fp, 'model': raw.state_dict(), 'optim': opt.state_dict(), 'step': step, 'pos': pos,
                                'epoch': epoch, 'pairs': n_pairs, 'tokens': tokens, 'metrics': history})
        emit({'kind': 'checkpoint', 'step': step, 'path': state_path})

    if step == 0:
        do_eval()
    order = epoch_order(nb, o['seed'], epoch)
    t_last, tok_last = time.perf_counter(), tokens
    steady = []
    warm = resumed + min(3, max(1, (o['steps'] - resumed) // 5))
    last_loss = next((r['loss'] for r in reversed(history) if r['kind'] == 'dpo'), float('nan'))
    while step < o['steps']:
        lr = lr_at(step, o)
        for g in opt.param_groups:
            g['lr'] = lr
        micro = []
        for _ in range(o['gradAccum']):
            if pos >= nb:
                pos, epoch = 0, epoch + 1
                order = epoch_order(nb, o['seed'], epoch)
            micro.append(train_batches[order[pos]])
            pos += 1
        step_pairs = sum(len(b) for b in micro)
        tot = Totals()
        for batch in micro:
            loss, c, r, n_pos = micro_step(model, pairs, batch, cfg, 1.0 / step_pairs, device, autocast)
            tot.add(loss, c, r)
            tokens += n_pos
        norm = float(grad_norm_and_clip(raw, o['optimizer']['gradClip']))
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        n_pairs += step_pairs
        s = tot.summary()
        last_loss = s['loss']
        if not math.isfinite(last_loss):
            raise SystemExit(f'train.dpo: loss became {last_loss} at step {step} (lr {lr}); lower optimizer.lr')
        if step % o['logEvery'] == 0 or step == o['steps']:
            now = time.perf_counter()
            tps = (tokens - tok_last) / max(now - t_last, 1e-9)
            if step > warm:
                steady.append((tokens - tok_last, now - t_last))
            record({'kind': 'dpo', 'step': step, **s, 'lr': lr, 'gradNorm': norm, 'pairs': n_pairs, 'tokens': tokens,
                    'tokensPerSecond': tps, 'elapsedSeconds': now - t_start})
            t_last, tok_last = now, tokens
        if step % o['evalEvery'] == 0 or step == o['steps']:
            t_last += do_eval()
        if step % o['checkpointEvery'] == 0 or step == o['steps']:
            t0 = time.perf_counter()
            checkpoint()
            t_last += time.perf_counter() - t0

    seconds = time.perf_counter() - t_start
    out = dict(meta)
    out.update({'backend': 'torch', 'step': meta.get('step', 0) + step, 'finalLoss': last_loss, 'valLoss': None, 'params': param_counts(meta['model'])})
    write_model(o['outDir'], canonical_state(raw), out)
    st_tok = sum(t for t, _ in steady)
    st_sec = sum(s for _, s in steady)
    tps = st_tok / st_sec if st_sec > 0 else tokens / max(seconds, 1e-9)
    emit({'kind': 'done', 'step': step, 'pairs': n_pairs, 'tokens': tokens, 'finalLoss': last_loss, 'seconds': seconds,
          'tokensPerSecond': tps, 'resumedFromStep': resumed})


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('ref', 'train', 'check'):
        raise SystemExit('usage: dpo.py ref|train|check run.json')
    with open(sys.argv[2]) as f:
        o = json.load(f)
    {'ref': cmd_ref, 'train': cmd_train, 'check': cmd_check}[sys.argv[1]](o)


if __name__ == '__main__':
    main()
