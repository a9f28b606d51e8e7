// Quantised matrix products: weights stay in their GGUF block layout and are read in place.
//
// Activations are first prepared once per row for the weight type (quantised to int8
// blocks for the quantised types, left in float32 for F32/F16), then every weight row is
// dotted with every prepared activation row. The AVX-512 VNNI or AVX2/FMA implementation
// is chosen at run time where the CPU has it; a portable one runs elsewhere.
//
// Results are batch-invariant: y[t, r] depends only on weight row r and activation row t,
// bit for bit, not on n_tokens, t's place among them, or the row range of the call.
//
// Usage (y = W x for a Q4_1 W of shape (rows, cols)):
//   std::vector<std::byte> xq(ActivationRowBytes(GgmlType::kQ4_1, cols));
//   PrepareActivations(GgmlType::kQ4_1, x, 1, cols, xq.data());
//   MatMulRows(GgmlType::kQ4_1, w, cols, 0, rows, xq.data(), 1, y, rows);
//
// Thread-safety: every function is pure over its arguments; callers split the row range
// across threads.
#ifndef HEARTH_KERNELS_CPU_MATMUL_H_
#define HEARTH_KERNELS_CPU_MATMUL_H_

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {

// How finely activations are quantised for the quantised weight types (F16/F32 weights
// always take float32 activations).
enum class ActivationPrecision {
  // One int16 plane per block, v = 256 q + q_lo: 100 % top-1 agreement with a float64
  // reference on SmolLM2-135M.
  k16Bit,
  // One int8 plane (as ggml's q8_0): half the integer products, ~97 % top-1 agreement.
  k8Bit,
};

// Bytes of one prepared activation row of `cols` elements for weights of `weight_type`.
// cols must be a multiple of BlockElements(weight_type).
size_t ActivationRowBytes(GgmlType weight_type, int64_t cols,
                          ActivationPrecision precision = ActivationPrecision::k16Bit);

// x (n_rows, cols) float32, row-major -> out (n_rows, ActivationRowBytes) prepared rows.
void PrepareActivations(GgmlType weight_type, const float* x, int64_t n_rows, int64_t cols,
                        void* out, ActivationPrecision precision = ActivationPrecision::k16Bit);

// For r in [row_begin, row_end) and t in [0, n_tokens):
//   y[t * y_stride + r] = dot(W[r, :], x[t, :])
// w: W (rows, cols) in weight_type's layout, rows RowBytes(weight_type, cols) apart.
// x_prepared: (n_tokens, ActivationRowBytes(weight_type, cols, precision)) from
// PrepareActivations with the same precision.
// Each weight block is loaded once and reused across all n_tokens rows.
void MatMulRows(GgmlType weight_type, const void* w, int64_t cols, int64_t row_begin,
                int64_t row_end, const void* x_prepared, int64_t n_tokens, float* y,
                int64_t y_stride, ActivationPrecision precision = ActivationPrecision::k16Bit);

// Row `row` of W (rows, cols) of weight_type -> out (cols,) float32.
void DequantizeRow(GgmlType weight_type, const void* w, int64_t cols, int64_t row,
                   float* out);

// Name of the implementation chosen at run time: "avx512vnni", "avx2" or "portable".
const char* MatMulImplementation();

}  // namespace hearth::cpu

#endif  // HEARTH_KERNELS_CPU_MATMUL_H_
