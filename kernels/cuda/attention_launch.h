// Internal: the boundary between the nvcc-compiled kernel file (no Abseil there) and the
// host-compiled wrapper in attention.cc that validates arguments and makes absl::Status.
// The chunks of a batch travel to the kernels as launch parameters (no device metadata
// to allocate or copy), at most kMaxChunksPerLaunch per launch; the wrapper splits larger
// batches. Arguments must already be validated as attention.cuh describes.
#ifndef HEARTH_KERNELS_CUDA_ATTENTION_LAUNCH_H_
#define HEARTH_KERNELS_CUDA_ATTENTION_LAUNCH_H_

#include <cstdint>

#include <cuda_runtime_api.h>

namespace hearth::cuda::internal {

// 64 chunks of 16 bytes keep the parameters near 1 KiB, well inside CUDA's 4 KiB.
inline constexpr int kMaxChunksPerLaunch = 64;

// A chunk, every field checked to fit int32 by the wrapper.
struct ChunkParams {
  int32_t first_token;   // index of its first token in the whole batch
  int32_t n_tokens;      // >= 1
  int32_t start_pos;     // position of its first token
  int32_t table_offset;  // its block table's first entry in the device tables
};

// Consecutive chunks of a batch, so their tokens are consecutive too: from
// chunk[0].first_token to the last chunk's end.
struct ChunkList {
  int32_t count;  // in [1, kMaxChunksPerLaunch]
  ChunkParams chunk[kMaxChunksPerLaunch];
};

// One layer of the cache: element (block, slot, e) of it is at
// block * block_stride + layer_offset + slot * kv_dim + e in keys and in values.
struct KvLayer {
  float* keys;
  float* values;
  int64_t n_blocks;
  int64_t block_stride;  // n_layers * block_tokens * kv_dim
  int64_t layer_offset;  // layer * block_tokens * kv_dim
  int32_t block_tokens;
  int32_t n_kv_heads;
  int32_t head_dim;
};

// Tokens in the launch's chunks.
inline int64_t ChunkListTokens(const ChunkList& chunks) {
  const ChunkParams& last = chunks.chunk[chunks.count - 1];
  return int64_t{last.first_token} + last.n_tokens - chunks.chunk[0].first_token;
}

// k, v: (batch tokens, kv_dim); rows of the launch's tokens go to their slots.
cudaError_t LaunchWriteKv(const float* k, const float* v, const ChunkList& chunks,
                          const int32_t* block_tables, const KvLayer& cache,
                          cudaStream_t stream);

// q, out: (batch tokens, n_heads * head_dim); the launch's tokens are computed.
// n_heads a multiple of n_kv_heads within the limits of attention.cuh.
cudaError_t LaunchPagedAttention(const float* q, int32_t n_heads, const ChunkList& chunks,
                                 const int32_t* block_tables, const KvLayer& cache,
                                 float* out, cudaStream_t stream);

}  // namespace hearth::cuda::internal

#endif  // HEARTH_KERNELS_CUDA_ATTENTION_LAUNCH_H_
