"""What the torch training scripts (train.py: pre-training and SFT, dpo.py: DPO) share: the
JSON-lines progress, the learning-rate schedule, the device setup, AdamW, gradient clipping, the
resumable state file and the final model checkpoint. One copy, so both scripts train alike.
"""
import contextlib
import json
import math
import os
import sys

import torch

from gpt import write_safetensors


def emit(obj):
    """One progress record as a JSON line on stdout (the runner reads them as they come)."""
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def lr_at(step, o):
    """Same schedule as trainer/optim/schedule.ts: linear warmup, cosine to minLrRatio·lr (or constant)."""
    lr, warm, total = o['optimizer']['lr'], o['schedule']['warmupSteps'], o['steps']
    if step < warm:
        return lr * (step + 1) / warm
    if o['schedule']['decay'] == 'constant':
        return lr
    progress = min(1.0, (step - warm) / max(1, total - warm))
    floor = lr * o['schedule']['minLrRatio']
    return floor + 0.5 * (1 + math.cos(math.pi * progress)) * (lr - floor)


def setup(o):
    """Device, dtype name, whether to compile and the autocast context of run.json's `torch` options.

    Defaults: CUDA when available, bf16 autocast there (float32 on CPU), torch.compile on CUDA
    where the installed torch has it, TF32 matmuls on CUDA."""
    topt = o.get('torch', {}) or {}
    want = topt.get('device', 'auto')
    device = torch.device('cuda' if want == 'cuda' or (want == 'auto' and torch.cuda.is_available()) else 'cpu')
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('torch backend: device "cuda" requested but torch.cuda.is_available() is false')
    if topt.get('threads'):
        torch.set_num_threads(int(topt['threads']))
    dtype_name = topt.get('dtype') or ('bfloat16' if device.type == 'cuda' else 'float32')
    use_compile = topt.get('compile')
    if use_compile is None:
        use_compile = device.type == 'cuda'
    if use_compile and not hasattr(torch, 'compile'):
        print(f'torch {torch.__version__} has no torch.compile: running eager', file=sys.stderr)
        use_compile = False
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    bf16 = device.type == 'cuda' and dtype_name == 'bfloat16'
    autocast = (lambda: torch.autocast('cuda', dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
    return device, dtype_name, bool(use_compile), autocast


def make_optimizer(raw, oo, device):
    """AdamW with weight decay on the matrices and embeddings only (as trainer/optim/adamw.ts);
    fused on CUDA where the installed torch has it. Returns (optimizer, fused)."""
    decay = [p for n, p in raw.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in raw.named_parameters() if p.dim() < 2]
    groups = [{'params': decay, 'weight_decay': oo['weightDecay']}, {'params': no_decay, 'weight_decay': 0.0}]
    kw = dict(lr=oo['lr'], betas=(oo['beta1'], oo['beta2']), eps=oo['eps'])
    if device.type == 'cuda':
        try:
            return torch.optim.AdamW(groups, fused=True, **kw), True
        except (TypeError, RuntimeError):
            pass
    return torch.optim.AdamW(groups, **kw), False


def grad_norm_and_clip(raw, clip):
    """The gradients' global L2 norm before clipping (a tensor: reading it synchronises), clipped to `clip` when > 0."""
    if clip and clip > 0:
        return torch.nn.utils.clip_grad_norm_(raw.parameters(), clip)
    return torch.sqrt(sum((p.grad.float() ** 2).sum() for p in raw.parameters() if p.grad is not None))


def save_state(path, state):
    """torch.save, atomically (a kill mid-write leaves the previous state)."""
    tmp = f'{path}.tmp-{os.getpid()}'
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_state(path, fp):
    """The state saved at `path`, None when there is none; one of another run configuration (fingerprint) exits."""
    if not os.path.exists(path):
        return None
    st = torch.load(path, map_location='cpu')
    if st.get('fingerprint') != fp:
        raise SystemExit(f'{path}: a checkpoint of a different run configuration ({st.get("fingerprint")} != {fp}); remove it to start afresh')
    return st


def write_model(out_dir, state, meta):
    """The final model checkpoint: model.safetensors (canonical tensors) and config.json (`meta`), each written atomically."""
    write_safetensors(os.path.join(out_dir, 'model.safetensors'), state, {'format': 'sluice.gpt/1'})
    tmp = os.path.join(out_dir, f'config.json.tmp-{os.getpid()}')
    with open(tmp, 'w') as f:
        json.dump(meta, f, indent=1)
    os.replace(tmp, os.path.join(out_dir, 'config.json'))
