// CUDA dequantisation of weight rows to float32. Host-side declarations only: this header
// is plain C++ (no CUDA types), so callers compiled by the host compiler can include it;
// a CUDA stream is passed as an opaque `void*` (a cudaStream_t, nullptr = default stream).
#ifndef HEARTH_KERNELS_CUDA_DEQUANTIZE_CUH_
#define HEARTH_KERNELS_CUDA_DEQUANTIZE_CUH_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cuda {

// Number of CUDA devices visible to this process. 0 (not an error) when there is no GPU
// or no (sufficiently new) driver; other CUDA failures -> Internal.
absl::StatusOr<int> CudaDeviceCount();

// Dequantises a whole weight matrix on the device, enqueued on `stream` (asynchronous:
// synchronise the stream before reading out_device on the host).
//   type:       element type of w; Q4_0, Q4_1, Q8_0, F16 or F32.
//   w_device:   device pointer to W (rows, cols) in type's GGUF layout, rows
//               cpu::RowBytes(type, cols) bytes apart, contiguous.
//   rows:       number of rows of W, >= 0.
//   cols:       elements per row, >= 0, a multiple of cpu::BlockElements(type).
//   out_device: device pointer to (rows, cols) float32, row-major, contiguous.
//   stream:     cudaStream_t as void*; nullptr for the legacy default stream.
// Element (r, c) of out is bit-identical to cpu::DequantizeRow(type, w, cols, r, ...)[c].
// Invalid type, negative or misaligned shape, or a null pointer with rows * cols > 0 ->
// InvalidArgument, checked before any CUDA call. rows * cols == 0 -> OK, nothing is
// launched. A failed launch -> Internal with the CUDA error.
absl::Status DequantizeRowsCuda(cpu::GgmlType type, const void* w_device, int64_t rows,
                                int64_t cols, float* out_device, void* stream);

}  // namespace hearth::cuda

#endif  // HEARTH_KERNELS_CUDA_DEQUANTIZE_CUH_
