#include "lib/engine/cuda_backend_weights.h"

#include <cstddef>
#include <cstdint>
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
    // The host bytes are the mapped GGUF file (pageable): a synchronous copy.
    status = CudaStatus(cudaMemcpy(base + offset, t.host, t.bytes, cudaMemcpyHostToDevice),
                        absl::StrFormat("uploading tensor %s (%d bytes)", t.name, t.bytes));
    offset += AlignUp(t.bytes);
  });
  if (!status.ok()) return status;
  TieOutput(weights, &d);
  return d;
}

}  // namespace hearth::cuda_backend
