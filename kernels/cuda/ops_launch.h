// Internal: the boundary between the nvcc-compiled kernel file (no Abseil there) and the
// host-compiled wrapper in ops.cc that validates arguments and makes absl::Status. Every
// function enqueues one kernel on stream and returns the launch status
// (cudaGetLastError); arguments must already be validated as ops.cuh describes, with
// every count > 0. Pointers are device pointers.
#ifndef HEARTH_KERNELS_CUDA_OPS_LAUNCH_H_
#define HEARTH_KERNELS_CUDA_OPS_LAUNCH_H_

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/cpu/quant_types.h"

namespace hearth::cuda::internal {

// Largest head_dim RoPE takes: its cos/sin table lives in shared memory.
inline constexpr int64_t kMaxRopeHeadDim = 4096;

// x, out: (n_rows, n); weight: (n,). out may alias x.
cudaError_t LaunchRmsNorm(const float* x, const float* weight, int64_t n_rows, int64_t n,
                          float eps, float* out, cudaStream_t stream);

// q: (n_tokens, n_heads, head_dim), k: (n_tokens, n_kv_heads, head_dim), in place;
// positions: (n_tokens,). head_dim even, <= kMaxRopeHeadDim; a null q or k has 0 heads.
cudaError_t LaunchRope(float* q, int64_t n_heads, float* k, int64_t n_kv_heads,
                       int64_t head_dim, const int32_t* positions, int64_t n_tokens,
                       float theta, cudaStream_t stream);

// gate, up: (n,); gate <- silu(gate) * up.
cudaError_t LaunchSwiGlu(float* gate, const float* up, int64_t n, cudaStream_t stream);

// x, y: (n,); x <- x + y.
cudaError_t LaunchAdd(float* x, const float* y, int64_t n, cudaStream_t stream);

// table: (vocab, dim) of type; ids: (n_tokens,); out: (n_tokens, dim).
cudaError_t LaunchEmbedding(cpu::GgmlType type, const void* table, int64_t vocab, int64_t dim,
                            const int32_t* ids, int64_t n_tokens, float* out,
                            cudaStream_t stream);

// logits: (n_rows, n); out: (n_rows,).
cudaError_t LaunchArgmax(const float* logits, int64_t n_rows, int64_t n, int32_t* out,
                         cudaStream_t stream);

}  // namespace hearth::cuda::internal

#endif  // HEARTH_KERNELS_CUDA_OPS_LAUNCH_H_
