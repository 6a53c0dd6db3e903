"""Scores token sequences with a trained Sluice GPT checkpoint: the torch side of
trainer/scorer.ts (the eval stage's TokenScorer).

    python3 trainer/torch/score.py <checkpointDir> [cpu|cuda|auto]

Prints one JSON line `{"ready": true, ...}`, then answers each stdin line
`{"batch": [[token, ...], ...]}` with `{"logprobs": [[...], ...]}`: for every sequence, the natural
log-probability of each token after the first given those before it. With `"argmax": true` the
answer also has `"argmax"`: the most likely next token at each of those positions (from the same
forward pass; the eval's greedy check for LAMBADA). With `"tail": [k, ...]` each sequence's answer
holds only its last k values (the positions a log-likelihood request scores). An error answers
`{"error": "..."}` and the process keeps serving.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import serving_checkpoint  # noqa: E402


def main():
    model, meta, device = serving_checkpoint(sys.argv)
    ctx = meta['model']['contextLength']
    vocab = meta['model']['vocabSize']
    print(json.dumps({'ready': True, 'device': str(device), 'torch': torch.__version__, 'contextLength': ctx}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            batch, want_argmax = req['batch'], bool(req.get('argmax'))
            tail = req.get('tail')
            out = [None] * len(batch)
            arg = [None] * len(batch)
            # one forward per group of equal-ish length; pad right (causal: padding never affects earlier positions)
            order = sorted(range(len(batch)), key=lambda i: len(batch[i]))
            budget = max(1, (1 << 25) // (max(1, max((len(s) for s in batch), default=1)) * vocab))
            for g in range(0, len(order), budget):
                idx = order[g:g + budget]
                longest = max(len(batch[i]) for i in idx)
                if longest > ctx + 1:
                    raise ValueError(f'sequence of {longest} tokens exceeds context {ctx} + 1')
                if longest < 2:
                    for i in idx:
                        out[i], arg[i] = [], []
                    continue
                x = torch.zeros(len(idx), longest - 1, dtype=torch.long)
                y = torch.zeros(len(idx), longest - 1, dtype=torch.long)
                for r, i in enumerate(idx):
                    s = batch[i]
                    if any(t < 0 or t >= vocab for t in s):
                        raise ValueError(f'token id outside the vocabulary ({vocab})')
                    x[r, :len(s) - 1] = torch.tensor(s[:-1])
                    y[r, :len(s) - 1] = torch.tensor(s[1:])
                with torch.no_grad():
                    logits = model(x.to(device)).float()
                    lp = torch.log_softmax(logits, dim=-1).gather(-1, y.to(device).unsqueeze(-1)).squeeze(-1).double().cpu()
                    am = logits.argmax(dim=-1).cpu() if want_argmax else None
                for r, i in enumerate(idx):
                    end = len(batch[i]) - 1
                    start = end - tail[i] if tail is not None else 0
                    out[i] = lp[r, start:end].tolist()
                    if am is not None:
                        arg[i] = am[r, start:end].tolist()
            print(json.dumps({'logprobs': out, 'argmax': arg} if want_argmax else {'logprobs': out}), flush=True)
        except Exception as e:  # answer, keep serving
            print(json.dumps({'error': f'{type(e).__name__}: {e}'}), flush=True)


if __name__ == '__main__':
    main()
