// AVX-512 matrix products for the quantised weight types (AVX512BW, AVX512_VNNI,
// AVX512VL): int16 pair products (vpdpwssd) for the 16-bit activations and for decode,
// byte products (vpdpbusd) for batches of 8-bit activations.
//
// Every (row, token) output is computed as the portable kernels compute it, bit for bit:
// per block, the exact int32 dot product of the weight quants and the activation quants,
// then, in float, acc += (d_w * d_x) * float(dot) and, for Q4_1, acc += m * s. Keeping
// the whole block's sum in one integer before converting is what lets the products run
// with rows or tokens in the vector lanes instead of the block's elements:
//
// - Batches (n_tokens >= kTokenLaneMin): 16 tokens in the lanes of a 512-bit vector (8 in
//   a 256-bit one for batches of 8 or fewer). The activations of each group of tokens are
//   first transposed into vectors that hold one 32-bit word of every token's block (an
//   int16 pair, or 4 bytes); a weight block, decoded once, is then broadcast a word at a
//   time, so one vpdpwssd (vpdpbusd) does 32 (64) multiply-adds of 16 tokens and nothing
//   is summed across lanes. Tiles of 4 rows x 2 token vectors.
// - Decode (fewer tokens): 8 weight rows per 256-bit vector of sums. Each row's block
//   gives 8 partial int32 sums, and one add tree reduces eight rows' partials to one
//   vector with a row in each lane, so scaling and accumulating run on 8 rows at once.
//   Decode reads every weight once and is bound by memory, so 8-bit activations are
//   widened to int16 there rather than given a path of their own.
//
// Batch invariance follows: whichever path, tile or lane computes an output, it runs the
// same integer sum and the same float operations in the same order. This file is built
// with -ffp-contract=off so that the compiler cannot fuse a multiply and an add.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/activation_blocks.h"
#include "kernels/cpu/avx2_util.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"

// GCC 12 reports the self-initialised _mm512_undefined_*() inside its own intrinsics
// (conversions, broadcasts, shuffles) as uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace hearth::cpu {
namespace {

// L2 prefetch ahead of each weight row keeps the row streams of a tile in flight.
constexpr size_t kPrefetchBytes = 8192;

constexpr int kTileRows = 4;
constexpr int kTileGroups = 2;  // token vectors per tile
constexpr int kDecodeRows = 8;  // one 256-bit vector of row sums
// Below this many tokens most lanes of a token vector would be idle; each token then
// takes the decode path, which reads the (mostly cache-resident) weights again per token:
// a step of 2 tokens' products took 13.5 ms that way against 23.5 ms in token lanes.
constexpr int64_t kTokenLaneMin = 4;

// A weight or activation block widened to int16: elements 0..15 and 16..31.
struct Halves {
  __m256i lo;
  __m256i hi;
};

using avx2::LoadBytes;  // 32 bytes

__m128i Load16Bytes(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// Weight blocks: the quants of a block (Q4_0: nibble - 8, Q4_1: nibble, Q8_0: the int8)
// widened to int16, or as unsigned bytes in element order, quant + kUnsignedOffset; the
// scale d and, for Q4_1, the minimum m are fp16 in the block's first bytes.
template <class Block>
struct WeightType;

// 16 bytes of nibbles (element j low, j + 16 high) -> int16, minus `offset`.
inline Halves Nibbles(const uint8_t* qs, int16_t offset) {
  const __m256i bytes = _mm256_cvtepu8_epi16(Load16Bytes(qs));
  const __m256i off = _mm256_set1_epi16(offset);
  return {_mm256_sub_epi16(_mm256_and_si256(bytes, _mm256_set1_epi16(0x0f)), off),
          _mm256_sub_epi16(_mm256_srli_epi16(bytes, 4), off)};
}

template <>
struct WeightType<BlockQ4_0> {
  static constexpr bool kHasMin = false;
  static constexpr int32_t kUnsignedOffset = 8;
  static Halves Widen(const BlockQ4_0* b) { return Nibbles(b->qs, 8); }
  static __m256i UnsignedBytes(const BlockQ4_0* b) { return avx2::UnpackNibbles(b->qs); }
};

template <>
struct WeightType<BlockQ4_1> {
  static constexpr bool kHasMin = true;
  static constexpr int32_t kUnsignedOffset = 0;
  static Halves Widen(const BlockQ4_1* b) { return Nibbles(b->qs, 0); }
  static __m256i UnsignedBytes(const BlockQ4_1* b) { return avx2::UnpackNibbles(b->qs); }
};

template <>
struct WeightType<BlockQ8_0> {
  static constexpr bool kHasMin = false;
  static constexpr int32_t kUnsignedOffset = 128;
  static Halves Widen(const BlockQ8_0* b) {
    return {_mm256_cvtepi8_epi16(Load16Bytes(b->qs)), _mm256_cvtepi8_epi16(Load16Bytes(b->qs + 16))};
  }
  static __m256i UnsignedBytes(const BlockQ8_0* b) {
    return _mm256_xor_si256(LoadBytes(b->qs), _mm256_set1_epi8(-128));
  }
};

// Activation blocks widened to int16.
template <class Activation>
Halves WidenActivations(const Activation* a) {
  if constexpr (kInt16Quants<Activation>) {
    return {LoadBytes(a->qs), LoadBytes(a->qs + 16)};
  } else {
    return {_mm256_cvtepi8_epi16(Load16Bytes(a->qs)), _mm256_cvtepi8_epi16(Load16Bytes(a->qs + 16))};
  }
}

// ---- Batches: tokens in lanes ----

// Vectors of tokens: 512-bit (16 tokens) for batches of more than 8, 256-bit (8 tokens)
// for smaller ones, where a 512-bit vector would run half empty or worse. Every lane
// runs the same operations either way.
struct Wide {
  using Int = __m512i;
  using Float = __m512;
  static constexpr int kLanes = 16;
  static Int FromWords(__m512i v) { return v; }
  static Int Set1(int32_t v) { return _mm512_set1_epi32(v); }
  static Int Dpwssd(Int sum, Int a, Int b) { return _mm512_dpwssd_epi32(sum, a, b); }
  static Int Dpbusd(Int sum, Int a, Int b) { return _mm512_dpbusd_epi32(sum, a, b); }
  static Int MulLo(Int a, Int b) { return _mm512_mullo_epi32(a, b); }
  static Float Zero() { return _mm512_setzero_ps(); }
  static Float Set1(float v) { return _mm512_set1_ps(v); }
  static Float Load(const float* p) { return _mm512_load_ps(p); }
  static void Store(float* p, Float v) { _mm512_store_ps(p, v); }
  static Float Convert(Int v) { return _mm512_cvtepi32_ps(v); }
  static Float Mul(Float a, Float b) { return _mm512_mul_ps(a, b); }
  static Float Add(Float a, Float b) { return _mm512_add_ps(a, b); }
};

struct Narrow {
  using Int = __m256i;
  using Float = __m256;
  static constexpr int kLanes = 8;
  static Int FromWords(__m512i v) { return _mm512_castsi512_si256(v); }
  static Int Set1(int32_t v) { return _mm256_set1_epi32(v); }
  static Int Dpwssd(Int sum, Int a, Int b) { return _mm256_dpwssd_epi32(sum, a, b); }
  static Int Dpbusd(Int sum, Int a, Int b) { return _mm256_dpbusd_epi32(sum, a, b); }
  static Int MulLo(Int a, Int b) { return _mm256_mullo_epi32(a, b); }
  static Float Zero() { return _mm256_setzero_ps(); }
  static Float Set1(float v) { return _mm256_set1_ps(v); }
  static Float Load(const float* p) { return _mm256_load_ps(p); }
  static void Store(float* p, Float v) { _mm256_store_ps(p, v); }
  static Float Convert(Int v) { return _mm256_cvtepi32_ps(v); }
  static Float Mul(Float a, Float b) { return _mm256_mul_ps(a, b); }
  static Float Add(Float a, Float b) { return _mm256_add_ps(a, b); }
};

// How a block is cut into 32-bit words, one per lane, and multiplied. A token vector holds
// word j of every token, a weight word is broadcast to all lanes, and one instruction adds
// the word's products into each token's int32 sum, which begins at the token's Start.
template <bool kSixteenBit>
struct LaneFormat;

// 16-bit activations: 16 words of an int16 pair (elements 2j, 2j + 1), vpdpwssd.
template <>
struct LaneFormat<true> {
  static constexpr int kWords = kQuantBlock / 2;
  // A token's block as its words, word j in lane j.
  template <class Activation>
  static __m512i TokenWords(const Activation& a) {
    return _mm512_loadu_si512(a.qs);
  }
  // Signed by signed: the sums start at 0.
  template <class Block, class V>
  static typename V::Int Start(const typename V::Int (&)[kWords]) {
    return V::Set1(0);
  }
  template <class Block>
  static void WeightWords(const Block* b, int32_t* words) {
    const Halves h = WeightType<Block>::Widen(b);
    _mm256_store_si256(reinterpret_cast<__m256i*>(words), h.lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(words + kWords / 2), h.hi);
  }
  template <class V>
  static typename V::Int Multiply(typename V::Int sum, typename V::Int tokens,
                                  typename V::Int weights) {
    return V::Dpwssd(sum, tokens, weights);
  }
};

// 8-bit activations: 8 words of 4 bytes (elements 4j .. 4j + 3), vpdpbusd, half the
// instructions of the int16 pairs. vpdpbusd multiplies unsigned bytes by signed ones, so
// the weights go in unsigned, quant + kUnsignedOffset (Q4's nibbles as stored), and each
// token's sum begins at -kUnsignedOffset * sum(q), which leaves exactly sum(q * w). The
// correction belongs to the token, so it is made once per call, not once per weight row.
template <>
struct LaneFormat<false> {
  static constexpr int kWords = kQuantBlock / 4;
  template <class Activation>
  static __m512i TokenWords(const Activation& a) {
    return _mm512_zextsi256_si512(LoadBytes(a.qs));
  }
  template <class Block, class V>
  static typename V::Int Start(const typename V::Int (&words)[kWords]) {
    const typename V::Int ones = V::Set1(0x01010101);
    typename V::Int q_sum = V::Set1(0);
    for (const typename V::Int& w : words) q_sum = V::Dpbusd(q_sum, ones, w);
    return V::MulLo(q_sum, V::Set1(-WeightType<Block>::kUnsignedOffset));
  }
  template <class Block>
  static void WeightWords(const Block* b, int32_t* words) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(words), WeightType<Block>::UnsignedBytes(b));
  }
  template <class V>
  static typename V::Int Multiply(typename V::Int sum, typename V::Int tokens,
                                  typename V::Int weights) {
    return V::Dpbusd(sum, weights, tokens);
  }
};

// One group of V::kLanes tokens' activations for one block, transposed: words[j] holds
// word j of every token, start where their sums begin, d and s the tokens' scales and
// sums. Lanes past the batch are 0.
template <bool kSixteenBit, class V>
struct TokenBlock {
  typename V::Int words[LaneFormat<kSixteenBit>::kWords];
  typename V::Int start;
  typename V::Float d;
  typename V::Float s;
};

// rows[t] (16 words each) -> out[j] = word j of every row, in lane t.
void Transpose16x16(const __m512i (&rows)[16], __m512i (&out)[16]) {
  // Pairs of rows, then quads, interleaved within each 128-bit lane: u[4q + c] holds
  // rows 4q..4q+3 of column 4L + c in lane L.
  __m512i t[16], u[16];
  for (int k = 0; k < 16; k += 2) {
    t[k] = _mm512_unpacklo_epi32(rows[k], rows[k + 1]);
    t[k + 1] = _mm512_unpackhi_epi32(rows[k], rows[k + 1]);
  }
  for (int q = 0; q < 16; q += 4) {
    u[q] = _mm512_unpacklo_epi64(t[q], t[q + 2]);
    u[q + 1] = _mm512_unpackhi_epi64(t[q], t[q + 2]);
    u[q + 2] = _mm512_unpacklo_epi64(t[q + 1], t[q + 3]);
    u[q + 3] = _mm512_unpackhi_epi64(t[q + 1], t[q + 3]);
  }
  // Then the four quads' 128-bit lanes gathered per column.
  for (int c = 0; c < 4; ++c) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88);  // lanes 0, 2
    const __m512i v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xdd);  // lanes 1, 3
    const __m512i w0 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);
    const __m512i w1 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xdd);
    out[c] = _mm512_shuffle_i32x4(v0, w0, 0x88);
    out[4 + c] = _mm512_shuffle_i32x4(v1, w1, 0x88);
    out[8 + c] = _mm512_shuffle_i32x4(v0, w0, 0xdd);
    out[12 + c] = _mm512_shuffle_i32x4(v1, w1, 0xdd);
  }
}

// Transposes tokens [first, first + count) of x (n_blocks blocks per token), count <=
// V::kLanes, into out[0 .. n_blocks).
template <bool kSixteenBit, class V, class Block, class Activation>
void TransposeGroup(const Activation* x, int64_t n_blocks, int64_t first, int count,
                    TokenBlock<kSixteenBit, V>* out) {
  using F = LaneFormat<kSixteenBit>;
  for (int64_t b = 0; b < n_blocks; ++b) {
    __m512i rows[16], words[16];
    alignas(64) float d[V::kLanes] = {};
    alignas(64) float s[V::kLanes] = {};
    for (__m512i& row : rows) row = _mm512_setzero_si512();
    for (int t = 0; t < std::min(count, V::kLanes); ++t) {
      const Activation& a = x[(first + t) * n_blocks + b];
      rows[t] = F::TokenWords(a);
      d[t] = a.d;
      if constexpr (kHasSum<Activation>) s[t] = a.s;
    }
    Transpose16x16(rows, words);
    TokenBlock<kSixteenBit, V>& block = out[b];
    for (int j = 0; j < F::kWords; ++j) block.words[j] = V::FromWords(words[j]);
    block.start = F::template Start<Block, V>(block.words);
    block.d = V::Load(d);
    block.s = V::Load(s);
  }
}

// y[token, row] for R rows (R weight row pointers) x G token groups over all blocks.
template <bool kSixteenBit, class V, class Block, int R, int G>
void TokenTile(const Block* const* rows, const TokenBlock<kSixteenBit, V>* const* groups,
               int64_t n_blocks, typename V::Float (&out)[R][G]) {
  using F = LaneFormat<kSixteenBit>;
  typename V::Float acc[R][G];
  for (int i = 0; i < R; ++i) {
    for (int g = 0; g < G; ++g) acc[i][g] = V::Zero();
  }
  for (int64_t b = 0; b < n_blocks; ++b) {
    alignas(64) int32_t w_words[R][F::kWords];
    for (int i = 0; i < R; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(rows[i] + b) + kPrefetchBytes, _MM_HINT_T1);
      F::WeightWords(rows[i] + b, w_words[i]);
    }
    // Kept in memory, so that each word below is one broadcast load; left to itself the
    // compiler keeps the weights in registers and extracts every word with shuffles.
    asm volatile("" : : "r"(w_words) : "memory");
    typename V::Int dot[R][G];
    for (int i = 0; i < R; ++i) {
      for (int g = 0; g < G; ++g) dot[i][g] = groups[g][b].start;
    }
    for (int j = 0; j < F::kWords; ++j) {
      for (int g = 0; g < G; ++g) {
        const typename V::Int x = groups[g][b].words[j];
        for (int i = 0; i < R; ++i) {
          dot[i][g] = F::template Multiply<V>(dot[i][g], x, V::Set1(w_words[i][j]));
        }
      }
    }
    for (int i = 0; i < R; ++i) {
      const __m128 dm = _mm_cvtph_ps(_mm_loadu_si32(rows[i] + b));  // [d m ...]
      const typename V::Float d = V::Set1(_mm_cvtss_f32(dm));
      const typename V::Float m = V::Set1(_mm_cvtss_f32(_mm_movehdup_ps(dm)));
      for (int g = 0; g < G; ++g) {
        const TokenBlock<kSixteenBit, V>& tokens = groups[g][b];
        const typename V::Float scale = V::Mul(d, tokens.d);
        acc[i][g] = V::Add(acc[i][g], V::Mul(scale, V::Convert(dot[i][g])));
        if constexpr (WeightType<Block>::kHasMin) {
          acc[i][g] = V::Add(acc[i][g], V::Mul(m, tokens.s));
        }
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int g = 0; g < G; ++g) out[i][g] = acc[i][g];
  }
}

// Writes the lanes of `v` that are real tokens: y[(first + t) * y_stride].
template <class V>
void StoreTokens(typename V::Float v, int count, float* y, int64_t y_stride) {
  alignas(64) float lanes[V::kLanes];
  V::Store(lanes, v);
  for (int t = 0; t < count; ++t) y[t * y_stride] = lanes[t];
}

template <bool kSixteenBit, class V, class Block, int R, int G>
void TokenRows(const Block* w, int64_t n_blocks, int64_t row,
               const TokenBlock<kSixteenBit, V>* const* groups, const int* counts,
               int64_t first_token, float* y, int64_t y_stride) {
  const Block* rows[R];
  for (int i = 0; i < R; ++i) rows[i] = w + (row + i) * n_blocks;
  typename V::Float out[R][G];
  TokenTile<kSixteenBit, V, Block, R, G>(rows, groups, n_blocks, out);
  for (int g = 0; g < G; ++g) {
    for (int i = 0; i < R; ++i) {
      StoreTokens<V>(out[i][g], counts[g],
                     y + (first_token + g * V::kLanes) * y_stride + row + i, y_stride);
    }
  }
}

// Rows [row_begin, row_end) against the token groups of one tile column.
template <bool kSixteenBit, class V, class Block, int G>
void TokenColumn(const Block* w, int64_t n_blocks, int64_t row_begin, int64_t row_end,
                 const TokenBlock<kSixteenBit, V>* const* groups, const int* counts,
                 int64_t first_token, float* y, int64_t y_stride) {
  int64_t r = row_begin;
  for (; r + kTileRows <= row_end; r += kTileRows) {
    TokenRows<kSixteenBit, V, Block, kTileRows, G>(w, n_blocks, r, groups, counts, first_token,
                                                   y, y_stride);
  }
  for (; r < row_end; ++r) {
    TokenRows<kSixteenBit, V, Block, 1, G>(w, n_blocks, r, groups, counts, first_token, y,
                                           y_stride);
  }
}

template <bool kSixteenBit, class V, class Block, class Activation>
void TokenLaneMatMul(const Block* w, int64_t n_blocks, int64_t row_begin, int64_t row_end,
                     const Activation* x, int64_t n_tokens, float* y, int64_t y_stride) {
  // The transposed activations of one tile column; per thread, reused across calls.
  thread_local std::vector<TokenBlock<kSixteenBit, V>> scratch;
  const int64_t n_groups = (n_tokens + V::kLanes - 1) / V::kLanes;
  for (int64_t g0 = 0; g0 < n_groups; g0 += kTileGroups) {
    const int groups_here = static_cast<int>(std::min<int64_t>(kTileGroups, n_groups - g0));
    if (scratch.size() < static_cast<size_t>(kTileGroups * n_blocks)) {
      scratch.resize(kTileGroups * n_blocks);
    }
    const TokenBlock<kSixteenBit, V>* groups[kTileGroups];
    int counts[kTileGroups];
    for (int g = 0; g < groups_here; ++g) {
      const int64_t first = (g0 + g) * V::kLanes;
      counts[g] = static_cast<int>(std::min<int64_t>(V::kLanes, n_tokens - first));
      TransposeGroup<kSixteenBit, V, Block>(x, n_blocks, first, counts[g],
                                            scratch.data() + g * n_blocks);
      groups[g] = scratch.data() + g * n_blocks;
    }
    const int64_t first_token = g0 * V::kLanes;
    if (groups_here == kTileGroups) {
      TokenColumn<kSixteenBit, V, Block, kTileGroups>(w, n_blocks, row_begin, row_end, groups,
                                                      counts, first_token, y, y_stride);
    } else {
      TokenColumn<kSixteenBit, V, Block, 1>(w, n_blocks, row_begin, row_end, groups, counts,
                                            first_token, y, y_stride);
    }
  }
}

// ---- Decode: rows in lanes ----

// Eight vectors of 8 partial sums -> one vector of their 8 totals, vector i in lane i.
__m256i SumEach(const __m256i (&p)[kDecodeRows]) {
  const __m256i h01 = _mm256_hadd_epi32(p[0], p[1]);
  const __m256i h23 = _mm256_hadd_epi32(p[2], p[3]);
  const __m256i h45 = _mm256_hadd_epi32(p[4], p[5]);
  const __m256i h67 = _mm256_hadd_epi32(p[6], p[7]);
  const __m256i q0 = _mm256_hadd_epi32(h01, h23);  // [0..3 of elements 0-3 | of 4-7]
  const __m256i q1 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20),
                          _mm256_permute2x128_si256(q0, q1, 0x31));
}

// y[row] for kDecodeRows rows and one token: the first `count` rows are real, the others
// repeat the last real row and are not stored. (Two such vectors side by side, 16 row
// streams, measured slower.)
template <class Block, class Activation>
void DecodeRows(const Block* w, int64_t n_blocks, int64_t row, int count, const Activation* x,
                float* y) {
  using W = WeightType<Block>;
  const Block* rows[kDecodeRows];
  alignas(32) int32_t offsets[kDecodeRows];  // bytes from the first row
  for (int i = 0; i < kDecodeRows; ++i) {
    rows[i] = w + (row + std::min(i, count - 1)) * n_blocks;
    offsets[i] = static_cast<int32_t>(reinterpret_cast<const char*>(rows[i]) -
                                      reinterpret_cast<const char*>(rows[0]));
  }
  const __m256i gather_offsets = _mm256_load_si256(reinterpret_cast<const __m256i*>(offsets));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const Halves xb = WidenActivations(x + b);
    __m256i partial[kDecodeRows];
    for (int i = 0; i < kDecodeRows; ++i) {
      // Prefetching never faults, so running past the matrix is harmless.
      _mm_prefetch(reinterpret_cast<const char*>(rows[i] + b) + kPrefetchBytes, _MM_HINT_T1);
      const Halves wb = W::Widen(rows[i] + b);
      partial[i] = _mm256_dpwssd_epi32(_mm256_madd_epi16(wb.lo, xb.lo), wb.hi, xb.hi);
    }
    const __m256 dot = _mm256_cvtepi32_ps(SumEach(partial));
    // d (and m) of the rows' blocks: their first 4 bytes, fp16 d in the low half.
    const __m256i head =
        _mm256_i32gather_epi32(reinterpret_cast<const int*>(rows[0] + b), gather_offsets, 1);
    const __m256 d = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(head));
    acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_mul_ps(d, _mm256_set1_ps(x[b].d)), dot));
    if constexpr (W::kHasMin) {
      const __m256 m = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(_mm256_srli_epi32(head, 16)));
      acc = _mm256_add_ps(acc, _mm256_mul_ps(m, _mm256_set1_ps(x[b].s)));
    }
  }
  alignas(32) float lanes[kDecodeRows];
  _mm256_store_ps(lanes, acc);
  for (int i = 0; i < count; ++i) y[row + i] = lanes[i];
}

template <class Block, class Activation>
void DecodeMatVec(const Block* w, int64_t n_blocks, int64_t row_begin, int64_t row_end,
                  const Activation* x, float* y) {
  for (int64_t r = row_begin; r < row_end; r += kDecodeRows) {
    const int count = static_cast<int>(std::min<int64_t>(kDecodeRows, row_end - r));
    DecodeRows(w, n_blocks, r, count, x, y);
  }
}

template <class Block, bool kSixteenBit>
void MatMul(const void* w, int64_t cols, int64_t row_begin, int64_t row_end, const void* x,
            int64_t n_tokens, float* y, int64_t y_stride) {
  using Activation = typename ActivationFor<Block, kSixteenBit>::type;
  const int64_t n_blocks = cols / kQuantBlock;
  const auto* weights = static_cast<const Block*>(w);
  const auto* acts = static_cast<const Activation*>(x);
  if (n_tokens > Narrow::kLanes) {
    return TokenLaneMatMul<kSixteenBit, Wide>(weights, n_blocks, row_begin, row_end, acts,
                                              n_tokens, y, y_stride);
  }
  if (n_tokens >= kTokenLaneMin) {
    return TokenLaneMatMul<kSixteenBit, Narrow>(weights, n_blocks, row_begin, row_end, acts,
                                                n_tokens, y, y_stride);
  }
  for (int64_t t = 0; t < n_tokens; ++t) {
    DecodeMatVec(weights, n_blocks, row_begin, row_end, acts + t * n_blocks, y + t * y_stride);
  }
}

// The products of one precision; the activation preparation stays the AVX2 table's.
template <bool kSixteenBit>
void SetQuantProducts(QuantKernels& quant) {
  quant.matmul_q4_0 = MatMul<BlockQ4_0, kSixteenBit>;
  quant.matmul_q4_1 = MatMul<BlockQ4_1, kSixteenBit>;
  quant.matmul_q8_0 = MatMul<BlockQ8_0, kSixteenBit>;
}

}  // namespace

void FillAvx512VnniMatMul(KernelTable& table) {
  SetQuantProducts<true>(table.sixteen_bit);
  SetQuantProducts<false>(table.eight_bit);
}

}  // namespace hearth::cpu
