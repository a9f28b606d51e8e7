// Host side of the CUDA matrix product: argument checks and CUDA errors -> absl::Status.
// Compiled by the host compiler, so Abseil never goes through nvcc.
#include "kernels/cuda/matmul_q.cuh"

#include <cstdint>
#include <limits>
#include <string>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "kernels/cpu/quant_types.h"
#include "kernels/cuda/matmul_q_launch.h"

namespace hearth::cuda {

absl::Status MatMulCuda(cpu::GgmlType type, const void* w_device, int64_t rows, int64_t cols,
                        const float* x_device, int64_t n_tokens, float* y_device,
                        void* stream) {
  const auto type_id = static_cast<uint32_t>(type);
  if (!cpu::IsSupportedType(type_id)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("MatMulCuda: unsupported weight type %d", type_id));
  }
  const std::string name(cpu::TypeName(type_id));
  // 2^31 bounds the grid (rows) and keeps every index product below in int64.
  constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
  if (rows < 0 || cols < 0 || n_tokens < 0 || rows > kMaxDim || n_tokens > kMaxDim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "MatMulCuda: shape W (%d, %d), x (%d, %d) out of range", rows, cols, n_tokens, cols));
  }
  if (cols % cpu::BlockElements(type) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "MatMulCuda: %d columns of %s is not a multiple of its block of %d", cols, name,
        cpu::BlockElements(type)));
  }
  // Element offsets (row * cols, t * cols) and byte offsets (4 * cols per row at most)
  // must fit in int64.
  constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 8;
  const int64_t longest = rows > n_tokens ? rows : n_tokens;
  if (cols != 0 && longest > kMaxElements / cols) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "MatMulCuda: shape W (%d, %d), x (%d, %d) is too large", rows, cols, n_tokens, cols));
  }
  if (rows == 0 || n_tokens == 0) return absl::OkStatus();
  if (y_device == nullptr || (cols > 0 && (w_device == nullptr || x_device == nullptr))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "MatMulCuda: null %s pointer for W (%d, %d), x (%d, %d)",
        y_device == nullptr ? "output" : (w_device == nullptr ? "weight" : "input"), rows, cols,
        n_tokens, cols));
  }
  if (reinterpret_cast<uintptr_t>(w_device) % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("MatMulCuda: %s weights at %p are not 4-byte aligned", name, w_device));
  }
  const cudaError_t err = internal::LaunchMatMul(type, w_device, rows, cols, x_device, n_tokens,
                                                 y_device, static_cast<cudaStream_t>(stream));
  if (err != cudaSuccess) {
    return absl::InternalError(absl::StrFormat(
        "MatMulCuda: launch of the %s kernel for W (%d, %d), x (%d, %d) failed: %s (%s)", name,
        rows, cols, n_tokens, cols, cudaGetErrorName(err), cudaGetErrorString(err)));
  }
  return absl::OkStatus();
}

}  // namespace hearth::cuda
