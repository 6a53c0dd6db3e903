"""The Sluice GPT in PyTorch: the same model, shard format and checkpoint layout as the tfjs
backend (trainer/tfjs), shared by train.py and score.py.

Checkpoint layout (``sluice.gpt/1``): ``config.json`` plus ``model.safetensors`` holding float32
tensors under GPT-2 names, every matrix stored ``[in, out]`` (GPT-2's Conv1D layout), so either
backend loads what the other wrote. The safetensors file is written and read here with the
standard library (the format is an 8-byte little-endian header length, a JSON header, raw data),
so no package beyond torch and numpy is needed.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# Token shards: nanoGPT/llm.c .bin layout (256 int32 header: magic, version, token count; tokens)

SHARD_HEADER_INTS = 256
SHARD_MAGICS = {(20240520, 1): np.uint16, (20240520, 2): np.uint32, (20240801, 7): np.uint32}


def open_shard(path):
    """Memory-maps the tokens of one .bin shard (read-only)."""
    header = np.fromfile(path, dtype='<i4', count=SHARD_HEADER_INTS)
    if header.size < SHARD_HEADER_INTS:
        raise ValueError(f'{path}: shard shorter than its 1024-byte header')
    key = (int(header[0]), int(header[1]))
    if key not in SHARD_MAGICS:
        raise ValueError(f'{path}: not a token shard (magic {header[0]}, version {header[1]})')
    dtype = np.dtype(SHARD_MAGICS[key]).newbyteorder('<')
    count = int(header[2])
    size = os.path.getsize(path)
    need = SHARD_HEADER_INTS * 4 + count * dtype.itemsize
    if size < need:
        raise ValueError(f'{path}: header says {count} tokens but the file holds {(size - 1024) // dtype.itemsize}')
    return np.memmap(path, dtype=dtype, mode='r', offset=SHARD_HEADER_INTS * 4, shape=(count,))


def sibling(path, ext):
    """`<name>.<ext>` beside `<name>.bin`."""
    return (path[:-4] if path.endswith('.bin') else path) + '.' + ext


def open_mask(path, count):
    """Memory-maps the loss mask `<name>.mask` (uint8 per token) of a shard; None when absent (all trained)."""
    mp = sibling(path, 'mask')
    if not os.path.exists(mp):
        return None
    if os.path.getsize(mp) != count:
        raise ValueError(f'{mp}: {os.path.getsize(mp)} mask bytes for the {count} tokens of {path}')
    return np.memmap(mp, dtype=np.uint8, mode='r', shape=(count,))


def read_doc_starts(path, count):
    """The document starts `<name>.docs` (uint32 LE) of a shard; needed by document attention."""
    dp = sibling(path, 'docs')
    if not os.path.exists(dp):
        raise ValueError(f"{path}: attention 'document' needs the document index {dp}, which does not exist")
    d = np.fromfile(dp, dtype='<u4').astype(np.int64)
    if d.size and (d[-1] >= count or np.any(np.diff(d) <= 0)):
        raise ValueError(f'{dp}: entries are not increasing positions below {count}')
    return d


class TokenStream:
    """A virtual concatenation of shards, in order, over the token range [start, end), with their
    loss masks (absent: all trained) and, with `docs`, their document starts (trainer/data/loader.ts)."""

    def __init__(self, paths, start=0, end=None, docs=False):
        self.shards = [open_shard(p) for p in paths]
        self.masks = [open_mask(p, len(s)) for p, s in zip(paths, self.shards)]
        self.masked = any(m is not None for m in self.masks)
        self.offsets = [0]
        for s in self.shards:
            self.offsets.append(self.offsets[-1] + len(s))
        total = self.offsets[-1]
        self.start = start
        self.end = total if end is None else end
        if not 0 <= self.start <= self.end <= total:
            raise ValueError(f'token range [{start}, {end}) outside the {total} tokens of the shards')
        self.doc_starts = None
        if docs:
            g = np.concatenate([read_doc_starts(p, len(s)) + off for p, s, off in zip(paths, self.shards, self.offsets)]) if paths else np.zeros(0, np.int64)
            self.doc_starts = g[(g >= self.start) & (g < self.end)] - self.start

    def starts_in(self, pos, n):
        """Positions (relative to pos) of the document starts in [pos, pos+n)."""
        d = self.doc_starts
        a, b = np.searchsorted(d, pos, 'left'), np.searchsorted(d, pos + n, 'left')
        return d[a:b] - pos

    def read_mask(self, pos, n):
        """Loss-mask bytes [pos, pos+n) as float32 (1 for shards without a mask)."""
        out = np.ones(n, dtype=np.float32)
        for i, local, take, done in self._pieces(pos, n):
            if self.masks[i] is not None:
                out[done:done + take] = self.masks[i][local:local + take]
        return out

    def _pieces(self, pos, n):
        """The pieces of [pos, pos+n) in order, one per shard it crosses: (shard, first token within it, length, tokens before)."""
        g = self.start + pos
        done = 0
        i = next(k for k in range(len(self.shards)) if self.offsets[k + 1] > g or k == len(self.shards) - 1)
        while done < n:
            local = g + done - self.offsets[i]
            take = min(n - done, len(self.shards[i]) - local)
            if take > 0:
                yield i, local, take, done
                done += take
            i += 1

    def __len__(self):
        return self.end - self.start

    def read(self, pos, n):
        """Tokens [pos, pos+n) of this stream (pos relative to its start) as int64."""
        if pos < 0 or pos + n > len(self):
            raise IndexError(f'read [{pos}, {pos + n}) outside a stream of {len(self)} tokens')
        out = np.empty(n, dtype=np.int64)
        for i, local, take, done in self._pieces(pos, n):
            out[done:done + take] = self.shards[i][local:local + take]
        return out


def split_streams(train_paths, val_paths, val_tokens, span, docs=False):
    """Train and validation streams, with the validation tail held out when no val shards exist
    (the same rule as trainer/data/loader.ts)."""
    full = TokenStream(train_paths, docs=docs)
    if val_paths:
        return full, TokenStream(val_paths, docs=docs)
    total = len(full)
    hold = val_tokens if val_tokens is not None else min(int(total * 0.05), 1_000_000)
    hold = max(hold, span)
    if total - hold < span:
        raise ValueError(f'{total} tokens cannot hold a validation split of {hold} and a training batch of {span}')
    return TokenStream(train_paths, 0, total - hold, docs=docs), TokenStream(train_paths, total - hold, total, docs=docs)


def document_layout(batch, ctx, starts):
    """Segment ids and restarted positions [batch, ctx] (trainer/data/loader.ts documentLayout):
    a segment starts at each row start and at each document start."""
    n = batch * ctx
    is_start = np.zeros(n, dtype=bool)
    is_start[starts[starts < n]] = True
    is_start[::ctx] = True
    seg = np.cumsum(is_start) - 1
    idx = np.arange(n)
    seg_start = np.maximum.accumulate(np.where(is_start, idx, 0))
    return seg.reshape(batch, ctx), (idx - seg_start).reshape(batch, ctx)


class Batches:
    """Deterministic micro-batches: B·T+1 contiguous tokens from `pos`, advancing by B·T and
    wrapping to the start (a new epoch) when fewer than B·T+1 tokens remain. `next()` returns
    (x, y, extra): extra is None, or a dict with `mask` ([B, T] float32, 1 where y is trained)
    and, with document attention, `segments` and `positions` ([B, T] int64) — the rules of
    trainer/data/loader.ts's Batch."""

    def __init__(self, stream, batch, ctx, pos=0, epoch=0, pin=False, attention='causal'):
        self.stream, self.batch, self.ctx, self.pos, self.epoch, self.pin = stream, batch, ctx, pos, epoch, pin
        self.attention = attention
        if len(stream) < batch * ctx + 1:
            raise ValueError(f'{len(stream)} tokens is less than one batch ({batch}×{ctx}+1)')
        if attention == 'document' and stream.doc_starts is None:
            raise ValueError("attention 'document' needs the shards' document starts")

    def next(self):
        span = self.batch * self.ctx
        if self.pos + span + 1 > len(self.stream):
            self.pos, self.epoch = 0, self.epoch + 1
        at = self.pos
        buf = torch.from_numpy(self.stream.read(at, span + 1))
        extra = None
        doc = self.attention == 'document'
        if self.stream.masked or doc:
            mask = self.stream.read_mask(at + 1, span)
            extra = {}
            if doc:
                starts = self.stream.starts_in(at, span + 1)
                mask[starts[starts >= 1] - 1] = 0
                seg, pos = document_layout(self.batch, self.ctx, starts)
                extra['segments'] = torch.from_numpy(seg)
                extra['positions'] = torch.from_numpy(pos)
            extra['mask'] = torch.from_numpy(mask).view(self.batch, self.ctx)
        if self.pin:
            # A copy from pageable memory synchronises the stream before it starts, so the host
            # could never queue the next step ahead of the GPU; pinned memory copies asynchronously
            # (PyTorch's caching host allocator reuses the buffers once their copy is done).
            buf = buf.pin_memory()
            if extra:
                extra = {k: v.pin_memory() for k, v in extra.items()}
        self.pos += span
        return buf[:-1].view(self.batch, self.ctx), buf[1:].view(self.batch, self.ctx), extra


# ---------------------------------------------------------------------------------------------
# Model


def full_config(cfg):
    """Fills the defaults of a ModelConfig (trainer/api.ts)."""
    out = dict(cfg)
    out.setdefault('mlpRatio', 4)
    out.setdefault('tiedHead', True)
    out.setdefault('positions', 'learned')
    out.setdefault('bias', True)
    out.setdefault('layerNormEps', 1e-5)
    if out['dModel'] % out['heads']:
        raise ValueError(f"dModel {out['dModel']} is not divisible by heads {out['heads']}")
    return out


def rotary_tables(ctx, head_dim, device):
    inv = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim))
    ang = torch.outer(torch.arange(ctx, dtype=torch.float32, device=device), inv)
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos(), ang.sin()


def apply_rotary(x, cos, sin):
    # rotate-half (GPT-NeoX) convention, the one trainer/tfjs uses
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], dim=-1)
    return x * cos + rot * sin


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (torch < 2.1, e.g. Debian's 1.13, lacks `bias=False`)."""

    def __init__(self, d, eps, bias):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


def causal_attention(q, k, v):
    """Flash/memory-efficient SDPA where torch has it (>= 2.0), else the explicit masked softmax."""
    if hasattr(F, 'scaled_dot_product_attention'):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    T = q.size(-2)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    return att.masked_fill(mask, float('-inf')).softmax(dim=-1) @ v


def _flex():
    """torch.nn.attention.flex_attention (torch >= 2.5), compiled, or None."""
    global _FLEX
    if _FLEX is None:
        try:
            from torch.nn.attention.flex_attention import create_block_mask, flex_attention
            _FLEX = (torch.compile(flex_attention), create_block_mask)
        except Exception:  # noqa: BLE001 - any import/compile failure means: not available
            _FLEX = False
    return _FLEX or None


_FLEX = None


def _flex_failed(e):
    """FlexAttention failed: use the boolean-mask SDPA from now on, and say so on stderr."""
    global _FLEX
    _FLEX = False
    import sys
    print(f'document attention: FlexAttention failed ({type(e).__name__}: {e}); using SDPA with a boolean mask', file=sys.stderr)


class DocumentMask:
    """Document attention for one batch: segment ids [B, T]. On CUDA with FlexAttention (torch >=
    2.5) a block mask, so fully masked blocks are skipped; elsewhere a boolean [B, 1, T, T] mask
    (allowed = same segment and key <= query) for SDPA (torch >= 2.0) or the explicit softmax
    (Debian's torch 1.13 on CPU)."""

    def __init__(self, segments):
        B, T = segments.shape
        self.segments = segments
        self.block = None
        self.allowed = None
        flex = _flex() if segments.is_cuda else None
        if flex is not None:
            _, create_block_mask = flex
            seg = segments

            def mask_mod(b, h, q_idx, kv_idx):
                return (kv_idx <= q_idx) & (seg[b, q_idx] == seg[b, kv_idx])

            try:
                self.block = create_block_mask(mask_mod, B, None, T, T, device=segments.device)
            except Exception as e:  # noqa: BLE001 - an older or partial FlexAttention: fall back
                _flex_failed(e)
        if self.block is None:
            self._boolean()

    def _boolean(self):
        T = self.segments.size(1)
        causal = torch.ones(T, T, dtype=torch.bool, device=self.segments.device).tril()
        self.allowed = ((self.segments[:, :, None] == self.segments[:, None, :]) & causal)[:, None]

    def attend(self, q, k, v):
        if self.block is not None:
            try:
                return _flex()[0](q, k, v, block_mask=self.block)
            except Exception as e:  # noqa: BLE001 - e.g. a dtype or compile failure: fall back once, say so
                _flex_failed(e)
                self.block = None
                self._boolean()
        if hasattr(F, 'scaled_dot_product_attention'):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=self.allowed)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
        return att.masked_fill(~self.allowed, float('-inf')).softmax(dim=-1) @ v


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, bias = c['dModel'], c['bias']
        self.heads = c['heads']
        self.ln_1 = LayerNorm(d, c['layerNormEps'], bias)
        self.c_attn = nn.Linear(d, 3 * d, bias=bias)
        self.c_proj = nn.Linear(d, d, bias=bias)
        self.ln_2 = LayerNorm(d, c['layerNormEps'], bias)
        self.c_fc = nn.Linear(d, c['mlpRatio'] * d, bias=bias)
        self.mlp_proj = nn.Linear(c['mlpRatio'] * d, d, bias=bias)

    def forward(self, x, rope, doc=None):
        B, T, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (t.view(B, T, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        if rope is not None:
            cos, sin = rope
            q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        y = causal_attention(q, k, v) if doc is None else doc.attend(q, k, v)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, d))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = self.cfg = full_config(cfg)
        self.wte = nn.Embedding(c['vocabSize'], c['dModel'])
        self.wpe = nn.Embedding(c['contextLength'], c['dModel']) if c['positions'] == 'learned' else None
        self.h = nn.ModuleList([Block(c) for _ in range(c['layers'])])
        self.ln_f = LayerNorm(c['dModel'], c['layerNormEps'], c['bias'])
        self.lm_head = None if c['tiedHead'] else nn.Linear(c['dModel'], c['vocabSize'], bias=False)
        if c['positions'] == 'rotary':
            cos, sin = rotary_tables(c['contextLength'], c['dModel'] // c['heads'], 'cpu')
            self.register_buffer('rope_cos', cos, persistent=False)
            self.register_buffer('rope_sin', sin, persistent=False)
        else:
            self.rope_cos = self.rope_sin = None

    def init_weights(self, seed):
        """GPT-2 initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2L), zero biases."""
        g = torch.Generator().manual_seed(seed)
        std_proj = 0.02 / math.sqrt(2 * self.cfg['layers'])
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith('bias'):
                    p.zero_()
                elif 'ln_' in name:
                    p.fill_(1.0)
                else:
                    std = std_proj if name.endswith('c_proj.weight') or name.endswith('mlp_proj.weight') else 0.02
                    p.copy_(torch.randn(p.shape, generator=g) * std)

    def forward(self, idx, targets=None, mask=None, denom=None, segments=None, positions=None):
        """Logits [B, T, V] without targets; else the next-token loss: the mean cross-entropy, or
        with `mask` ([B, T], 1 where the target is trained) the masked sum over `denom` trained
        targets (default the mask's sum): the mean over trained tokens of the whole optimizer
        batch (trainer/tfjs/ops.ts maskedCrossEntropy says why). `segments` and `positions`
        ([B, T]) give document attention (trainer/data/loader.ts Batch)."""
        B, T = idx.shape
        x = self.wte(idx)
        if self.wpe is not None:
            x = x + (self.wpe.weight[:T] if positions is None else self.wpe(positions))
        rope = None
        if self.rope_cos is not None:
            if positions is None:
                rope = (self.rope_cos[:T], self.rope_sin[:T])
            else:
                rope = (self.rope_cos[positions][:, None], self.rope_sin[positions][:, None])
        doc = DocumentMask(segments) if segments is not None else None
        for blk in self.h:
            x = blk(x, rope, doc)
        x = self.ln_f(x)
        logits = F.linear(x, self.wte.weight) if self.lm_head is None else self.lm_head(x)
        if targets is None:
            return logits
        flat = logits.float().view(-1, logits.size(-1))
        if mask is None:
            return F.cross_entropy(flat, targets.reshape(-1))
        return masked_cross_entropy(flat, targets.reshape(-1), mask.reshape(-1), denom)


def masked_cross_entropy(logits, targets, mask, denom=None):
    """sum(mask · CE) / denom (default: the mask's sum, at least 1): the mean over trained targets."""
    ce = F.cross_entropy(logits, targets, reduction='none')
    d = mask.sum() if denom is None else denom
    if torch.is_tensor(d):
        d = d.clamp(min=1)
    else:
        d = max(d, 1)
    return (ce * mask).sum() / d


def param_counts(cfg):
    """ParamCounts of formats/model.ts: total, nonEmbedding, matmul."""
    c = full_config(cfg)
    d, L, V, T, m = c['dModel'], c['layers'], c['vocabSize'], c['contextLength'], c['mlpRatio']
    b = 1 if c['bias'] else 0
    ln = (2 if b else 1) * d
    block_mm = d * 3 * d + d * d + 2 * d * m * d
    block = block_mm + b * (3 * d + d + m * d + d) + 2 * ln
    head = 0 if c['tiedHead'] else d * V
    emb = V * d + (T * d if c['positions'] == 'learned' else 0)
    total = emb + L * block + ln + head
    return {'total': total, 'nonEmbedding': total - emb, 'matmul': L * block_mm + d * V}


def flops_per_token(cfg):
    """6·N(matmul) + 12·L·T·d: forward + backward FLOPs per token, attention included (PaLM, app. B)."""
    c = full_config(cfg)
    return 6 * param_counts(c)['matmul'] + 12 * c['layers'] * c['contextLength'] * c['dModel']


# ---------------------------------------------------------------------------------------------
# Canonical (GPT-2 Conv1D, [in, out]) tensor names <-> this module


def canonical_state(model):
    """Float32 tensors under canonical names, matrices [in, out]."""
    out = {'wte': model.wte.weight}
    if model.wpe is not None:
        out['wpe'] = model.wpe.weight
    for i, b in enumerate(model.h):
        p = f'h.{i}.'
        out[p + 'ln_1.weight'] = b.ln_1.weight
        out[p + 'attn.c_attn.weight'] = b.c_attn.weight.t()
        out[p + 'attn.c_proj.weight'] = b.c_proj.weight.t()
        out[p + 'ln_2.weight'] = b.ln_2.weight
        out[p + 'mlp.c_fc.weight'] = b.c_fc.weight.t()
        out[p + 'mlp.c_proj.weight'] = b.mlp_proj.weight.t()
        if b.c_attn.bias is not None:
            out[p + 'ln_1.bias'] = b.ln_1.bias
            out[p + 'attn.c_attn.bias'] = b.c_attn.bias
            out[p + 'attn.c_proj.bias'] = b.c_proj.bias
            out[p + 'ln_2.bias'] = b.ln_2.bias
            out[p + 'mlp.c_fc.bias'] = b.c_fc.bias
            out[p + 'mlp.c_proj.bias'] = b.mlp_proj.bias
    out['ln_f.weight'] = model.ln_f.weight
    if model.ln_f.bias is not None:
        out['ln_f.bias'] = model.ln_f.bias
    if model.lm_head is not None:
        out['lm_head.weight'] = model.lm_head.weight.t()
    return {k: v.detach().float().cpu().contiguous() for k, v in out.items()}


def load_canonical(model, tensors):
    """Copies canonical tensors into the module (transposing matrices back to [out, in])."""
    mine = canonical_state(model)
    missing = sorted(set(mine) - set(tensors))
    if missing:
        raise ValueError(f'checkpoint lacks tensors: {", ".join(missing[:5])}')
    targets = {'wte': model.wte.weight, 'ln_f.weight': model.ln_f.weight}
    if model.wpe is not None:
        targets['wpe'] = model.wpe.weight
    if model.ln_f.bias is not None:
        targets['ln_f.bias'] = model.ln_f.bias
    if model.lm_head is not None:
        targets['lm_head.weight'] = model.lm_head.weight
    for i, b in enumerate(model.h):
        p = f'h.{i}.'
        targets.update({p + 'ln_1.weight': b.ln_1.weight, p + 'attn.c_attn.weight': b.c_attn.weight,
                        p + 'attn.c_proj.weight': b.c_proj.weight, p + 'ln_2.weight': b.ln_2.weight,
                        p + 'mlp.c_fc.weight': b.c_fc.weight, p + 'mlp.c_proj.weight': b.mlp_proj.weight})
        if b.c_attn.bias is not None:
            targets.update({p + 'ln_1.bias': b.ln_1.bias, p + 'attn.c_attn.bias': b.c_attn.bias,
                            p + 'attn.c_proj.bias': b.c_proj.bias, p + 'ln_2.bias': b.ln_2.bias,
                            p + 'mlp.c_fc.bias': b.c_fc.bias, p + 'mlp.c_proj.bias': b.mlp_proj.bias})
    with torch.no_grad():
        for name, param in targets.items():
            t = tensors[name]
            if t.shape != mine[name].shape:
                raise ValueError(f'{name}: checkpoint shape {tuple(t.shape)}, model {tuple(mine[name].shape)}')
            param.copy_(t.t() if param.dim() == 2 and name not in ('wte', 'wpe') else t)


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors atomically (temp file + rename)."""
    header, chunks, off = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].numpy().astype('<f4', copy=False).tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [off, off + len(a)]}
        chunks.append(a)
        off += len(a)
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def read_safetensors(path):
    """Reads an F32 safetensors file into a dict of tensors."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        if info['dtype'] != 'F32':
            raise ValueError(f'{path}: tensor {name} has dtype {info["dtype"]}, expected F32')
        a, b = info['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').copy()).view(*info['shape'])
    return out


def load_checkpoint(directory, device='cpu'):
    """The model of a checkpoint directory (config.json + model.safetensors), in eval mode."""
    with open(os.path.join(directory, 'config.json')) as f:
        meta = json.load(f)
    if meta.get('format') != 'sluice.gpt/1':
        raise ValueError(f'{directory}/config.json: format {meta.get("format")!r}, expected sluice.gpt/1')
    model = GPT(meta['model'])
    load_canonical(model, read_safetensors(os.path.join(directory, 'model.safetensors')))
    return model.to(device).eval(), meta


def serving_checkpoint(argv):
    """For the serving scripts (score.py, generate.py) run as `script <checkpointDir> [cpu|cuda|auto]`:
    the checkpoint's model (eval mode) and meta on that device (default auto: CUDA when available),
    and the device."""
    want = argv[2] if len(argv) > 2 else 'auto'
    device = torch.device('cuda' if want == 'cuda' or (want == 'auto' and torch.cuda.is_available()) else 'cpu')
    model, meta = load_checkpoint(argv[1], device)
    return model, meta, device
