// Float32 element-wise and row kernels of the Llama forward pass.
// Every function is pure over its arguments and safe to call from any thread.
#ifndef HEARTH_KERNELS_CPU_OPS_H_
#define HEARTH_KERNELS_CPU_OPS_H_

#include <cstdint>

namespace hearth::cpu {

// out (n,) = x (n,) / sqrt(mean(x^2) + eps) * weight (n,). out may alias x.
void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out);

// Rotates adjacent pairs (x[2i], x[2i+1]) of each of n_heads heads of head_dim in place
// by angle pos * theta^(-2i / head_dim) (GGUF "llama" layout: the converter permuted the
// Q/K rows so that this equals Hugging Face's rotate-half).
// x: (n_heads, head_dim)
void RopeInPlace(float* x, int64_t n_heads, int64_t head_dim, int64_t pos, float theta);

// RopeInPlace in two halves, so that a position's angles are computed once for every
// layer and for both Q and K (the trigonometry costs far more than the rotation):
// angles (head_dim,) = [cos a_0, sin a_0, cos a_1, sin a_1, ...] for position pos, and
// the rotation of x (n_heads, head_dim) by them. Together they equal RopeInPlace bit for
// bit.
void RopeAngles(int64_t head_dim, int64_t pos, float theta, float* angles);
void RopeRotate(float* x, int64_t n_heads, int64_t head_dim, const float* angles);

// x (n,) -> softmax(x) in place, computed stably (max subtracted).
void SoftmaxInPlace(float* x, int64_t n);

// gate (n,) <- silu(gate) * up (n,), silu(v) = v / (1 + exp(-v)).
void SwiGluInPlace(float* gate, const float* up, int64_t n);

// Dot product of two float32 vectors of length n.
float DotF32(const float* a, const float* b, int64_t n);

// y (n,) += a * x (n,)
void AxpyF32(float a, const float* x, float* y, int64_t n);

// Float16 rows (IEEE binary16, as the KV cache keeps keys and values).

// out (n,) = x (n,) rounded to float16, to nearest even (Fp32ToFp16 of each element).
void ToFp16Row(const float* x, int64_t n, uint16_t* out);

// The row kernels take `heads` query heads at once (a GQA group sharing one KV head), so
// that each key or value row is read and widened once for all of them.

// out[h * out_stride + p] = dot(q + h * n, float(rows + p * stride)) over n elements for
// h < heads, p < count: one call per run of rows (an attention block's keys) instead of
// one per row and head. Each result depends only on its q and its row (not on count,
// heads or its place in the run), within float32 summation error of DotF32 over the
// widened row but not always equal to it.
void DotRowsF16(const float* q, int64_t heads, const uint16_t* rows, int64_t stride,
                int64_t count, int64_t n, float* out, int64_t out_stride);

// For each h < heads: AxpyF32(a[h * a_stride + p], float(rows + p * stride), y + h * n, n)
// for p = 0, 1, ..., count - 1 in that order, bit for bit, with y kept in registers across
// the rows (an attention block's values).
void AxpyRowsF16(const float* a, int64_t a_stride, int64_t heads, const uint16_t* rows,
                 int64_t stride, int64_t count, float* y, int64_t n);

}  // namespace hearth::cpu

#endif  // HEARTH_KERNELS_CPU_OPS_H_
