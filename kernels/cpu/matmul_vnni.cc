// AVX-512 VNNI matrix products for the quantised weight types, on 256-bit vectors
// (AVX512_VNNI + AVX512VL): vpdpbusd multiplies 32 unsigned by 32 signed bytes and adds
// each group of 4 products to an int32 lane, vpdpwssd the same for 16 int16 pairs,
// exactly, in one instruction where AVX2 needs maddubs + madd (and, for Q8_0, sign
// tricks). AVX512VL also gives 32 vector registers, room for a 4 x 4 tile.
//
// A tile is R weight rows x T activation rows (tokens). Per block, the activations give
// one exact int32 vector per (row, token), dot(w, v) from the int16 plane of the 16-bit
// mode (two vpdpwssd on the weights widened to int16 once per row) or dot(w, q) from the
// int8 plane of the 8-bit mode (one vpdpbusd), converted to float once and scaled by
// d_w * d_x. Those R * T scales, and the
// Q4 offsets m * s, come from one multiply per row: [d m d m ...] * [dx0 s0 dx1 s1 ...]
// (tokens side by side), instead of one multiply per (row, token).
//
// Batch invariance: every (row, token) output goes through the same operations in the
// same order whatever the tile shape, R and T only decide how many run side by side.
// Rounding happens only in float operations whose inputs do not depend on the tile:
// d_w * dx (or m * s) in the token's lane of a product vector, the per-lane FMA into the
// accumulator, the per-lane add of offsets, one fixed horizontal sum. This file is built
// with -ffp-contract=off so that the compiler cannot fuse a multiply and an add in some
// tile shapes and not others.
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/activation_blocks.h"
#include "kernels/cpu/avx2_util.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

using avx2::HorizontalSum;
using avx2::LoadBytes;
using avx2::UnpackNibbles;

// As in matmul_avx2.cc: L2 prefetch ahead of each weight row keeps the R row streams of
// a decode tile in flight.
constexpr size_t kPrefetchBytes = 8192;

// Decode (one token) runs 4 rows at a time for memory-level parallelism; batches run
// 4 x 4 tiles, the largest whose 16 accumulators, 4 offset vectors and activations fit
// in the 32 registers.
constexpr int kDecodeRows = 4;
constexpr int kTileRows = 4;
constexpr int kTileTokens = 4;

// A block's quants: 32 int8 in `q` (8-bit mode), or 32 int16 in `q` (elements 0..15) and
// `q_hi` (16..31) (16-bit mode, `q_hi` unused otherwise). The same for weights decoded
// for either mode.
struct Quants {
  __m256i q;
  __m256i q_hi;
};

// The 16-bit mode's exact dot product of a weight block and an activation block, 8 int32
// lanes (at most 4 * 127 * 32639 < 2^24 in magnitude).
__m256i DotInt16(const Quants& w, const Quants& x) {
  return _mm256_dpwssd_epi32(_mm256_dpwssd_epi32(_mm256_setzero_si256(), w.q, x.q), w.q_hi,
                             x.q_hi);
}

template <class Activation>
Quants LoadQuants(const Activation* a) {
  if constexpr (kInt16Quants<Activation>) {
    return {LoadBytes(a->qs), LoadBytes(a->qs + 16)};
  } else {
    return {LoadBytes(a->qs), _mm256_setzero_si256()};
  }
}

// Q4_0 and Q4_1: x = d q + m (Q4_0: m = -8 d), q in 0..15 feeds vpdpbusd unsigned as it
// is (16 bits: zero-extended to int16); the offset adds m * s per block, s = dx * sum(qx)
// coming with the activations. Token j's scale d * dx is in lane 2j of the product
// vector, its offset m * s in lane 2j + 1.
template <bool kSixteenBit>
struct NibblePolicy {
  static constexpr int kLanesPerToken = 2;
  static constexpr bool kHasOffset = true;
  using Activation = typename ActivationFor<BlockQ4_1, kSixteenBit>::type;
  struct Decoded {
    Quants q;
    __m256 dm;  // [d m d m ...]
  };
  using Token = Quants;
  static Token Load(const Activation* a) { return LoadQuants(a); }
  // 16 bytes of packed nibbles, low nibbles (elements 0..15) first.
  static Quants Nibbles(const uint8_t* qs) {
    if constexpr (kSixteenBit) {
      const __m256i bytes =
          _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
      return {_mm256_and_si256(bytes, _mm256_set1_epi16(0x0f)), _mm256_srli_epi16(bytes, 4)};
    } else {
      return {UnpackNibbles(qs), _mm256_setzero_si256()};
    }
  }
  // [dx0 s0 dx1 s1 ...] for tokens a[0], a[stride], ... (T <= 4); unused lanes 0.
  template <int T>
  static __m256 TokenScales(const Activation* a, int64_t stride) {
    __m128i pair[4];
    for (int j = 0; j < 4; ++j) {
      pair[j] = j < T ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(&a[j * stride].d))
                      : _mm_setzero_si128();
    }
    const __m128i lo = _mm_unpacklo_epi64(pair[0], pair[1]);
    const __m128i hi = _mm_unpacklo_epi64(pair[2], pair[3]);
    return _mm256_castsi256_ps(_mm256_set_m128i(hi, lo));
  }
  // Below 4 * 15 * 32639 < 2^21: converts to float exactly.
  static __m256i Dot(const Decoded& w, const Token& x) {
    if constexpr (kSixteenBit) {
      return DotInt16(w.q, x);
    } else {
      return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w.q.q, x.q);
    }
  }
};

template <bool kSixteenBit>
struct Q4_0Policy : NibblePolicy<kSixteenBit> {
  using Weight = BlockQ4_0;
  using Decoded = typename NibblePolicy<kSixteenBit>::Decoded;
  static Decoded Decode(const BlockQ4_0* b) {
    const __m256 d = _mm256_cvtph_ps(_mm_broadcastw_epi16(_mm_loadu_si16(&b->d)));
    return {Q4_0Policy::Nibbles(b->qs),
            _mm256_mul_ps(d, _mm256_setr_ps(1, -8, 1, -8, 1, -8, 1, -8))};
  }
};

template <bool kSixteenBit>
struct Q4_1Policy : NibblePolicy<kSixteenBit> {
  using Weight = BlockQ4_1;
  using Decoded = typename NibblePolicy<kSixteenBit>::Decoded;
  static Decoded Decode(const BlockQ4_1* b) {
    // d and m are adjacent: one 32-bit broadcast and one conversion give [d m d m ...].
    return {Q4_1Policy::Nibbles(b->qs),
            _mm256_cvtph_ps(_mm_broadcastd_epi32(_mm_loadu_si32(&b->d)))};
  }
};

// Q8_0, 16 bits: both operands signed int16 (the weights sign-extended), as vpdpwssd
// takes them. 8 bits: vpdpbusd needs one unsigned operand, so the activations are biased,
// q + 128 (xor with 0x80), and dot(w, q + 128) = dot(w, q) + 128 * sum(w) is taken back by
// starting the accumulation at -128 * sum(w), computed once per weight block. Token j's
// scale d * dx is in lane j.
template <bool kSixteenBit>
struct Q8_0Policy {
  static constexpr int kLanesPerToken = 1;
  static constexpr bool kHasOffset = false;
  using Weight = BlockQ8_0;
  using Activation = typename ActivationFor<BlockQ8_0, kSixteenBit>::type;
  struct Decoded {
    Quants q;
    __m256i start;  // 8 bits: -128 * (sum of each group of 4 weights)
    __m256 dm;      // [d d d ...]
  };
  using Token = Quants;  // 8 bits: q + 128
  static Decoded Decode(const BlockQ8_0* b) {
    const __m256 d = _mm256_cvtph_ps(_mm_broadcastw_epi16(_mm_loadu_si16(&b->d)));
    if constexpr (kSixteenBit) {
      const auto* qs = reinterpret_cast<const __m128i*>(b->qs);
      return {{_mm256_cvtepi8_epi16(_mm_loadu_si128(qs)),
               _mm256_cvtepi8_epi16(_mm_loadu_si128(qs + 1))},
              _mm256_setzero_si256(),
              d};
    } else {
      const __m256i q = LoadBytes(b->qs);
      const __m256i sum128 =
          _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(-128), q);
      return {{q, _mm256_setzero_si256()}, _mm256_sub_epi32(_mm256_setzero_si256(), sum128), d};
    }
  }
  static Token Load(const Activation* a) {
    if constexpr (kSixteenBit) {
      return LoadQuants(a);
    } else {
      return {_mm256_xor_si256(LoadBytes(a->qs), _mm256_set1_epi8(-128)), _mm256_setzero_si256()};
    }
  }
  // [dx0 dx1 ...] for tokens a[0], a[stride], ... (T <= 4); unused lanes 0.
  template <int T>
  static __m256 TokenScales(const Activation* a, int64_t stride) {
    float d[4];
    for (int j = 0; j < 4; ++j) d[j] = j < T ? a[j * stride].d : 0.0f;
    return _mm256_zextps128_ps256(_mm_setr_ps(d[0], d[1], d[2], d[3]));
  }
  // At most 4 * 127 * 32639 < 2^24 (8 bits, once the bias is taken back, 4 * 127 * 128):
  // exact in float.
  static __m256i Dot(const Decoded& w, const Token& x) {
    if constexpr (kSixteenBit) {
      return DotInt16(w.q, x);
    } else {
      return _mm256_dpbusd_epi32(w.start, x.q, w.q.q);
    }
  }
};

// y (T, y_stride)[:, 0..R) = W (R, len) . x (T, len), len in blocks.
template <class P, int R, int T>
void Tile(const typename P::Weight* w, const typename P::Activation* x, int64_t len,
          float* y, int64_t y_stride) {
  static_assert(T * P::kLanesPerToken <= 8, "one product vector holds every token");
  __m256 acc[R][T];
  __m256 offsets[R];
  for (int i = 0; i < R; ++i) {
    offsets[i] = _mm256_setzero_ps();
    for (int j = 0; j < T; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < len; ++k) {
    typename P::Token tokens[T];
    for (int j = 0; j < T; ++j) tokens[j] = P::Load(x + j * len + k);
    const __m256 token_scales = P::template TokenScales<T>(x + k, len);
    for (int i = 0; i < R; ++i) {
      // Prefetching never faults, so running past the matrix is harmless.
      const auto ahead = reinterpret_cast<uintptr_t>(w + i * len + k) + kPrefetchBytes;
      _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T1);
      const typename P::Decoded wd = P::Decode(w + i * len + k);
      const __m256 products = _mm256_mul_ps(wd.dm, token_scales);
      if constexpr (P::kHasOffset) offsets[i] = _mm256_add_ps(offsets[i], products);
      for (int j = 0; j < T; ++j) {
        const __m256 dot = _mm256_cvtepi32_ps(P::Dot(wd, tokens[j]));
        // One vpermps; a store and broadcast loads get forwarded by the compiler into two
        // shuffles, measured no faster.
        const __m256 scale =
            _mm256_permutexvar_ps(_mm256_set1_epi32(j * P::kLanesPerToken), products);
        acc[i][j] = _mm256_fmadd_ps(dot, scale, acc[i][j]);
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    alignas(32) float offset[8];
    _mm256_store_ps(offset, offsets[i]);
    for (int j = 0; j < T; ++j) {
      float sum = HorizontalSum(acc[i][j]);
      if constexpr (P::kHasOffset) sum += offset[2 * j + 1];
      y[j * y_stride + i] = sum;
    }
  }
}

// Tile<P, R, T'> for the n < T leftover tokens, T' = n.
template <class P, int R, int T>
void LeftoverTile(int64_t n, const typename P::Weight* w, const typename P::Activation* x,
                  int64_t len, float* y, int64_t y_stride) {
  if constexpr (T > 1) {
    if (n == T - 1) return Tile<P, R, T - 1>(w, x, len, y, y_stride);
    LeftoverTile<P, R, T - 1>(n, w, x, len, y, y_stride);
  }
}

// R weight rows against all n_tokens activation rows, kTileTokens at a time.
template <class P, int R>
void RowGroup(const typename P::Weight* w, const typename P::Activation* x, int64_t len,
              int64_t n_tokens, float* y, int64_t y_stride) {
  int64_t t = 0;
  for (; t + kTileTokens <= n_tokens; t += kTileTokens) {
    Tile<P, R, kTileTokens>(w, x + t * len, len, y + t * y_stride, y_stride);
  }
  LeftoverTile<P, R, kTileTokens>(n_tokens - t, w, x + t * len, len, y + t * y_stride,
                                  y_stride);
}

template <class P>
void MatMul(const void* w, int64_t cols, int64_t row_begin, int64_t row_end, const void* x,
            int64_t n_tokens, float* y, int64_t y_stride) {
  const int64_t len = cols / kQuantBlock;
  const auto* weights = static_cast<const typename P::Weight*>(w);
  const auto* acts = static_cast<const typename P::Activation*>(x);
  int64_t r = row_begin;
  if (n_tokens == 1) {
    for (; r + kDecodeRows <= row_end; r += kDecodeRows) {
      Tile<P, kDecodeRows, 1>(weights + r * len, acts, len, y + r, y_stride);
    }
  }
  for (; r + kTileRows <= row_end; r += kTileRows) {
    RowGroup<P, kTileRows>(weights + r * len, acts, len, n_tokens, y + r, y_stride);
  }
  for (; r < row_end; ++r) RowGroup<P, 1>(weights + r * len, acts, len, n_tokens, y + r, y_stride);
}

// The products of one precision; the activation preparation stays the AVX2 table's.
template <bool kSixteenBit>
void SetQuantProducts(QuantKernels& quant) {
  quant.matmul_q4_0 = MatMul<Q4_0Policy<kSixteenBit>>;
  quant.matmul_q4_1 = MatMul<Q4_1Policy<kSixteenBit>>;
  quant.matmul_q8_0 = MatMul<Q8_0Policy<kSixteenBit>>;
}

}  // namespace

void FillAvx512VnniMatMul(KernelTable& table) {
  SetQuantProducts<true>(table.sixteen_bit);
  SetQuantProducts<false>(table.eight_bit);
}

}  // namespace hearth::cpu
