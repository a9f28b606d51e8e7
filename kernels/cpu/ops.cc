// Public entry points of the float ops; RoPE has a single implementation, since its cost
// is in sin/cos, which are computed once per pair (and by the model once per position).
#include "kernels/cpu/ops.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/dispatch.h"

namespace hearth::cpu {

void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  ActiveKernels().rms_norm(x, weight, n, eps, out);
}

void RopeInPlace(float* x, int64_t n_heads, int64_t head_dim, int64_t pos, float theta) {
  std::vector<float> angles(head_dim);
  RopeAngles(head_dim, pos, theta, angles.data());
  RopeRotate(x, n_heads, head_dim, angles.data());
}

void RopeAngles(int64_t head_dim, int64_t pos, float theta, float* angles) {
  // Angles in double: pos * theta^(-2i/d) reaches thousands of radians at long
  // positions, where a float angle would already be off by whole percent of a turn.
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double angle = static_cast<double>(pos) *
                         std::pow(static_cast<double>(theta),
                                  -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    angles[2 * i] = static_cast<float>(std::cos(angle));
    angles[2 * i + 1] = static_cast<float>(std::sin(angle));
  }
}

void RopeRotate(float* x, int64_t n_heads, int64_t head_dim, const float* angles) {
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const float cos_a = angles[2 * i], sin_a = angles[2 * i + 1];
    for (int64_t h = 0; h < n_heads; ++h) {
      float* pair = x + h * head_dim + 2 * i;
      const float x0 = pair[0], x1 = pair[1];
      pair[0] = x0 * cos_a - x1 * sin_a;
      pair[1] = x0 * sin_a + x1 * cos_a;
    }
  }
}

void SoftmaxInPlace(float* x, int64_t n) { ActiveKernels().softmax(x, n); }

void SwiGluInPlace(float* gate, const float* up, int64_t n) {
  ActiveKernels().swiglu(gate, up, n);
}

float DotF32(const float* a, const float* b, int64_t n) {
  return ActiveKernels().dot_f32(a, b, n);
}

void AxpyF32(float a, const float* x, float* y, int64_t n) {
  ActiveKernels().axpy_f32(a, x, y, n);
}

void ToFp16Row(const float* x, int64_t n, uint16_t* out) {
  ActiveKernels().to_fp16_row(x, n, out);
}

void DotRowsF16(const float* q, int64_t heads, const uint16_t* rows, int64_t stride,
                int64_t count, int64_t n, float* out, int64_t out_stride) {
  ActiveKernels().dot_rows_f16(q, heads, rows, stride, count, n, out, out_stride);
}

void AxpyRowsF16(const float* a, int64_t a_stride, int64_t heads, const uint16_t* rows,
                 int64_t stride, int64_t count, float* y, int64_t n) {
  ActiveKernels().axpy_rows_f16(a, a_stride, heads, rows, stride, count, y, n);
}

}  // namespace hearth::cpu
