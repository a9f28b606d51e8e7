// Portable C++ matrix products and activation quantisation, for CPUs without AVX2 and
// as the reference the AVX2 kernels are tested against.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/activation_blocks.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

// Activation rows multiplied by each weight block while it is decoded.
constexpr int64_t kTokenTile = 4;

// Decoding of one weight block into its integer quants, scale and (for Q4_1) minimum.
template <class Block>
struct WeightDecoder;

template <>
struct WeightDecoder<BlockQ4_0> {
  static constexpr bool kHasMin = false;
  static void Decode(const BlockQ4_0& b, int8_t* q, float* d, float* /*m*/) {
    for (int j = 0; j < kQuantBlock / 2; ++j) {
      q[j] = static_cast<int8_t>((b.qs[j] & 0x0f) - 8);
      q[j + kQuantBlock / 2] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
    }
    *d = Fp16ToFp32(b.d);
  }
};

template <>
struct WeightDecoder<BlockQ4_1> {
  static constexpr bool kHasMin = true;
  static void Decode(const BlockQ4_1& b, int8_t* q, float* d, float* m) {
    for (int j = 0; j < kQuantBlock / 2; ++j) {
      q[j] = static_cast<int8_t>(b.qs[j] & 0x0f);
      q[j + kQuantBlock / 2] = static_cast<int8_t>(b.qs[j] >> 4);
    }
    *d = Fp16ToFp32(b.d);
    *m = Fp16ToFp32(b.m);
  }
};

template <>
struct WeightDecoder<BlockQ8_0> {
  static constexpr bool kHasMin = false;
  static void Decode(const BlockQ8_0& b, int8_t* q, float* d, float* /*m*/) {
    std::copy(b.qs, b.qs + kQuantBlock, q);
    *d = Fp16ToFp32(b.d);
  }
};

template <class Block, bool kSixteenBit>
void MatMulQuant(const void* w, int64_t cols, int64_t row_begin, int64_t row_end,
                 const void* x, int64_t n_tokens, float* y, int64_t y_stride) {
  using Decoder = WeightDecoder<Block>;
  using Activation = typename ActivationFor<Block, kSixteenBit>::type;
  const int64_t n_blocks = cols / kQuantBlock;
  const auto* weights = static_cast<const Block*>(w);
  const auto* acts = static_cast<const Activation*>(x);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const Block* row = weights + r * n_blocks;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const int64_t tile = std::min(kTokenTile, n_tokens - t0);
      float acc[kTokenTile] = {};
      for (int64_t b = 0; b < n_blocks; ++b) {
        int8_t q[kQuantBlock];
        float d = 0.0f, m = 0.0f;
        Decoder::Decode(row[b], q, &d, &m);
        for (int64_t t = 0; t < tile; ++t) {
          const Activation& a = acts[(t0 + t) * n_blocks + b];
          int32_t sum = 0;
          for (int j = 0; j < kQuantBlock; ++j) sum += q[j] * a.qs[j];
          acc[t] += d * a.d * static_cast<float>(sum);
          if constexpr (Decoder::kHasMin) acc[t] += m * a.s;
        }
      }
      for (int64_t t = 0; t < tile; ++t) y[(t0 + t) * y_stride + r] = acc[t];
    }
  }
}

inline float ToFloat(float v) { return v; }
inline float ToFloat(uint16_t h) { return Fp16ToFp32(h); }

// Weights of element type Elem (float or fp16 bits) times float32 activations.
template <class Elem>
void MatMulFloat(const void* w, int64_t cols, int64_t row_begin, int64_t row_end,
                 const void* x, int64_t n_tokens, float* y, int64_t y_stride) {
  const auto* weights = static_cast<const Elem*>(w);
  const auto* acts = static_cast<const float*>(x);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const Elem* row = weights + r * cols;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const int64_t tile = std::min(kTokenTile, n_tokens - t0);
      float acc[kTokenTile] = {};
      for (int64_t k = 0; k < cols; ++k) {
        const float wk = ToFloat(row[k]);
        for (int64_t t = 0; t < tile; ++t) acc[t] += wk * acts[(t0 + t) * cols + k];
      }
      for (int64_t t = 0; t < tile; ++t) y[(t0 + t) * y_stride + r] = acc[t];
    }
  }
}

// Same arithmetic as the AVX2 version (127 / amax, round half to even, for 16 bits
// 256 q plus the residual scaled by 256), so both produce bit-identical prepared rows.
template <class Activation>
void QuantizeRow(const float* x, int64_t cols, void* out) {
  auto* blocks = static_cast<Activation*>(out);
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float inv_scale = amax != 0.0f ? 127.0f / amax : 0.0f;
    Activation& a = blocks[b];
    a.d = kInt16Quants<Activation> ? amax / 127.0f / 256.0f : amax / 127.0f;
    int32_t sum = 0;
    for (int j = 0; j < kQuantBlock; ++j) {
      const float scaled = xb[j] * inv_scale;
      const float q = std::nearbyint(scaled);
      if constexpr (kInt16Quants<Activation>) {
        const float q_lo = std::clamp(std::nearbyint((scaled - q) * 256.0f), -127.0f, 127.0f);
        a.qs[j] = static_cast<int16_t>(256 * static_cast<int32_t>(q) + static_cast<int32_t>(q_lo));
      } else {
        a.qs[j] = static_cast<int8_t>(q);
      }
      sum += a.qs[j];
    }
    if constexpr (kHasSum<Activation>) a.s = a.d * static_cast<float>(sum);
  }
}

template <bool kSixteenBit>
QuantKernels MakeQuantKernels() {
  return {MatMulQuant<BlockQ4_0, kSixteenBit>, MatMulQuant<BlockQ4_1, kSixteenBit>,
          MatMulQuant<BlockQ8_0, kSixteenBit>,
          QuantizeRow<typename ActivationFor<BlockQ8_0, kSixteenBit>::type>,
          QuantizeRow<typename ActivationFor<BlockQ4_0, kSixteenBit>::type>};
}

}  // namespace

void FillPortableMatMul(KernelTable& table) {
  table.sixteen_bit = MakeQuantKernels<true>();
  table.eight_bit = MakeQuantKernels<false>();
  table.matmul_f16 = MatMulFloat<uint16_t>;
  table.matmul_f32 = MatMulFloat<float>;
}

}  // namespace hearth::cpu
