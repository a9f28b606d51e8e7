// Host side of paged attention: argument checks (positions against their tables among
// them) and CUDA errors -> absl::Status. Compiled by the host compiler, so Abseil never
// goes through nvcc.
#include "kernels/cuda/attention.cuh"

#include <cstddef>
#include <cstdint>
#include <limits>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "kernels/cuda/attention_launch.h"

namespace hearth::cuda {
namespace {

// Token indices, positions and table entries travel as int32, which also bounds the grid.
constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxGridY = 65535;  // kv heads are the attention grid's y dimension

absl::Status NullPointer(const char* op, const char* what) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: null %s pointer", op, what));
}

// The cache's shape, with every element offset inside int64, and the layer.
absl::Status ValidateCache(const char* op, const DeviceKvCache& cache, int64_t layer) {
  if (cache.n_blocks < 1 || cache.n_layers < 1 || cache.block_tokens < 1 ||
      cache.block_tokens > kMaxCount || cache.n_kv_heads < 1 || cache.n_kv_heads > kMaxGridY ||
      cache.head_dim < 1 || cache.head_dim > kMaxAttentionGroupElements) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: cache of %d blocks, %d layers, %d tokens per block, %d kv heads of %d out of "
        "range",
        op, cache.n_blocks, cache.n_layers, cache.block_tokens, cache.n_kv_heads,
        cache.head_dim));
  }
  constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 8;
  int64_t elements = cache.n_kv_heads * cache.head_dim;  // < 2^28 by the bounds above
  for (const int64_t factor : {cache.block_tokens, cache.n_layers, cache.n_blocks}) {
    if (factor > kMaxElements / elements) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: cache too large", op));
    }
    elements *= factor;
  }
  if (layer < 0 || layer >= cache.n_layers) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: layer %d outside [0, %d)", op, layer, cache.n_layers));
  }
  return absl::OkStatus();
}

// Every chunk non-empty, its table inside block_tables and covering its positions.
absl::Status ValidateBatch(const char* op, const KvBatch& batch, int64_t block_tokens) {
  if (batch.table_entries < 0 || batch.table_entries > kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %d block table entries out of range", op, batch.table_entries));
  }
  int64_t tokens = 0;
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    const KvChunk& c = batch.chunks[i];
    if (c.n_tokens < 1 || c.start_pos < 0 || c.table_offset < 0 || c.table_blocks < 0 ||
        c.table_offset > batch.table_entries ||
        c.table_blocks > batch.table_entries - c.table_offset) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: chunk %d (%d tokens from position %d, table of %d at %d) is not within the %d "
          "table entries",
          op, i, c.n_tokens, c.start_pos, c.table_blocks, c.table_offset, batch.table_entries));
    }
    // table_blocks and block_tokens are below 2^31: the product fits.
    const int64_t covered = c.table_blocks * block_tokens;
    if (c.start_pos > covered || c.n_tokens > covered - c.start_pos ||
        c.start_pos + c.n_tokens > kMaxCount) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: chunk %d positions %d..%d beyond its table of %d blocks of %d tokens", op, i,
          c.start_pos, c.start_pos + c.n_tokens - 1, c.table_blocks, block_tokens));
    }
    tokens += c.n_tokens;
    if (tokens > kMaxCount) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: too many tokens", op));
    }
  }
  if (!batch.chunks.empty() && batch.block_tables == nullptr) {
    return NullPointer(op, "block table");
  }
  return absl::OkStatus();
}

internal::KvLayer Layer(const DeviceKvCache& cache, int64_t layer) {
  const int64_t layer_stride = cache.block_tokens * cache.n_kv_heads * cache.head_dim;
  return {cache.keys,
          cache.values,
          cache.n_blocks,
          cache.n_layers * layer_stride,
          layer * layer_stride,
          static_cast<int32_t>(cache.block_tokens),
          static_cast<int32_t>(cache.n_kv_heads),
          static_cast<int32_t>(cache.head_dim)};
}

// Calls launch(list) for the batch's chunks, kMaxChunksPerLaunch at a time; stops at the
// first failed launch. The chunks are validated, so every field fits int32.
template <class Launch>
absl::Status ForEachLaunch(const char* op, absl::Span<const KvChunk> chunks, Launch launch) {
  internal::ChunkList list{};
  int64_t first_token = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const KvChunk& c = chunks[i];
    list.chunk[list.count++] = {
        static_cast<int32_t>(first_token), static_cast<int32_t>(c.n_tokens),
        static_cast<int32_t>(c.start_pos), static_cast<int32_t>(c.table_offset)};
    first_token += c.n_tokens;
    if (list.count < internal::kMaxChunksPerLaunch && i + 1 < chunks.size()) continue;
    if (const cudaError_t err = launch(list); err != cudaSuccess) {
      return absl::InternalError(absl::StrFormat("%s: kernel launch failed: %s (%s)", op,
                                                 cudaGetErrorName(err),
                                                 cudaGetErrorString(err)));
    }
    list.count = 0;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteKvCuda(const float* k, const float* v, const KvBatch& batch,
                         const DeviceKvCache& cache, int64_t layer, void* stream) {
  constexpr char kOp[] = "WriteKvCuda";
  if (absl::Status s = ValidateCache(kOp, cache, layer); !s.ok()) return s;
  if (absl::Status s = ValidateBatch(kOp, batch, cache.block_tokens); !s.ok()) return s;
  if (batch.chunks.empty()) return absl::OkStatus();
  if (k == nullptr) return NullPointer(kOp, "k");
  if (v == nullptr) return NullPointer(kOp, "v");
  if (cache.keys == nullptr) return NullPointer(kOp, "cache keys");
  if (cache.values == nullptr) return NullPointer(kOp, "cache values");
  const internal::KvLayer kv_layer = Layer(cache, layer);
  return ForEachLaunch(kOp, batch.chunks, [&](const internal::ChunkList& list) {
    return internal::LaunchWriteKv(k, v, list, batch.block_tables, kv_layer,
                                   static_cast<cudaStream_t>(stream));
  });
}

absl::Status PagedAttentionCuda(const float* q, int64_t n_heads, const KvBatch& batch,
                                const DeviceKvCache& cache, int64_t layer, float* out,
                                void* stream) {
  constexpr char kOp[] = "PagedAttentionCuda";
  if (absl::Status s = ValidateCache(kOp, cache, layer); !s.ok()) return s;
  if (n_heads < 1 || n_heads % cache.n_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %d query heads are not a multiple of %d kv heads", kOp, n_heads,
        cache.n_kv_heads));
  }
  const int64_t group = n_heads / cache.n_kv_heads;
  if (group > kMaxAttentionGroup || group * cache.head_dim > kMaxAttentionGroupElements) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: groups of %d query heads of %d exceed %d heads or %d elements", kOp, group,
        cache.head_dim, kMaxAttentionGroup, kMaxAttentionGroupElements));
  }
  if (absl::Status s = ValidateBatch(kOp, batch, cache.block_tokens); !s.ok()) return s;
  if (batch.chunks.empty()) return absl::OkStatus();
  if (q == nullptr) return NullPointer(kOp, "q");
  if (out == nullptr) return NullPointer(kOp, "output");
  if (cache.keys == nullptr) return NullPointer(kOp, "cache keys");
  if (cache.values == nullptr) return NullPointer(kOp, "cache values");
  const internal::KvLayer kv_layer = Layer(cache, layer);
  return ForEachLaunch(kOp, batch.chunks, [&](const internal::ChunkList& list) {
    return internal::LaunchPagedAttention(q, static_cast<int32_t>(n_heads), list,
                                          batch.block_tables, kv_layer, out,
                                          static_cast<cudaStream_t>(stream));
  });
}

}  // namespace hearth::cuda
