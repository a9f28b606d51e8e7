// CUDA matrix product with weights in their GGUF layout (quantised or float). Host-side
// declarations only, like dequantize.cuh: plain C++, a stream passed as `void*`.
#ifndef HEARTH_KERNELS_CUDA_MATMUL_Q_CUH_
#define HEARTH_KERNELS_CUDA_MATMUL_Q_CUH_

#include <cstdint>

#include "absl/status/status.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cuda {

// y (n_tokens, rows) = x (n_tokens, cols) W^T, i.e. y[t, r] = dot(W[r, :], x[t, :]), as
// cpu::MatMulRows, enqueued on `stream` (asynchronous). The weight blocks are dequantised
// in registers; x stays float32 (unlike the CPU, which quantises it to 8 bits), products
// are summed in float32. Batch-invariant like cpu::MatMulRows: y[t, r] depends only on W
// row r and x row t, bit for bit, not on n_tokens or t's place in the batch.
//   type:     element type of W; Q4_0, Q4_1, Q8_0, F16 or F32.
//   w_device: device pointer to W (rows, cols) in type's GGUF layout, rows
//             cpu::RowBytes(type, cols) bytes apart, contiguous, 4-byte aligned
//             (cudaMalloc and GGUF's 32-byte tensor alignment both give this).
//   rows:     rows of W = columns of y, in [0, 2^31).
//   cols:     elements per row of W and x, >= 0, a multiple of cpu::BlockElements(type).
//   x_device: device pointer to (n_tokens, cols) float32, row-major, contiguous.
//   n_tokens: rows of x and y, in [0, 2^31).
//   y_device: device pointer to (n_tokens, rows) float32, row-major; must not overlap W
//             or x.
//   stream:   cudaStream_t as void*; nullptr for the legacy default stream.
// cols == 0 gives y = 0. Invalid type, bad shape, misaligned W, or a null pointer that
// would be read or written -> InvalidArgument, checked before any CUDA call.
// rows * n_tokens == 0 -> OK, nothing is launched. A failed launch -> Internal.
absl::Status MatMulCuda(cpu::GgmlType type, const void* w_device, int64_t rows, int64_t cols,
                        const float* x_device, int64_t n_tokens, float* y_device,
                        void* stream);

}  // namespace hearth::cuda

#endif  // HEARTH_KERNELS_CUDA_MATMUL_Q_CUH_
