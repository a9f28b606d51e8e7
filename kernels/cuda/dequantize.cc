// Host side of the CUDA dequantisation: argument checks and CUDA errors -> absl::Status.
// Compiled by the host compiler, so Abseil never goes through nvcc.
#include "kernels/cuda/dequantize.cuh"

#include <cstdint>
#include <limits>
#include <string>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "kernels/cpu/quant_types.h"
#include "kernels/cuda/dequantize_launch.h"

namespace hearth::cuda {

absl::StatusOr<int> CudaDeviceCount() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err == cudaSuccess) return count;
  // Clear the (non-sticky) error so a later cudaGetLastError does not report it.
  (void)cudaGetLastError();
  // No GPU, no driver, or only the driver's stub library: simply no devices.
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver ||
      err == cudaErrorStubLibrary) {
    return 0;
  }
  return absl::InternalError(absl::StrFormat("cudaGetDeviceCount failed: %s (%s)",
                                             cudaGetErrorName(err), cudaGetErrorString(err)));
}

absl::Status DequantizeRowsCuda(cpu::GgmlType type, const void* w_device, int64_t rows,
                                int64_t cols, float* out_device, void* stream) {
  const auto type_id = static_cast<uint32_t>(type);
  if (!cpu::IsSupportedType(type_id)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("DequantizeRowsCuda: unsupported tensor type %d", type_id));
  }
  if (rows < 0 || cols < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "DequantizeRowsCuda: negative shape (%d, %d)", rows, cols));
  }
  const int64_t block = cpu::BlockElements(type);
  if (cols % block != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "DequantizeRowsCuda: %d columns of %s is not a multiple of its block of %d", cols,
        std::string(cpu::TypeName(type_id)), block));
  }
  if (cols != 0 && rows > std::numeric_limits<int64_t>::max() / 4 / cols) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "DequantizeRowsCuda: shape (%d, %d) is too large", rows, cols));
  }
  const int64_t n = rows * cols;
  if (n == 0) return absl::OkStatus();
  if (w_device == nullptr || out_device == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "DequantizeRowsCuda: null %s pointer for shape (%d, %d)",
        w_device == nullptr ? "weight" : "output", rows, cols));
  }
  const cudaError_t err = internal::LaunchDequantize(type, w_device, n, out_device,
                                                     static_cast<cudaStream_t>(stream));
  if (err != cudaSuccess) {
    return absl::InternalError(absl::StrFormat(
        "DequantizeRowsCuda: launch of the %s kernel for (%d, %d) failed: %s (%s)",
        std::string(cpu::TypeName(type_id)), rows, cols, cudaGetErrorName(err),
        cudaGetErrorString(err)));
  }
  return absl::OkStatus();
}

}  // namespace hearth::cuda
