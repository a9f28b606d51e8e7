// MakeCudaBackend: LlamaModel's forward pass on an NVIDIA GPU with the kernels of
// kernels/cuda, step for step as LlamaModel::Forward (embedding; per layer RMSNorm, Q/K/V
// products, RoPE, KV write, paged grouped-query attention, output product, residual,
// RMSNorm, gate/up products, SwiGLU, down product, residual; final norm and the output
// head only for the rows whose logits are wanted).
//
// Memory: the weights (cuda_backend_weights) and the KV cache are allocated once; the
// activations grow on demand with the largest batch seen; token ids, positions and block
// tables go up, and logits come down, through pinned staging buffers reused across steps.
// Everything runs on one stream, synchronised at the end of each Forward.
//
// Not yet: CUDA graphs, on-device sampling (ArgmaxCuda exists), cuBLAS for long prefills.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/dequantize.cuh"
#include "kernels/cuda/matmul_q.cuh"
#include "kernels/cuda/ops.cuh"
#include "lib/engine/cuda_backend_memory.h"
#include "lib/engine/cuda_backend_weights.h"
#include "lib/engine/forward_backend.h"
#include "lib/model/llama_model.h"

namespace hearth {
namespace {

using cuda_backend::CudaStatus;
using cuda_backend::CudaStream;
using cuda_backend::DeviceLayer;
using cuda_backend::DeviceMatrix;
using cuda_backend::DeviceMemory;
using cuda_backend::DeviceWeights;
using cuda_backend::PinnedMemory;
using cuda_backend::ScopedDevice;

// Tokens the free-memory check reserves activation and logits scratch for (the scratch
// itself grows with the batches actually seen), and a margin for the CUDA context's own
// allocations on top of what cudaMemGetInfo reports free.
constexpr int64_t kScratchEstimateTokens = 256;
constexpr size_t kHeadroomBytes = size_t{64} << 20;

// Floats of activation scratch per token: x, xb, q, k, v, attn, gate, up.
int64_t ActivationFloatsPerToken(const LlamaConfig& c) {
  return 2 * c.dim + 2 * c.q_dim() + 2 * c.kv_dim() + 2 * c.ffn_dim;
}

// The shapes the CUDA kernels accept (attention.cuh, ops.cuh), checked once.
absl::Status CheckModelShape(const LlamaConfig& c) {
  if (c.n_kv_heads < 1 || c.n_heads % c.n_kv_heads != 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "CUDA backend: %d query heads are not a multiple of %d KV heads", c.n_heads,
        c.n_kv_heads));
  }
  const int64_t group = c.n_heads / c.n_kv_heads;
  if (group > cuda::kMaxAttentionGroup ||
      group * c.head_dim > cuda::kMaxAttentionGroupElements || c.head_dim % 2 != 0 ||
      c.head_dim > 4096) {
    return absl::UnimplementedError(absl::StrFormat(
        "CUDA backend: attention groups of %d heads of %d elements exceed the kernels' "
        "limits (%d heads, %d elements, an even head_dim)",
        group, c.head_dim, cuda::kMaxAttentionGroup, cuda::kMaxAttentionGroupElements));
  }
  if (c.context_length > std::numeric_limits<int32_t>::max() ||
      c.vocab_size > std::numeric_limits<int32_t>::max()) {
    return absl::UnimplementedError("CUDA backend: context or vocabulary beyond int32");
  }
  return absl::OkStatus();
}

absl::Status MatMul(const DeviceMatrix& w, const float* x, int64_t n, float* y,
                    cudaStream_t stream) {
  return cuda::MatMulCuda(w.type, w.data, w.rows, w.cols, x, n, y, stream);
}

// Returns the status of `expr` from the enclosing function when it is not OK.
#define HEARTH_RETURN_IF_ERROR(expr)                                \
  do {                                                              \
    if (absl::Status hearth_s = (expr); !hearth_s.ok()) return hearth_s; \
  } while (0)

class CudaBackend final : public ForwardBackend {
 public:
  CudaBackend(const LlamaModel& model, KvCacheShape kv, int device, DeviceWeights weights,
              DeviceMemory keys, DeviceMemory values, CudaStream stream)
      : config_(model.config()),
        kv_(kv),
        device_(device),
        weights_(std::move(weights)),
        keys_(std::move(keys)),
        values_(std::move(values)),
        stream_(std::move(stream)) {
    cache_.keys = keys_.as<float>();
    cache_.values = values_.as<float>();
    cache_.n_blocks = kv.blocks;
    cache_.n_layers = config_.n_layers;
    cache_.block_tokens = kv.block_tokens;
    cache_.n_kv_heads = config_.n_kv_heads;
    cache_.head_dim = config_.head_dim;
  }

  ~CudaBackend() override {
    // Everything is released on this backend's device, once nothing is in flight.
    ScopedDevice on(device_);
    stream_.Reset();
    activations_.Reset();
    logits_device_.Reset();
    ints_device_.Reset();
    ints_host_.Reset();
    logits_host_.Reset();
    keys_.Reset();
    values_.Reset();
    weights_.arena.Reset();
  }

  std::string_view name() const override { return "cuda"; }

  absl::Status Forward(absl::Span<const SequenceChunk> batch,
                       std::vector<float>* logits) override {
    HEARTH_RETURN_IF_ERROR(ValidateBatch(config_, batch, kv_.blocks, kv_.block_tokens));
    ScopedDevice on(device_);
    HEARTH_RETURN_IF_ERROR(on.status());
    absl::Status s = Run(batch);
    // Nothing stays in flight after a failure either: the staging buffers are reused.
    const cudaError_t sync = cudaStreamSynchronize(stream_.get());
    if (s.ok()) s = CudaStatus(sync, "cudaStreamSynchronize after the forward pass");
    if (!s.ok()) return s;
    const size_t floats = logit_rows_.size() * static_cast<size_t>(config_.vocab_size);
    logits->resize(floats);
    if (floats > 0) std::memcpy(logits->data(), logits_host_.as<float>(), floats * sizeof(float));
    return absl::OkStatus();
  }

 private:
  // A run of consecutive batch rows whose logits are wanted: rows [first, first + count)
  // of the batch become logits rows [out, out + count).
  struct RowRun {
    int64_t first;
    int64_t count;
    int64_t out;
  };

  // Builds the host-side batch description and the int32 staging array
  // [token ids (n) | positions (n) | block tables].
  absl::Status Stage(absl::Span<const SequenceChunk> batch) {
    int64_t n = 0, table_entries = 0;
    for (const SequenceChunk& chunk : batch) {
      n += static_cast<int64_t>(chunk.tokens.size());
      table_entries += static_cast<int64_t>(chunk.block_table.size());
    }
    n_tokens_ = n;
    table_entries_ = table_entries;
    const size_t ints = static_cast<size_t>(2 * n + table_entries);
    HEARTH_RETURN_IF_ERROR(Grow(ints * sizeof(int32_t), &ints_host_, "the batch staging"));
    HEARTH_RETURN_IF_ERROR(
        GrowDevice(ints * sizeof(int32_t), &ints_device_, "the batch's ids and tables"));
    int32_t* ids = ints_host_.as<int32_t>();
    int32_t* positions = ids + n;
    int32_t* tables = positions + n;
    chunks_.clear();
    logit_rows_.clear();
    int64_t t = 0, offset = 0;
    for (const SequenceChunk& chunk : batch) {
      const int64_t len = static_cast<int64_t>(chunk.tokens.size());
      chunks_.push_back({chunk.start_pos, len, offset,
                         static_cast<int64_t>(chunk.block_table.size())});
      std::copy(chunk.block_table.begin(), chunk.block_table.end(), tables + offset);
      offset += static_cast<int64_t>(chunk.block_table.size());
      for (int64_t i = 0; i < len; ++i, ++t) {
        ids[t] = chunk.tokens[i];
        positions[t] = static_cast<int32_t>(chunk.start_pos + i);
        if (chunk.logits == LogitsMode::kAll ||
            (chunk.logits == LogitsMode::kLast && i == len - 1)) {
          logit_rows_.push_back(t);
        }
      }
    }
    runs_.clear();
    for (size_t r = 0; r < logit_rows_.size(); ++r) {
      const int64_t row = logit_rows_[r];
      if (!runs_.empty() && runs_.back().first + runs_.back().count == row) {
        ++runs_.back().count;
      } else {
        runs_.push_back({row, 1, static_cast<int64_t>(r)});
      }
    }
    return CudaStatus(cudaMemcpyAsync(ints_device_.get(), ints_host_.get(),
                                      ints * sizeof(int32_t), cudaMemcpyHostToDevice,
                                      stream_.get()),
                      "uploading the batch's token ids, positions and block tables");
  }

  // Activation scratch for n tokens and logits for `rows` rows, grown on demand. The
  // stream is idle here (every Forward ends synchronised), so old buffers can go.
  absl::Status EnsureScratch(int64_t n, int64_t rows) {
    const size_t act = static_cast<size_t>(n * ActivationFloatsPerToken(config_)) * sizeof(float);
    HEARTH_RETURN_IF_ERROR(GrowDevice(act, &activations_, "activations"));
    const size_t logit_bytes =
        static_cast<size_t>(rows * config_.vocab_size) * sizeof(float);
    HEARTH_RETURN_IF_ERROR(GrowDevice(logit_bytes, &logits_device_, "logits"));
    HEARTH_RETURN_IF_ERROR(Grow(logit_bytes, &logits_host_, "the logits staging"));
    float* p = activations_.as<float>();
    auto take = [&](int64_t per_token) {
      float* q = p;
      p += n * per_token;
      return q;
    };
    x_ = take(config_.dim);
    xb_ = take(config_.dim);
    q_ = take(config_.q_dim());
    k_ = take(config_.kv_dim());
    v_ = take(config_.kv_dim());
    attn_ = take(config_.q_dim());
    gate_ = take(config_.ffn_dim);
    up_ = take(config_.ffn_dim);
    return absl::OkStatus();
  }

  static absl::Status GrowDevice(size_t bytes, DeviceMemory* m, std::string_view what) {
    if (m->bytes() >= bytes) return absl::OkStatus();
    m->Reset();
    absl::StatusOr<DeviceMemory> grown = DeviceMemory::Allocate(bytes, what);
    if (!grown.ok()) return grown.status();
    *m = *std::move(grown);
    return absl::OkStatus();
  }

  static absl::Status Grow(size_t bytes, PinnedMemory* m, std::string_view what) {
    if (m->bytes() >= bytes) return absl::OkStatus();
    m->Reset();
    absl::StatusOr<PinnedMemory> grown = PinnedMemory::Allocate(bytes, what);
    if (!grown.ok()) return grown.status();
    *m = *std::move(grown);
    return absl::OkStatus();
  }

  absl::Status Run(absl::Span<const SequenceChunk> batch) {
    const LlamaConfig& c = config_;
    cudaStream_t stream = stream_.get();
    HEARTH_RETURN_IF_ERROR(Stage(batch));
    const int64_t n = n_tokens_;
    const int64_t rows = static_cast<int64_t>(logit_rows_.size());
    HEARTH_RETURN_IF_ERROR(EnsureScratch(n, rows));
    const int32_t* ids = ints_device_.as<int32_t>();
    const int32_t* positions = ids + n;
    const cuda::KvBatch kv_batch{chunks_, positions + n, table_entries_};

    HEARTH_RETURN_IF_ERROR(cuda::EmbeddingLookupCuda(weights_.token_embd.type,
                                                     weights_.token_embd.data, c.vocab_size,
                                                     c.dim, ids, n, x_, stream));
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const DeviceLayer& w = weights_.layers[l];
      HEARTH_RETURN_IF_ERROR(cuda::RmsNormCuda(x_, w.attn_norm, n, c.dim, c.rms_eps, xb_, stream));
      HEARTH_RETURN_IF_ERROR(MatMul(w.wq, xb_, n, q_, stream));
      HEARTH_RETURN_IF_ERROR(MatMul(w.wk, xb_, n, k_, stream));
      HEARTH_RETURN_IF_ERROR(MatMul(w.wv, xb_, n, v_, stream));
      HEARTH_RETURN_IF_ERROR(cuda::RopeCuda(q_, c.n_heads, k_, c.n_kv_heads, c.head_dim,
                                            positions, n, c.rope_theta, stream));
      HEARTH_RETURN_IF_ERROR(cuda::WriteKvCuda(k_, v_, kv_batch, cache_, l, stream));
      HEARTH_RETURN_IF_ERROR(
          cuda::PagedAttentionCuda(q_, c.n_heads, kv_batch, cache_, l, attn_, stream));
      HEARTH_RETURN_IF_ERROR(MatMul(w.wo, attn_, n, xb_, stream));
      HEARTH_RETURN_IF_ERROR(cuda::AddInPlaceCuda(x_, xb_, n * c.dim, stream));

      HEARTH_RETURN_IF_ERROR(cuda::RmsNormCuda(x_, w.ffn_norm, n, c.dim, c.rms_eps, xb_, stream));
      HEARTH_RETURN_IF_ERROR(MatMul(w.w_gate, xb_, n, gate_, stream));
      HEARTH_RETURN_IF_ERROR(MatMul(w.w_up, xb_, n, up_, stream));
      HEARTH_RETURN_IF_ERROR(cuda::SwiGluCuda(gate_, up_, n * c.ffn_dim, stream));
      HEARTH_RETURN_IF_ERROR(MatMul(w.w_down, gate_, n, xb_, stream));
      HEARTH_RETURN_IF_ERROR(cuda::AddInPlaceCuda(x_, xb_, n * c.dim, stream));
    }
    if (rows == 0) return absl::OkStatus();
    // Only the wanted rows: normed from x straight into consecutive rows of xb, one
    // launch per run of consecutive rows (a decode batch or a kAll chunk is one run).
    for (const RowRun& run : runs_) {
      HEARTH_RETURN_IF_ERROR(cuda::RmsNormCuda(x_ + run.first * c.dim, weights_.output_norm,
                                               run.count, c.dim, c.rms_eps,
                                               xb_ + run.out * c.dim, stream));
    }
    float* device_logits = logits_device_.as<float>();
    HEARTH_RETURN_IF_ERROR(MatMul(weights_.output, xb_, rows, device_logits, stream));
    const size_t bytes = static_cast<size_t>(rows * c.vocab_size) * sizeof(float);
    return CudaStatus(cudaMemcpyAsync(logits_host_.get(), device_logits, bytes,
                                      cudaMemcpyDeviceToHost, stream),
                      "copying the logits back");
  }

  const LlamaConfig config_;
  const KvCacheShape kv_;
  const int device_;
  DeviceWeights weights_;
  DeviceMemory keys_;
  DeviceMemory values_;
  cuda::DeviceKvCache cache_;

  // Grown on demand, reused across steps.
  DeviceMemory activations_;
  DeviceMemory logits_device_;
  DeviceMemory ints_device_;
  PinnedMemory ints_host_;
  PinnedMemory logits_host_;
  float* x_ = nullptr;
  float* xb_ = nullptr;
  float* q_ = nullptr;
  float* k_ = nullptr;
  float* v_ = nullptr;
  float* attn_ = nullptr;
  float* gate_ = nullptr;
  float* up_ = nullptr;

  // The current batch (host side).
  int64_t n_tokens_ = 0;
  int64_t table_entries_ = 0;
  std::vector<cuda::KvChunk> chunks_;
  std::vector<int64_t> logit_rows_;
  std::vector<RowRun> runs_;

  CudaStream stream_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ForwardBackend>> MakeCudaBackend(const LlamaModel& model,
                                                                KvCacheShape kv, int device) {
  const LlamaConfig& c = model.config();
  if (device < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CUDA backend: device ordinal %d is negative", device));
  }
  if (kv.blocks < 0 || kv.block_tokens < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "CUDA backend: a KV cache of %d blocks of %d tokens", kv.blocks, kv.block_tokens));
  }
  HEARTH_RETURN_IF_ERROR(CheckModelShape(c));
  const absl::StatusOr<int> count = cuda::CudaDeviceCount();
  if (!count.ok()) return count.status();
  if (*count == 0) {
    return absl::FailedPreconditionError(
        "CUDA backend: no CUDA device (no GPU, or no sufficiently new NVIDIA driver) is "
        "visible to this process");
  }
  if (device >= *count) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "CUDA backend: device ordinal %d, but %d CUDA device(s) exist", device, *count));
  }
  ScopedDevice on(device);
  HEARTH_RETURN_IF_ERROR(on.status());

  // Sizes, checked against the device's free memory before anything is allocated.
  // The Engine sized its blocks with the same CudaKvBlockBytes; keys and values are half each.
  const int64_t block_bytes = CudaKvBlockBytes(c, kv.block_tokens);
  if (kv.blocks > 0 && block_bytes > std::numeric_limits<int64_t>::max() / kv.blocks) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("CUDA backend: a KV cache of %d blocks is too large", kv.blocks));
  }
  const size_t kv_bytes = static_cast<size_t>(kv.blocks * block_bytes / 2);
  const size_t weight_bytes = cuda_backend::DeviceWeightBytes(c, model.weights());
  const size_t scratch_bytes =
      static_cast<size_t>(kScratchEstimateTokens * (ActivationFloatsPerToken(c) + c.vocab_size)) *
      sizeof(float);
  const size_t needed = weight_bytes + 2 * kv_bytes + scratch_bytes + kHeadroomBytes;
  size_t free_bytes = 0, total_bytes = 0;
  HEARTH_RETURN_IF_ERROR(CudaStatus(cudaMemGetInfo(&free_bytes, &total_bytes),
                                    absl::StrFormat("cudaMemGetInfo on device %d", device)));
  if (needed > free_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "CUDA backend: device %d has %d bytes free of %d; the model needs %d bytes of "
        "weights, %d of KV cache (%d blocks of %d tokens), about %d of scratch and %d of "
        "headroom (%d in all)",
        device, free_bytes, total_bytes, weight_bytes, 2 * kv_bytes, kv.blocks,
        kv.block_tokens, scratch_bytes, kHeadroomBytes, needed));
  }

  // Each step owns what it allocated until the backend takes it: a failure frees it all.
  absl::StatusOr<DeviceWeights> weights = cuda_backend::UploadWeights(c, model.weights());
  if (!weights.ok()) return weights.status();
  absl::StatusOr<DeviceMemory> keys = DeviceMemory::Allocate(kv_bytes, "the KV cache keys");
  if (!keys.ok()) return keys.status();
  absl::StatusOr<DeviceMemory> values =
      DeviceMemory::Allocate(kv_bytes, "the KV cache values");
  if (!values.ok()) return values.status();
  absl::StatusOr<CudaStream> stream = CudaStream::Create();
  if (!stream.ok()) return stream.status();
  return std::unique_ptr<ForwardBackend>(
      new CudaBackend(model, kv, device, *std::move(weights), *std::move(keys),
                      *std::move(values), *std::move(stream)));
}

}  // namespace hearth
