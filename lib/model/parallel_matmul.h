// ParallelMatMul: Y = X W^T for one or more weight matrices that share the input X, split
// by weight rows across a thread pool in a single parallel region.
#ifndef HEARTH_LIB_MODEL_PARALLEL_MATMUL_H_
#define HEARTH_LIB_MODEL_PARALLEL_MATMUL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/types/span.h"
#include "kernels/cpu/matmul.h"
#include "lib/model/llama_weights.h"
#include "lib/runtime/thread_pool.h"

namespace hearth {

struct MatMulOutput {
  const WeightMatrix* weight;  // (rows, cols)
  float* y;                    // (n_tokens, rows), row-major
};

// Makes token t's row of a product's input (a norm, a residual, SwiGLU), run just before
// the row is prepared, in the same parallel region.
using RowProducer = std::function<void(int64_t)>;

// Scratch for prepared activations, reused across calls to avoid allocation per step.
class MatMulScratch {
 public:
  // Prepares x's rows across `pool` (ForEachToken), each after produce(t) if given.
  void* Prepare(cpu::GgmlType type, const float* x, int64_t n_tokens, int64_t cols,
                cpu::ActivationPrecision precision, ThreadPool& pool,
                const RowProducer& produce = nullptr);

 private:
  std::vector<std::byte> buffer_;
};

// fn(t) for every t in [0, n) across `pool`, or on the calling thread alone when n is
// too small for waking the workers to pay (a decode step of one or a few sequences).
void ForEachToken(ThreadPool& pool, int64_t n, const std::function<void(int64_t)>& fn);

// For each output o: o.y (n_tokens, o.weight->rows) = x (n_tokens, cols) @ o.weight^T.
// All weights must have the same number of columns. x is prepared once when they share
// a type (the common case), once per matrix otherwise, in `precision` for quantised weights.
// produce(t), if given, writes x's row t first (once per token), in the region that
// prepares it: a step then waits on one barrier fewer per product.
void ParallelMatMul(absl::Span<const MatMulOutput> outputs, const float* x, int64_t n_tokens,
                    cpu::ActivationPrecision precision, MatMulScratch& scratch, ThreadPool& pool,
                    const RowProducer& produce = nullptr);

}  // namespace hearth

#endif  // HEARTH_LIB_MODEL_PARALLEL_MATMUL_H_
