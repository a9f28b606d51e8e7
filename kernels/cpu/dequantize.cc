// DequantizeRow: one weight row to float32 (token embeddings), not speed-critical.
#include <cstdint>

#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

void DequantizeBlock(const BlockQ4_0& b, float* out) {
  const float d = Fp16ToFp32(b.d);
  for (int j = 0; j < kQuantBlock / 2; ++j) {
    out[j] = d * static_cast<float>((b.qs[j] & 0x0f) - 8);
    out[j + kQuantBlock / 2] = d * static_cast<float>((b.qs[j] >> 4) - 8);
  }
}

void DequantizeBlock(const BlockQ4_1& b, float* out) {
  const float d = Fp16ToFp32(b.d);
  const float m = Fp16ToFp32(b.m);
  for (int j = 0; j < kQuantBlock / 2; ++j) {
    out[j] = d * static_cast<float>(b.qs[j] & 0x0f) + m;
    out[j + kQuantBlock / 2] = d * static_cast<float>(b.qs[j] >> 4) + m;
  }
}

void DequantizeBlock(const BlockQ8_0& b, float* out) {
  const float d = Fp16ToFp32(b.d);
  for (int j = 0; j < kQuantBlock; ++j) out[j] = d * static_cast<float>(b.qs[j]);
}

template <class Block>
void DequantizeBlocks(const void* w, int64_t cols, int64_t row, float* out) {
  const int64_t n_blocks = cols / kQuantBlock;
  const Block* blocks = static_cast<const Block*>(w) + row * n_blocks;
  for (int64_t b = 0; b < n_blocks; ++b) DequantizeBlock(blocks[b], out + b * kQuantBlock);
}

}  // namespace

void DequantizeRow(GgmlType weight_type, const void* w, int64_t cols, int64_t row,
                   float* out) {
  switch (weight_type) {
    case GgmlType::kQ4_0:
      return DequantizeBlocks<BlockQ4_0>(w, cols, row, out);
    case GgmlType::kQ4_1:
      return DequantizeBlocks<BlockQ4_1>(w, cols, row, out);
    case GgmlType::kQ8_0:
      return DequantizeBlocks<BlockQ8_0>(w, cols, row, out);
    case GgmlType::kF16: {
      const uint16_t* src = static_cast<const uint16_t*>(w) + row * cols;
      for (int64_t k = 0; k < cols; ++k) out[k] = Fp16ToFp32(src[k]);
      return;
    }
    case GgmlType::kF32: {
      const float* src = static_cast<const float*>(w) + row * cols;
      for (int64_t k = 0; k < cols; ++k) out[k] = src[k];
      return;
    }
  }
}

}  // namespace hearth::cpu
