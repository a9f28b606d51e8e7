#include "lib/engine/cuda_backend_weights.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace hearth::cuda_backend {
namespace {

constexpr size_t kAlignment = 256;

size_t AlignUp(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

size_t MatrixBytes(const WeightMatrix& m) {
  return cpu::RowBytes(m.type, m.cols) * static_cast<size_t>(m.rows);
}

size_t NormBytes(const LlamaConfig& c) { return static_cast<size_t>(c.dim) * sizeof(float); }

// Visits every tensor in one fixed order: (host bytes, size, where its device pointer
// goes). Used both to size the arena and to fill it, so the two cannot disagree.
struct Tensor {
  const void* host;
  size_t bytes;
  const void** device;
  const char* name;
};

void ForEachTensor(const LlamaConfig& c, const LlamaWeights& w, DeviceWeights* d,
                   const std::function<void(const Tensor&)>& visit) {
  auto matrix = [&](const WeightMatrix& m, DeviceMatrix* dm, const char* name) {
    dm->type = m.type;
    dm->rows = m.rows;
    dm->cols = m.cols;
    visit({m.data, MatrixBytes(m), &dm->data, name});
  };
  auto norm = [&](const float* host, const float** device, const char* name) {
    visit({host, NormBytes(c), reinterpret_cast<const void**>(device), name});
  };
  matrix(w.token_embd, &d->token_embd, "token_embd");
  d->layers.resize(w.layers.size());
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const LayerWeights& hl = w.layers[l];
    DeviceLayer& dl = d->layers[l];
    norm(hl.attn_norm, &dl.attn_norm, "attn_norm");
    matrix(hl.wq, &dl.wq, "attn_q");
    matrix(hl.wk, &dl.wk, "attn_k");
    matrix(hl.wv, &dl.wv, "attn_v");
    matrix(hl.wo, &dl.wo, "attn_output");
    norm(hl.ffn_norm, &dl.ffn_norm, "ffn_norm");
    matrix(hl.w_gate, &dl.w_gate, "ffn_gate");
    matrix(hl.w_up, &dl.w_up, "ffn_up");
    matrix(hl.w_down, &dl.w_down, "ffn_down");
  }
  norm(w.output_norm, &d->output_norm, "output_norm");
  if (!w.tied_output && w.output.data != w.token_embd.data) {
    matrix(w.output, &d->output, "output");
  }
}

void TieOutput(const LlamaWeights& w, DeviceWeights* d) {
  if (w.tied_output || w.output.data == w.token_embd.data) {
    d->output = d->token_embd;
    d->output.rows = w.output.rows;
    d->output.cols = w.output.cols;
  }
}

// The upload streams through a ring of pinned slots: the host copies the next piece of
// the mapped file into a free slot (which is what reads it from the page cache or disk)
// while the device pulls the pieces already staged, so the read and the transfer overlap.
// A cudaMemcpy from the pageable mapping would read and transfer one tensor at a time.
// Not yet run on a GPU.
class StagingRing {
 public:
  static constexpr size_t kSlotBytes = size_t{8} << 20;
  static constexpr int kSlots = 4;

  StagingRing() = default;
  StagingRing(const StagingRing&) = delete;
  StagingRing& operator=(const StagingRing&) = delete;
  // The pinned slots must outlive every copy from them, also after an error.
  ~StagingRing() {
    if (stream_.get() != nullptr) cudaStreamSynchronize(stream_.get());
    for (cudaEvent_t e : slot_free_) {
      if (e != nullptr) cudaEventDestroy(e);
    }
  }

  absl::Status Init() {
    absl::StatusOr<PinnedMemory> pinned =
        PinnedMemory::Allocate(kSlots * kSlotBytes, "the weight upload's staging ring");
    if (!pinned.ok()) return pinned.status();
    pinned_ = *std::move(pinned);
    absl::StatusOr<CudaStream> stream = CudaStream::Create();
    if (!stream.ok()) return stream.status();
    stream_ = *std::move(stream);
    for (cudaEvent_t& e : slot_free_) {
      if (absl::Status s = CudaStatus(cudaEventCreateWithFlags(&e, cudaEventDisableTiming),
                                      "creating a staging event");
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // Queues the copy of `bytes` host bytes to `device`, slot by slot.
  absl::Status Upload(std::byte* device, const std::byte* host, size_t bytes, const char* name) {
    for (size_t at = 0; at < bytes; at += kSlotBytes) {
      const size_t n = std::min(kSlotBytes, bytes - at);
      const auto what = [&](const char* step) {
        return absl::StrFormat("%s tensor %s (%d bytes at %d)", step, name, n, at);
      };
      // The slot's previous copy must have left it before the host overwrites it (an
      // event never recorded is complete).
      if (absl::Status s = CudaStatus(cudaEventSynchronize(slot_free_[next_]), what("staging"));
          !s.ok()) {
        return s;
      }
      std::byte* slot = pinned_.as<std::byte>() + static_cast<size_t>(next_) * kSlotBytes;
      std::memcpy(slot, host + at, n);
      if (absl::Status s = CudaStatus(cudaMemcpyAsync(device + at, slot, n,
                                                      cudaMemcpyHostToDevice, stream_.get()),
                                      what("uploading"));
          !s.ok()) {
        return s;
      }
      if (absl::Status s =
              CudaStatus(cudaEventRecord(slot_free_[next_], stream_.get()), what("uploading"));
          !s.ok()) {
        return s;
      }
      next_ = (next_ + 1) % kSlots;
    }
    return absl::OkStatus();
  }

  // Waits for every queued copy.
  absl::Status Finish() {
    return CudaStatus(cudaStreamSynchronize(stream_.get()), "finishing the weight upload");
  }

 private:
  PinnedMemory pinned_;
  CudaStream stream_;
  std::array<cudaEvent_t, kSlots> slot_free_{};  // recorded after each copy from the slot
  int next_ = 0;
};

}  // namespace

size_t DeviceWeightBytes(const LlamaConfig& config, const LlamaWeights& weights) {
  DeviceWeights scratch;
  size_t total = 0;
  ForEachTensor(config, weights, &scratch, [&](const Tensor& t) { total += AlignUp(t.bytes); });
  return total;
}

absl::StatusOr<DeviceWeights> UploadWeights(const LlamaConfig& config,
                                            const LlamaWeights& weights) {
  DeviceWeights d;
  absl::StatusOr<DeviceMemory> arena =
      DeviceMemory::Allocate(DeviceWeightBytes(config, weights), "the model weights");
  if (!arena.ok()) return arena.status();
  d.arena = *std::move(arena);
  StagingRing ring;
  if (absl::Status s = ring.Init(); !s.ok()) return s;
  auto* base = d.arena.as<std::byte>();
  size_t offset = 0;
  absl::Status status;
  ForEachTensor(config, weights, &d, [&](const Tensor& t) {
    if (!status.ok()) return;
    if (t.host == nullptr && t.bytes > 0) {
      status = absl::InternalError(absl::StrFormat("CUDA backend: tensor %s has no data", t.name));
      return;
    }
    *t.device = base + offset;
    status = ring.Upload(base + offset, static_cast<const std::byte*>(t.host), t.bytes, t.name);
    offset += AlignUp(t.bytes);
  });
  if (status.ok()) status = ring.Finish();
  if (!status.ok()) return status;
  TieOutput(weights, &d);
  return d;
}

}  // namespace hearth::cuda_backend
