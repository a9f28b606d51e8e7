// LlamaWeights: typed, shape-checked views of a Llama model's tensors inside a mapped GGUF
// file. Nothing is copied: the kernels read the quantised blocks in place.
#ifndef HEARTH_LIB_MODEL_LLAMA_WEIGHTS_H_
#define HEARTH_LIB_MODEL_LLAMA_WEIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/cpu/quant_types.h"
#include "lib/gguf/gguf_file.h"
#include "lib/model/llama_config.h"

namespace hearth {

// A (rows, cols) matrix in its GGUF layout: rows are contiguous, RowBytes(type, cols) apart.
struct WeightMatrix {
  cpu::GgmlType type = cpu::GgmlType::kF32;
  const std::byte* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

struct LayerWeights {
  const float* attn_norm = nullptr;  // (dim,)
  WeightMatrix wq;                   // (n_heads * head_dim, dim)
  WeightMatrix wk;                   // (n_kv_heads * head_dim, dim)
  WeightMatrix wv;                   // (n_kv_heads * head_dim, dim)
  WeightMatrix wo;                   // (dim, n_heads * head_dim)
  const float* ffn_norm = nullptr;   // (dim,)
  WeightMatrix w_gate;               // (ffn_dim, dim)
  WeightMatrix w_up;                 // (ffn_dim, dim)
  WeightMatrix w_down;               // (dim, ffn_dim)
};

struct LlamaWeights {
  WeightMatrix token_embd;             // (vocab, dim)
  std::vector<LayerWeights> layers;    // (n_layers,)
  const float* output_norm = nullptr;  // (dim,)
  WeightMatrix output;                 // (vocab, dim); token_embd when tied
  bool tied_output = false;
};

// Finds every tensor the forward pass needs and checks its type and shape against
// `config`. Sets config->vocab_size from the embedding when the metadata lacks it.
absl::StatusOr<LlamaWeights> BindLlamaWeights(const GgufFile& file, LlamaConfig* config);

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_LLAMA_WEIGHTS_H_
