#include "lib/model/parallel_matmul.h"

#include <algorithm>

namespace hearth {
namespace {

// Rows per unit of work: enough to amortise the call, small enough to balance 2-16 threads
// on the narrowest matrices (192 rows).
constexpr int64_t kRowGrain = 16;

// Fewer tokens than this run their per-token work on the calling thread: a token's norm or
// quantisation takes about a microsecond, as long as handing work to the pool.
constexpr int64_t kParallelTokens = 4;

}  // namespace

void ForEachToken(ThreadPool& pool, int64_t n, const std::function<void(int64_t)>& fn) {
  if (n < kParallelTokens || pool.size() == 1) {
    for (int64_t t = 0; t < n; ++t) fn(t);
    return;
  }
  pool.ParallelFor(n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) fn(t);
  });
}

void* MatMulScratch::Prepare(cpu::GgmlType type, const float* x, int64_t n_tokens,
                             int64_t cols, cpu::ActivationPrecision precision, ThreadPool& pool,
                             const RowProducer& produce) {
  const size_t row_bytes = cpu::ActivationRowBytes(type, cols, precision);
  if (buffer_.size() < row_bytes * n_tokens) buffer_.resize(row_bytes * n_tokens);
  ForEachToken(pool, n_tokens, [&](int64_t t) {
    if (produce) produce(t);
    cpu::PrepareActivations(type, x + t * cols, 1, cols, buffer_.data() + t * row_bytes,
                            precision);
  });
  return buffer_.data();
}

void ParallelMatMul(absl::Span<const MatMulOutput> outputs, const float* x, int64_t n_tokens,
                    cpu::ActivationPrecision precision, MatMulScratch& scratch, ThreadPool& pool,
                    const RowProducer& produce) {
  const WeightMatrix& first = *outputs[0].weight;
  for (const MatMulOutput& o : outputs) {
    if (o.weight->type != first.type) {
      // Mixed quantisation within a group: x made first, then prepared once per matrix.
      if (produce) ForEachToken(pool, n_tokens, produce);
      for (const MatMulOutput& single : outputs) {
        ParallelMatMul(absl::MakeConstSpan(&single, 1), x, n_tokens, precision, scratch, pool);
      }
      return;
    }
  }
  const void* xq =
      scratch.Prepare(first.type, x, n_tokens, first.cols, precision, pool, produce);
  int64_t total_rows = 0;
  for (const MatMulOutput& o : outputs) total_rows += o.weight->rows;
  // The concatenated row range [0, total_rows) is split across threads; each thread's
  // share is mapped back onto the matrices it covers.
  pool.ParallelFor(total_rows, kRowGrain, [&](int64_t begin, int64_t end) {
    int64_t base = 0;
    for (const MatMulOutput& o : outputs) {
      const WeightMatrix& w = *o.weight;
      const int64_t lo = std::max(begin, base), hi = std::min(end, base + w.rows);
      if (lo < hi) {
        cpu::MatMulRows(w.type, w.data, w.cols, lo - base, hi - base, xq, n_tokens, o.y, w.rows,
                        precision);
      }
      base += w.rows;
    }
  });
}

}  // namespace hearth
