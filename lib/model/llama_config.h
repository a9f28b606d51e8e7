// LlamaConfig: the hyperparameters of a Llama-family model, read from GGUF metadata.
#ifndef HEARTH_LIB_MODEL_LLAMA_CONFIG_H_
#define HEARTH_LIB_MODEL_LLAMA_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "lib/gguf/gguf_file.h"

namespace hearth {

struct LlamaConfig {
  std::string architecture;  // "llama"
  std::string name;          // general.name, for display
  int64_t n_layers = 0;
  int64_t dim = 0;           // embedding length
  int64_t ffn_dim = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;      // dim / n_heads
  int64_t vocab_size = 0;
  int64_t context_length = 0;  // trained context
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;

  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
};

// Reads and validates the llama.* keys. Unimplemented for other architectures.
absl::StatusOr<LlamaConfig> ReadLlamaConfig(const GgufFile& file);

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_LLAMA_CONFIG_H_
