// AVX2/FMA/F16C matrix products and activation quantisation.
//
// A kernel computes a tile of R weight rows x T activation rows: each weight block is
// decoded once into registers and multiplied with the T activation blocks, keeping R*T
// vector accumulators live. Decode (T = 1) is bound by memory bandwidth: it runs four
// rows at once, so that four streams of loads are in flight, and prefetches ahead of
// them. Prefill is bound by arithmetic; its tile shape per type (the policies' kPrefill*)
// is the largest that keeps accumulators and decoded blocks within the 16 ymm registers.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/cpu/activation_blocks.h"
#include "kernels/cpu/avx2_util.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

using avx2::HorizontalSum;
using avx2::LoadBytes;
using avx2::UnpackNibbles;

// How far ahead of each weight row the kernels prefetch, into L2. The hardware
// prefetchers alone do not keep enough lines in flight for the R interleaved row streams
// of a tile: measured on Zen 4, decode over SmolLM2's weights runs at 5.6 GB/s without
// this, 13.6 GB/s with it (4 KB ahead: 11; 16 KB: 14; into L1 instead: 9).
constexpr size_t kPrefetchBytes = 8192;

// Sum of u[k] * s[k] over each group of 4 bytes, u unsigned, s signed, as float (the
// 8-bit mode's int8 plane). No pair sum saturates int16 for the operands used below
// (|u| <= 128, |s| <= 127).
__m256 DotBytes(__m256i u, __m256i s) {
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

// An activation block's quants: 32 int8 in `q` (8-bit mode), or 32 int16 in `q` (elements
// 0..15) and `q_hi` (16..31) (16-bit mode, `q_hi` zero otherwise).
struct Planes {
  __m256i q;
  __m256i q_hi;
};

template <class Activation>
Planes LoadPlanes(const Activation* a) {
  if constexpr (kInt16Quants<Activation>) {
    return {LoadBytes(a->qs), LoadBytes(a->qs + 16)};
  } else {
    return {LoadBytes(a->qs), _mm256_setzero_si256()};
  }
}

// 32 weight bytes (unsigned nibbles, or signed Q8_0 quants) times an int16 activation
// block: each byte widened to int16, then madd's exact pair sums, 8 int32 lanes as float
// (|w| <= 127 times |v| <= 32639, four products a lane, well inside int32).
template <bool kSignedWeights>
__m256 DotInt16(__m256i w, const Planes& x) {
  const __m128i w_lo = _mm256_castsi256_si128(w);
  const __m128i w_hi = _mm256_extracti128_si256(w, 1);
  const __m256i lo = kSignedWeights ? _mm256_cvtepi8_epi16(w_lo) : _mm256_cvtepu8_epi16(w_lo);
  const __m256i hi = kSignedWeights ? _mm256_cvtepi8_epi16(w_hi) : _mm256_cvtepu8_epi16(w_hi);
  return _mm256_cvtepi32_ps(
      _mm256_add_epi32(_mm256_madd_epi16(lo, x.q), _mm256_madd_epi16(hi, x.q_hi)));
}

// The fp16 at p in every lane.
__m256 BroadcastFp16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_broadcastw_epi16(_mm_loadu_si16(p)));
}


// A policy describes one weight type: its element (a block, or one float), how many
// elements one step of the kernel consumes, how a step of a weight row and of an
// activation row is loaded, and how their product is accumulated.
//
// Q4_0 and Q4_1 take an offset m per block (x = d q + m, Q4_0's m being -8 d), so that
// their unsigned nibbles feed maddubs as they are; the offset contributes m * s per
// block, s = dx * sum(qx) coming with the activations. Both scale pairs are multiplied
// at once, [d m d m ...] * [dx s dx s ...], and the m * s lanes of all the rows of a
// tile are gathered into one vector per token by blends (row i in lane 2i + 1), which is
// cheaper than a second FMA per block and row.
template <bool kSixteenBit>
struct NibblePolicy {
  static constexpr int64_t kStep = 1;
  static constexpr int kDecodeRows = 4;
  static constexpr int kPrefillRows = 1;
  static constexpr int kPrefillTokens = 4;
  static constexpr bool kHasOffset = true;
  using Activation = typename ActivationFor<BlockQ4_1, kSixteenBit>::type;
  struct Decoded {
    __m256i q;
    __m256 dm;  // [d m d m ...]
  };
  struct Token {
    Planes planes;
    __m256 ds;  // [dx s dx s ...]
  };
  static Token Load(const Activation* a) {
    const __m128i ds = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(&a->d));
    return {LoadPlanes(a), _mm256_castsi256_ps(_mm256_broadcastq_epi64(ds))};
  }
  // acc += d dx sum(q qx); returns [d dx, m s, ...], whose odd lanes hold the offset term.
  static __m256 Accumulate(const Decoded& w, const Token& x, __m256& acc) {
    const __m256 scales = _mm256_mul_ps(w.dm, x.ds);
    const __m256 dot = kInt16Quants<Activation> ? DotInt16<false>(w.q, x.planes)
                                                 : DotBytes(w.q, x.planes.q);
    acc = _mm256_fmadd_ps(_mm256_moveldup_ps(scales), dot, acc);
    return scales;
  }
};

template <bool kSixteenBit>
struct Q4_0Policy : NibblePolicy<kSixteenBit> {
  using Weight = BlockQ4_0;
  using Decoded = typename NibblePolicy<kSixteenBit>::Decoded;
  static Decoded Decode(const BlockQ4_0* b) {
    const __m256 offset = _mm256_setr_ps(1, -8, 1, -8, 1, -8, 1, -8);
    return {UnpackNibbles(b->qs), _mm256_mul_ps(BroadcastFp16(&b->d), offset)};
  }
};

template <bool kSixteenBit>
struct Q4_1Policy : NibblePolicy<kSixteenBit> {
  using Weight = BlockQ4_1;
  using Decoded = typename NibblePolicy<kSixteenBit>::Decoded;
  static Decoded Decode(const BlockQ4_1* b) {
    // d and m are adjacent: one 32-bit broadcast and one conversion give [d m d m ...].
    const __m128i dm = _mm_broadcastd_epi32(_mm_loadu_si32(&b->d));
    return {UnpackNibbles(b->qs), _mm256_cvtph_ps(dm)};
  }
};

template <bool kSixteenBit>
struct Q8_0Policy {
  static constexpr int64_t kStep = 1;
  static constexpr int kDecodeRows = 4;
  static constexpr int kPrefillRows = 2;
  static constexpr int kPrefillTokens = 4;
  static constexpr bool kHasOffset = false;
  using Weight = BlockQ8_0;
  using Activation = typename ActivationFor<BlockQ8_0, kSixteenBit>::type;
  // 16 bits: int16 products of the widened weights. 8 bits: maddubs needs one unsigned
  // operand, |w| times x with w's sign moved onto x.
  struct Decoded {
    __m256i abs_q;
    __m256i q;
    __m256 d;
  };
  struct Token {
    Planes planes;
    __m256 d;
  };
  static Decoded Decode(const BlockQ8_0* b) {
    const __m256i q = LoadBytes(b->qs);
    return {_mm256_abs_epi8(q), q, BroadcastFp16(&b->d)};
  }
  static Token Load(const Activation* a) {
    return {LoadPlanes(a), _mm256_broadcast_ss(&a->d)};
  }
  static void Accumulate(const Decoded& w, const Token& x, __m256& acc) {
    const __m256 scale = _mm256_mul_ps(w.d, x.d);
    const __m256 dot = kInt16Quants<Activation>
                           ? DotInt16<true>(w.q, x.planes)
                           : DotBytes(w.abs_q, _mm256_sign_epi8(x.planes.q, w.q));
    acc = _mm256_fmadd_ps(scale, dot, acc);
  }
};

template <class Elem>
struct FloatPolicy {
  static constexpr int64_t kStep = 8;
  static constexpr int kDecodeRows = 4;
  static constexpr int kPrefillRows = 3;
  static constexpr int kPrefillTokens = 3;
  static constexpr bool kHasOffset = false;
  using Weight = Elem;
  using Activation = float;
  using Decoded = __m256;
  using Token = __m256;
  static __m256 Decode(const Elem* w) {
    if constexpr (std::is_same_v<Elem, float>) {
      return _mm256_loadu_ps(w);
    } else {
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    }
  }
  static __m256 Load(const float* x) { return _mm256_loadu_ps(x); }
  static void Accumulate(__m256 w, __m256 x, __m256& acc) { acc = _mm256_fmadd_ps(w, x, acc); }
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

// All bits set in lane 2 * row + 1, clear elsewhere: a blendv mask (blend_ps would need
// the lane as a compile-time constant, which a loop index is not).
__m256 OddLaneMask(int row) {
  alignas(32) static constexpr int32_t kMasks[4][8] = {{0, -1, 0, 0, 0, 0, 0, 0},
                                                       {0, 0, 0, -1, 0, 0, 0, 0},
                                                       {0, 0, 0, 0, 0, -1, 0, 0},
                                                       {0, 0, 0, 0, 0, 0, 0, -1}};
  return _mm256_load_ps(reinterpret_cast<const float*>(kMasks[row]));
}

// y (T, y_stride)[:, 0..R) = W (R, len) . x (T, len), len in policy elements.
//
// Rows are the outer loop within a step, so only one decoded weight block is live at a
// time; activation steps are reloaded per row from L1 (hoisted when T = 1). For offset
// types, the scale vectors of the R rows are merged into one vector per token, row i's
// in lane 2i + 1, and that is accumulated.
template <class P, int R, int T>
void Tile(const typename P::Weight* w, const typename P::Activation* x, int64_t len,
          float* y, int64_t y_stride) {
  static_assert(!P::kHasOffset || R <= 4, "one odd lane per row");
  __m256 acc[R][T];
  __m256 offsets[T];
  for (int j = 0; j < T; ++j) {
    offsets[j] = _mm256_setzero_ps();
    for (int i = 0; i < R; ++i) acc[i][j] = _mm256_setzero_ps();
  }
  int64_t k = 0;
  for (; k + P::kStep <= len; k += P::kStep) {
    __m256 merged[T];
    for (int i = 0; i < R; ++i) {
      // Prefetching never faults, so running past the matrix is harmless.
      const auto ahead = reinterpret_cast<uintptr_t>(w + i * len + k) + kPrefetchBytes;
      _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T1);
      const typename P::Decoded wd = P::Decode(w + i * len + k);
      for (int j = 0; j < T; ++j) {
        const typename P::Token xt = P::Load(x + j * len + k);
        if constexpr (P::kHasOffset) {
          const __m256 scales = P::Accumulate(wd, xt, acc[i][j]);
          merged[j] = i == 0 ? scales : _mm256_blendv_ps(merged[j], scales, OddLaneMask(i));
        } else {
          P::Accumulate(wd, xt, acc[i][j]);
        }
      }
    }
    if constexpr (P::kHasOffset) {
      for (int j = 0; j < T; ++j) offsets[j] = _mm256_add_ps(offsets[j], merged[j]);
    }
  }
  for (int j = 0; j < T; ++j) {
    alignas(32) float offset_lanes[8] = {};
    if constexpr (P::kHasOffset) _mm256_store_ps(offset_lanes, offsets[j]);
    for (int i = 0; i < R; ++i) {
      float sum = HorizontalSum(acc[i][j]);
      if constexpr (P::kHasOffset) sum += offset_lanes[2 * i + 1];
      if constexpr (P::kStep > 1) sum += P::TailDot(w + i * len + k, x + j * len + k, len - k);
      y[j * y_stride + i] = sum;
    }
  }
}

// Tile<P, R, T'> for the n < T leftover activation rows, T' = n.
template <class P, int R, int T>
void LeftoverTile(int64_t n, const typename P::Weight* w, const typename P::Activation* x,
                  int64_t len, float* y, int64_t y_stride) {
  if constexpr (T > 1) {
    if (n == T - 1) return Tile<P, R, T - 1>(w, x, len, y, y_stride);
    LeftoverTile<P, R, T - 1>(n, w, x, len, y, y_stride);
  }
}

// R weight rows against all n_tokens activation rows, T at a time.
template <class P, int R, int T>
void RowGroup(const typename P::Weight* w, const typename P::Activation* x, int64_t len,
              int64_t n_tokens, float* y, int64_t y_stride) {
  int64_t t = 0;
  for (; t + T <= n_tokens; t += T) Tile<P, R, T>(w, x + t * len, len, y + t * y_stride, y_stride);
  LeftoverTile<P, R, T>(n_tokens - t, w, x + t * len, len, y + t * y_stride, y_stride);
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
    for (; r + P::kDecodeRows <= row_end; r += P::kDecodeRows) {
      Tile<P, P::kDecodeRows, 1>(weights + r * len, acts, len, y + r, y_stride);
    }
  }
  constexpr int kRows = P::kPrefillRows, kTokens = P::kPrefillTokens;
  for (; r + kRows <= row_end; r += kRows) {
    RowGroup<P, kRows, kTokens>(weights + r * len, acts, len, n_tokens, y + r, y_stride);
  }
  for (; r < row_end; ++r) {
    RowGroup<P, 1, kTokens>(weights + r * len, acts, len, n_tokens, y + r, y_stride);
  }
}

// Four vectors of 8 int32 in [-127, 127] -> 32 int8 in element order.
__m256i PackBytes(const __m256i q[4]) {
  // The packs interleave the 128-bit lanes; the permutation restores element order.
  const __m256i packed =
      _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
  return _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Two vectors of 8 int32 within int16 -> 16 int16 in element order.
__m256i PackInt16(__m256i a, __m256i b) {
  // The pack interleaves the 128-bit lanes; the permutation restores element order.
  return _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8);
}

// Bit-identical to the portable QuantizeRow: 127 / amax, round half to even, for 16 bits
// 256 q plus the residual scaled by 256.
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
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    __m256i q[4];
    __m256i sum = _mm256_setzero_si256();
    for (int i = 0; i < 4; ++i) {
      const __m256 scaled = _mm256_mul_ps(v[i], inv_scale);
      const __m256 rounded = _mm256_round_ps(scaled, kRound);
      q[i] = _mm256_cvtps_epi32(rounded);
      if constexpr (kInt16Quants<Activation>) {
        const __m256 residual = _mm256_round_ps(
            _mm256_mul_ps(_mm256_sub_ps(scaled, rounded), _mm256_set1_ps(256.0f)), kRound);
        const __m256i q_lo = _mm256_cvtps_epi32(_mm256_min_ps(
            _mm256_max_ps(residual, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f)));
        q[i] = _mm256_add_epi32(_mm256_slli_epi32(q[i], 8), q_lo);
        sum = _mm256_add_epi32(sum, q[i]);
      } else {
        sum = _mm256_add_epi32(sum, q[i]);
      }
    }
    Activation& a = blocks[b];
    a.d = kInt16Quants<Activation> ? amax / 127.0f / 256.0f : amax / 127.0f;
    if constexpr (kInt16Quants<Activation>) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.qs), PackInt16(q[0], q[1]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.qs + 16), PackInt16(q[2], q[3]));
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.qs), PackBytes(q));
    }
    if constexpr (kHasSum<Activation>) {
      a.s = a.d * static_cast<float>(avx2::HorizontalSum(sum));
    }
  }
}

template <bool kSixteenBit>
QuantKernels MakeQuantKernels() {
  return {MatMul<Q4_0Policy<kSixteenBit>>, MatMul<Q4_1Policy<kSixteenBit>>,
          MatMul<Q8_0Policy<kSixteenBit>>,
          QuantizeRow<typename ActivationFor<BlockQ8_0, kSixteenBit>::type>,
          QuantizeRow<typename ActivationFor<BlockQ4_0, kSixteenBit>::type>};
}

}  // namespace

void FillAvx2MatMul(KernelTable& table) {
  table.sixteen_bit = MakeQuantKernels<true>();
  table.eight_bit = MakeQuantKernels<false>();
  table.matmul_f16 = MatMul<FloatPolicy<uint16_t>>;
  table.matmul_f32 = MatMul<FloatPolicy<float>>;
}

}  // namespace hearth::cpu
