#include "lib/model/tensor_parallel.h"

#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "kernels/cpu/quant_types.h"

namespace hearth {
namespace {

std::string TypeNameOf(cpu::GgmlType type) {
  return std::string(cpu::TypeName(static_cast<uint32_t>(type)));
}

// The tensor-parallel dimension of a matrix: output rows or input columns, and their count.
int64_t SplitExtent(const LlamaConfig& c, LayerMatrix m) {
  switch (m) {
    case LayerMatrix::kWq:
    case LayerMatrix::kWo:
      return c.q_dim();
    case LayerMatrix::kWk:
    case LayerMatrix::kWv:
      return c.kv_dim();
    case LayerMatrix::kWGate:
    case LayerMatrix::kWUp:
    case LayerMatrix::kWDown:
      return c.ffn_dim;
  }
  return 0;
}

bool IsColumnSplit(LayerMatrix m) { return m == LayerMatrix::kWo || m == LayerMatrix::kWDown; }

}  // namespace

std::string_view LayerMatrixName(LayerMatrix m) {
  switch (m) {
    case LayerMatrix::kWq: return "attn_q";
    case LayerMatrix::kWk: return "attn_k";
    case LayerMatrix::kWv: return "attn_v";
    case LayerMatrix::kWo: return "attn_output";
    case LayerMatrix::kWGate: return "ffn_gate";
    case LayerMatrix::kWUp: return "ffn_up";
    case LayerMatrix::kWDown: return "ffn_down";
  }
  return "unknown";
}

absl::StatusOr<TensorParallelPlan> TensorParallelPlan::Create(const LlamaConfig& config,
                                                              int tp_size) {
  if (tp_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tensor parallelism: tp_size must be at least 1 (got %d)", tp_size));
  }
  if (config.n_heads <= 0 || config.n_kv_heads <= 0 || config.head_dim <= 0 ||
      config.ffn_dim <= 0 || config.n_heads % config.n_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor parallelism: invalid model shape (%d heads, %d KV heads, head_dim %d, "
        "ffn %d)",
        config.n_heads, config.n_kv_heads, config.head_dim, config.ffn_dim));
  }
  if (config.n_heads % tp_size != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor parallelism: %d query heads do not split evenly across tp_size %d; tp_size "
        "must divide the head count",
        config.n_heads, tp_size));
  }
  if (config.n_kv_heads % tp_size != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor parallelism: %d KV heads do not split evenly across tp_size %d; tp_size "
        "must divide the KV head count (KV heads are not replicated across ranks)",
        config.n_kv_heads, tp_size));
  }
  if (config.ffn_dim % tp_size != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor parallelism: feed-forward width %d does not split evenly across tp_size %d",
        config.ffn_dim, tp_size));
  }
  TensorParallelPlan plan;
  plan.config_ = config;
  plan.tp_size_ = tp_size;
  const int64_t heads = config.n_heads / tp_size;
  const int64_t kv_heads = config.n_kv_heads / tp_size;
  const int64_t ffn = config.ffn_dim / tp_size;
  for (int r = 0; r < tp_size; ++r) {
    RankShard s;
    s.rank = r;
    s.q_heads = {r * heads, (r + 1) * heads};
    s.kv_heads = {r * kv_heads, (r + 1) * kv_heads};
    s.q_dims = {s.q_heads.begin * config.head_dim, s.q_heads.end * config.head_dim};
    s.kv_dims = {s.kv_heads.begin * config.head_dim, s.kv_heads.end * config.head_dim};
    s.ffn = {r * ffn, (r + 1) * ffn};
    plan.shards_.push_back(s);
  }
  return plan;
}

absl::StatusOr<TensorParallelPlan> TensorParallelPlan::Create(const LlamaConfig& config,
                                                              const LlamaWeights& weights,
                                                              int tp_size) {
  absl::StatusOr<TensorParallelPlan> plan = Create(config, tp_size);
  if (!plan.ok()) return plan.status();
  for (size_t l = 0; l < weights.layers.size(); ++l) {
    for (const LayerMatrix m : {LayerMatrix::kWo, LayerMatrix::kWDown}) {
      const absl::Status s = plan->CheckColumnSplit(m, GetLayerMatrix(weights.layers[l], m).type);
      if (!s.ok()) {
        return absl::InvalidArgumentError(absl::StrFormat("layer %d: %s", l, s.message()));
      }
    }
  }
  return plan;
}

LlamaConfig TensorParallelPlan::RankConfig() const {
  LlamaConfig c = config_;
  c.n_heads /= tp_size_;
  c.n_kv_heads /= tp_size_;
  c.ffn_dim /= tp_size_;
  return c;
}

MatrixSplit TensorParallelPlan::Split(LayerMatrix m, int rank) const {
  const RankShard& s = shard(rank);
  switch (m) {
    case LayerMatrix::kWq: return {SplitAxis::kRows, s.q_dims};
    case LayerMatrix::kWk:
    case LayerMatrix::kWv: return {SplitAxis::kRows, s.kv_dims};
    case LayerMatrix::kWo: return {SplitAxis::kColumns, s.q_dims};
    case LayerMatrix::kWGate:
    case LayerMatrix::kWUp: return {SplitAxis::kRows, s.ffn};
    case LayerMatrix::kWDown: return {SplitAxis::kColumns, s.ffn};
  }
  return {};
}

absl::Status TensorParallelPlan::CheckColumnSplit(LayerMatrix m, cpu::GgmlType type) const {
  if (!IsColumnSplit(m)) return absl::OkStatus();
  const uint32_t type_id = static_cast<uint32_t>(type);
  if (!cpu::IsSupportedType(type_id)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor parallelism: %s has unsupported type %d", LayerMatrixName(m), type_id));
  }
  const int64_t block = cpu::BlockElements(type);
  const int64_t width = SplitExtent(config_, m) / tp_size_;
  if (width % block != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor parallelism: tp_size %d gives each rank %d input columns of %s, not a "
        "multiple of the %s block of %d elements (a quantisation block cannot be split)",
        tp_size_, width, LayerMatrixName(m), TypeNameOf(type), block));
  }
  return absl::OkStatus();
}

const WeightMatrix& GetLayerMatrix(const LayerWeights& layer, LayerMatrix m) {
  switch (m) {
    case LayerMatrix::kWq: return layer.wq;
    case LayerMatrix::kWk: return layer.wk;
    case LayerMatrix::kWv: return layer.wv;
    case LayerMatrix::kWo: return layer.wo;
    case LayerMatrix::kWGate: return layer.w_gate;
    case LayerMatrix::kWUp: return layer.w_up;
    case LayerMatrix::kWDown: return layer.w_down;
  }
  return layer.wq;
}

absl::StatusOr<absl::Span<const std::byte>> SliceRows(const WeightMatrix& w, IndexRange rows) {
  if (rows.begin < 0 || rows.end < rows.begin || rows.end > w.rows) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SliceRows: rows [%d, %d) outside a matrix of %d rows", rows.begin, rows.end, w.rows));
  }
  if (!cpu::IsSupportedType(static_cast<uint32_t>(w.type)) ||
      w.cols % cpu::BlockElements(w.type) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SliceRows: %d columns of type %s is not a valid matrix", w.cols, TypeNameOf(w.type)));
  }
  const size_t row_bytes = cpu::RowBytes(w.type, w.cols);
  if (rows.size() == 0) return absl::Span<const std::byte>();
  return absl::Span<const std::byte>(w.data + static_cast<size_t>(rows.begin) * row_bytes,
                                     static_cast<size_t>(rows.size()) * row_bytes);
}

absl::StatusOr<std::vector<std::byte>> SliceColumns(const WeightMatrix& w, IndexRange cols) {
  if (cols.begin < 0 || cols.end < cols.begin || cols.end > w.cols) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SliceColumns: columns [%d, %d) outside a matrix of %d columns", cols.begin, cols.end,
        w.cols));
  }
  if (!cpu::IsSupportedType(static_cast<uint32_t>(w.type))) {
    return absl::InvalidArgumentError(
        absl::StrFormat("SliceColumns: unsupported type %d", static_cast<uint32_t>(w.type)));
  }
  const int64_t block = cpu::BlockElements(w.type);
  if (w.cols % block != 0 || cols.begin % block != 0 || cols.end % block != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SliceColumns: columns [%d, %d) of a %d-column %s matrix are not aligned to its "
        "block of %d elements",
        cols.begin, cols.end, w.cols, TypeNameOf(w.type), block));
  }
  const size_t row_bytes = cpu::RowBytes(w.type, w.cols);
  const size_t offset = cpu::RowBytes(w.type, cols.begin);
  const size_t slice_bytes = cpu::RowBytes(w.type, cols.size());
  std::vector<std::byte> out(static_cast<size_t>(w.rows) * slice_bytes);
  if (slice_bytes == 0) return out;
  for (int64_t r = 0; r < w.rows; ++r) {
    std::memcpy(out.data() + static_cast<size_t>(r) * slice_bytes,
                w.data + static_cast<size_t>(r) * row_bytes + offset, slice_bytes);
  }
  return out;
}

absl::StatusOr<WeightShard> ShardWeight(const TensorParallelPlan& plan, LayerMatrix m,
                                        const WeightMatrix& w, int rank) {
  if (rank < 0 || rank >= plan.tp_size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ShardWeight: rank %d outside tp_size %d", rank, plan.tp_size()));
  }
  const int64_t extent = SplitExtent(plan.config(), m);
  const int64_t split_dim = IsColumnSplit(m) ? w.cols : w.rows;
  if (split_dim != extent) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ShardWeight: %s of shape (%d, %d) does not match the plan's model (%d %s)",
        LayerMatrixName(m), w.rows, w.cols, extent, IsColumnSplit(m) ? "columns" : "rows"));
  }
  const MatrixSplit split = plan.Split(m, rank);
  WeightShard shard;
  shard.type = w.type;
  if (split.axis == SplitAxis::kRows) {
    absl::StatusOr<absl::Span<const std::byte>> rows = SliceRows(w, split.range);
    if (!rows.ok()) return rows.status();
    shard.rows = split.range.size();
    shard.cols = w.cols;
    shard.bytes.assign(rows->begin(), rows->end());
  } else {
    if (absl::Status s = plan.CheckColumnSplit(m, w.type); !s.ok()) return s;
    absl::StatusOr<std::vector<std::byte>> cols = SliceColumns(w, split.range);
    if (!cols.ok()) return cols.status();
    shard.rows = w.rows;
    shard.cols = split.range.size();
    shard.bytes = *std::move(cols);
  }
  return shard;
}

}  // namespace hearth
