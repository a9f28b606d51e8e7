// Portable C++ float ops.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

float Dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void ToFp16Row(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = Fp32ToFp16(x[i]);
}

void DotRows(const float* q, int64_t heads, const uint16_t* rows, int64_t stride, int64_t count,
             int64_t n, float* out, int64_t out_stride) {
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t p = 0; p < count; ++p) {
      const uint16_t* row = rows + p * stride;
      float sum = 0.0f;
      for (int64_t i = 0; i < n; ++i) sum += q[h * n + i] * Fp16ToFp32(row[i]);
      out[h * out_stride + p] = sum;
    }
  }
}

void AxpyRows(const float* a, int64_t a_stride, int64_t heads, const uint16_t* rows,
              int64_t stride, int64_t count, float* y, int64_t n) {
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t p = 0; p < count; ++p) {
      const uint16_t* row = rows + p * stride;
      for (int64_t i = 0; i < n; ++i) y[h * n + i] += a[h * a_stride + p] * Fp16ToFp32(row[i]);
    }
  }
}

void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const auto inv_rms =
      static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * inv_rms * weight[i];
}

void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const float max = *std::max_element(x, x + n);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv_sum = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv_sum;
}

void SwiGlu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace

void FillPortableOps(KernelTable& table) {
  table.dot_f32 = Dot;
  table.axpy_f32 = Axpy;
  table.to_fp16_row = ToFp16Row;
  table.dot_rows_f16 = DotRows;
  table.axpy_rows_f16 = AxpyRows;
  table.rms_norm = RmsNorm;
  table.softmax = Softmax;
  table.swiglu = SwiGlu;
}

}  // namespace hearth::cpu
