// AVX2/FMA float ops. Loops run 8 floats per step with a scalar tail; the reductions keep
// several accumulators so that consecutive FMAs do not wait on each other.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/cpu/avx2_util.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

using avx2::HorizontalSum;

float Dot(const float* a, const float* b, int64_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int u = 0; u < 4; ++u) {
      acc[u] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * u), _mm256_loadu_ps(b + i + 8 * u),
                               acc[u]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc[0]);
  }
  float sum = HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]),
                                          _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

// Lane sums of a, b, c, d, each as ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)).
__m128 ReduceFour(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Eight float16 elements widened to float32 (exactly).
__m256 LoadFp16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

void ToFp16Row(const float* x, int64_t n, uint16_t* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) out[i] = Fp32ToFp16(x[i]);
}

// out[0, kRows) for rows kRows at a time: each row has one accumulator (q's chunks in
// order), reduced in ReduceFour's fixed order, then its tail added element by element; a
// row's result is the same whatever kRows, so no block split changes a bit. q's chunks
// are loaded once for all the rows, and the horizontal sums are shared by four.
template <int kRows>
void DotRowGroup(const float* q, const uint16_t* rows, int64_t stride, int64_t n, float* out) {
  static_assert(kRows == 1 || kRows == 8);
  __m256 acc[8];
  for (__m256& a : acc) a = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 qv = _mm256_loadu_ps(q + i);
    for (int r = 0; r < kRows; ++r) {
      acc[r] = _mm256_fmadd_ps(qv, LoadFp16(rows + r * stride + i), acc[r]);
    }
  }
  alignas(16) float sums[8];
  _mm_store_ps(sums, ReduceFour(acc[0], acc[1], acc[2], acc[3]));
  if constexpr (kRows > 4) _mm_store_ps(sums + 4, ReduceFour(acc[4], acc[5], acc[6], acc[7]));
  for (int r = 0; r < kRows; ++r) {
    float sum = sums[r];
    for (int64_t k = i; k < n; ++k) sum += q[k] * Fp16ToFp32(rows[r * stride + k]);
    out[r] = sum;
  }
}

void DotRows(const float* q, const uint16_t* rows, int64_t stride, int64_t count, int64_t n,
             float* out) {
  int64_t p = 0;
  for (; p + 8 <= count; p += 8) DotRowGroup<8>(q, rows + p * stride, stride, n, out + p);
  for (; p < count; ++p) DotRowGroup<1>(q, rows + p * stride, stride, n, out + p);
}

// y[i, i + 8 * kVectors) through all rows in registers, each lane as Axpy's vector body.
template <int kVectors>
void AxpyRowsSpan(const float* a, const uint16_t* rows, int64_t stride, int64_t count,
                  float* y) {
  __m256 acc[kVectors];
  for (int u = 0; u < kVectors; ++u) acc[u] = _mm256_loadu_ps(y + 8 * u);
  for (int64_t p = 0; p < count; ++p) {
    const __m256 av = _mm256_set1_ps(a[p]);
    const uint16_t* x = rows + p * stride;
    for (int u = 0; u < kVectors; ++u) {
      acc[u] = _mm256_fmadd_ps(av, LoadFp16(x + 8 * u), acc[u]);
    }
  }
  for (int u = 0; u < kVectors; ++u) _mm256_storeu_ps(y + 8 * u, acc[u]);
}

void AxpyRows(const float* a, const uint16_t* rows, int64_t stride, int64_t count, float* y,
              int64_t n) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) AxpyRowsSpan<8>(a, rows + i, stride, count, y + i);
  for (; i + 8 <= n; i += 8) AxpyRowsSpan<1>(a, rows + i, stride, count, y + i);
  for (; i < n; ++i) {
    for (int64_t p = 0; p < count; ++p) y[i] += a[p] * Fp16ToFp32(rows[p * stride + i]);
  }
}

void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    acc[0] = _mm256_fmadd_ps(a, a, acc[0]);
    acc[1] = _mm256_fmadd_ps(b, b, acc[1]);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_loadu_ps(x + i);
    acc[0] = _mm256_fmadd_ps(a, a, acc[0]);
  }
  float sum_sq = HorizontalSum(_mm256_add_ps(acc[0], acc[1]));
  for (; i < n; ++i) sum_sq += x[i] * x[i];
  const float inv_rms = 1.0f / std::sqrt(sum_sq / static_cast<float>(n) + eps);
  const __m256 scale = _mm256_set1_ps(inv_rms);
  for (i = 0; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), scale),
                                            _mm256_loadu_ps(weight + i)));
  }
  for (; i < n; ++i) out[i] = x[i] * inv_rms * weight[i];
}

void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  __m256 max_v = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) max_v = _mm256_max_ps(max_v, _mm256_loadu_ps(x + i));
  float max = avx2::HorizontalMax(max_v);
  for (; i < n; ++i) max = std::max(max, x[i]);
  const __m256 max_b = _mm256_set1_ps(max);
  __m256 sum_v = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = avx2::Exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), max_b));
    _mm256_storeu_ps(x + i, e);
    sum_v = _mm256_add_ps(sum_v, e);
  }
  float sum = HorizontalSum(sum_v);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv_sum = 1.0f / sum;
  const __m256 inv_b = _mm256_set1_ps(inv_sum);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv_b));
  for (; i < n; ++i) x[i] *= inv_sum;
}

void SwiGlu(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 denom = _mm256_add_ps(one, avx2::Exp(_mm256_xor_ps(g, sign_bit)));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, denom), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace

void FillAvx2Ops(KernelTable& table) {
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
