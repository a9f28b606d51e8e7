// Dequantisation kernels: one thread per output element, grid-stride. Consecutive threads
// write consecutive floats (coalesced); the 32 threads of a warp read one block, whose
// scale bytes are broadcast. Arithmetic uses explicit round-to-nearest intrinsics so no
// multiply-add is contracted into an FMA: results are bit-identical to
// cpu::DequantizeRow. Blocks are read byte-wise, so w needs no alignment.
#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

#include "kernels/cpu/quant_types.h"
#include "kernels/cuda/dequantize_launch.h"

namespace hearth::cuda::internal {
namespace {

using cpu::BlockQ4_0;
using cpu::BlockQ4_1;
using cpu::BlockQ8_0;
using cpu::kQuantBlock;

constexpr int kThreads = 256;
constexpr int64_t kMaxGridBlocks = int64_t{1} << 16;  // 16M threads, then grid-stride

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

// Little-endian fp16 at p (any alignment).
__device__ __forceinline__ float LoadHalf(const uint8_t* p) {
  return HalfToFloat(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

// Nibble j (0..31) of a Q4 block's qs: element j < 16 is the low nibble of qs[j], element
// j >= 16 the high nibble of qs[j - 16].
__device__ __forceinline__ int Nibble(const uint8_t* qs, int j) {
  return j < kQuantBlock / 2 ? (qs[j] & 0x0f) : (qs[j - kQuantBlock / 2] >> 4);
}

// w: (n / 32) BlockQ4_0; out: (n,) float32.
__global__ void DequantizeQ4_0Kernel(const uint8_t* __restrict__ w, int64_t n,
                                     float* __restrict__ out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const uint8_t* b = w + (i / kQuantBlock) * sizeof(BlockQ4_0);
    const int q = Nibble(b + offsetof(BlockQ4_0, qs), static_cast<int>(i % kQuantBlock));
    out[i] = __fmul_rn(LoadHalf(b + offsetof(BlockQ4_0, d)), static_cast<float>(q - 8));
  }
}

// w: (n / 32) BlockQ4_1; out: (n,) float32.
__global__ void DequantizeQ4_1Kernel(const uint8_t* __restrict__ w, int64_t n,
                                     float* __restrict__ out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const uint8_t* b = w + (i / kQuantBlock) * sizeof(BlockQ4_1);
    const int q = Nibble(b + offsetof(BlockQ4_1, qs), static_cast<int>(i % kQuantBlock));
    const float d = LoadHalf(b + offsetof(BlockQ4_1, d));
    const float m = LoadHalf(b + offsetof(BlockQ4_1, m));
    out[i] = __fadd_rn(__fmul_rn(d, static_cast<float>(q)), m);  // no FMA, as on the CPU
  }
}

// w: (n / 32) BlockQ8_0; out: (n,) float32.
__global__ void DequantizeQ8_0Kernel(const uint8_t* __restrict__ w, int64_t n,
                                     float* __restrict__ out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const uint8_t* b = w + (i / kQuantBlock) * sizeof(BlockQ8_0);
    const auto q = static_cast<int8_t>(b[offsetof(BlockQ8_0, qs) + i % kQuantBlock]);
    out[i] = __fmul_rn(LoadHalf(b + offsetof(BlockQ8_0, d)), static_cast<float>(q));
  }
}

// w: (n,) fp16; out: (n,) float32.
__global__ void DequantizeF16Kernel(const uint8_t* __restrict__ w, int64_t n,
                                    float* __restrict__ out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    out[i] = LoadHalf(w + 2 * i);
  }
}

// w: (n,) float32 (any alignment); out: (n,) float32.
__global__ void DequantizeF32Kernel(const uint8_t* __restrict__ w, int64_t n,
                                    float* __restrict__ out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const uint8_t* p = w + 4 * i;
    out[i] = __uint_as_float(static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                             (static_cast<uint32_t>(p[2]) << 16) |
                             (static_cast<uint32_t>(p[3]) << 24));
  }
}

}  // namespace

cudaError_t LaunchDequantize(cpu::GgmlType type, const void* w, int64_t n, float* out,
                             cudaStream_t stream) {
  const int64_t wanted = (n + kThreads - 1) / kThreads;
  const dim3 grid(static_cast<unsigned>(wanted < kMaxGridBlocks ? wanted : kMaxGridBlocks));
  const dim3 block(kThreads);
  const auto* bytes = static_cast<const uint8_t*>(w);
  switch (type) {
    case cpu::GgmlType::kQ4_0:
      DequantizeQ4_0Kernel<<<grid, block, 0, stream>>>(bytes, n, out);
      break;
    case cpu::GgmlType::kQ4_1:
      DequantizeQ4_1Kernel<<<grid, block, 0, stream>>>(bytes, n, out);
      break;
    case cpu::GgmlType::kQ8_0:
      DequantizeQ8_0Kernel<<<grid, block, 0, stream>>>(bytes, n, out);
      break;
    case cpu::GgmlType::kF16:
      DequantizeF16Kernel<<<grid, block, 0, stream>>>(bytes, n, out);
      break;
    case cpu::GgmlType::kF32:
      DequantizeF32Kernel<<<grid, block, 0, stream>>>(bytes, n, out);
      break;
    default:
      return cudaErrorInvalidValue;  // unreachable: the caller validated the type
  }
  return cudaGetLastError();
}

}  // namespace hearth::cuda::internal
