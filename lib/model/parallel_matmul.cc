#include "lib/model/parallel_matmul.h"

#include <algorithm>

namespace hearth {
namespace {

// Rows per unit of work: enough to amortise the call, small enough to balance 2-16 threads
// on the narrowest matrices (192 rows).
constexpr int64_t kRowGrain = 16;

}  // namespace

void* MatMulScratch::Prepare(cpu::GgmlType type, const float* x, int64_t n_tokens,
                             int64_t cols, cpu::ActivationPrecision precision) {
  const size_t bytes = cpu::ActivationRowBytes(type, cols, precision) * n_tokens;
  if (buffer_.size() < bytes) buffer_.resize(bytes);
  cpu::PrepareActivations(type, x, n_tokens, cols, buffer_.data(), precision);
  return buffer_.data();
}

void ParallelMatMul(absl::Span<const MatMulOutput> outputs, const float* x, int64_t n_tokens,
                    cpu::ActivationPrecision precision, MatMulScratch& scratch, ThreadPool& pool) {
  const WeightMatrix& first = *outputs[0].weight;
  for (const MatMulOutput& o : outputs) {
    if (o.weight->type != first.type) {
      // Mixed quantisation within a group: prepare x once per matrix instead.
      for (const MatMulOutput& single : outputs) {
        ParallelMatMul(absl::MakeConstSpan(&single, 1), x, n_tokens, precision, scratch, pool);
      }
      return;
    }
  }
  const void* xq = scratch.Prepare(first.type, x, n_tokens, first.cols, precision);
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
