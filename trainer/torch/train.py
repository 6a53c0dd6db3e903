"""Trains the Sluice GPT with PyTorch: the GPU backend of the trainer stage.

    python3 trainer/torch/train.py run.json

`run.json` is written by trainer/torch/runner.ts (the fields of TrainOptions in trainer/api.ts with
every default filled in, plus `data`, `outDir`, `stateDir`). Progress goes to stdout as JSON
lines (`{"kind": "train" | "val" | "info" | "checkpoint" | "done", ...}`), diagnostics to stderr.
On CUDA it uses bf16 autocast, scaled_dot_product_attention (flash), fused AdamW and
torch.compile where the installed torch has them; on CPU (Debian's torch 1.13 in CI) it runs the
same model in float32.

Resumable: every `checkpointEvery` steps it writes `<stateDir>/torch-state.pt` atomically
(weights, optimizer state, step, data position, RNG states); started again with the same
run.json it continues from there and the loss curve continues identically (on CPU, bit for bit).
"""
import hashlib
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import GPT, Batches, canonical_state, flops_per_token, full_config, load_canonical, param_counts, read_safetensors, split_streams  # noqa: E402
from loop import emit, grad_norm_and_clip, load_state, lr_at, make_optimizer, save_state, setup, write_model  # noqa: E402


def measure_peak(device, dtype):
    """Measured matmul FLOP/s of this device and dtype: the MFU denominator."""
    n, reps = (8192, 20) if device.type == 'cuda' else (1024, 5)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    if device.type == 'cuda':
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    if device.type == 'cuda':
        torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - t0)


def fingerprint(o):
    # `dataId` (the shards' original URIs) rather than `data`, whose paths may be per-attempt copies
    keys = ['model', 'optimizer', 'schedule', 'steps', 'batchSize', 'gradAccum', 'seed', 'valTokens']
    parts = {k: o.get(k) for k in keys}
    parts['data'] = o.get('dataId') or [o['data']['train'], o['data'].get('val')]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def main():
    with open(sys.argv[1]) as f:
        o = json.load(f)
    cfg = full_config(o['model'])
    device, dtype_name, use_compile, autocast = setup(o)
    dtype = {'bfloat16': torch.bfloat16, 'float32': torch.float32}[dtype_name]

    B, T, accum = o['batchSize'], cfg['contextLength'], o['gradAccum']
    attention = o.get('attention', 'causal')
    train_stream, val_stream = split_streams(o['data']['train'], o['data'].get('val'), o.get('valTokens'), B * T + 1, docs=attention == 'document')

    torch.manual_seed(o['seed'])
    raw = GPT(cfg)
    raw.init_weights(o['seed'])
    if o.get('init'):
        # Fine-tuning: the weights of a model checkpoint (either backend's), whose config must match.
        with open(os.path.join(o['init'], 'config.json')) as f:
            init_cfg = full_config(json.load(f)['model'])
        if init_cfg != cfg:
            raise SystemExit(f"init checkpoint {o['init']} has model {json.dumps(init_cfg)}, this run {json.dumps(cfg)}")
        load_canonical(raw, read_safetensors(os.path.join(o['init'], 'model.safetensors')))
    raw.to(device)
    opt, fused = make_optimizer(raw, o['optimizer'], device)

    state_dir, out_dir = o['stateDir'], o['outDir']
    os.makedirs(state_dir, exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    state_path = os.path.join(state_dir, 'torch-state.pt')
    fp = fingerprint(o)
    step, tokens = 0, 0
    history = []  # train/val records so far: saved with the state, replayed on resume
    loader = Batches(train_stream, B, T, pin=device.type == 'cuda', attention=attention)
    st = load_state(state_path, fp)
    if st is not None:
        raw.load_state_dict(st['model'])
        opt.load_state_dict(st['optim'])
        step, tokens = st['step'], st['tokens']
        loader.pos, loader.epoch = st['pos'], st['epoch']
        torch.set_rng_state(st['rng'])
        history = st.get('metrics', [])
        if device.type == 'cuda' and st.get('cuda_rng') is not None:
            torch.cuda.set_rng_state(st['cuda_rng'])
    resumed = step
    for r in history:
        emit(r)
    model = torch.compile(raw) if use_compile else raw

    counts = param_counts(cfg)
    fpt = flops_per_token(cfg)
    peak = measure_peak(device, dtype)
    emit({'kind': 'info', 'device': str(device), 'deviceName': torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu',
          'torch': torch.__version__, 'dtype': dtype_name, 'compile': use_compile, 'fusedAdamW': fused,
          'params': counts, 'flopsPerToken': fpt, 'peakFlops': peak, 'resumedFromStep': resumed,
          'trainTokens': len(train_stream), 'valTokens': len(val_stream), 'threads': torch.get_num_threads()})

    n_val = min(o['evalBatches'], (len(val_stream) - 1) // (B * T))

    def extra_args(extra, denom):
        if extra is None:
            return {}
        out = {k: v.to(device, non_blocking=True) for k, v in extra.items()}
        # A tensor, not a Python float: torch.compile would recompile for every new constant.
        out['denom'] = torch.tensor(float(max(denom, 1)), device=device)
        return out

    def evaluate():
        # The mean over trained targets of the same n_val batches every time (trainer/tfjs/train.ts).
        model.eval()
        vb = Batches(val_stream, B, T, attention=attention)
        total, count = 0.0, 0.0
        with torch.no_grad():
            for _ in range(n_val):
                x, y, extra = vb.next()
                n = float(extra['mask'].sum()) if extra is not None else B * T
                if n == 0:
                    continue
                with autocast():
                    total += model(x.to(device), y.to(device), **extra_args(extra, n)).item() * n
                count += n
        model.train()
        return total / count if count else float('nan')

    def record(r):
        history.append(r)
        emit(r)

    def checkpoint():
        save_state(state_path, {'fingerprint': fp, 'model': raw.state_dict(), 'optim': opt.state_dict(), 'step': step,
                                'tokens': tokens, 'pos': loader.pos, 'epoch': loader.epoch, 'rng': torch.get_rng_state(), 'metrics': history,
                                'cuda_rng': torch.cuda.get_rng_state() if device.type == 'cuda' else None})
        emit({'kind': 'checkpoint', 'step': step, 'path': state_path})

    t_start = time.perf_counter()
    t_last, tok_last = t_start, tokens
    last_loss = next((r['loss'] for r in reversed(history) if r['kind'] == 'train'), float('nan'))
    val_loss = next((r['valLoss'] for r in reversed(history) if r['kind'] == 'val'), None)
    steady = []  # (tokens, seconds) of intervals after warmup, for the mean throughput
    warm_steps = resumed + min(10, max(1, (o['steps'] - resumed) // 5))
    if o.get('evalAtStart') and step == 0 and n_val > 0:
        val_loss = evaluate()
        record({'kind': 'val', 'step': 0, 'valLoss': val_loss, 'tokens': 0, 'elapsedSeconds': 0})
        t_last = time.perf_counter()
    while step < o['steps']:
        lr = lr_at(step, o)
        for g in opt.param_groups:
            g['lr'] = lr
        loss_acc = torch.zeros((), device=device)
        # All micro-batches first: the loss is the mean over the trained targets of the whole step.
        micro = [loader.next() for _ in range(accum)]
        masked = micro[0][2] is not None
        denom = sum(float(e['mask'].sum()) for _, _, e in micro) if masked else B * T * accum
        for x, y, extra in micro:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with autocast():
                if masked:
                    loss = model(x, y, **extra_args(extra, denom))
                else:
                    loss = model(x, y) / accum
            loss.backward()
            loss_acc += loss.detach()
        norm = grad_norm_and_clip(raw, o['optimizer']['gradClip'])
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens += B * T * accum
        if step % o['logEvery'] == 0 or step == o['steps']:
            last_loss = loss_acc.item() if denom > 0 else float('nan')  # synchronises
            now = time.perf_counter()
            tps = (tokens - tok_last) / (now - t_last)
            if step > warm_steps:
                steady.append((tokens - tok_last, now - t_last))
            record({'kind': 'train', 'step': step, 'loss': last_loss, 'lr': lr, 'gradNorm': float(norm), 'tokens': tokens,
                  'tokensPerSecond': tps, 'flopsPerToken': fpt, 'flopsPerSecond': tps * fpt, 'mfu': tps * fpt / peak,
                  'elapsedSeconds': now - t_start})
            t_last, tok_last = now, tokens
        if n_val > 0 and (step % o['evalEvery'] == 0 or step == o['steps']):
            t0 = time.perf_counter()
            val_loss = evaluate()
            record({'kind': 'val', 'step': step, 'valLoss': val_loss, 'tokens': tokens, 'elapsedSeconds': time.perf_counter() - t_start})
            t_last += time.perf_counter() - t0  # evaluation time does not count against training throughput
        if step % o['checkpointEvery'] == 0 or step == o['steps']:
            t0 = time.perf_counter()
            checkpoint()
            t_last += time.perf_counter() - t0

    seconds = time.perf_counter() - t_start
    meta = {'format': 'sluice.gpt/1', 'model': cfg, 'backend': 'torch', 'step': step, 'tokens': tokens,
            'finalLoss': last_loss, 'valLoss': val_loss, 'eotToken': o['data'].get('eotToken'),
            'tokenizer': o['data'].get('tokenizer'), 'params': counts}
    write_model(out_dir, canonical_state(raw), meta)
    st_tok = sum(t for t, _ in steady)
    st_sec = sum(s for _, s in steady)
    tps = st_tok / st_sec if st_sec > 0 else (tokens - resumed * B * T * accum) / max(seconds, 1e-9)
    emit({'kind': 'done', 'step': step, 'tokens': tokens, 'finalLoss': last_loss, 'valLoss': val_loss, 'seconds': seconds,
          'tokensPerSecond': tps, 'mfu': tps * fpt / peak, 'peakFlops': peak, 'flopsPerToken': fpt, 'resumedFromStep': resumed})


if __name__ == '__main__':
    main()
