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

// Query heads handled at once by the attention kernels: a GQA group of 3 (SmolLM2) in one
// pass; larger groups in passes of 3. Each key or value chunk is widened once per pass,
// and the accumulators (3 heads x 4) fill the 16 vector registers with q and the chunk.
constexpr int kHeadsAtOnce = 3;

// Runs fn.template operator()<k>() with k = min(kHeadsAtOnce, heads - h0) for each pass
// of heads h0 = 0, 3, 6, ...
template <class Fn>
void ForHeadPasses(int64_t heads, Fn&& fn) {
  for (int64_t h0 = 0; h0 < heads; h0 += kHeadsAtOnce) {
    switch (std::min<int64_t>(kHeadsAtOnce, heads - h0)) {
      case 1: fn.template operator()<1>(h0); break;
      case 2: fn.template operator()<2>(h0); break;
      default: fn.template operator()<3>(h0); break;
    }
  }
}

// out[h * out_stride + r] for kRows rows (4, or 1 for the tail) and kHeads heads: each
// (head, row) has one accumulator (its chunks in order), reduced in ReduceFour's fixed
// order, then its tail added element by element; a row's result is the same whatever
// kRows, kHeads or the run it came in, so no block split changes a bit.
template <int kRows, int kHeads>
void DotRowGroup(const float* q, const uint16_t* rows, int64_t stride, int64_t n, float* out,
                 int64_t out_stride) {
  static_assert(kRows == 1 || kRows == 4);
  __m256 acc[kHeads][4];
  for (auto& head : acc) {
    for (__m256& a : head) a = _mm256_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 qv[kHeads];
    for (int h = 0; h < kHeads; ++h) qv[h] = _mm256_loadu_ps(q + h * n + i);
    for (int r = 0; r < kRows; ++r) {
      const __m256 k = LoadFp16(rows + r * stride + i);
      for (int h = 0; h < kHeads; ++h) acc[h][r] = _mm256_fmadd_ps(qv[h], k, acc[h][r]);
    }
  }
  for (int h = 0; h < kHeads; ++h) {
    alignas(16) float sums[4];
    _mm_store_ps(sums, ReduceFour(acc[h][0], acc[h][1], acc[h][2], acc[h][3]));
    for (int r = 0; r < kRows; ++r) {
      float sum = sums[r];
      for (int64_t k = i; k < n; ++k) sum += q[h * n + k] * Fp16ToFp32(rows[r * stride + k]);
      out[h * out_stride + r] = sum;
    }
  }
}

void DotRows(const float* q, int64_t heads, const uint16_t* rows, int64_t stride, int64_t count,
             int64_t n, float* out, int64_t out_stride) {
  ForHeadPasses(heads, [&]<int kHeads>(int64_t h0) {
    const float* qh = q + h0 * n;
    float* oh = out + h0 * out_stride;
    int64_t p = 0;
    for (; p + 4 <= count; p += 4) {
      DotRowGroup<4, kHeads>(qh, rows + p * stride, stride, n, oh + p, out_stride);
    }
    for (; p < count; ++p) {
      DotRowGroup<1, kHeads>(qh, rows + p * stride, stride, n, oh + p, out_stride);
    }
  });
}

// y[h * n + i, + 8 * kVectors) of kHeads heads through all rows in registers, each lane
// as Axpy's vector body.
template <int kVectors, int kHeads>
void AxpyRowsSpan(const float* a, int64_t a_stride, const uint16_t* rows, int64_t stride,
                  int64_t count, float* y, int64_t n) {
  __m256 acc[kHeads][kVectors];
  for (int h = 0; h < kHeads; ++h) {
    for (int u = 0; u < kVectors; ++u) acc[h][u] = _mm256_loadu_ps(y + h * n + 8 * u);
  }
  for (int64_t p = 0; p < count; ++p) {
    __m256 av[kHeads];
    for (int h = 0; h < kHeads; ++h) av[h] = _mm256_set1_ps(a[h * a_stride + p]);
    const uint16_t* x = rows + p * stride;
    for (int u = 0; u < kVectors; ++u) {
      const __m256 v = LoadFp16(x + 8 * u);
      for (int h = 0; h < kHeads; ++h) acc[h][u] = _mm256_fmadd_ps(av[h], v, acc[h][u]);
    }
  }
  for (int h = 0; h < kHeads; ++h) {
    for (int u = 0; u < kVectors; ++u) _mm256_storeu_ps(y + h * n + 8 * u, acc[h][u]);
  }
}

void AxpyRows(const float* a, int64_t a_stride, int64_t heads, const uint16_t* rows,
              int64_t stride, int64_t count, float* y, int64_t n) {
  ForHeadPasses(heads, [&]<int kHeads>(int64_t h0) {
    const float* ah = a + h0 * a_stride;
    float* yh = y + h0 * n;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      AxpyRowsSpan<4, kHeads>(ah, a_stride, rows + i, stride, count, yh + i, n);
    }
    for (; i + 8 <= n; i += 8) {
      AxpyRowsSpan<1, kHeads>(ah, a_stride, rows + i, stride, count, yh + i, n);
    }
    for (; i < n; ++i) {
      for (int h = 0; h < kHeads; ++h) {
        for (int64_t p = 0; p < count; ++p) {
          yh[h * n + i] += ah[h * a_stride + p] * Fp16ToFp32(rows[p * stride + i]);
        }
      }
    }
  });
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
