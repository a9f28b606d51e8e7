#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus: tiny but complete GGUF files (a 1-layer llama with a
byte-level BPE vocabulary, and a SentencePiece one), so that mutations start from inputs
that reach the tensor table, the model config and the tokenizer, not just the header."""
import pathlib

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType

OUT = pathlib.Path(__file__).parent / "seeds"


def tiny_llama(path: pathlib.Path, tokenizer: str) -> None:
    dim, ffn, vocab = 32, 64, 8
    rng = np.random.default_rng(1)
    w = GGUFWriter(str(path), "llama")
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(dim)
    w.add_feed_forward_length(ffn)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_tokenizer_model(tokenizer)
    if tokenizer == "gpt2":
        w.add_tokenizer_pre("smollm")
        w.add_token_list(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "H", "e", "He", "l", "o"])
        w.add_token_types([3, 3, 3, 1, 1, 1, 1, 1])
        w.add_token_merges(["H e"])
    else:
        w.add_token_list(["<unk>", "<s>", "</s>", "\u2581", "H", "e", "\u2581H", "<0x0A>"])
        w.add_token_scores([0.0, 0.0, 0.0, -1.0, -2.0, -2.0, -0.5, 0.0])
        w.add_token_types([2, 3, 3, 1, 1, 1, 1, 6])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def t(name, *shape):
        w.add_tensor(name, rng.standard_normal(shape).astype(np.float32))

    t("token_embd.weight", vocab, dim)
    t("output_norm.weight", dim)
    t("blk.0.attn_norm.weight", dim)
    t("blk.0.attn_q.weight", dim, dim)
    t("blk.0.attn_k.weight", dim // 2, dim)
    t("blk.0.attn_v.weight", dim // 2, dim)
    t("blk.0.attn_output.weight", dim, dim)
    t("blk.0.ffn_norm.weight", dim)
    t("blk.0.ffn_gate.weight", ffn, dim)
    t("blk.0.ffn_up.weight", ffn, dim)
    t("blk.0.ffn_down.weight", dim, ffn)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    tiny_llama(OUT / "tiny_llama_bpe.gguf", "gpt2")
    tiny_llama(OUT / "tiny_llama_spm.gguf", "llama")
