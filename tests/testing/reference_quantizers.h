// Reference quantisers for tests, after ggml's quantize_row_*_ref: they turn random floats
// into the GGUF block layouts that the kernels under test read.
#ifndef HEARTH_TESTS_TESTING_REFERENCE_QUANTIZERS_H_
#define HEARTH_TESTS_TESTING_REFERENCE_QUANTIZERS_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/quant_types.h"

namespace hearth::testing {

inline void QuantizeBlock(const float* x, cpu::BlockQ4_0& b) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < cpu::kQuantBlock; ++j) {
    if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
  }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = cpu::Fp32ToFp16(d);
  for (int j = 0; j < cpu::kQuantBlock / 2; ++j) {
    const int lo = std::min(15, static_cast<int>(x[j] * id + 8.5f));
    const int hi = std::min(15, static_cast<int>(x[j + 16] * id + 8.5f));
    b.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

inline void QuantizeBlock(const float* x, cpu::BlockQ4_1& b) {
  const float min = *std::min_element(x, x + cpu::kQuantBlock);
  const float max = *std::max_element(x, x + cpu::kQuantBlock);
  const float d = (max - min) / 15.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = cpu::Fp32ToFp16(d);
  b.m = cpu::Fp32ToFp16(min);
  for (int j = 0; j < cpu::kQuantBlock / 2; ++j) {
    const int lo = std::min(15, static_cast<int>((x[j] - min) * id + 0.5f));
    const int hi = std::min(15, static_cast<int>((x[j + 16] - min) * id + 0.5f));
    b.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

inline void QuantizeBlock(const float* x, cpu::BlockQ8_0& b) {
  float amax = 0.0f;
  for (int j = 0; j < cpu::kQuantBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = cpu::Fp32ToFp16(d);
  for (int j = 0; j < cpu::kQuantBlock; ++j) {
    b.qs[j] = static_cast<int8_t>(std::lround(x[j] * id));
  }
}

// x (n,), n a multiple of kQuantBlock -> the bytes of n / kQuantBlock blocks.
template <class Block>
std::vector<std::byte> EncodeBlocks(const std::vector<float>& x) {
  const size_t n_blocks = x.size() / cpu::kQuantBlock;
  std::vector<std::byte> data(n_blocks * sizeof(Block));
  for (size_t b = 0; b < n_blocks; ++b) {
    Block block;
    QuantizeBlock(&x[b * cpu::kQuantBlock], block);
    std::memcpy(&data[b * sizeof(Block)], &block, sizeof(Block));
  }
  return data;
}

}  // namespace hearth::testing

#endif  // HEARTH_TESTS_TESTING_REFERENCE_QUANTIZERS_H_
