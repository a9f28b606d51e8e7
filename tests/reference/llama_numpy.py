"""Independent NumPy reference of the llama forward pass, for golden fixtures.

Why this exists: hearth's C++ engine is checked against logits produced by code
that shares nothing with it -- weights are read and dequantised by the `gguf`
Python package, and every step of the network is written out in plain NumPy.
The reference itself is validated against llama.cpp (see gen_fixtures.py).

Precision: all arithmetic is float64 on the dequantised weights.  The model is
small enough (135M parameters -> ~1.1 GB in float64) that this is affordable,
and it makes the reference an "exact" evaluation of the quantised model: the
only rounding left is in the quantised weights themselves, so differences
against an engine measure that engine's activation precision and kernels.

Conventions that an implementation has to get right (and that this file is
explicit about):

* GGUF tensor shapes: GGUF lists dimensions as ``ne = [ne0, ne1, ...]`` with
  ``ne0`` the contiguous (fastest) one.  ``gguf.GGUFReader`` exposes the data
  as a NumPy array shaped in reverse, ``(ne1, ne0)``, i.e. row-major with one
  row per output feature.  A projection ``W`` with ``ne = [n_in, n_out]`` is
  therefore an ``(n_out, n_in)`` array and is applied as ``x @ W.T``.
* RoPE: llama GGUF files (converted by llama.cpp's converter) have Q/K rows
  permuted so that the rotation acts on ADJACENT pairs ``(x[2i], x[2i+1])``
  of each head ("normal" rope mode), with angle
  ``pos * freq_base ** (-2i / n_rot)`` for ``i < n_rot / 2``.  Dimensions
  past ``n_rot`` (if ``llama.rope.dimension_count`` < head_dim) pass through.
* Grouped-query attention: query head ``h`` reads KV head
  ``h // (n_head // n_head_kv)``, which is how ggml broadcasts and how
  Hugging Face's ``repeat_kv`` lays heads out.
* Output projection: ``output.weight`` when present, else the tied
  ``token_embd.weight``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


@dataclass(frozen=True)
class HParams:
    """Hyperparameters read from the ``llama.*`` GGUF metadata."""

    n_vocab: int
    n_embd: int
    n_layer: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_rot: int
    rope_freq_base: float
    rms_eps: float


def _field(reader: GGUFReader, key: str, default=None):
    """Return a scalar metadata value, or ``default`` when the key is absent."""
    field = reader.get_field(key)
    if field is None:
        if default is None:
            raise KeyError(f"GGUF metadata key {key!r} is missing")
        return default
    return field.contents()


def read_hparams(reader: GGUFReader) -> HParams:
    """Read hyperparameters from metadata; refuse features we do not model."""
    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise ValueError(f"only llama is supported, file says {arch!r}")
    scaling = reader.get_field("llama.rope.scaling.type")
    if scaling is not None and scaling.contents() not in ("none", ""):
        raise ValueError(f"rope scaling {scaling.contents()!r} is not modelled")

    n_embd = int(_field(reader, "llama.embedding_length"))
    n_head = int(_field(reader, "llama.attention.head_count"))
    head_dim = int(_field(reader, "llama.attention.key_length", n_embd // n_head))
    embd = next(t for t in reader.tensors if t.name == "token_embd.weight")
    return HParams(
        n_vocab=int(embd.shape[1]),  # ne = [n_embd, n_vocab]
        n_embd=n_embd,
        n_layer=int(_field(reader, "llama.block_count")),
        n_ff=int(_field(reader, "llama.feed_forward_length")),
        n_head=n_head,
        n_head_kv=int(_field(reader, "llama.attention.head_count_kv", n_head)),
        head_dim=head_dim,
        n_rot=int(_field(reader, "llama.rope.dimension_count", head_dim)),
        rope_freq_base=float(_field(reader, "llama.rope.freq_base", 10000.0)),
        rms_eps=float(_field(reader, "llama.attention.layer_norm_rms_epsilon")),
    )


class LlamaReference:
    """Dequantised llama weights plus a teacher-forced forward pass."""

    def __init__(self, path: str, dtype=np.float64):
        reader = GGUFReader(path)
        self.hp = read_hparams(reader)
        self.dtype = dtype
        self.w: dict[str, np.ndarray] = {}
        for t in reader.tensors:
            # dequantize() returns float32 shaped (.., ne1, ne0): rows are
            # output features for matrices (see module docstring).
            data = dequantize(t.data, t.tensor_type)
            expected = tuple(int(d) for d in reversed(t.shape))
            if data.shape != expected:
                data = data.reshape(expected)
            self.w[t.name] = data.astype(dtype)
        out = self.w.get("output.weight", self.w["token_embd.weight"])
        self.w["output.weight"] = out
        self._check_shapes()

    def _check_shapes(self) -> None:
        """Fail loudly if our reading of the shape convention is wrong."""
        hp = self.hp
        q_dim, kv_dim = hp.n_head * hp.head_dim, hp.n_head_kv * hp.head_dim
        want = {
            "token_embd.weight": (hp.n_vocab, hp.n_embd),
            "output.weight": (hp.n_vocab, hp.n_embd),
            "output_norm.weight": (hp.n_embd,),
        }
        for i in range(hp.n_layer):
            want |= {
                f"blk.{i}.attn_norm.weight": (hp.n_embd,),
                f"blk.{i}.attn_q.weight": (q_dim, hp.n_embd),
                f"blk.{i}.attn_k.weight": (kv_dim, hp.n_embd),
                f"blk.{i}.attn_v.weight": (kv_dim, hp.n_embd),
                f"blk.{i}.attn_output.weight": (hp.n_embd, q_dim),
                f"blk.{i}.ffn_norm.weight": (hp.n_embd,),
                f"blk.{i}.ffn_gate.weight": (hp.n_ff, hp.n_embd),
                f"blk.{i}.ffn_up.weight": (hp.n_ff, hp.n_embd),
                f"blk.{i}.ffn_down.weight": (hp.n_embd, hp.n_ff),
            }
        for name, shape in want.items():
            if self.w[name].shape != shape:
                raise ValueError(f"{name}: shape {self.w[name].shape}, expected {shape}")

    def rms_norm(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """x / sqrt(mean(x^2) + eps) * weight, over the last axis."""
        ms = np.mean(x * x, axis=-1, keepdims=True)
        return x / np.sqrt(ms + self.hp.rms_eps) * weight

    def rope(self, x: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Rotate adjacent pairs of x (T, heads, head_dim) by pos * base^(-2i/n_rot)."""
        n_rot = self.hp.n_rot
        i = np.arange(n_rot // 2, dtype=np.float64)
        inv_freq = self.hp.rope_freq_base ** (-2.0 * i / n_rot)
        angle = positions.astype(np.float64)[:, None] * inv_freq[None, :]  # (T, n_rot/2)
        cos = np.cos(angle)[:, None, :].astype(self.dtype)
        sin = np.sin(angle)[:, None, :].astype(self.dtype)
        out = x.copy()
        x0 = x[..., 0:n_rot:2]
        x1 = x[..., 1:n_rot:2]
        out[..., 0:n_rot:2] = x0 * cos - x1 * sin
        out[..., 1:n_rot:2] = x0 * sin + x1 * cos
        return out

    def attention(self, x: np.ndarray, layer: int, positions: np.ndarray) -> np.ndarray:
        """Causal grouped-query self-attention of x (T, n_embd) -> (T, n_embd)."""
        hp, w, p = self.hp, self.w, f"blk.{layer}."
        T = x.shape[0]
        q = (x @ w[p + "attn_q.weight"].T).reshape(T, hp.n_head, hp.head_dim)
        k = (x @ w[p + "attn_k.weight"].T).reshape(T, hp.n_head_kv, hp.head_dim)
        v = (x @ w[p + "attn_v.weight"].T).reshape(T, hp.n_head_kv, hp.head_dim)
        q, k = self.rope(q, positions), self.rope(k, positions)

        group = hp.n_head // hp.n_head_kv
        k = np.repeat(k, group, axis=1)  # head h -> kv head h // group
        v = np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(hp.head_dim)
        causal = np.triu(np.ones((T, T), dtype=bool), k=1)
        scores = np.where(causal[None], -np.inf, scores)
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        ctx = np.einsum("hqk,khd->qhd", probs, v).reshape(T, hp.n_head * hp.head_dim)
        return ctx @ w[p + "attn_output.weight"].T

    def ffn(self, x: np.ndarray, layer: int) -> np.ndarray:
        """SwiGLU: down(silu(gate(x)) * up(x))."""
        w, p = self.w, f"blk.{layer}."
        gate = x @ w[p + "ffn_gate.weight"].T
        up = x @ w[p + "ffn_up.weight"].T
        return (gate / (1.0 + np.exp(-gate)) * up) @ w[p + "ffn_down.weight"].T

    def forward(self, tokens: list[int] | np.ndarray) -> np.ndarray:
        """Teacher-forced logits (n_tokens, n_vocab) for positions 0..n-1."""
        tokens = np.asarray(tokens, dtype=np.int64)
        positions = np.arange(len(tokens))
        h = self.w["token_embd.weight"][tokens]
        for layer in range(self.hp.n_layer):
            p = f"blk.{layer}."
            h = h + self.attention(self.rms_norm(h, self.w[p + "attn_norm.weight"]), layer, positions)
            h = h + self.ffn(self.rms_norm(h, self.w[p + "ffn_norm.weight"]), layer)
        h = self.rms_norm(h, self.w["output_norm.weight"])
        return h @ self.w["output.weight"].T


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax over the last axis."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def main() -> None:
    """Print the reference's greedy next tokens for a list of token ids (debug aid)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="path to a llama GGUF file")
    ap.add_argument("tokens", type=int, nargs="+", help="token ids")
    args = ap.parse_args()
    ref = LlamaReference(args.model)
    print(ref.hp)
    logits = ref.forward(args.tokens)
    print("argmax:", logits.argmax(axis=-1).tolist())


if __name__ == "__main__":
    main()
