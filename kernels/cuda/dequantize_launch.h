// Internal: the boundary between the nvcc-compiled kernel file (no Abseil there) and the
// host-compiled wrapper in dequantize.cc that validates arguments and makes absl::Status.
#ifndef HEARTH_KERNELS_CUDA_DEQUANTIZE_LAUNCH_H_
#define HEARTH_KERNELS_CUDA_DEQUANTIZE_LAUNCH_H_

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/cpu/quant_types.h"

namespace hearth::cuda::internal {

// Enqueues the dequantisation of n = rows * cols elements of W (type's layout, contiguous)
// into out (n float32) on stream. Arguments must already be validated: supported type,
// n > 0, n a multiple of cpu::BlockElements(type), non-null device pointers.
//   w:      device, n / BlockElements(type) blocks of BlockBytes(type) bytes.
//   n:      number of elements, > 0.
//   out:    device, (n,) float32.
// Returns the launch status (cudaGetLastError after the launch).
cudaError_t LaunchDequantize(cpu::GgmlType type, const void* w, int64_t n, float* out,
                             cudaStream_t stream);

}  // namespace hearth::cuda::internal

#endif  // HEARTH_KERNELS_CUDA_DEQUANTIZE_LAUNCH_H_
