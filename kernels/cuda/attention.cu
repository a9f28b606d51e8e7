// Paged attention and KV writes through the block tables.
//
// Attention: one CTA per (token, kv head), serving the group of query heads that share
// that kv head, so each key and value row is fetched once for the whole group. The keys
// are taken kKeysPerStep at a time: a warp per (head, key) pair computes the score with
// its lanes across head_dim (a key row is read coalesced), a warp per head turns the
// step's scores into exponentials against the running maximum (online softmax, rescaling
// what came before), and each thread then owns some output elements of the group and adds
// the step's weighted values to them, consecutive threads on consecutive elements of a
// value row. Everything is float32 with accurate expf, as the CPU's Attention. Each
// token's result is computed by its own CTA in the same order whatever else is in the
// batch.
#include <cmath>
#include <cstdint>

#include <cuda_runtime.h>

#include "kernels/cuda/attention_launch.h"

namespace hearth::cuda::internal {
namespace {

constexpr int kWarpSize = 32;
constexpr int kThreads = 128;
constexpr int kWarps = kThreads / kWarpSize;
constexpr int kKeysPerStep = 64;
static_assert(kKeysPerStep <= kThreads, "a thread looks up each key row of a step");

__device__ __forceinline__ float WarpSum(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  }
  return v;
}

__device__ __forceinline__ float WarpMax(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

// A token of the batch: its index and where its sequence's keys are found.
struct TokenPlace {
  int64_t token;
  int32_t pos;
  int32_t table_offset;
};

// The launch's local token `local` (blockIdx.x). A linear scan: at most
// kMaxChunksPerLaunch chunks, read from the parameter space, the same for the whole CTA.
__device__ TokenPlace FindToken(const ChunkList& chunks, int64_t local) {
  const int64_t token = chunks.chunk[0].first_token + local;
  int c = 0;
  while (c + 1 < chunks.count && chunks.chunk[c + 1].first_token <= token) ++c;
  const ChunkParams& chunk = chunks.chunk[c];
  return {token, chunk.start_pos + static_cast<int32_t>(token - chunk.first_token),
          chunk.table_offset};
}

// Element offset of position pos's row in the layer, or -1 where the table names a block
// outside the cache (the host cannot see device block ids to reject them).
__device__ int64_t RowOffset(const int32_t* __restrict__ tables, int32_t table_offset,
                             int32_t pos, const KvLayer& cache) {
  const int32_t block = tables[table_offset + pos / cache.block_tokens];
  if (block < 0 || block >= cache.n_blocks) return -1;
  const int64_t kv_dim = int64_t{cache.n_kv_heads} * cache.head_dim;
  return block * cache.block_stride + cache.layer_offset + (pos % cache.block_tokens) * kv_dim;
}

// Grid: x = the launch's tokens.
__global__ void __launch_bounds__(kThreads)
    WriteKvKernel(const float* __restrict__ k, const float* __restrict__ v,
                  const ChunkList chunks, const int32_t* __restrict__ tables,
                  const KvLayer cache) {
  const TokenPlace place = FindToken(chunks, blockIdx.x);
  const int64_t row = RowOffset(tables, place.table_offset, place.pos, cache);
  if (row < 0) return;
  const int64_t kv_dim = int64_t{cache.n_kv_heads} * cache.head_dim;
  for (int64_t e = threadIdx.x; e < kv_dim; e += kThreads) {
    cache.keys[row + e] = k[place.token * kv_dim + e];
    cache.values[row + e] = v[place.token * kv_dim + e];
  }
}

// Dynamic shared memory of an attention CTA: the int64 rows first, for their alignment.
size_t AttentionSmemBytes(int group, int head_dim) {
  const size_t group_elements = static_cast<size_t>(group) * head_dim;
  return kKeysPerStep * sizeof(int64_t) +
         (2 * group_elements + static_cast<size_t>(group) * (kKeysPerStep + 3)) * sizeof(float);
}

// Grid: x = the launch's tokens, y = kv heads.
__global__ void __launch_bounds__(kThreads)
    PagedAttentionKernel(const float* __restrict__ q, int32_t n_heads, const ChunkList chunks,
                         const int32_t* __restrict__ tables, const KvLayer cache, float scale,
                         float* __restrict__ out) {
  const int hd = cache.head_dim;
  const int group = n_heads / cache.n_kv_heads;
  const int group_elements = group * hd;
  const int tid = static_cast<int>(threadIdx.x);
  extern __shared__ int64_t smem[];
  int64_t* rows = smem;  // (kKeysPerStep,): this step's key / value row offsets
  float* q_s = reinterpret_cast<float*>(rows + kKeysPerStep);  // (group, hd)
  float* acc = q_s + group_elements;          // (group, hd): running sum of p v
  float* p = acc + group_elements;            // (group, kKeysPerStep): scores, then weights
  float* run_max = p + group * kKeysPerStep;  // (group,): largest score so far
  float* run_sum = run_max + group;           // (group,): running sum of p
  float* rescale = run_sum + group;           // (group,): this step's factor for the past
  __shared__ bool bad_block;

  const TokenPlace place = FindToken(chunks, blockIdx.x);
  const int kv_head = static_cast<int>(blockIdx.y);
  // Query heads kv_head * group .. + group - 1 are contiguous in q and out.
  const int64_t head_base = place.token * n_heads * hd + int64_t{kv_head} * group_elements;
  const int64_t kv_head_offset = int64_t{kv_head} * hd;
  for (int e = tid; e < group_elements; e += kThreads) {
    q_s[e] = q[head_base + e];
    acc[e] = 0.0f;
  }
  for (int g = tid; g < group; g += kThreads) {
    run_max[g] = -INFINITY;
    run_sum[g] = 0.0f;
  }
  if (tid == 0) bad_block = false;

  const int warp = tid / kWarpSize, lane = tid % kWarpSize;
  const int len = place.pos + 1;
  for (int p0 = 0; p0 < len; p0 += kKeysPerStep) {
    const int n_keys = len - p0 < kKeysPerStep ? len - p0 : kKeysPerStep;
    // Ends the setup above, or the previous step's reads of rows and p.
    __syncthreads();
    if (tid < n_keys) {
      const int64_t row = RowOffset(tables, place.table_offset, p0 + tid, cache);
      // A bad block reads block 0 instead (in bounds) and poisons the output below.
      if (row < 0) bad_block = true;
      rows[tid] = (row < 0 ? 0 : row) + kv_head_offset;
    }
    __syncthreads();

    for (int pair = warp; pair < group * n_keys; pair += kWarps) {
      const int g = pair / n_keys, j = pair % n_keys;
      const float* key = cache.keys + rows[j];
      const float* qg = q_s + g * hd;
      float dot = 0.0f;
      for (int d = lane; d < hd; d += kWarpSize) dot = fmaf(qg[d], key[d], dot);
      dot = WarpSum(dot);
      if (lane == 0) p[g * kKeysPerStep + j] = dot * scale;
    }
    __syncthreads();

    for (int g = warp; g < group; g += kWarps) {
      float* pg = p + g * kKeysPerStep;
      float step_max = -INFINITY;
      for (int j = lane; j < n_keys; j += kWarpSize) step_max = fmaxf(step_max, pg[j]);
      const float old_max = run_max[g];
      const float new_max = fmaxf(old_max, WarpMax(step_max));
      float step_sum = 0.0f;
      for (int j = lane; j < n_keys; j += kWarpSize) {
        const float e = expf(pg[j] - new_max);
        pg[j] = e;
        step_sum += e;
      }
      step_sum = WarpSum(step_sum);
      __syncwarp();  // every lane has read run_max[g] before lane 0 replaces it
      if (lane == 0) {
        const float r = expf(old_max - new_max);  // 0 on the first step: nothing before
        rescale[g] = r;
        run_sum[g] = run_sum[g] * r + step_sum;
        run_max[g] = new_max;
      }
    }
    __syncthreads();

    for (int e = tid; e < group_elements; e += kThreads) {
      const int g = e / hd, d = e % hd;
      const float* pg = p + g * kKeysPerStep;
      float a = acc[e] * rescale[g];
      for (int j = 0; j < n_keys; ++j) a = fmaf(pg[j], cache.values[rows[j] + d], a);
      acc[e] = a;  // only this thread touches element e: no barrier needed for acc
    }
  }
  __syncthreads();
  for (int e = tid; e < group_elements; e += kThreads) {
    out[head_base + e] = bad_block ? NAN : acc[e] / run_sum[e / hd];
  }
}

}  // namespace

cudaError_t LaunchWriteKv(const float* k, const float* v, const ChunkList& chunks,
                          const int32_t* block_tables, const KvLayer& cache,
                          cudaStream_t stream) {
  const auto tokens = static_cast<unsigned>(ChunkListTokens(chunks));
  WriteKvKernel<<<tokens, kThreads, 0, stream>>>(k, v, chunks, block_tables, cache);
  return cudaGetLastError();
}

cudaError_t LaunchPagedAttention(const float* q, int32_t n_heads, const ChunkList& chunks,
                                 const int32_t* block_tables, const KvLayer& cache,
                                 float* out, cudaStream_t stream) {
  const int group = n_heads / cache.n_kv_heads;
  // As the CPU: the scale rounded to float, then applied to the float dot product.
  const float scale = 1.0f / std::sqrt(static_cast<float>(cache.head_dim));
  const dim3 grid(static_cast<unsigned>(ChunkListTokens(chunks)),
                  static_cast<unsigned>(cache.n_kv_heads));
  PagedAttentionKernel<<<grid, kThreads, AttentionSmemBytes(group, cache.head_dim), stream>>>(
      q, n_heads, chunks, block_tables, cache, scale, out);
  return cudaGetLastError();
}

}  // namespace hearth::cuda::internal
