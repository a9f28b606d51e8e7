// LlamaModel: a loaded Llama-family model and its CPU forward pass.
//
// Usage (one sequence whose block table covers its 40 positions):
//   auto model = LlamaModel::Load("model.gguf");
//   PagedKvCache cache((*model)->config(), /*n_blocks=*/3, /*block_tokens=*/16);
//   std::vector<int32_t> table = {0, 1, 2};
//   ThreadPool pool(0);
//   std::vector<float> logits;
//   const SequenceChunk chunk{tokens, /*start_pos=*/0, table, LogitsMode::kLast};
//   (*model)->Forward({&chunk, 1}, cache, pool, &logits);
//
// A batch holds chunks of several sequences (decode steps and prompt pieces alike); its
// tokens go through every matrix product together, so each weight block is read once per
// step. Every token's result depends only on its own sequence: the same token gives the
// same bits alone or in any batch.
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
#include "kernels/cpu/matmul.h"
#include "lib/gguf/gguf_file.h"
#include "lib/model/llama_config.h"
#include "lib/model/llama_weights.h"
#include "lib/model/paged_kv_cache.h"
#include "lib/runtime/thread_pool.h"

namespace hearth {

enum class LogitsMode {
  kNone,  // no logits (a prompt chunk that is not the prompt's end)
  kLast,  // logits of the chunk's last token: one row
  kAll,   // logits of every token of the chunk: one row each
};

// New tokens of one sequence, at positions [start_pos, start_pos + tokens.size()).
struct SequenceChunk {
  absl::Span<const int32_t> tokens;
  int64_t start_pos = 0;                 // positions [0, start_pos) are in the cache
  absl::Span<const int32_t> block_table; // blocks covering [0, start_pos + tokens.size())
  LogitsMode logits = LogitsMode::kLast;
};

// The checks every backend's forward pass makes before computing anything: chunks not
// empty, positions covered by their block tables and inside the context, block ids inside
// a cache of kv_blocks blocks of block_tokens tokens, token ids inside the vocabulary.
absl::Status ValidateBatch(const LlamaConfig& config, absl::Span<const SequenceChunk> batch,
                           int64_t kv_blocks, int block_tokens);

class LlamaModel {
 public:
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const std::string& path);
  static absl::StatusOr<std::unique_ptr<LlamaModel>> FromFile(std::unique_ptr<GgufFile> file);

  const LlamaConfig& config() const { return config_; }
  const LlamaWeights& weights() const { return weights_; }
  const GgufFile& file() const { return *file_; }

  // Runs every chunk of `batch` in one pass: writes the new tokens' keys and values into
  // their blocks and the requested logits into *logits, (rows, vocab) in batch order.
  // Fails, before computing anything, on empty chunks, out-of-range token ids, or block
  // tables that do not cover the positions. The caller bounds the batch's size: scratch
  // memory grows with its token count. `precision`: how activations are quantised for the
  // quantised weights' products (8-bit: faster batches, ~97 % top-1 agreement instead
  // of 100 %).
  absl::Status Forward(absl::Span<const SequenceChunk> batch, PagedKvCache& cache,
                       ThreadPool& pool, std::vector<float>* logits,
                       cpu::ActivationPrecision precision = cpu::ActivationPrecision::k16Bit) const;

 private:
  LlamaModel(std::unique_ptr<GgufFile> file, LlamaConfig config, LlamaWeights weights)
      : file_(std::move(file)), config_(std::move(config)), weights_(std::move(weights)) {}

  std::unique_ptr<GgufFile> file_;
  LlamaConfig config_;
  LlamaWeights weights_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_LLAMA_MODEL_H_
