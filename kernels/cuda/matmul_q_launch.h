// Internal: the boundary between the nvcc-compiled kernel file (no Abseil there) and the
// host-compiled wrapper in matmul_q.cc that validates arguments and makes absl::Status.
#ifndef HEARTH_KERNELS_CUDA_MATMUL_Q_LAUNCH_H_
#define HEARTH_KERNELS_CUDA_MATMUL_Q_LAUNCH_H_

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/cpu/quant_types.h"

namespace hearth::cuda::internal {

// Enqueues y (n_tokens, rows) = x (n_tokens, cols) W^T on stream. Arguments must already
// be validated: supported type, rows > 0, n_tokens > 0, cols >= 0 a multiple of
// cpu::BlockElements(type), w 4-byte aligned, non-null pointers where cols > 0 (y always).
//   w: device, W (rows, cols) in type's layout, rows cpu::RowBytes(type, cols) apart.
//   x: device, (n_tokens, cols) float32, row-major.
//   y: device, (n_tokens, rows) float32, row-major; must not overlap w or x.
// Returns the launch status (cudaGetLastError after the launch).
cudaError_t LaunchMatMul(cpu::GgmlType type, const void* w, int64_t rows, int64_t cols,
                         const float* x, int64_t n_tokens, float* y, cudaStream_t stream);

}  // namespace hearth::cuda::internal

#endif  // HEARTH_KERNELS_CUDA_MATMUL_Q_LAUNCH_H_
