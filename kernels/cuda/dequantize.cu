// Dequantisation kernel: one thread per output element, grid-stride. Consecutive threads
// write consecutive floats (coalesced); the 32 threads of a warp read one block, whose
// scale bytes are broadcast. DecodeElement reads byte-wise (w needs no alignment) and is
// bit-identical to cpu::DequantizeRow.
#include <cstdint>

#include <cuda_runtime.h>

#include "kernels/cpu/quant_types.h"
#include "kernels/cuda/dequantize_launch.h"
#include "kernels/cuda/quant_decode.h"

namespace hearth::cuda::internal {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGridBlocks = int64_t{1} << 16;  // 16M threads, then grid-stride

// w: n elements of kType's layout; out: (n,) float32.
template <GgmlType kType>
__global__ void DequantizeKernel(const uint8_t* __restrict__ w, int64_t n,
                                 float* __restrict__ out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    out[i] = DecodeElement<kType>(w, i);
  }
}

}  // namespace

cudaError_t LaunchDequantize(cpu::GgmlType type, const void* w, int64_t n, float* out,
                             cudaStream_t stream) {
  const int64_t wanted = (n + kThreads - 1) / kThreads;
  const dim3 grid(static_cast<unsigned>(wanted < kMaxGridBlocks ? wanted : kMaxGridBlocks));
  const auto* bytes = static_cast<const uint8_t*>(w);
  return WithType(type, [&](auto tag) {
    DequantizeKernel<decltype(tag)::value><<<grid, kThreads, 0, stream>>>(bytes, n, out);
    return cudaGetLastError();
  });
}

}  // namespace hearth::cuda::internal
