// Internal, device code: how the CUDA kernels read GGUF tensors. The one place that knows
// the block layouts on the GPU, shared by dequantize.cu, ops.cu (embedding lookup) and
// matmul_q.cu. Include from .cu files only.
#ifndef HEARTH_KERNELS_CUDA_QUANT_DECODE_H_
#define HEARTH_KERNELS_CUDA_QUANT_DECODE_H_

#ifndef __CUDACC__
#error "kernels/cuda/quant_decode.h holds device code: include it from .cu files only"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cuda_runtime.h>

#include "kernels/cpu/quant_types.h"

namespace hearth::cuda::internal {

using cpu::GgmlType;

template <GgmlType kType>
using TypeTag = std::integral_constant<GgmlType, kType>;

// Calls f(TypeTag<type>{}) so a launcher instantiates its kernel template once per
// supported type without repeating the switch. Returns cudaErrorInvalidValue for a type
// the caller failed to validate.
template <class F>
cudaError_t WithType(GgmlType type, F&& f) {
  switch (type) {
    case GgmlType::kF32:
      return f(TypeTag<GgmlType::kF32>{});
    case GgmlType::kF16:
      return f(TypeTag<GgmlType::kF16>{});
    case GgmlType::kQ4_0:
      return f(TypeTag<GgmlType::kQ4_0>{});
    case GgmlType::kQ4_1:
      return f(TypeTag<GgmlType::kQ4_1>{});
    case GgmlType::kQ8_0:
      return f(TypeTag<GgmlType::kQ8_0>{});
  }
  return cudaErrorInvalidValue;
}

template <GgmlType kType>
inline constexpr bool kIsQuantised = kType == GgmlType::kQ4_0 || kType == GgmlType::kQ4_1 ||
                                     kType == GgmlType::kQ8_0;

// Bytes of one block (quantised types) or element (F16, F32), as cpu::BlockBytes.
template <GgmlType kType>
inline constexpr int kBlockBytes = kType == GgmlType::kF32    ? 4
                                   : kType == GgmlType::kF16  ? 2
                                   : kType == GgmlType::kQ4_0 ? int{sizeof(cpu::BlockQ4_0)}
                                   : kType == GgmlType::kQ4_1 ? int{sizeof(cpu::BlockQ4_1)}
                                                              : int{sizeof(cpu::BlockQ8_0)};

// Elements per block, as cpu::BlockElements.
template <GgmlType kType>
inline constexpr int kBlockElements = kIsQuantised<kType> ? cpu::kQuantBlock : 1;

// Bit-exact copy of cpu::Fp16ToFp32 (IEEE half -> float, subnormals and NaN payloads kept).
__device__ __forceinline__ float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    const float magnitude = __fmul_rn(static_cast<float>(mantissa), 0x1p-24f);  // exact
    return __uint_as_float(__float_as_uint(magnitude) | sign);
  }
  if (exponent == 31) return __uint_as_float(sign | 0x7f800000u | (mantissa << 13));
  return __uint_as_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// ---------------------------------------------------------------------------------------
// Element by element, any alignment (byte loads). For copies (dequantisation, embedding
// rows) where every element is written once: the value is bit-identical to
// cpu::DequantizeRow, because the arithmetic uses round-to-nearest intrinsics that the
// compiler may not contract into an FMA (the CPU does not fuse these either).

// Little-endian fp16 at p.
__device__ __forceinline__ float LoadHalf(const uint8_t* p) {
  return HalfToFloat(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

// Nibble j (0..31) of a Q4 block's qs: element j < 16 is the low nibble of qs[j], element
// j >= 16 the high nibble of qs[j - 16].
__device__ __forceinline__ int Nibble(const uint8_t* qs, int j) {
  return j < cpu::kQuantBlock / 2 ? (qs[j] & 0x0f) : (qs[j - cpu::kQuantBlock / 2] >> 4);
}

// Element i of a contiguous array of kType (a row, or a whole matrix) starting at w.
template <GgmlType kType>
__device__ __forceinline__ float DecodeElement(const uint8_t* w, int64_t i) {
  if constexpr (kType == GgmlType::kF32) {
    const uint8_t* p = w + 4 * i;
    return __uint_as_float(static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                           (static_cast<uint32_t>(p[2]) << 16) |
                           (static_cast<uint32_t>(p[3]) << 24));
  } else if constexpr (kType == GgmlType::kF16) {
    return LoadHalf(w + 2 * i);
  } else {
    const uint8_t* b = w + (i / cpu::kQuantBlock) * kBlockBytes<kType>;
    const int j = static_cast<int>(i % cpu::kQuantBlock);
    if constexpr (kType == GgmlType::kQ4_0) {
      const int q = Nibble(b + offsetof(cpu::BlockQ4_0, qs), j);
      return __fmul_rn(LoadHalf(b + offsetof(cpu::BlockQ4_0, d)), static_cast<float>(q - 8));
    } else if constexpr (kType == GgmlType::kQ4_1) {
      const int q = Nibble(b + offsetof(cpu::BlockQ4_1, qs), j);
      const float d = LoadHalf(b + offsetof(cpu::BlockQ4_1, d));
      const float m = LoadHalf(b + offsetof(cpu::BlockQ4_1, m));
      return __fadd_rn(__fmul_rn(d, static_cast<float>(q)), m);
    } else {
      const auto q = static_cast<int8_t>(b[offsetof(cpu::BlockQ8_0, qs) + j]);
      return __fmul_rn(LoadHalf(b + offsetof(cpu::BlockQ8_0, d)), static_cast<float>(q));
    }
  }
}

// ---------------------------------------------------------------------------------------
// A quarter of a block at a time, for the matrix products: four threads share a block, so
// a warp reads eight consecutive blocks with no byte loaded twice, and each thread keeps
// the integer quants and the scales apart so that the scale multiplies a sum instead of
// every element. Needs the block aligned to 2 bytes (4 for Q4_1), which every block of a
// row has when the tensor starts 4-byte aligned: the block sizes (18, 20, 34) are even and
// Q4_1's is a multiple of 4.

inline constexpr int kPartsPerBlock = 4;
inline constexpr int kPartElements = cpu::kQuantBlock / kPartsPerBlock;  // 8

// Element e of the part is d * q[e] + m (m = 0 but for Q4_1); it is element
// PartColumn<kType>(part, e) of the block.
struct BlockPart {
  float q[kPartElements];
  float d;
  float m;
};

// Q4 parts hold 4 bytes of qs: their low nibbles are elements 4 * part + (0..3), their
// high nibbles the same + 16. Q8_0 parts hold 8 consecutive elements.
template <GgmlType kType>
__device__ __forceinline__ int PartColumn(int part, int e) {
  if constexpr (kType == GgmlType::kQ8_0) {
    return kPartElements * part + e;
  } else {
    return 4 * part + (e % 4) + (e / 4) * (cpu::kQuantBlock / 2);
  }
}

__device__ __forceinline__ uint16_t LoadU16(const uint8_t* p) {
  return *reinterpret_cast<const uint16_t*>(p);
}

// 4 bytes from a 2-byte aligned address, little-endian.
__device__ __forceinline__ uint32_t LoadU32From2Aligned(const uint8_t* p) {
  return static_cast<uint32_t>(LoadU16(p)) | (static_cast<uint32_t>(LoadU16(p + 2)) << 16);
}

// The 8 nibbles of 4 qs bytes in PartColumn order: low nibbles first, then high ones.
__device__ __forceinline__ void UnpackNibbles(uint32_t v, float* q) {
  for (int e = 0; e < 4; ++e) {
    q[e] = static_cast<float>((v >> (8 * e)) & 0x0fu);
    q[e + 4] = static_cast<float>((v >> (8 * e + 4)) & 0x0fu);
  }
}

template <GgmlType kType>
__device__ __forceinline__ BlockPart LoadBlockPart(const uint8_t* block, int part) {
  static_assert(kIsQuantised<kType>);
  BlockPart p;
  p.m = 0.0f;
  if constexpr (kType == GgmlType::kQ4_0) {
    p.d = HalfToFloat(LoadU16(block + offsetof(cpu::BlockQ4_0, d)));
    UnpackNibbles(LoadU32From2Aligned(block + offsetof(cpu::BlockQ4_0, qs) + 4 * part), p.q);
    for (float& q : p.q) q -= 8.0f;  // exact
  } else if constexpr (kType == GgmlType::kQ4_1) {
    static_assert(offsetof(cpu::BlockQ4_1, m) == 2 && offsetof(cpu::BlockQ4_1, qs) == 4);
    const uint32_t dm = *reinterpret_cast<const uint32_t*>(block);
    p.d = HalfToFloat(static_cast<uint16_t>(dm & 0xffffu));
    p.m = HalfToFloat(static_cast<uint16_t>(dm >> 16));
    UnpackNibbles(*reinterpret_cast<const uint32_t*>(block + 4 + 4 * part), p.q);
  } else {
    p.d = HalfToFloat(LoadU16(block + offsetof(cpu::BlockQ8_0, d)));
    const uint8_t* qs = block + offsetof(cpu::BlockQ8_0, qs) + kPartElements * part;
    for (int e = 0; e < kPartElements; e += 2) {
      const uint16_t two = LoadU16(qs + e);
      p.q[e] = static_cast<float>(static_cast<int8_t>(two & 0xffu));
      p.q[e + 1] = static_cast<float>(static_cast<int8_t>(two >> 8));
    }
  }
  return p;
}

// Element c of an F16 / F32 row starting 4-byte aligned.
template <GgmlType kType>
__device__ __forceinline__ float LoadFloatElement(const uint8_t* row, int64_t c) {
  static_assert(!kIsQuantised<kType>);
  if constexpr (kType == GgmlType::kF16) {
    return HalfToFloat(LoadU16(row + 2 * c));
  } else {
    return *reinterpret_cast<const float*>(row + 4 * c);
  }
}

}  // namespace hearth::cuda::internal

#endif  // HEARTH_KERNELS_CUDA_QUANT_DECODE_H_
