#include "lib/model/llama_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/ops.h"
#include "lib/model/parallel_matmul.h"

namespace hearth {
namespace {

// Tokens per forward chunk: bounds the scratch memory of a long prompt while keeping the
// weight-block reuse of batched matrix products.
constexpr int64_t kMaxChunk = 64;

// Activations of one chunk of tokens.
struct Activations {
  explicit Activations(const LlamaConfig& c, int64_t n)
      : x(n * c.dim), xb(n * c.dim), q(n * c.q_dim()), k(n * c.kv_dim()), v(n * c.kv_dim()),
        attn(n * c.q_dim()), gate(n * c.ffn_dim), up(n * c.ffn_dim) {}
  std::vector<float> x;     // (n, dim) residual stream
  std::vector<float> xb;    // (n, dim) normed input / projection output
  std::vector<float> q;     // (n, n_heads * head_dim)
  std::vector<float> k;     // (n, n_kv_heads * head_dim)
  std::vector<float> v;     // (n, n_kv_heads * head_dim)
  std::vector<float> attn;  // (n, n_heads * head_dim)
  std::vector<float> gate;  // (n, ffn_dim)
  std::vector<float> up;    // (n, ffn_dim)
  MatMulScratch scratch;
};

// Causal grouped-query attention of tokens at positions [start_pos, start_pos + n) over
// the cache, whose rows up to each token's own position are filled.
// q: (n, n_heads * head_dim) -> out: (n, n_heads * head_dim)
void Attention(const LlamaConfig& c, int64_t layer, KvCache& cache, int64_t start_pos,
               int64_t n, const float* q, float* out, ThreadPool& pool) {
  const int64_t hd = c.head_dim, group = c.n_heads / c.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool.ParallelFor(n * c.n_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(start_pos + n);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / c.n_heads, h = task % c.n_heads;
      const int64_t kv_offset = (h / group) * hd;
      const int64_t len = start_pos + t + 1;
      const float* qh = q + t * c.q_dim() + h * hd;
      for (int64_t p = 0; p < len; ++p) {
        scores[p] = cpu::DotF32(qh, cache.Key(layer, p) + kv_offset, hd) * scale;
      }
      cpu::SoftmaxInPlace(scores.data(), len);
      float* oh = out + t * c.q_dim() + h * hd;
      std::fill(oh, oh + hd, 0.0f);
      for (int64_t p = 0; p < len; ++p) {
        cpu::AxpyF32(scores[p], cache.Value(layer, p) + kv_offset, oh, hd);
      }
    }
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Load(const std::string& path) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(path);
  if (!file.ok()) return file.status();
  return FromFile(*std::move(file));
}

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::FromFile(std::unique_ptr<GgufFile> file) {
  absl::StatusOr<LlamaConfig> config = ReadLlamaConfig(*file);
  if (!config.ok()) return config.status();
  absl::StatusOr<LlamaWeights> weights = BindLlamaWeights(*file, &*config);
  if (!weights.ok()) return weights.status();
  return std::unique_ptr<LlamaModel>(
      new LlamaModel(std::move(file), *std::move(config), *std::move(weights)));
}

absl::Status LlamaModel::Forward(absl::Span<const int32_t> tokens, int64_t start_pos,
                                 KvCache& cache, ThreadPool& pool, LogitsMode mode,
                                 std::vector<float>* logits) const {
  const LlamaConfig& c = config_;
  const int64_t n_total = static_cast<int64_t>(tokens.size());
  if (n_total == 0) return absl::InvalidArgumentError("Forward called with no tokens");
  if (start_pos < 0 || start_pos + n_total > cache.capacity()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "positions %d..%d exceed the KV cache of %d positions", start_pos, start_pos + n_total,
        cache.capacity()));
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= c.vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrFormat("token id %d is outside the vocabulary (%d)", id, c.vocab_size));
    }
  }
  logits->assign((mode == LogitsMode::kAll ? n_total : 1) * c.vocab_size, 0.0f);

  Activations a(c, std::min(n_total, kMaxChunk));
  for (int64_t chunk = 0; chunk < n_total; chunk += kMaxChunk) {
    const int64_t n = std::min(kMaxChunk, n_total - chunk);
    const int64_t pos0 = start_pos + chunk;
    for (int64_t t = 0; t < n; ++t) {
      cpu::DequantizeRow(weights_.token_embd.type, weights_.token_embd.data, c.dim,
                         tokens[chunk + t], &a.x[t * c.dim]);
    }
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const LayerWeights& w = weights_.layers[l];
      for (int64_t t = 0; t < n; ++t) {
        cpu::RmsNorm(&a.x[t * c.dim], w.attn_norm, c.dim, c.rms_eps, &a.xb[t * c.dim]);
      }
      const MatMulOutput qkv[] = {{&w.wq, a.q.data()}, {&w.wk, a.k.data()}, {&w.wv, a.v.data()}};
      ParallelMatMul(qkv, a.xb.data(), n, a.scratch, pool);
      for (int64_t t = 0; t < n; ++t) {
        cpu::RopeInPlace(&a.q[t * c.q_dim()], c.n_heads, c.head_dim, pos0 + t, c.rope_theta);
        cpu::RopeInPlace(&a.k[t * c.kv_dim()], c.n_kv_heads, c.head_dim, pos0 + t, c.rope_theta);
        std::memcpy(cache.Key(l, pos0 + t), &a.k[t * c.kv_dim()], c.kv_dim() * sizeof(float));
        std::memcpy(cache.Value(l, pos0 + t), &a.v[t * c.kv_dim()], c.kv_dim() * sizeof(float));
      }
      Attention(c, l, cache, pos0, n, a.q.data(), a.attn.data(), pool);
      const MatMulOutput wo[] = {{&w.wo, a.xb.data()}};
      ParallelMatMul(wo, a.attn.data(), n, a.scratch, pool);
      for (int64_t i = 0; i < n * c.dim; ++i) a.x[i] += a.xb[i];

      for (int64_t t = 0; t < n; ++t) {
        cpu::RmsNorm(&a.x[t * c.dim], w.ffn_norm, c.dim, c.rms_eps, &a.xb[t * c.dim]);
      }
      const MatMulOutput gate_up[] = {{&w.w_gate, a.gate.data()}, {&w.w_up, a.up.data()}};
      ParallelMatMul(gate_up, a.xb.data(), n, a.scratch, pool);
      cpu::SwiGluInPlace(a.gate.data(), a.up.data(), n * c.ffn_dim);
      const MatMulOutput down[] = {{&w.w_down, a.xb.data()}};
      ParallelMatMul(down, a.gate.data(), n, a.scratch, pool);
      for (int64_t i = 0; i < n * c.dim; ++i) a.x[i] += a.xb[i];
    }
    // Only the rows whose logits are wanted go through the (large) output projection.
    const int64_t first = mode == LogitsMode::kAll ? 0 : n - 1;
    if (mode == LogitsMode::kLast && chunk + n < n_total) continue;
    for (int64_t t = first; t < n; ++t) {
      cpu::RmsNorm(&a.x[t * c.dim], weights_.output_norm, c.dim, c.rms_eps, &a.xb[t * c.dim]);
    }
    float* out = mode == LogitsMode::kAll ? logits->data() + chunk * c.vocab_size : logits->data();
    const MatMulOutput head[] = {{&weights_.output, out}};
    ParallelMatMul(head, &a.xb[first * c.dim], n - first, a.scratch, pool);
  }
  return absl::OkStatus();
}

}  // namespace hearth
