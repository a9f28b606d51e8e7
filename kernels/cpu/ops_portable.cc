// Portable C++ float ops.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/dispatch.h"

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

void DotRows(const float* q, const float* rows, int64_t stride, int64_t count, int64_t n,
             float* out) {
  for (int64_t p = 0; p < count; ++p) out[p] = Dot(q, rows + p * stride, n);
}

void AxpyRows(const float* a, const float* rows, int64_t stride, int64_t count, float* y,
              int64_t n) {
  for (int64_t p = 0; p < count; ++p) Axpy(a[p], rows + p * stride, y, n);
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
  table.dot_rows_f32 = DotRows;
  table.axpy_rows_f32 = AxpyRows;
  table.rms_norm = RmsNorm;
  table.softmax = Softmax;
  table.swiglu = SwiGlu;
}

}  // namespace hearth::cpu
