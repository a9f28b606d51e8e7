// TensorParallelPlan: how a Llama model's layers split across tp_size ranks (Megatron-style
// tensor parallelism), and helpers that cut a weight matrix in its GGUF layout into the
// bytes one rank uploads.
//
// The split, per layer, for rank r of R:
//   attention  query heads [r*H/R, (r+1)*H/R) and KV heads [r*KV/R, (r+1)*KV/R): the rows
//              of Wq for those query heads, the rows of Wk and Wv for those KV heads, and
//              the matching input COLUMNS of Wo. Attention is head-local (RoPE, the KV
//              cache and the softmax never mix heads) and each rank keeps the GQA ratio
//              H/KV, so a rank runs the ordinary attention on n_heads/R, n_kv_heads/R
//              heads over its own KV cache.
//   FFN        columns [r*F/R, (r+1)*F/R) of the hidden layer: the rows of W_gate and W_up
//              and the input COLUMNS of W_down. SiLU(gate) * up is element-wise, so it
//              stays local.
//   all-reduce Wo and W_down each leave every rank with a partial (n_tokens, dim) sum over
//              its own columns; an all-reduce (sum) after each completes it, and only then
//              is the residual added (identically on every rank). Two per layer.
//   replicated token_embd, attn_norm, ffn_norm, output_norm and the output head: every
//              rank holds the residual stream in full.
//
// Refused (InvalidArgument, naming the numbers): tp_size < 1; n_heads, n_kv_heads or
// ffn_dim not divisible by tp_size (KV heads are not replicated: a model with fewer KV
// heads than ranks, or a KV head count the ranks do not divide, cannot use that tp_size);
// a column split (Wo's q_dim/R, W_down's ffn_dim/R) that is not a multiple of the weight
// type's block (32 elements for the quantised types), since a block cannot be cut.
//
// tp_size 1 is the identity: one rank owns everything and no all-reduce is needed.
#ifndef HEARTH_LIB_MODEL_TENSOR_PARALLEL_H_
#define HEARTH_LIB_MODEL_TENSOR_PARALLEL_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lib/model/llama_config.h"
#include "lib/model/llama_weights.h"

namespace hearth {

// A half-open index range [begin, end).
struct IndexRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  friend bool operator==(const IndexRange&, const IndexRange&) = default;
};

// The per-layer weight matrices a plan splits.
enum class LayerMatrix { kWq, kWk, kWv, kWo, kWGate, kWUp, kWDown };
std::string_view LayerMatrixName(LayerMatrix m);

// How one rank's share of a matrix is cut: whole rows, or whole (block-aligned) columns.
enum class SplitAxis { kRows, kColumns };
struct MatrixSplit {
  SplitAxis axis = SplitAxis::kRows;
  IndexRange range;  // of rows or of columns, by axis
};

// What rank `rank` owns of every layer.
struct RankShard {
  int rank = 0;
  IndexRange q_heads;   // query heads
  IndexRange kv_heads;  // KV heads (same GQA ratio as the model)
  IndexRange q_dims;    // rows of Wq = input columns of Wo: q_heads * head_dim
  IndexRange kv_dims;   // rows of Wk and Wv: kv_heads * head_dim
  IndexRange ffn;       // rows of W_gate and W_up = input columns of W_down
};

class TensorParallelPlan {
 public:
  // All-reduces (sum over ranks of an (n_tokens, dim) float buffer) per layer: after Wo
  // and after W_down. None when tp_size is 1.
  static constexpr int kAllReducesPerLayer = 2;

  // Checks the head and FFN divisibility (not the weight types: see the overload).
  static absl::StatusOr<TensorParallelPlan> Create(const LlamaConfig& config, int tp_size);
  // Also checks that every layer's column splits (Wo, W_down) are block-aligned for the
  // matrices' actual types.
  static absl::StatusOr<TensorParallelPlan> Create(const LlamaConfig& config,
                                                   const LlamaWeights& weights, int tp_size);

  int tp_size() const { return tp_size_; }
  const LlamaConfig& config() const { return config_; }
  const RankShard& shard(int rank) const { return shards_[static_cast<size_t>(rank)]; }

  // The model's shape as one rank sees it: n_heads/R, n_kv_heads/R, ffn_dim/R; dim,
  // head_dim, vocabulary and the rest unchanged.
  LlamaConfig RankConfig() const;

  // Which rows (Wq, Wk, Wv, W_gate, W_up) or columns (Wo, W_down) `rank` owns of `m`.
  MatrixSplit Split(LayerMatrix m, int rank) const;

  // OK when the column split of a matrix of `type` (Wo or W_down) cuts no block.
  absl::Status CheckColumnSplit(LayerMatrix m, cpu::GgmlType type) const;

 private:
  TensorParallelPlan() = default;
  LlamaConfig config_;
  int tp_size_ = 1;
  std::vector<RankShard> shards_;
};

// The layer matrix `m` of `layer`.
const WeightMatrix& GetLayerMatrix(const LayerWeights& layer, LayerMatrix m);

// Rows [rows.begin, rows.end) of `w`: contiguous in the GGUF layout, so a view into
// w.data (no copy), rows.size() * RowBytes(w.type, w.cols) bytes.
absl::StatusOr<absl::Span<const std::byte>> SliceRows(const WeightMatrix& w, IndexRange rows);

// Columns [cols.begin, cols.end) of every row of `w`, gathered into a new (w.rows,
// cols.size()) matrix of the same type, rows RowBytes(w.type, cols.size()) apart. Both
// ends must be multiples of BlockElements(w.type): whole blocks are copied, never
// re-quantised, so the bytes are exactly the original blocks.
absl::StatusOr<std::vector<std::byte>> SliceColumns(const WeightMatrix& w, IndexRange cols);

// A rank's share of a weight matrix: its own bytes and shape, in the GGUF layout.
struct WeightShard {
  cpu::GgmlType type = cpu::GgmlType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<std::byte> bytes;  // rows * RowBytes(type, cols)
  WeightMatrix view() const { return {type, bytes.data(), rows, cols}; }
};

// The bytes rank `rank` uploads for matrix `m` of a layer (whose shape `w` has).
absl::StatusOr<WeightShard> ShardWeight(const TensorParallelPlan& plan, LayerMatrix m,
                                        const WeightMatrix& w, int rank);

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_TENSOR_PARALLEL_H_
