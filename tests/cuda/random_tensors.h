// Random GGUF tensors for the CUDA tests, built block by block (random fp16 scales and
// offsets, random quants over their whole range, never all zeros), and their exact
// decoding in double: the reference the kernels are compared with.
#ifndef HEARTH_TESTS_CUDA_RANDOM_TENSORS_H_
#define HEARTH_TESTS_CUDA_RANDOM_TENSORS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/quant_types.h"

namespace hearth::cuda::test {

// A random fp16 value of random sign whose magnitude spans 10^-6 (subnormal in fp16) to 10.
inline uint16_t RandomHalf(std::mt19937& rng) {
  std::uniform_real_distribution<float> log_magnitude(-6.0f, 1.0f);
  const float v = std::pow(10.0f, log_magnitude(rng)) * (rng() % 2 == 0 ? 1.0f : -1.0f);
  return cpu::Fp32ToFp16(v);
}

// W (rows, cols) of `type` in its GGUF layout; cols a multiple of BlockElements(type).
inline std::vector<std::byte> RandomTensor(cpu::GgmlType type, int64_t rows, int64_t cols,
                                           std::mt19937& rng) {
  const int64_t n_blocks = rows * (cols / cpu::BlockElements(type));
  const size_t block_bytes = cpu::BlockBytes(type);
  std::vector<std::byte> data(static_cast<size_t>(n_blocks) * block_bytes);
  std::uniform_int_distribution<int> q8(-127, 127);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t b = 0; b < n_blocks; ++b) {
    std::byte* p = &data[static_cast<size_t>(b) * block_bytes];
    switch (type) {
      case cpu::GgmlType::kF32: {
        const float v = normal(rng);
        std::memcpy(p, &v, sizeof(v));
        break;
      }
      case cpu::GgmlType::kF16: {
        const uint16_t h = RandomHalf(rng);
        std::memcpy(p, &h, sizeof(h));
        break;
      }
      case cpu::GgmlType::kQ4_0: {
        cpu::BlockQ4_0 block;
        block.d = RandomHalf(rng);
        for (uint8_t& q : block.qs) q = static_cast<uint8_t>(rng());
        std::memcpy(p, &block, sizeof(block));
        break;
      }
      case cpu::GgmlType::kQ4_1: {
        cpu::BlockQ4_1 block;
        block.d = RandomHalf(rng);
        block.m = RandomHalf(rng);
        for (uint8_t& q : block.qs) q = static_cast<uint8_t>(rng());
        std::memcpy(p, &block, sizeof(block));
        break;
      }
      case cpu::GgmlType::kQ8_0: {
        cpu::BlockQ8_0 block;
        block.d = RandomHalf(rng);
        for (int8_t& q : block.qs) q = static_cast<int8_t>(q8(rng));
        std::memcpy(p, &block, sizeof(block));
        break;
      }
    }
  }
  // Never all zeros: the first element is non-zero whatever the draw.
  if (type == cpu::GgmlType::kF32 || type == cpu::GgmlType::kF16) {
    const uint16_t one_h = cpu::Fp32ToFp16(1.0f);
    const float one = 1.0f;
    std::memcpy(data.data(), type == cpu::GgmlType::kF16 ? static_cast<const void*>(&one_h)
                                                         : static_cast<const void*>(&one),
                block_bytes);
  } else {
    const uint16_t d = cpu::Fp32ToFp16(0.5f);
    std::memcpy(data.data(), &d, sizeof(d));  // every type starts with its scale d
    data[block_bytes - 1] = std::byte{0x3f};  // last quant byte: not the zero point
  }
  return data;
}

// Element (r, c) of W (rows, cols) decoded exactly, and its magnitude for error bounds:
// |d q| + |m| for Q4_1 (whose d q and m may cancel), |value| for the other types.
struct DecodedElement {
  double value;
  double magnitude;
};

inline DecodedElement DecodeElement(cpu::GgmlType type, const std::vector<std::byte>& w,
                                    int64_t cols, int64_t r, int64_t c) {
  const std::byte* row = w.data() + static_cast<size_t>(r) * cpu::RowBytes(type, cols);
  const auto half = [](const std::byte* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof(h));
    return static_cast<double>(cpu::Fp16ToFp32(h));
  };
  // Nibble j of a Q4 block's qs: low nibbles are elements 0..15, high ones 16..31.
  const auto nibble = [](const uint8_t* qs, int64_t j) {
    return j < cpu::kQuantBlock / 2 ? qs[j] & 0x0f : qs[j - cpu::kQuantBlock / 2] >> 4;
  };
  const int64_t j = c % cpu::kQuantBlock;
  switch (type) {
    case cpu::GgmlType::kF32: {
      float v;
      std::memcpy(&v, row + 4 * c, sizeof(v));
      return {v, std::fabs(v)};
    }
    case cpu::GgmlType::kF16: {
      const double v = half(row + 2 * c);
      return {v, std::fabs(v)};
    }
    case cpu::GgmlType::kQ4_0: {
      cpu::BlockQ4_0 b;
      std::memcpy(&b, row + (c / cpu::kQuantBlock) * sizeof(b), sizeof(b));
      const double v = cpu::Fp16ToFp32(b.d) * (nibble(b.qs, j) - 8.0);
      return {v, std::fabs(v)};
    }
    case cpu::GgmlType::kQ4_1: {
      cpu::BlockQ4_1 b;
      std::memcpy(&b, row + (c / cpu::kQuantBlock) * sizeof(b), sizeof(b));
      const double dq = cpu::Fp16ToFp32(b.d) * static_cast<double>(nibble(b.qs, j));
      const double m = cpu::Fp16ToFp32(b.m);
      return {dq + m, std::fabs(dq) + std::fabs(m)};
    }
    case cpu::GgmlType::kQ8_0: {
      cpu::BlockQ8_0 b;
      std::memcpy(&b, row + (c / cpu::kQuantBlock) * sizeof(b), sizeof(b));
      const double v = cpu::Fp16ToFp32(b.d) * static_cast<double>(b.qs[j]);
      return {v, std::fabs(v)};
    }
  }
  return {0.0, 0.0};
}

}  // namespace hearth::cuda::test

#endif  // HEARTH_TESTS_CUDA_RANDOM_TENSORS_H_
