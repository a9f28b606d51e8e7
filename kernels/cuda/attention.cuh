// CUDA paged attention over a KV cache laid out as PagedKvCache, and the writes that fill
// it. Host-side declarations only, like ops.cuh: plain C++, a stream passed as `void*` (a
// cudaStream_t, nullptr = the legacy default stream); both functions enqueue their work
// asynchronously.
//
// A batch is a list of chunks, as the CPU model's SequenceChunk batches: each chunk is
// consecutive tokens of one sequence at consecutive positions, and the batch's tokens
// are the chunks' tokens in chunk order. A decode step is chunks of one token; chunked
// prefill is a longer chunk. The chunks stay on the host, where positions are checked
// against the block tables' lengths before anything is launched; the block tables
// themselves (the block ids) live on the device.
//
// Errors: a bad shape, a position beyond its table, or a null pointer that would be read
// or written -> InvalidArgument, checked before any CUDA call; no chunks -> OK with
// nothing launched; a failed launch -> Internal with the CUDA error.
#ifndef HEARTH_KERNELS_CUDA_ATTENTION_CUH_
#define HEARTH_KERNELS_CUDA_ATTENTION_CUH_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace hearth::cuda {

// Device KV buffers laid out exactly as PagedKvCache: keys and values float32
// (n_blocks, n_layers, block_tokens, kv_dim), kv_dim = n_kv_heads * head_dim.
struct DeviceKvCache {
  float* keys = nullptr;
  float* values = nullptr;
  int64_t n_blocks = 0;
  int64_t n_layers = 0;
  int64_t block_tokens = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
};

// One sequence's consecutive tokens in a batch.
struct KvChunk {
  int64_t start_pos = 0;     // position of the chunk's first token in its sequence
  int64_t n_tokens = 0;      // >= 1
  int64_t table_offset = 0;  // where the sequence's block table starts in block_tables
  int64_t table_blocks = 0;  // entries of that table; it must cover every position
};

// The batch: host chunks and the device int32 array holding all their block tables
// (table_entries ids; chunks of one sequence, or sequences sharing a prefix, may point
// into the same entries). Position p of a chunk's sequence lives in slot
// p % block_tokens of block block_tables[table_offset + p / block_tokens].
struct KvBatch {
  absl::Span<const KvChunk> chunks;
  const int32_t* block_tables = nullptr;
  int64_t table_entries = 0;
};

// Stores the batch's new K and V rows, k and v (n_tokens, kv_dim), into layer `layer` of
// the cache at each token's position. A block id outside [0, n_blocks) cannot be checked
// here; its token's rows are not written. Two tokens of the batch on the same slot (a
// shared block that was not copied first) race: the caller keeps them apart.
absl::Status WriteKvCuda(const float* k, const float* v, const KvBatch& batch,
                         const DeviceKvCache& cache, int64_t layer, void* stream);

// Causal grouped-query attention of each token over positions 0..its own position of its
// sequence in layer `layer`, as the CPU model's Attention: q and out (n_tokens,
// n_heads * head_dim); query head h reads kv head h / (n_heads / n_kv_heads); scores
// dot(q, k) / sqrt(head_dim) in float32, softmax with max subtraction (online, in chunks
// of keys), values summed in float32. The token's own K and V must already be in the
// cache (WriteKvCuda). A block id outside [0, n_blocks) gives its token NaN outputs.
// n_heads a multiple of n_kv_heads, with (n_heads / n_kv_heads) * head_dim at most
// kMaxAttentionGroupElements and n_heads / n_kv_heads at most kMaxAttentionGroup (the
// group's queries and sums live in shared memory). out must not overlap q or the cache.
inline constexpr int64_t kMaxAttentionGroupElements = 4096;
inline constexpr int64_t kMaxAttentionGroup = 32;
absl::Status PagedAttentionCuda(const float* q, int64_t n_heads, const KvBatch& batch,
                                const DeviceKvCache& cache, int64_t layer, float* out,
                                void* stream);

}  // namespace hearth::cuda

#endif  // HEARTH_KERNELS_CUDA_ATTENTION_CUH_
