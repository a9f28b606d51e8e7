// CUDA float32 ops of the Llama forward pass, the GPU counterparts of kernels/cpu/ops.h
// plus the embedding lookup and greedy choice. Host-side declarations only, like
// dequantize.cuh: plain C++, a stream passed as `void*` (a cudaStream_t, nullptr = the
// legacy default stream). Every function enqueues its work asynchronously; all pointers
// are device pointers, row-major and contiguous.
//
// Errors: a bad shape or argument, or a null pointer that would be read or written ->
// InvalidArgument, checked before any CUDA call; nothing to do (a zero count) -> OK with
// nothing launched; a failed launch -> Internal with the CUDA error.
#ifndef HEARTH_KERNELS_CUDA_OPS_CUH_
#define HEARTH_KERNELS_CUDA_OPS_CUH_

#include <cstdint>

#include "absl/status/status.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cuda {

// Each row of x (n_rows, n) -> out (n_rows, n): x / sqrt(mean(x^2) + eps) * weight (n,),
// as cpu::RmsNorm (squares summed in double). out may alias x.
// n_rows in [0, 2^31), n >= 1, eps >= 0 and finite.
absl::Status RmsNormCuda(const float* x, const float* weight, int64_t n_rows, int64_t n,
                         float eps, float* out, void* stream);

// cpu::RopeInPlace for every token t at position positions[t], on q
// (n_tokens, n_heads, head_dim) and k (n_tokens, n_kv_heads, head_dim) in place: adjacent
// pairs (x[2i], x[2i+1]) of each head turn by positions[t] * theta^(-2i / head_dim), the
// angle computed in double. positions: (n_tokens,) int32 on the device.
// n_tokens in [0, 2^31); n_heads, n_kv_heads >= 0 (q, k may be null where theirs is 0);
// head_dim even, in [2, 4096]; theta > 0 and finite.
absl::Status RopeCuda(float* q, int64_t n_heads, float* k, int64_t n_kv_heads,
                      int64_t head_dim, const int32_t* positions, int64_t n_tokens,
                      float theta, void* stream);

// gate (n,) <- silu(gate) * up (n,), silu(v) = v / (1 + exp(-v)), as cpu::SwiGluInPlace.
absl::Status SwiGluCuda(float* gate, const float* up, int64_t n, void* stream);

// x (n,) <- x + y (n,): the residual connection. x and y must not overlap.
absl::Status AddInPlaceCuda(float* x, const float* y, int64_t n, void* stream);

// Embedding rows: out (n_tokens, dim) row t = row ids[t] of table (vocab, dim) in type's
// GGUF layout (Q4_0, Q4_1, Q8_0, F16 or F32; any alignment), bit-identical to
// cpu::DequantizeRow. ids: (n_tokens,) int32 on the device; an id outside [0, vocab)
// cannot be checked here and yields a row of NaN. dim >= 1, a multiple of
// cpu::BlockElements(type); vocab in [1, 2^31).
absl::Status EmbeddingLookupCuda(cpu::GgmlType type, const void* table, int64_t vocab,
                                 int64_t dim, const int32_t* ids, int64_t n_tokens,
                                 float* out, void* stream);

// Greedy choice per row: out[r] = the index of the largest of logits (n_rows, n) row r,
// the lowest index among equal values, as the CPU sampler at temperature 0; NaN counts as
// -infinity. n_rows in [0, 2^31), n in [1, 2^31).
absl::Status ArgmaxCuda(const float* logits, int64_t n_rows, int64_t n, int32_t* out,
                        void* stream);

}  // namespace hearth::cuda

#endif  // HEARTH_KERNELS_CUDA_OPS_CUH_
