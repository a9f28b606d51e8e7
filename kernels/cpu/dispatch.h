// Internal: the table of kernel implementations chosen at run time.
//
// The kernels exist three times: portable C++, AVX2/FMA/F16C, and AVX2 with the quantised
// products in AVX-512 VNNI. The public functions in matmul.h and ops.h call through
// ActiveKernels(), which picks once, on first use, the most capable table the CPU
// supports. This table pointer is the only global state of the kernels; it is never
// written after selection except by ForceKernelsForTesting.
#ifndef HEARTH_KERNELS_CPU_DISPATCH_H_
#define HEARTH_KERNELS_CPU_DISPATCH_H_

#include <cstdint>
#include <vector>

#include "kernels/cpu/matmul.h"

namespace hearth::cpu {

// y[t * y_stride + r] = dot(W[r, :], x[t, :]) for r in [row_begin, row_end), t < n_tokens.
// w: (rows, cols) in the weight type's layout; x: (n_tokens, ActivationRowBytes) prepared.
using MatMulFn = void (*)(const void* w, int64_t cols, int64_t row_begin, int64_t row_end,
                          const void* x, int64_t n_tokens, float* y, int64_t y_stride);
// x (cols,) float32 -> out (one prepared activation row).
using QuantizeRowFn = void (*)(const float* x, int64_t cols, void* out);

// The quantised products of one activation precision and the preparation of their rows.
struct QuantKernels {
  MatMulFn matmul_q4_0;
  MatMulFn matmul_q4_1;
  MatMulFn matmul_q8_0;
  QuantizeRowFn quantize;      // -> row of ActivationFor<BlockQ8_0, ...>
  QuantizeRowFn quantize_sum;  // -> row of ActivationFor<BlockQ4_x, ...> (with s)
};

struct KernelTable {
  const char* name;  // "avx512vnni", "avx2" or "portable"
  QuantKernels sixteen_bit;  // one int16 activation plane
  QuantKernels eight_bit;    // one int8 activation plane
  MatMulFn matmul_f16;
  MatMulFn matmul_f32;
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  void (*axpy_f32)(float a, const float* x, float* y, int64_t n);
  void (*to_fp16_row)(const float* x, int64_t n, uint16_t* out);
  void (*dot_rows_f16)(const float* q, int64_t heads, const uint16_t* rows, int64_t stride,
                       int64_t count, int64_t n, float* out, int64_t out_stride);
  void (*axpy_rows_f16)(const float* a, int64_t a_stride, int64_t heads, const uint16_t* rows,
                        int64_t stride, int64_t count, float* y, int64_t n);
  void (*rms_norm)(const float* x, const float* weight, int64_t n, float eps, float* out);
  void (*softmax)(float* x, int64_t n);
  void (*swiglu)(float* gate, const float* up, int64_t n);
};

inline const QuantKernels& QuantFor(const KernelTable& table, ActivationPrecision precision) {
  return precision == ActivationPrecision::k8Bit ? table.eight_bit : table.sixteen_bit;
}

// Each implementation fills in its share of a table.
void FillPortableMatMul(KernelTable& table);
void FillPortableOps(KernelTable& table);
// Defined only where the *_avx2.cc files are built (HEARTH_KERNELS_AVX2).
void FillAvx2MatMul(KernelTable& table);
void FillAvx2Ops(KernelTable& table);
// Only where matmul_vnni.cc is built (HEARTH_KERNELS_AVX512VNNI); sets the quantised
// products, over a table the AVX2 functions filled.
void FillAvx512VnniMatMul(KernelTable& table);

// The table every public kernel function calls through.
const KernelTable& ActiveKernels();

// The portable table, and the AVX2 and VNNI tables or nullptr where the CPU (or the build)
// lacks them; tests use them to compare the implementations.
const KernelTable& PortableKernels();
const KernelTable* Avx2Kernels();
const KernelTable* Avx512VnniKernels();

// Every table this CPU and build can run, portable first.
std::vector<const KernelTable*> AvailableKernels();

// While non-null, ActiveKernels() returns `table` instead of the detected one; nullptr
// restores detection. For tests, which run every available implementation.
void ForceKernelsForTesting(const KernelTable* table);

}  // namespace hearth::cpu

#endif  // HEARTH_KERNELS_CPU_DISPATCH_H_
