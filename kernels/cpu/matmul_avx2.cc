// AVX2/FMA/F16C matrix products and activation quantisation.
//
// A kernel computes a tile of R weight rows x T activation rows: each weight block is
// decoded once into registers and multiplied with the T activation blocks, keeping R*T
// vector accumulators live. Decode (T = 1) is bound by memory bandwidth, so it runs four
// rows at once to keep four independent streams of loads in flight; prefill is bound by
// arithmetic and uses 2 x 4 tiles, the largest that fits the 16 ymm registers.
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/activation_blocks.h"
#include "kernels/cpu/avx2_util.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

using avx2::HorizontalSum;

constexpr int kDecodeRows = 4;   // rows per tile when n_tokens == 1
constexpr int kPrefillRows = 2;  // rows per tile otherwise
constexpr int kTokenTile = 4;    // activation rows per tile

__m256i LoadBytes(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Sum of u[k] * s[k] over each group of 4 bytes: 8 int32 lanes, as float. u is unsigned
// (0..255) and s signed; no pair sum can saturate int16 for the operands used below
// (|u| <= 128, |s| <= 127).
__m256 DotBytes(__m256i u, __m256i s) {
  const __m256i pairs = _mm256_maddubs_epi16(u, s);
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

__m256 BroadcastFp16(uint16_t h) {
  return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<int16_t>(h)));
}

// Vector whose only non-zero lane is *p, so fma(v, FirstLane(p), acc) adds v[0] * *p
// exactly once to the horizontal sum of acc.
__m256 FirstLane(const float* p) { return _mm256_zextps128_ps256(_mm_load_ss(p)); }

// 16 bytes of packed nibbles -> 32 bytes 0..15, low nibbles (elements 0..15) first.
__m256i UnpackNibbles(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// A policy describes one weight type: its element (a block, or one float), how many
// elements one step of the kernel consumes, how a step is decoded and accumulated, and
// the scalar dot of a tail shorter than a step.
struct NibblePolicy {
  static constexpr int64_t kStep = 1;
  using Activation = ActivationBlockQ8Sum;
  // Q4_0 is treated as Q4_1 with minimum -8 d: the unsigned nibbles then feed maddubs
  // as they are, and the offset costs one fma with the activation sum.
  struct Decoded {
    __m256i q;
    __m256 d;
    __m256 m;
  };
  static __m256 Accumulate(const Decoded& w, const Activation* a, __m256 acc) {
    const __m256 scale = _mm256_mul_ps(w.d, _mm256_broadcast_ss(&a->d));
    acc = _mm256_fmadd_ps(scale, DotBytes(w.q, LoadBytes(a->qs)), acc);
    return _mm256_fmadd_ps(w.m, FirstLane(&a->s), acc);
  }
};

struct Q4_0Policy : NibblePolicy {
  using Weight = BlockQ4_0;
  static Decoded Decode(const BlockQ4_0* b) {
    const __m256 d = BroadcastFp16(b->d);
    return {UnpackNibbles(b->qs), d, _mm256_mul_ps(d, _mm256_set1_ps(-8.0f))};
  }
};

struct Q4_1Policy : NibblePolicy {
  using Weight = BlockQ4_1;
  static Decoded Decode(const BlockQ4_1* b) {
    // d and m are adjacent: one load and one conversion give [d m d m ...].
    int32_t dm_bits;
    std::memcpy(&dm_bits, &b->d, sizeof(dm_bits));
    const __m256 dm = _mm256_cvtph_ps(_mm_set1_epi32(dm_bits));
    return {UnpackNibbles(b->qs), _mm256_moveldup_ps(dm), _mm256_movehdup_ps(dm)};
  }
};

struct Q8_0Policy {
  static constexpr int64_t kStep = 1;
  using Weight = BlockQ8_0;
  using Activation = ActivationBlockQ8;
  // maddubs needs one unsigned operand: |w| times x with w's sign moved onto x.
  struct Decoded {
    __m256i abs_q;
    __m256i q;
    __m256 d;
  };
  static Decoded Decode(const BlockQ8_0* b) {
    const __m256i q = LoadBytes(b->qs);
    return {_mm256_abs_epi8(q), q, BroadcastFp16(b->d)};
  }
  static __m256 Accumulate(const Decoded& w, const Activation* a, __m256 acc) {
    const __m256 scale = _mm256_mul_ps(w.d, _mm256_broadcast_ss(&a->d));
    const __m256i signed_x = _mm256_sign_epi8(LoadBytes(a->qs), w.q);
    return _mm256_fmadd_ps(scale, DotBytes(w.abs_q, signed_x), acc);
  }
};

template <class Elem>
struct FloatPolicy {
  static constexpr int64_t kStep = 8;
  using Weight = Elem;
  using Activation = float;
  using Decoded = __m256;
  static __m256 Decode(const Elem* w) {
    if constexpr (std::is_same_v<Elem, float>) {
      return _mm256_loadu_ps(w);
    } else {
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    }
  }
  static __m256 Accumulate(__m256 w, const float* x, __m256 acc) {
    return _mm256_fmadd_ps(w, _mm256_loadu_ps(x), acc);
  }
  static float TailDot(const Elem* w, const float* x, int64_t n) {
    float sum = 0.0f;
    for (int64_t k = 0; k < n; ++k) {
      if constexpr (std::is_same_v<Elem, float>) {
        sum += w[k] * x[k];
      } else {
        sum += Fp16ToFp32(w[k]) * x[k];
      }
    }
    return sum;
  }
};

// y (T, y_stride)[:, 0..R) = W (R, len) . x (T, len), len in policy elements.
template <class P, int R, int T>
void Tile(const typename P::Weight* w, const typename P::Activation* x, int64_t len,
          float* y, int64_t y_stride) {
  __m256 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  int64_t k = 0;
  for (; k + P::kStep <= len; k += P::kStep) {
    for (int i = 0; i < R; ++i) {
      const typename P::Decoded wd = P::Decode(w + i * len + k);
      for (int j = 0; j < T; ++j) acc[i][j] = P::Accumulate(wd, x + j * len + k, acc[i][j]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < T; ++j) {
      float sum = HorizontalSum(acc[i][j]);
      if constexpr (P::kStep > 1) sum += P::TailDot(w + i * len + k, x + j * len + k, len - k);
      y[j * y_stride + i] = sum;
    }
  }
}

// R weight rows against all n_tokens activation rows, kTokenTile at a time.
template <class P, int R>
void RowGroup(const typename P::Weight* w, const typename P::Activation* x, int64_t len,
              int64_t n_tokens, float* y, int64_t y_stride) {
  int64_t t = 0;
  for (; t + kTokenTile <= n_tokens; t += kTokenTile) {
    Tile<P, R, kTokenTile>(w, x + t * len, len, y + t * y_stride, y_stride);
  }
  const typename P::Activation* xt = x + t * len;
  float* yt = y + t * y_stride;
  switch (n_tokens - t) {
    case 3:
      return Tile<P, R, 3>(w, xt, len, yt, y_stride);
    case 2:
      return Tile<P, R, 2>(w, xt, len, yt, y_stride);
    case 1:
      return Tile<P, R, 1>(w, xt, len, yt, y_stride);
    default:
      return;
  }
}

template <class P>
void MatMul(const void* w, int64_t cols, int64_t row_begin, int64_t row_end, const void* x,
            int64_t n_tokens, float* y, int64_t y_stride) {
  // Row length in policy elements (blocks, or floats), the same for W and x.
  constexpr int64_t kColsPerElement = std::is_same_v<typename P::Activation, float> ? 1 : 32;
  const int64_t len = cols / kColsPerElement;
  const auto* weights = static_cast<const typename P::Weight*>(w);
  const auto* acts = static_cast<const typename P::Activation*>(x);
  int64_t r = row_begin;
  if (n_tokens == 1) {
    for (; r + kDecodeRows <= row_end; r += kDecodeRows) {
      Tile<P, kDecodeRows, 1>(weights + r * len, acts, len, y + r, y_stride);
    }
  }
  for (; r + kPrefillRows <= row_end; r += kPrefillRows) {
    RowGroup<P, kPrefillRows>(weights + r * len, acts, len, n_tokens, y + r, y_stride);
  }
  for (; r < row_end; ++r) RowGroup<P, 1>(weights + r * len, acts, len, n_tokens, y + r, y_stride);
}

// Bit-identical to the portable QuantizeRow: 127 / amax, round half to even.
template <class Activation>
void QuantizeRow(const float* x, int64_t cols, void* out) {
  auto* blocks = static_cast<Activation*>(out);
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    __m256 v[4];
    __m256 max_abs = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(xb + 8 * i);
      max_abs = _mm256_max_ps(max_abs, _mm256_andnot_ps(sign_bit, v[i]));
    }
    const float amax = avx2::HorizontalMax(max_abs);
    const __m256 inv_scale = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    __m256i q[4];
    for (int i = 0; i < 4; ++i) {
      q[i] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[i], inv_scale),
                                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    // The packs interleave the 128-bit lanes; the permutation restores element order.
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
                                              _mm256_packs_epi32(q[2], q[3]));
    const __m256i ordered =
        _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    Activation& a = blocks[b];
    a.d = amax / 127.0f;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.qs), ordered);
    if constexpr (std::is_same_v<Activation, ActivationBlockQ8Sum>) {
      const __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]),
                                           _mm256_add_epi32(q[2], q[3]));
      a.s = a.d * static_cast<float>(avx2::HorizontalSum(sum));
    }
  }
}

}  // namespace

void FillAvx2MatMul(KernelTable& table) {
  table.matmul_q4_0 = MatMul<Q4_0Policy>;
  table.matmul_q4_1 = MatMul<Q4_1Policy>;
  table.matmul_q8_0 = MatMul<Q8_0Policy>;
  table.matmul_f16 = MatMul<FloatPolicy<uint16_t>>;
  table.matmul_f32 = MatMul<FloatPolicy<float>>;
  table.quantize_q8 = QuantizeRow<ActivationBlockQ8>;
  table.quantize_q8_sum = QuantizeRow<ActivationBlockQ8Sum>;
}

}  // namespace hearth::cpu
