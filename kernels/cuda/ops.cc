// Host side of the CUDA ops: argument checks and CUDA errors -> absl::Status. Compiled by
// the host compiler, so Abseil never goes through nvcc.
#include "kernels/cuda/ops.cuh"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "kernels/cpu/quant_types.h"
#include "kernels/cuda/ops_launch.h"

namespace hearth::cuda {
namespace {

// Grid dimension x (one CTA per row or token) and int32 token ids / indices.
constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();

absl::Status LaunchStatus(const char* op, cudaError_t err) {
  if (err == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrFormat("%s: kernel launch failed: %s (%s)", op,
                                             cudaGetErrorName(err), cudaGetErrorString(err)));
}

absl::Status NullPointer(const char* op, const char* what) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: null %s pointer", op, what));
}

absl::Status ElementwiseShape(const char* op, int64_t n) {
  if (n < 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: negative length %d", op, n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RmsNormCuda(const float* x, const float* weight, int64_t n_rows, int64_t n,
                         float eps, float* out, void* stream) {
  constexpr char kOp[] = "RmsNormCuda";
  if (n_rows < 0 || n_rows > kMaxCount || n < 1 ||
      n > std::numeric_limits<int64_t>::max() / (n_rows > 0 ? n_rows : 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: shape (%d, %d) out of range", kOp, n_rows, n));
  }
  if (!(eps >= 0.0f) || !std::isfinite(eps)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: eps %g is not >= 0", kOp, eps));
  }
  if (n_rows == 0) return absl::OkStatus();
  if (x == nullptr) return NullPointer(kOp, "input");
  if (weight == nullptr) return NullPointer(kOp, "weight");
  if (out == nullptr) return NullPointer(kOp, "output");
  return LaunchStatus(kOp, internal::LaunchRmsNorm(x, weight, n_rows, n, eps, out,
                                                   static_cast<cudaStream_t>(stream)));
}

absl::Status RopeCuda(float* q, int64_t n_heads, float* k, int64_t n_kv_heads,
                      int64_t head_dim, const int32_t* positions, int64_t n_tokens,
                      float theta, void* stream) {
  constexpr char kOp[] = "RopeCuda";
  if (head_dim < 2 || head_dim % 2 != 0 || head_dim > internal::kMaxRopeHeadDim) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: head_dim %d is not even in [2, %d]", kOp, head_dim, internal::kMaxRopeHeadDim));
  }
  // Bounds every element offset (t * heads + h) * head_dim well inside int64.
  constexpr int64_t kMaxHeads = int64_t{1} << 20;
  if (n_tokens < 0 || n_tokens > kMaxCount || n_heads < 0 || n_heads > kMaxHeads ||
      n_kv_heads < 0 || n_kv_heads > kMaxHeads) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %d tokens of %d q heads and %d k heads out of range", kOp, n_tokens, n_heads,
        n_kv_heads));
  }
  if (!(theta > 0.0f) || !std::isfinite(theta)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: theta %g is not > 0", kOp, theta));
  }
  if (n_tokens == 0 || n_heads + n_kv_heads == 0) return absl::OkStatus();
  if (positions == nullptr) return NullPointer(kOp, "positions");
  if (q == nullptr && n_heads > 0) return NullPointer(kOp, "q");
  if (k == nullptr && n_kv_heads > 0) return NullPointer(kOp, "k");
  return LaunchStatus(kOp, internal::LaunchRope(q, n_heads, k, n_kv_heads, head_dim, positions,
                                                n_tokens, theta,
                                                static_cast<cudaStream_t>(stream)));
}

absl::Status SwiGluCuda(float* gate, const float* up, int64_t n, void* stream) {
  constexpr char kOp[] = "SwiGluCuda";
  if (absl::Status s = ElementwiseShape(kOp, n); !s.ok()) return s;
  if (n == 0) return absl::OkStatus();
  if (gate == nullptr) return NullPointer(kOp, "gate");
  if (up == nullptr) return NullPointer(kOp, "up");
  return LaunchStatus(kOp, internal::LaunchSwiGlu(gate, up, n, static_cast<cudaStream_t>(stream)));
}

absl::Status AddInPlaceCuda(float* x, const float* y, int64_t n, void* stream) {
  constexpr char kOp[] = "AddInPlaceCuda";
  if (absl::Status s = ElementwiseShape(kOp, n); !s.ok()) return s;
  if (n == 0) return absl::OkStatus();
  if (x == nullptr) return NullPointer(kOp, "x");
  if (y == nullptr) return NullPointer(kOp, "y");
  return LaunchStatus(kOp, internal::LaunchAdd(x, y, n, static_cast<cudaStream_t>(stream)));
}

absl::Status EmbeddingLookupCuda(cpu::GgmlType type, const void* table, int64_t vocab,
                                 int64_t dim, const int32_t* ids, int64_t n_tokens,
                                 float* out, void* stream) {
  constexpr char kOp[] = "EmbeddingLookupCuda";
  const auto type_id = static_cast<uint32_t>(type);
  if (!cpu::IsSupportedType(type_id)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: unsupported table type %d", kOp, type_id));
  }
  // Offsets id * row_bytes (<= 4 * dim per row) and t * dim must fit in int64.
  constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 8;
  if (vocab < 1 || vocab > kMaxCount || dim < 1 || n_tokens < 0 || n_tokens > kMaxCount ||
      dim > kMaxElements / kMaxCount) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: table (%d, %d) for %d tokens out of range", kOp, vocab, dim, n_tokens));
  }
  if (dim % cpu::BlockElements(type) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: dim %d of %s is not a multiple of its block of %d", kOp, dim,
        std::string(cpu::TypeName(type_id)), cpu::BlockElements(type)));
  }
  if (n_tokens == 0) return absl::OkStatus();
  if (table == nullptr) return NullPointer(kOp, "table");
  if (ids == nullptr) return NullPointer(kOp, "token id");
  if (out == nullptr) return NullPointer(kOp, "output");
  return LaunchStatus(kOp, internal::LaunchEmbedding(type, table, vocab, dim, ids, n_tokens, out,
                                                     static_cast<cudaStream_t>(stream)));
}

absl::Status ArgmaxCuda(const float* logits, int64_t n_rows, int64_t n, int32_t* out,
                        void* stream) {
  constexpr char kOp[] = "ArgmaxCuda";
  if (n_rows < 0 || n_rows > kMaxCount || n < 1 || n > kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: shape (%d, %d) out of range", kOp, n_rows, n));
  }
  if (n_rows == 0) return absl::OkStatus();
  if (logits == nullptr) return NullPointer(kOp, "logits");
  if (out == nullptr) return NullPointer(kOp, "output");
  return LaunchStatus(kOp, internal::LaunchArgmax(logits, n_rows, n, out,
                                                  static_cast<cudaStream_t>(stream)));
}

}  // namespace hearth::cuda
