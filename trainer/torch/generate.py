"""Next-token logits of a Sluice GPT checkpoint, with or without a key/value cache: the torch side
of trainer/torch/decoder.ts (generation, `sluice serve`).

    python3 trainer/torch/generate.py <checkpointDir> [cpu|cuda|auto]

Prints one JSON line `{"ready": true, ...}`, then answers each stdin line:
- `{"op": "forward", "session": S, "tokens": [...], "cache": bool, "reset": bool}`: the logits of
  the position after the last token, as a JSON line `{"logits": V}` followed by V little-endian
  float32 values (raw bytes; JSON would cost ~10 bytes a value and a parse per step). With
  `cache`, the tokens extend session S's cache; without, they are the whole sequence (the model's
  own forward, trainer/torch/gpt.py).
- `{"op": "close", "session": S}`: frees S's cache; answers `{"ok": true}`.
- `{"op": "score", "tokens": [...], "top": N}`: the log-probability of each token after the first
  and the N most likely alternatives at each position, `{"logprobs": [...], "top": [[[id, lp], …], …]}`
  (a completions request with `echo`).
An error answers `{"error": "..."}` and the process keeps serving.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import apply_rotary, serving_checkpoint  # noqa: E402


def forward_cached(model, idx, past):
    """Logits of the last of `idx` ([1, n]) after the cached positions `past` (per layer (k, v),
    [1, H, t, hd], or None), and the new cache."""
    B, T = idx.shape
    p0 = 0 if past is None else past[0][0].size(2)
    x = model.wte(idx)
    if model.wpe is not None:
        x = x + model.wpe.weight[p0:p0 + T]
    new = []
    total = p0 + T
    mask = None
    if T > 1:  # query i (position p0 + i) sees keys 0 … p0 + i
        mask = torch.ones(T, total, dtype=torch.bool, device=idx.device).triu(p0 + 1)
    for i, blk in enumerate(model.h):
        d = x.size(-1)
        q, k, v = blk.c_attn(blk.ln_1(x)).split(d, dim=2)
        q, k, v = (t.view(B, T, blk.heads, d // blk.heads).transpose(1, 2) for t in (q, k, v))
        if model.rope_cos is not None:
            cos, sin = model.rope_cos[p0:p0 + T], model.rope_sin[p0:p0 + T]
            q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if past is not None:
            k = torch.cat([past[i][0], k], dim=2)
            v = torch.cat([past[i][1], v], dim=2)
        new.append((k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
        if mask is not None:
            att = att.masked_fill(mask, float('-inf'))
        y = att.softmax(dim=-1) @ v
        x = x + blk.c_proj(y.transpose(1, 2).contiguous().view(B, T, d))
        x = x + blk.mlp_proj(F.gelu(blk.c_fc(blk.ln_2(x)), approximate='tanh'))
    x = model.ln_f(x[:, -1:])
    logits = F.linear(x, model.wte.weight) if model.lm_head is None else model.lm_head(x)
    return logits[0, -1], new


def main():
    model, meta, device = serving_checkpoint(sys.argv)
    ctx = meta['model']['contextLength']
    vocab = meta['model']['vocabSize']
    out = sys.stdout.buffer
    out.write((json.dumps({'ready': True, 'device': str(device), 'torch': torch.__version__, 'contextLength': ctx, 'vocabSize': vocab}) + '\n').encode())
    out.flush()
    sessions = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req.get('op')
            if op == 'close':
                sessions.pop(req['session'], None)
                out.write(b'{"ok": true}\n')
                out.flush()
                continue
            if op == 'score':
                tokens = req['tokens']
                if len(tokens) > ctx:
                    raise ValueError(f'{len(tokens)} tokens exceed the context length {ctx}')
                if any(not isinstance(t, int) or t < 0 or t >= vocab for t in tokens):
                    raise ValueError(f'token id outside the vocabulary ({vocab})')
                idx = torch.tensor([tokens], dtype=torch.long, device=device)
                with torch.no_grad():
                    lp = torch.log_softmax(model(idx)[0, :-1].float(), dim=-1)
                    picked = lp.gather(-1, idx[0, 1:].unsqueeze(-1)).squeeze(-1).double().cpu().tolist()
                    k = min(int(req.get('top', 0)), vocab)
                    if k > 0:
                        tv, ti = lp.topk(k, dim=-1)
                        top = [[[int(i), float(v)] for v, i in zip(rv, ri)] for rv, ri in zip(tv.double().cpu().tolist(), ti.cpu().tolist())]
                    else:
                        top = [[] for _ in picked]
                out.write((json.dumps({'logprobs': picked, 'top': top}) + '\n').encode())
                out.flush()
                continue
            if op != 'forward':
                raise ValueError(f'unknown op {op!r}')
            tokens = req['tokens']
            if not tokens:
                raise ValueError('forward of no tokens')
            if any(not isinstance(t, int) or t < 0 or t >= vocab for t in tokens):
                raise ValueError(f'token id outside the vocabulary ({vocab})')
            s = req['session']
            idx = torch.tensor([tokens], dtype=torch.long, device=device)
            with torch.no_grad():
                if req.get('cache'):
                    past = None if req.get('reset') else sessions.get(s)
                    have = 0 if past is None else past[0][0].size(2)
                    if have + len(tokens) > ctx:
                        raise ValueError(f'cache of {have} + {len(tokens)} tokens exceeds the context length {ctx}')
                    logits, sessions[s] = forward_cached(model, idx, past)
                else:
                    if len(tokens) > ctx:
                        raise ValueError(f'{len(tokens)} tokens exceed the context length {ctx}')
                    logits = model(idx)[0, -1]
            data = logits.float().cpu().numpy().astype('<f4').tobytes()
            out.write((json.dumps({'logits': vocab}) + '\n').encode())
            out.write(data)
            out.flush()
        except Exception as e:  # answer, keep serving
            out.write((json.dumps({'error': f'{type(e).__name__}: {e}'}) + '\n').encode())
            out.flush()


if __name__ == '__main__':
    main()
