#!/usr/bin/env python3
"""PyTorch reference timings for tiger-explorer's three training steps.

What it measures
    One training step of each model the Rust crate trains, written again in plain PyTorch with the
    same shapes, layers, losses and optimiser settings, on synthetic inputs already on the device:

    * ``rqvae``  - the RQ-VAE of ``tiger-explorer quantize``: MLP encoder, 3-level residual
      quantisation with a straight-through estimator, mirrored MLP decoder, Adam.
    * ``tiger``     - TIGER's T5-style encoder-decoder of ``tiger-explorer train``: teacher-forced
      cross-entropy over the target item's 4 tokens, AdamW with per-parameter gradient-norm clipping.
    * ``sasrec`` - the SASRec baseline of ``tiger-explorer baseline sasrec``: causal self-attention
      over item ids, full-softmax cross-entropy over the catalogue at every position, AdamW.

    A timed step is forward + loss + backward + optimiser step. The loss stays on the device (no
    ``.item()`` per step); the device is synchronised only around the timed window (and around the
    very first step, whose latency - cuBLAS start-up, and with ``--compile`` the whole compilation -
    is reported separately as ``first``). Reported per workload and variant: steps/s over the timed
    steps, first-step latency, and peak device memory (``torch.cuda.max_memory_allocated``, counted
    from before the model is built, so weights + optimiser state + activations).

    Everything runs in fp32 with TF32 disabled (``torch.backends.cuda.matmul.allow_tf32 = False``,
    ``torch.backends.cudnn.allow_tf32 = False``), because burn-wgpu computes in fp32.

Variants
    ``eager``          - the model as written, attention as explicit matmul + softmax (like the Rust).
    ``sdpa``           - (tiger only) attention through ``F.scaled_dot_product_attention`` with the
                         additive relative-position bias + masks as ``attn_mask``.
    ``compile``        - ``--compile`` only: ``torch.compile`` (default mode) of forward + loss; the
                         backward is compiled with it, the optimiser step stays eager.
    ``compile-sdpa``   - ``--compile`` only, tiger: both of the above.

How to run (on the GPU machine; needs only torch, no network)
    python3 crates/tiger-bench/torch_reference.py --compile --json      # all workloads, all variants, JSON lines
    python3 crates/tiger-bench/torch_reference.py --workload tiger          # human table, eager + sdpa
    python3 crates/tiger-bench/torch_reference.py --device cpu --steps 2 --warmup 1   # smoke test

Same-call ratios (burn / torch per workload and variant)
    tiger-bench run --only rqvae,tiger,sasrec --json > burn.json
    python3 crates/tiger-bench/torch_reference.py --json > torch.json
    tiger-bench ratio --burn burn.json --torch torch.json

Shapes mirror the Rust defaults (keep them in step when those change)
    RQ-VAE  src/config.rs (QuantizeOptions), src/rqvae/model.rs, src/rqvae/quantizer.rs,
            src/train/rqvae_loop.rs: input D (default 768 here; the shipped sample's MiniLM
            embeddings are 384-d: ``--rqvae-input-dim 384``) -> 512 -> 256 -> 128 -> 32 with ReLU
            between layers, decoder mirrored; 3 codebooks x 256 x 32, N(0, 1) init; beta 0.25;
            batch 1024 rows gathered from a 10,000-row table on the device (`tiger-bench run --items`);
            Adam lr 1e-3, eps 1e-5 (burn's AdamConfig default).
    T5      src/seq2seq/{model,attention,relpos,batch,vocab}.rs, src/train/{seq2seq_loop,options}.rs:
            4 + 4 pre-norm layers, d_model 128, 6 heads x 64, FFN 1024 (ReLU, no biases), RMSNorm eps
            1e-6, dropout 0.1, scores scaled by 1/sqrt(64), bucketed relative position bias (32
            buckets, max distance 128; bidirectional in the encoder, causal in the decoder; one table
            per stack); vocab 3 specials + 3 x 256 codes + 2 collision tokens + 2,000 user buckets =
            2,773 (`tiger-bench run`'s random IDs on the 9,125-item sample have 2 collision tokens; the
            trained IDs of docs/performance.md have 3); source 1 user token + 20 items x 4 tokens =
            81 (right-padded), target 4 tokens;
            batch 256; AdamW lr 1e-3 schedule (linear warm-up over 500 steps), weight decay 0.01,
            eps 1e-5, each parameter's gradient clipped to norm 1 (burn clips per tensor).
    SASRec  src/baseline/sasrec.rs, src/baseline/sasrec_train.rs: 2 pre-norm blocks, d 64, 1 head,
            LayerNorm eps 1e-8, point-wise FFN 64 -> 64 -> 64 with biases, dropout 0.2, learned
            positions (50), item table 9,125 + 1 (N(0, 1/sqrt(64)) init) shared with the output
            layer; batch 128 x 50 (left-padded); cross-entropy ignoring padding; AdamW lr 1e-3,
            weight decay 0, eps 1e-5, no clipping.

What the Rust loops do that this script does not time
    k-means codebook initialisation (before step 1), dead-code restarts (every 100 RQ-VAE steps, up
    to 90 % of the run: a read-back and host work), validation / beam search and checkpoints. By
    default nothing is read back inside the timed window either; ``--log-every N`` adds what the
    Rust loops do every N steps (``tiger-bench run`` uses N = its --warmup, 20): one loss
    read-back, and for the RQ-VAE the codes of every row (``assign_codes``). The Rust loops also
    build each batch on the host and upload it (and the relative position bucket indices, twice per
    T5 step); here batches and bucket tables are made once, before timing, and stay on the device.
"""

import argparse
import gc
import json
import math
import platform
import sys
import time
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------------
# Defaults, mirroring the Rust crate (see the docstring for the files).
# --------------------------------------------------------------------------------------------------

RQVAE = dict(
    input_dim=768,
    hidden_dims=(512, 256, 128),
    latent_dim=32,
    levels=3,
    codebook_size=256,
    beta=0.25,
    lr=1e-3,
    batch=1024,
    items=10_000,  # rows the batches are drawn from: `tiger-bench run --items` default
)

T5 = dict(
    levels=3,
    codebook_size=256,
    # Vocab::for_ids: max collision index + 1. `tiger-bench run` gives the 9,125 sample items random IDs
    # (src/bench/train.rs `random_ids`, seed 3): two items share a 3-code prefix, so 2 tokens. (The
    # sample's trained IDs in docs/performance.md have groups of 3, i.e. 3 tokens: vocab 2,774.)
    collision_tokens=2,
    user_buckets=2000,
    max_history=20,
    d_model=128,
    heads=6,
    d_head=64,
    d_ff=1024,
    encoder_layers=4,
    decoder_layers=4,
    dropout=0.1,
    rel_buckets=32,
    rel_max_distance=128,
    batch=256,
    lr=1e-3,
    warmup_steps=500,
    decay_start=10_000,
    weight_decay=0.01,
    clip_norm=1.0,
)

SASREC = dict(
    items=9125,  # catalogue size of ml-latest-small; the item table has items + 1 rows (0 = pad)
    d_model=64,
    blocks=2,
    heads=1,
    max_len=50,
    dropout=0.2,
    batch=128,
    lr=1e-3,
    weight_decay=0.0,
)

SPECIALS = 3  # PAD = 0, BOS = 1, EOS = 2 (src/seq2seq/vocab.rs)
PAD, BOS = 0, 1
BURN_ADAM_EPS = 1e-5  # burn's AdamConfig / AdamWConfig default epsilon
BATCH_POOL = 8  # distinct synthetic batches cycled through (T5, SASRec)


# --------------------------------------------------------------------------------------------------
# RQ-VAE (src/rqvae/model.rs, src/rqvae/quantizer.rs)
# --------------------------------------------------------------------------------------------------


def mlp(dims):
    return nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))


def run_mlp(layers, x):
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        x = layer(x)
        if i < last:
            x = F.relu(x)
    return x


class RqVae(nn.Module):
    def __init__(self, input_dim, hidden_dims, latent_dim, levels, codebook_size, beta):
        super().__init__()
        dims = [input_dim, *hidden_dims, latent_dim]
        self.encoder = mlp(dims)
        self.decoder = mlp(dims[::-1])
        self.codebooks = nn.ParameterList(
            nn.Parameter(torch.randn(codebook_size, latent_dim)) for _ in range(levels)
        )
        self.beta = beta

    @torch.no_grad()
    def codes(self, x):
        """RqVae::codes: inference-only codes `[batch, levels]` (catalogue statistics)."""
        residual = run_mlp(self.encoder, x)
        codes = []
        for cb in self.codebooks:
            dist = cb.square().sum(1).unsqueeze(0) - 2.0 * (residual @ cb.t())
            idx = dist.argmin(1)
            residual = residual - cb.index_select(0, idx)
            codes.append(idx)
        return torch.stack(codes, 1)

    def forward(self, x):
        """Total loss (reconstruction MSE + sum over levels of codebook + beta * commitment) and the
        codes `[batch, levels]`, as RqVae::forward + the loss sum in rqvae_loop.rs."""
        z = run_mlp(self.encoder, x)
        residual = z
        quantized = torch.zeros_like(z)
        quant_loss = None
        codes = []
        for cb in self.codebooks:
            r = residual.detach()
            # quantizer::nearest: ||c||^2 - 2 r.c (||r||^2 is the same for every code), argmin.
            cbd = cb.detach()
            dist = cbd.square().sum(1).unsqueeze(0) - 2.0 * (r @ cbd.t())
            idx = dist.argmin(1)
            e = cb.index_select(0, idx)  # burn `select`: gradient scattered back into the codebook
            codebook_term = (r - e).square().mean()
            commit_term = (residual - e.detach()).square().mean()
            level_loss = codebook_term + self.beta * commit_term
            quant_loss = level_loss if quant_loss is None else quant_loss + level_loss
            quantized = quantized + e
            residual = residual - e.detach()
            codes.append(idx)
        # Straight-through: the decoder sees the quantised vector, the gradient flows to z.
        z_q = z + (quantized - z).detach()
        reconstruction = run_mlp(self.decoder, z_q)
        recon_loss = (reconstruction - x).square().mean()
        return recon_loss + quant_loss, torch.stack(codes, 1)


# --------------------------------------------------------------------------------------------------
# T5-style encoder-decoder (src/seq2seq/*.rs)
# --------------------------------------------------------------------------------------------------


def rel_bucket(rel, bidirectional, num_buckets, max_distance):
    """relpos.rs `bucket`: the T5 bucket of relative position rel = key - query."""
    buckets = num_buckets
    ret = 0
    n = -rel
    if bidirectional:
        buckets //= 2
        if n < 0:
            ret += buckets
        n = abs(n)
    else:
        n = max(n, 0)
    max_exact = max(buckets // 2, 1)
    if n < max_exact:
        ret += n
    else:
        scale = float(buckets - max_exact)
        ratio = math.log(n / max_exact) / math.log(max_distance / max_exact)
        ret += min(max_exact + int(ratio * scale), buckets - 1)
    return ret


def bucket_table(tq, tk, bidirectional, num_buckets, max_distance):
    return torch.tensor(
        [
            [rel_bucket(k - q, bidirectional, num_buckets, max_distance) for k in range(tk)]
            for q in range(tq)
        ],
        dtype=torch.long,
    )


class RelativeBias(nn.Module):
    """One learned scalar per head and bucket; forward gives `[1, heads, tq, tk]`."""

    def __init__(self, heads, num_buckets, max_distance, bidirectional, tq, tk):
        super().__init__()
        self.table = nn.Embedding(num_buckets, heads)  # N(0, 1), as burn's Embedding
        self.register_buffer(
            "idx", bucket_table(tq, tk, bidirectional, num_buckets, max_distance), persistent=False
        )

    def forward(self):
        return self.table(self.idx).permute(2, 0, 1).unsqueeze(0)


class Attention(nn.Module):
    """attention.rs: separate bias-free q/k/v/o projections, inner width heads * d_head, scores
    scaled by 1/sqrt(d_head), additive bias, dropout on the attention weights."""

    def __init__(self, d_model, heads, d_head, dropout, sdpa):
        super().__init__()
        inner = heads * d_head
        self.q = nn.Linear(d_model, inner, bias=False)
        self.k = nn.Linear(d_model, inner, bias=False)
        self.v = nn.Linear(d_model, inner, bias=False)
        self.o = nn.Linear(inner, d_model, bias=False)
        self.heads, self.d_head, self.p, self.sdpa = heads, d_head, dropout, sdpa

    def forward(self, query, memory, bias):
        b, tq, _ = query.shape
        tk = memory.shape[1]
        h, dh = self.heads, self.d_head
        q = self.q(query).view(b, tq, h, dh).transpose(1, 2)
        k = self.k(memory).view(b, tk, h, dh).transpose(1, 2)
        v = self.v(memory).view(b, tk, h, dh).transpose(1, 2)
        if self.sdpa:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias, dropout_p=self.p if self.training else 0.0
            )
        else:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(dh)
            weights = F.dropout(torch.softmax(scores + bias, dim=-1), self.p, self.training)
            out = weights @ v
        return self.o(out.transpose(1, 2).reshape(b, tq, h * dh))


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, dropout):
        super().__init__()
        self.wi = nn.Linear(d_model, d_ff, bias=False)
        self.wo = nn.Linear(d_ff, d_model, bias=False)
        self.p = dropout

    def forward(self, x):
        return self.wo(F.dropout(F.relu(self.wi(x)), self.p, self.training))


class EncoderLayer(nn.Module):
    def __init__(self, c, sdpa):
        super().__init__()
        self.norm1 = nn.RMSNorm(c["d_model"], eps=1e-6)
        self.attn = Attention(c["d_model"], c["heads"], c["d_head"], c["dropout"], sdpa)
        self.norm2 = nn.RMSNorm(c["d_model"], eps=1e-6)
        self.ff = FeedForward(c["d_model"], c["d_ff"], c["dropout"])
        self.p = c["dropout"]

    def forward(self, x, bias):
        h = self.norm1(x)
        x = x + F.dropout(self.attn(h, h, bias), self.p, self.training)
        h = self.norm2(x)
        return x + F.dropout(self.ff(h), self.p, self.training)


class DecoderLayer(nn.Module):
    def __init__(self, c, sdpa):
        super().__init__()
        self.norm1 = nn.RMSNorm(c["d_model"], eps=1e-6)
        self.self_attn = Attention(c["d_model"], c["heads"], c["d_head"], c["dropout"], sdpa)
        self.norm2 = nn.RMSNorm(c["d_model"], eps=1e-6)
        self.cross_attn = Attention(c["d_model"], c["heads"], c["d_head"], c["dropout"], sdpa)
        self.norm3 = nn.RMSNorm(c["d_model"], eps=1e-6)
        self.ff = FeedForward(c["d_model"], c["d_ff"], c["dropout"])
        self.p = c["dropout"]

    def forward(self, x, memory, self_bias, cross_bias):
        h = self.norm1(x)
        x = x + F.dropout(self.self_attn(h, h, self_bias), self.p, self.training)
        h = self.norm2(x)
        x = x + F.dropout(self.cross_attn(h, memory, cross_bias), self.p, self.training)
        h = self.norm3(x)
        return x + F.dropout(self.ff(h), self.p, self.training)


def key_mask(mask):
    """`[batch, t]` 1/0 mask -> additive `[batch, 1, 1, t]` (0 or -1e9), as model.rs."""
    b, t = mask.shape
    return ((mask.float() - 1.0) * 1e9).view(b, 1, 1, t)


class Seq2Seq(nn.Module):
    def __init__(self, c, vocab_size, src_len, tgt_len, sdpa):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, c["d_model"])
        self.encoder = nn.ModuleList(EncoderLayer(c, sdpa) for _ in range(c["encoder_layers"]))
        self.encoder_bias = RelativeBias(
            c["heads"], c["rel_buckets"], c["rel_max_distance"], True, src_len, src_len
        )
        self.encoder_norm = nn.RMSNorm(c["d_model"], eps=1e-6)
        self.decoder = nn.ModuleList(DecoderLayer(c, sdpa) for _ in range(c["decoder_layers"]))
        self.decoder_bias = RelativeBias(
            c["heads"], c["rel_buckets"], c["rel_max_distance"], False, tgt_len, tgt_len
        )
        self.decoder_norm = nn.RMSNorm(c["d_model"], eps=1e-6)
        self.head = nn.Linear(c["d_model"], vocab_size, bias=False)
        self.p = c["dropout"]
        causal = torch.triu(torch.ones(tgt_len, tgt_len), diagonal=1) * -1e9
        self.register_buffer("causal", causal.view(1, 1, tgt_len, tgt_len), persistent=False)

    def encode(self, src, mask):
        bias = self.encoder_bias() + key_mask(mask)  # [batch, heads, src, src]
        x = F.dropout(self.embed(src), self.p, self.training)
        for layer in self.encoder:
            x = layer(x, bias)
        return F.dropout(self.encoder_norm(x), self.p, self.training)

    def decode(self, memory, mask, tokens):
        self_bias = self.decoder_bias() + self.causal  # [1, heads, tgt, tgt]
        cross_bias = key_mask(mask)  # [batch, 1, 1, src]
        x = F.dropout(self.embed(tokens), self.p, self.training)
        for layer in self.decoder:
            x = layer(x, memory, self_bias, cross_bias)
        x = F.dropout(self.decoder_norm(x), self.p, self.training)
        return self.head(x)

    def forward(self, src, mask, dec_in, labels):
        """Teacher-forced cross-entropy (mean over batch * tgt tokens), as seq2seq_loop.rs."""
        logits = self.decode(self.encode(src, mask), mask, dec_in)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


def t5_vocab_size(c):
    # Vocab::size: specials + levels * codebook + collision tokens + user buckets.
    return SPECIALS + c["levels"] * c["codebook_size"] + c["collision_tokens"] + c["user_buckets"]


def t5_lengths(c):
    id_len = c["levels"] + 1
    src_len = (1 if c["user_buckets"] > 0 else 0) + c["max_history"] * id_len
    return src_len, id_len


def t5_batch(c, batch, gen, device):
    """One synthetic training batch laid out as batch.rs `train_batch`: optional user token, then
    the history items' tokens (levels codes + collision token each, level-offset), right-padded
    with PAD; decoder input BOS + the target's first id_len - 1 tokens; labels the target's tokens.
    About 5/6 of the rows have a full 20-item history (as most training prefixes of the sample do);
    row 0 always does, so the source length is the full one, as the Rust pads to the batch maximum.
    """
    L, K, C, U, H = c["levels"], c["codebook_size"], c["collision_tokens"], c["user_buckets"], c[
        "max_history"
    ]
    src_len, id_len = t5_lengths(c)

    def item_tokens(shape):
        codes = torch.randint(0, K, (*shape, L), generator=gen)
        codes = codes + SPECIALS + torch.arange(L) * K
        coll = torch.randint(0, C, (*shape, 1), generator=gen) + SPECIALS + L * K
        return torch.cat([codes, coll], dim=-1)  # [..., id_len]

    hist = item_tokens((batch, H)).reshape(batch, H * id_len)
    n_items = torch.randint(1, 6 * H + 1, (batch,), generator=gen).clamp(max=H)
    n_items[0] = H
    if U > 0:
        user = torch.randint(0, U, (batch, 1), generator=gen) + SPECIALS + L * K + C
        src = torch.cat([user, hist], dim=1)
        used = 1 + n_items * id_len
    else:
        src = hist
        used = n_items * id_len
    mask = (torch.arange(src_len).unsqueeze(0) < used.unsqueeze(1)).long()
    src = torch.where(mask.bool(), src, torch.full_like(src, PAD))
    target = item_tokens((batch,))
    dec_in = torch.cat([torch.full((batch, 1), BOS, dtype=torch.long), target[:, :-1]], dim=1)
    return tuple(t.to(device) for t in (src, mask, dec_in, target))


def lr_at(c, step):
    """Seq2SeqOptions::lr_at: linear warm-up, constant, then 1/sqrt decay (1-based step)."""
    warm = min(step / c["warmup_steps"], 1.0) if c["warmup_steps"] > 0 else 1.0
    decay = (
        math.sqrt(c["decay_start"] / step) if (c["decay_start"] > 0 and step > c["decay_start"]) else 1.0
    )
    return c["lr"] * warm * decay


class PerTensorClip:
    """burn GradientClipping::Norm: every parameter's gradient is scaled by
    min(1, max_norm / (||g|| + f32 min_positive)) on its own (not a global norm)."""

    def __init__(self, max_norm):
        self.max_norm = max_norm
        self.tiny = torch.finfo(torch.float32).tiny
        self.use_foreach = True

    def __call__(self, params):
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        norms = torch.stack(torch._foreach_norm(grads))
        coefs = (self.max_norm / (norms + self.tiny)).clamp_(max=1.0)
        coef_list = list(coefs.unbind(0))
        if self.use_foreach:
            try:
                torch._foreach_mul_(grads, coef_list)
                return
            except (RuntimeError, TypeError):
                self.use_foreach = False
        for g, k in zip(grads, coef_list):
            g.mul_(k)


# --------------------------------------------------------------------------------------------------
# SASRec (src/baseline/sasrec.rs)
# --------------------------------------------------------------------------------------------------


class SasBlock(nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=1e-8)
        self.attn = Attention(d, heads, d // max(heads, 1), dropout, sdpa=False)
        self.norm2 = nn.LayerNorm(d, eps=1e-8)
        self.ff1 = nn.Linear(d, d)
        self.ff2 = nn.Linear(d, d)
        self.p = dropout


class SasRec(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        std = 1.0 / math.sqrt(d)
        self.items = nn.Embedding(c["items"] + 1, d)
        self.positions = nn.Embedding(c["max_len"], d)
        nn.init.normal_(self.items.weight, 0.0, std)
        nn.init.normal_(self.positions.weight, 0.0, std)
        self.blocks = nn.ModuleList(
            SasBlock(d, c["heads"], c["dropout"]) for _ in range(c["blocks"])
        )
        self.norm = nn.LayerNorm(d, eps=1e-8)
        self.p = c["dropout"]
        self.d = d
        t = c["max_len"]
        self.register_buffer("pos_ids", torch.arange(t), persistent=False)
        causal = torch.triu(torch.ones(t, t), diagonal=1)
        self.register_buffer("causal", causal.view(1, 1, t, t), persistent=False)

    def hidden(self, seq):
        b, t = seq.shape
        pad = seq == 0
        x = self.items(seq) + self.positions(self.pos_ids[:t]).unsqueeze(0)
        keep = (~pad).float().view(b, t, 1)
        x = F.dropout(x, self.p, self.training) * keep
        key_pad = pad.float().view(b, 1, 1, t)
        bias = (self.causal[:, :, :t, :t] + key_pad).clamp(max=1.0) * -1e9
        for blk in self.blocks:
            h = blk.norm1(x)
            x = x + F.dropout(blk.attn(h, h, bias), blk.p, self.training)
            h = blk.norm2(x)
            f = blk.ff2(F.dropout(F.relu(blk.ff1(h)), blk.p, self.training))
            x = (x + F.dropout(f, blk.p, self.training)) * keep
        return self.norm(x)

    def forward(self, seq, targets):
        """Cross-entropy over all items + pad column at every position, padding ignored, as
        sasrec_train.rs (logits = hidden @ item table^T)."""
        h = self.hidden(seq).reshape(-1, self.d)
        logits = h @ self.items.weight.t()
        return F.cross_entropy(logits, targets.reshape(-1), ignore_index=0)


def sasrec_batch(c, batch, gen, device):
    """Left-padded windows of item ids + 1 (0 = pad) and their next-item targets, as
    sasrec_train.rs `batch`; most rows full (the sample's users have long histories)."""
    t, items = c["max_len"], c["items"]
    seq = torch.randint(1, items + 1, (batch, t + 1), generator=gen)
    n = torch.randint(1, 6 * t + 1, (batch,), generator=gen).clamp(max=t)
    valid = torch.arange(t).unsqueeze(0) >= (t - n).unsqueeze(1)  # left padding
    inputs = torch.where(valid, seq[:, :t], torch.zeros_like(seq[:, :t]))
    targets = torch.where(valid, seq[:, 1:], torch.zeros_like(seq[:, 1:]))
    return inputs.to(device), targets.to(device)


# --------------------------------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------------------------------


def optim_kwargs(args):
    return {"fused": True} if args.fused_optim else {}


class RqVaeBench:
    def __init__(self, args, device, variant):
        c = dict(RQVAE, input_dim=args.rqvae_input_dim)
        self.model = RqVae(
            c["input_dim"], c["hidden_dims"], c["latent_dim"], c["levels"], c["codebook_size"], c["beta"]
        ).to(device)
        self.model.train()
        items = c["items"]
        self.batch = min(c["batch"], items)
        # Inputs are standardised in the Rust loop (zero mean, unit variance per dimension).
        self.data = torch.randn(items, c["input_dim"], device=device)
        chunks = items // self.batch
        self.order = torch.randperm(items, device=device)[: chunks * self.batch].view(chunks, self.batch)
        self.opt = torch.optim.Adam(
            self.model.parameters(), lr=c["lr"], betas=(0.9, 0.999), eps=BURN_ADAM_EPS, **optim_kwargs(args)
        )
        self.fn = torch.compile(self.model) if "compile" in variant else self.model
        self.describe = (
            f"{items} x {c['input_dim']} -> {'->'.join(map(str, c['hidden_dims']))}->"
            f"{c['latent_dim']}, {c['levels']}x{c['codebook_size']}x{c['latent_dim']} codebooks, "
            f"batch {self.batch}, Adam lr {c['lr']} eps {BURN_ADAM_EPS}"
        )

    def log_interval(self):
        """What rqvae_loop.rs does at each log interval besides reading the losses back: assign
        codes to every row in 16,384-row chunks and read them back (`assign_codes`)."""
        for start in range(0, self.data.shape[0], 16_384):
            self.model.codes(self.data[start : start + 16_384]).cpu()

    def step(self, i):
        x = self.data.index_select(0, self.order[i % self.order.shape[0]])
        self.opt.zero_grad(set_to_none=True)
        loss, _codes = self.fn(x)
        loss.backward()
        self.opt.step()
        return loss.detach()


class T5Bench:
    def __init__(self, args, device, variant):
        c = dict(T5)
        self.c = c
        src_len, tgt_len = t5_lengths(c)
        vocab = t5_vocab_size(c)
        self.model = Seq2Seq(c, vocab, src_len, tgt_len, sdpa="sdpa" in variant).to(device)
        self.model.train()
        self.batch = c["batch"]
        gen = torch.Generator().manual_seed(args.seed)
        self.batches = [t5_batch(c, self.batch, gen, device) for _ in range(BATCH_POOL)]
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(
            self.params,
            lr=c["lr"],
            betas=(0.9, 0.999),
            eps=BURN_ADAM_EPS,
            weight_decay=c["weight_decay"],
            **optim_kwargs(args),
        )
        self.clip = PerTensorClip(c["clip_norm"])
        self.fn = torch.compile(self.model) if "compile" in variant else self.model
        n_params = sum(p.numel() for p in self.params)
        self.describe = (
            f"{c['encoder_layers']}+{c['decoder_layers']} layers, d_model {c['d_model']}, "
            f"{c['heads']}x{c['d_head']} heads, d_ff {c['d_ff']}, vocab {vocab}, src {src_len}, "
            f"tgt {tgt_len}, batch {self.batch}, {n_params / 1e6:.2f} M params, AdamW wd "
            f"{c['weight_decay']} eps {BURN_ADAM_EPS}, per-tensor grad-norm clip {c['clip_norm']}"
        )

    def step(self, i):
        src, mask, dec_in, labels = self.batches[i % len(self.batches)]
        lr = lr_at(self.c, i)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.zero_grad(set_to_none=True)
        loss = self.fn(src, mask, dec_in, labels)
        loss.backward()
        self.clip(self.params)
        self.opt.step()
        return loss.detach()


class SasRecBench:
    def __init__(self, args, device, variant):
        c = dict(SASREC)
        self.model = SasRec(c).to(device)
        self.model.train()
        self.batch = c["batch"]
        gen = torch.Generator().manual_seed(args.seed)
        self.batches = [sasrec_batch(c, self.batch, gen, device) for _ in range(BATCH_POOL)]
        self.opt = torch.optim.AdamW(
            self.model.parameters(),
            lr=c["lr"],
            betas=(0.9, 0.999),
            eps=BURN_ADAM_EPS,
            weight_decay=c["weight_decay"],
            **optim_kwargs(args),
        )
        self.fn = torch.compile(self.model) if "compile" in variant else self.model
        self.describe = (
            f"{c['blocks']} blocks, d {c['d_model']}, {c['heads']} head(s), max_len {c['max_len']}, "
            f"{c['items']} items (+pad), batch {self.batch}, full softmax, AdamW wd {c['weight_decay']}"
        )

    def step(self, i):
        seq, targets = self.batches[i % len(self.batches)]
        self.opt.zero_grad(set_to_none=True)
        loss = self.fn(seq, targets)
        loss.backward()
        self.opt.step()
        return loss.detach()


WORKLOADS = {
    "rqvae": (RqVaeBench, ["eager"], ["compile"], 200),
    "tiger": (T5Bench, ["eager", "sdpa"], ["compile", "compile-sdpa"], 100),
    "sasrec": (SasRecBench, ["eager"], ["compile"], 100),
}


def disable_tf32():
    """TF32 off for matmuls and cuDNN through the legacy flags (as burn-wgpu computes in fp32), and
    through torch 2.9+'s fp32_precision settings too where they exist, so both agree."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy flags warn about their replacement in torch 2.9+
        for setter in (
            lambda: setattr(torch.backends.cuda.matmul, "allow_tf32", False),
            lambda: setattr(torch.backends.cudnn, "allow_tf32", False),
            lambda: torch.set_float32_matmul_precision("highest"),
        ):
            try:
                setter()
            except (AttributeError, RuntimeError):
                pass
        for backend in (
            torch.backends.cuda.matmul,
            getattr(torch.backends.cudnn, "conv", None),
            getattr(torch.backends.cudnn, "rnn", None),
        ):
            if backend is not None and hasattr(backend, "fp32_precision"):
                try:
                    backend.fp32_precision = "ieee"
                except (AttributeError, RuntimeError, ValueError):
                    pass


def tf32_state():
    """What the matmul TF32 setting reads back as, for the header line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            p = getattr(torch.backends.cuda.matmul, "fp32_precision", None)
            if p is not None:
                return f"cuda.matmul.fp32_precision={p}"
            return f"cuda.matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32}"
        except RuntimeError as e:
            return f"unreadable ({e})"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def free(device):
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def measure(workload, variant, args, device):
    cls, _, _, default_steps = WORKLOADS[workload]
    steps = args.steps if args.steps is not None else default_steps
    warmup = max(args.warmup, 1)  # the first step is always run (and reported) before timing
    free(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    torch.manual_seed(args.seed)
    bench = cls(args, device, variant)
    sync(device)

    pending = []

    def step(i):
        loss = bench.step(i)
        if args.log_every:
            # As the Rust loops at their log interval: one read-back of the losses since the last
            # one (and for the RQ-VAE, codes of every row). Off by default.
            pending.append(loss)
            if i % args.log_every == 0:
                if hasattr(bench, "log_interval"):
                    bench.log_interval()
                torch.stack(pending).sum().item()
                pending.clear()
        return loss

    t0 = time.perf_counter()
    step(1)
    sync(device)
    first = time.perf_counter() - t0
    for i in range(2, warmup + 1):
        step(i)

    losses = []
    sync(device)
    t0 = time.perf_counter()
    for i in range(warmup + 1, warmup + steps + 1):
        losses.append(step(i))
    sync(device)
    elapsed = time.perf_counter() - t0

    mean_loss = torch.stack(losses).mean().item()  # read back once, after the timed window
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        reserved = torch.cuda.max_memory_reserved(device) / 2**20
    else:
        peak = reserved = None
    result = {
        "workload": workload,
        "variant": variant,
        "steps_per_s": steps / elapsed,
        "first_step_s": first,
        "peak_mib": peak,
        "steps": steps,
        "batch": bench.batch,
        "torch": torch.__version__,
        "device_name": device_name(device),
        "tf32": False,
        # Extras beyond the comparison keys:
        "peak_reserved_mib": reserved,
        "mean_loss": mean_loss,
        "warmup": warmup,
        "log_every": args.log_every,
        "optimizer_impl": "fused" if args.fused_optim else "default",
    }
    describe = bench.describe
    del bench, losses
    pending.clear()
    if "compile" in variant:
        torch._dynamo.reset()
    free(device)
    return result, describe


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine() or device.type


def main():
    ap = argparse.ArgumentParser(
        description="PyTorch reference timings of tiger-explorer's RQ-VAE, TIGER (T5) and SASRec "
        "training steps (fp32, TF32 off)."
    )
    ap.add_argument("--workload", choices=["rqvae", "tiger", "sasrec", "all"], default="all")
    ap.add_argument(
        "--steps", type=int, default=None, help="timed steps (default: 200 rqvae, 100 tiger/sasrec)"
    )
    ap.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="untimed steps before the timed window, the first included (at least 1)",
    )
    ap.add_argument("--compile", action="store_true", help="also measure torch.compile variants")
    ap.add_argument("--json", action="store_true", help="one JSON line per workload-variant")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--log-every",
        type=int,
        default=0,
        help="every N steps read the losses back (and, for rqvae, assign codes to every row), as "
        "the Rust loops do at their log interval (`tiger-bench run` uses N = --warmup); 0 = never",
    )
    ap.add_argument(
        "--rqvae-input-dim",
        type=int,
        default=RQVAE["input_dim"],
        help="RQ-VAE input width (768 default; the shipped MiniLM sample is 384)",
    )
    ap.add_argument(
        "--fused-optim",
        action="store_true",
        help="use fused=True Adam/AdamW instead of PyTorch's default (foreach) implementation",
    )
    args = ap.parse_args()
    if args.steps is not None and args.steps < 1:
        ap.error("--steps must be at least 1")
    if args.log_every < 0:
        ap.error("--log-every must be 0 or more")

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        ap.error("CUDA is not available; pass --device cpu for a smoke test")
    disable_tf32()
    if device.type == "cuda":
        if device.index is not None:
            torch.cuda.set_device(device)
        torch.zeros(1, device=device).sum()  # create the context outside every measurement
        sync(device)

    info = sys.stderr if args.json else sys.stdout
    print(
        f"# torch {torch.__version__} on {device_name(device)}; fp32, TF32 disabled "
        f"(torch.backends.cuda.matmul.allow_tf32=False, torch.backends.cudnn.allow_tf32=False; "
        f"reads back {tf32_state()}); "
        f"warmup {max(args.warmup, 1)}; optimiser {'fused' if args.fused_optim else 'default (foreach)'}",
        file=info,
        flush=True,
    )

    names = list(WORKLOADS) if args.workload == "all" else [args.workload]
    failed = False
    for name in names:
        _, variants, compiled, _ = WORKLOADS[name]
        for variant in variants + (compiled if args.compile else []):
            try:
                r, describe = measure(name, variant, args, device)
            except Exception as e:  # keep the other workloads' numbers
                failed = True
                print(f"{name} {variant} FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                if "compile" in variant:
                    torch._dynamo.reset()
                free(device)
                continue
            if args.json:
                print(json.dumps(r), flush=True)
            else:
                peak = (
                    "n/a"
                    if r["peak_mib"] is None
                    else f"{r['peak_mib']:.0f} MiB (reserved {r['peak_reserved_mib']:.0f})"
                )
                print(
                    f"{name:<7} {variant:<13} {r['steps_per_s']:8.1f} steps/s   first "
                    f"{r['first_step_s']:6.2f} s   peak {peak:>22}   ({r['steps']} steps, batch "
                    f"{r['batch']}, mean loss {r['mean_loss']:.3f})",
                    flush=True,
                )
            if variant == variants[0]:
                print(f"#   {name}: {describe}", file=info, flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
