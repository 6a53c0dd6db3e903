"""Reads a `sluice export --format safetensors` directory back with numpy only, the way a
Hugging Face GPT-2 reader sees it, and checks it against the Sluice checkpoint it came from.

usage: read_hf_gpt2.py EXPORT_DIR CHECKPOINT_DIR CASES_JSON
CASES_JSON: {"cases": [{"ids": [...], "logprobs": [...]}]}: Sluice's next-token log-probabilities
after each id sequence. Prints one JSON object: tensor names, the largest tensor difference, and
the largest log-probability difference of a numpy GPT-2 forward pass (transformers' GPT2LMHeadModel
semantics: Conv1D x @ W + b, gelu_new, pre-LayerNorm, tied head when tie_word_embeddings).
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", (name, info["dtype"])
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype="<f4").reshape(info["shape"])
    return out, meta


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_new(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def forward(t, cfg, ids):
    g = lambda k: t[k].astype(np.float64)
    T = len(ids)
    d, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    hd = d // H
    x = g("transformer.wte.weight")[ids] + g("transformer.wpe.weight")[:T]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        h = layer_norm(x, g(p + "ln_1.weight"), g(p + "ln_1.bias"), eps)
        qkv = h @ g(p + "attn.c_attn.weight") + g(p + "attn.c_attn.bias")
        q, k, v = (qkv[:, j * d : (j + 1) * d].reshape(T, H, hd).transpose(1, 0, 2) for j in range(3))
        att = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        y = (att @ v).transpose(1, 0, 2).reshape(T, d)
        x = x + y @ g(p + "attn.c_proj.weight") + g(p + "attn.c_proj.bias")
        h = layer_norm(x, g(p + "ln_2.weight"), g(p + "ln_2.bias"), eps)
        x = x + gelu_new(h @ g(p + "mlp.c_fc.weight") + g(p + "mlp.c_fc.bias")) @ g(p + "mlp.c_proj.weight") + g(p + "mlp.c_proj.bias")
    x = layer_norm(x, g("transformer.ln_f.weight"), g("transformer.ln_f.bias"), eps)
    head = g("transformer.wte.weight") if cfg["tie_word_embeddings"] else g("lm_head.weight")
    logits = x[-1] @ head.T
    m = logits.max()
    return logits - m - np.log(np.exp(logits - m).sum())


def main():
    out_dir, ck_dir, cases_path = sys.argv[1:4]
    hf, meta = read_safetensors(f"{out_dir}/model.safetensors")
    cfg = json.load(open(f"{out_dir}/config.json"))
    sluice, _ = read_safetensors(f"{ck_dir}/model.safetensors")
    # Every Sluice tensor is in the export under its HF name, equal bit for bit.
    max_tensor_diff = 0.0
    hf_name = lambda n: "lm_head.weight" if n == "lm_head.weight" else "transformer." + n + (".weight" if n in ("wte", "wpe") else "")
    for name, a in sluice.items():
        b = hf[hf_name(name)]
        if name == "lm_head.weight":
            b = b.T
        assert a.shape == b.shape, (name, a.shape, b.shape)
        max_tensor_diff = max(max_tensor_diff, float(np.abs(a - b).max()))
    # What Sluice left out (biases of a bias-free model) is zero in the export.
    extra = sorted(set(hf) - {hf_name(n) for n in sluice})
    zero_extra = all(not hf[n].any() for n in extra)
    cases = json.load(open(cases_path))["cases"]
    max_lp_diff = 0.0
    for c in cases:
        lp = forward(hf, cfg, c["ids"])
        max_lp_diff = max(max_lp_diff, float(np.abs(lp - np.array(c["logprobs"])).max()))
    tok = json.load(open(f"{out_dir}/tokenizer.json"))
    print(json.dumps({
        "metadata": meta,
        "names": sorted(hf),
        "shapes": {k: list(v.shape) for k, v in hf.items()},
        "max_tensor_diff": max_tensor_diff,
        "extra": extra,
        "zero_extra": zero_extra,
        "max_logprob_diff": max_lp_diff,
        "config": cfg,
        "tokenizer_vocab": len(tok["model"]["vocab"]),
    }))


if __name__ == "__main__":
    main()
