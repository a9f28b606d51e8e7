// LlamaModel: a loaded Llama-family model and its CPU forward pass.
//
// Usage:
//   auto model = LlamaModel::Load("model.gguf");
//   KvCache cache((*model)->config(), 2048);
//   ThreadPool pool(0);
//   std::vector<float> logits;
//   (*model)->Forward(tokens, /*start_pos=*/0, cache, pool, LogitsMode::kLast, &logits);
//
// Ownership: the model owns its mapped file; weights are read in place.
// Thread-safety: the model is immutable after Load(); Forward() may run concurrently on
// different caches and pools.
#ifndef HEARTH_LIB_MODEL_LLAMA_MODEL_H_
#define HEARTH_LIB_MODEL_LLAMA_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lib/gguf/gguf_file.h"
#include "lib/model/kv_cache.h"
#include "lib/model/llama_config.h"
#include "lib/model/llama_weights.h"
#include "lib/runtime/thread_pool.h"

namespace hearth {

enum class LogitsMode {
  kLast,  // logits of the last token only: (vocab,)
  kAll,   // logits of every token: (n_tokens, vocab)
};

class LlamaModel {
 public:
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const std::string& path);
  static absl::StatusOr<std::unique_ptr<LlamaModel>> FromFile(std::unique_ptr<GgufFile> file);

  const LlamaConfig& config() const { return config_; }
  const LlamaWeights& weights() const { return weights_; }
  const GgufFile& file() const { return *file_; }

  // Runs tokens at positions [start_pos, start_pos + n) against `cache`, which must
  // already hold positions [0, start_pos). Writes their keys and values into the cache and
  // the requested logits into *logits. Fails on out-of-range token ids or positions.
  absl::Status Forward(absl::Span<const int32_t> tokens, int64_t start_pos, KvCache& cache,
                       ThreadPool& pool, LogitsMode mode, std::vector<float>* logits) const;

 private:
  LlamaModel(std::unique_ptr<GgufFile> file, LlamaConfig config, LlamaWeights weights)
      : file_(std::move(file)), config_(std::move(config)), weights_(std::move(weights)) {}

  std::unique_ptr<GgufFile> file_;
  LlamaConfig config_;
  LlamaWeights weights_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_LLAMA_MODEL_H_
