#include "lib/model/llama_model.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/ops.h"
#include "lib/model/parallel_matmul.h"
#include "lib/snapshot/snapshot.h"

namespace hearth {
namespace {

// Activations of one batch of tokens.
struct Activations {
  explicit Activations(const LlamaConfig& c, int64_t n)
      : x(n * c.dim), xb(n * c.dim), q(n * c.q_dim()), k(n * c.kv_dim()), v(n * c.kv_dim()),
        attn(n * c.q_dim()), gate(n * c.ffn_dim), up(n * c.ffn_dim), rope(n * c.head_dim) {}
  std::vector<float> x;     // (n, dim) residual stream
  std::vector<float> xb;    // (n, dim) normed input / projection output
  std::vector<float> q;     // (n, n_heads * head_dim)
  std::vector<float> k;     // (n, n_kv_heads * head_dim)
  std::vector<float> v;     // (n, n_kv_heads * head_dim)
  std::vector<float> attn;  // (n, n_heads * head_dim)
  std::vector<float> gate;  // (n, ffn_dim)
  std::vector<float> up;    // (n, ffn_dim)
  std::vector<float> rope;  // (n, head_dim) each token's RoPE angles (cpu::RopeAngles)
  MatMulScratch scratch;
};

// Where each token of the flattened batch lives.
struct TokenSlot {
  int64_t pos;                            // position in its sequence
  absl::Span<const int32_t> block_table;  // its sequence's blocks
};

// Causal grouped-query attention of every token over its own sequence's cached
// positions [0, pos], read through the block table.
// q: (n, n_heads * head_dim) -> out: (n, n_heads * head_dim)
void Attention(const LlamaConfig& c, int64_t layer, PagedKvCache& cache,
               absl::Span<const TokenSlot> slots, const float* q, float* out, ThreadPool& pool) {
  const int64_t hd = c.head_dim, group = c.n_heads / c.n_kv_heads;
  const int64_t bt = cache.block_tokens();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  int64_t longest = 0;
  for (const TokenSlot& s : slots) longest = std::max(longest, s.pos + 1);
  const int64_t n = static_cast<int64_t>(slots.size());
  // Tasks run KV-head-major, so that each thread's contiguous share holds every token (and
  // every context length) for a few heads: token-major shares would give one thread the
  // long prompt positions and another the short ones. A task serves the `group` query
  // heads that share a KV head: one kernel call per block of keys (and of values) reads
  // and widens each row once for all of them, with each head's results as its own.
  //
  // The blocks of a sequence lie anywhere in the cache, so the hardware's prefetchers
  // cannot run ahead across them: each block's rows are prefetched while the one before is
  // computed on.
  const auto prefetch = [&](const uint16_t* rows) {
    const char* bytes = reinterpret_cast<const char*>(rows);
    for (int64_t at = 0; at < bt * hd * int64_t{sizeof(uint16_t)}; at += 64) {
      __builtin_prefetch(bytes + at);
    }
  };
  pool.ParallelFor(n * c.n_kv_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(group * longest);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t kv_head = task / n, t = task % n;
      const TokenSlot& slot = slots[t];
      const int64_t len = slot.pos + 1;
      const auto block_of = [&](int64_t p) { return slot.block_table[p / bt]; };
      const float* qh = q + t * c.q_dim() + kv_head * group * hd;
      float* oh = out + t * c.q_dim() + kv_head * group * hd;
      // One kernel call per block of positions; each row's result depends on that row
      // alone, so a block size changes no bits.
      for (int64_t p = 0; p < len; p += bt) {
        const uint16_t* keys = cache.Keys(layer, block_of(p), kv_head);
        prefetch(p + bt < len ? cache.Keys(layer, block_of(p + bt), kv_head)
                              : cache.Values(layer, block_of(0), kv_head));
        cpu::DotRowsF16(qh, group, keys, hd, std::min(bt, len - p), hd, &scores[p], longest);
      }
      for (int64_t g = 0; g < group; ++g) {
        float* head_scores = &scores[g * longest];
        for (int64_t p = 0; p < len; ++p) head_scores[p] *= scale;
        cpu::SoftmaxInPlace(head_scores, len);
      }
      std::fill(oh, oh + group * hd, 0.0f);
      for (int64_t p = 0; p < len; p += bt) {
        const uint16_t* values = cache.Values(layer, block_of(p), kv_head);
        if (p + bt < len) prefetch(cache.Values(layer, block_of(p + bt), kv_head));
        cpu::AxpyRowsF16(&scores[p], longest, group, values, hd, std::min(bt, len - p), oh, hd);
      }
    }
  });
}

}  // namespace

absl::Status ValidateBatch(const LlamaConfig& c, absl::Span<const SequenceChunk> batch,
                           int64_t kv_blocks, int block_tokens) {
  if (batch.empty()) return absl::InvalidArgumentError("Forward called with an empty batch");
  for (const SequenceChunk& chunk : batch) {
    const int64_t n = static_cast<int64_t>(chunk.tokens.size());
    if (n == 0) return absl::InvalidArgumentError("Forward called with an empty chunk");
    const int64_t end = chunk.start_pos + n;
    const int64_t covered =
        static_cast<int64_t>(chunk.block_table.size()) * block_tokens;
    if (chunk.start_pos < 0 || end > covered || end > c.context_length) {
      return absl::OutOfRangeError(absl::StrFormat(
          "positions %d..%d exceed the sequence's %d KV blocks of %d tokens (or the model's "
          "context of %d)",
          chunk.start_pos, end, chunk.block_table.size(), block_tokens,
          c.context_length));
    }
    for (int32_t block : chunk.block_table) {
      if (block < 0 || block >= kv_blocks) {
        return absl::OutOfRangeError(
            absl::StrFormat("KV block %d is outside the cache (%d blocks)", block, kv_blocks));
      }
    }
    for (int32_t id : chunk.tokens) {
      if (id < 0 || id >= c.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrFormat("token id %d is outside the vocabulary (%d)", id, c.vocab_size));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Load(const std::string& path) {
  // A .hearth snapshot (by its magic, whatever the file's name) is verified in full before
  // its GGUF image is used; anything else goes down the GGUF path and its own checks.
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      IsSnapshotFile(path) ? OpenSnapshot(path) : GgufFile::Open(path);
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

absl::Status LlamaModel::Forward(absl::Span<const SequenceChunk> batch, PagedKvCache& cache,
                                 ThreadPool& pool, std::vector<float>* logits,
                                 cpu::ActivationPrecision precision) const {
  const LlamaConfig& c = config_;
  if (absl::Status s = ValidateBatch(c, batch, cache.n_blocks(), cache.block_tokens()); !s.ok()) {
    return s;
  }

  std::vector<TokenSlot> slots;
  std::vector<int64_t> logit_rows;  // indices into slots
  for (const SequenceChunk& chunk : batch) {
    const int64_t n = static_cast<int64_t>(chunk.tokens.size());
    for (int64_t i = 0; i < n; ++i) {
      const bool wanted = chunk.logits == LogitsMode::kAll ||
                          (chunk.logits == LogitsMode::kLast && i == n - 1);
      if (wanted) logit_rows.push_back(static_cast<int64_t>(slots.size()));
      slots.push_back({chunk.start_pos + i, chunk.block_table});
    }
  }
  const int64_t n = static_cast<int64_t>(slots.size());
  const int64_t bt = cache.block_tokens();
  Activations a(c, n);
  int64_t t = 0;
  for (const SequenceChunk& chunk : batch) {
    for (int32_t id : chunk.tokens) {
      cpu::DequantizeRow(weights_.token_embd.type, weights_.token_embd.data, c.dim, id,
                         &a.x[t++ * c.dim]);
    }
  }
  ForEachToken(pool, n, [&](int64_t i) {
    cpu::RopeAngles(c.head_dim, slots[i].pos, c.rope_theta, &a.rope[i * c.head_dim]);
  });
  // x += xb, token i's row (a projection's output into the residual stream).
  const auto add_residual = [&](int64_t i) {
    for (int64_t j = i * c.dim; j < (i + 1) * c.dim; ++j) a.x[j] += a.xb[j];
  };
  // Per-token work that makes a product's input runs in the region that prepares it, and
  // each layer's last residual add in the next layer's first: fewer barriers a step.
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& w = weights_.layers[l];
    const MatMulOutput qkv[] = {{&w.wq, a.q.data()}, {&w.wk, a.k.data()}, {&w.wv, a.v.data()}};
    ParallelMatMul(qkv, a.xb.data(), n, precision, a.scratch, pool, [&](int64_t i) {
      if (l > 0) add_residual(i);  // the previous layer's feed-forward output
      cpu::RmsNorm(&a.x[i * c.dim], w.attn_norm, c.dim, c.rms_eps, &a.xb[i * c.dim]);
    });
    ForEachToken(pool, n, [&](int64_t i) {
      const int64_t pos = slots[i].pos;
      const int64_t block = slots[i].block_table[pos / bt], slot = pos % bt;
      const float* angles = &a.rope[i * c.head_dim];
      cpu::RopeRotate(&a.q[i * c.q_dim()], c.n_heads, c.head_dim, angles);
      cpu::RopeRotate(&a.k[i * c.kv_dim()], c.n_kv_heads, c.head_dim, angles);
      for (int64_t h = 0; h < c.n_kv_heads; ++h) {
        const int64_t from = i * c.kv_dim() + h * c.head_dim, to = slot * c.head_dim;
        cpu::ToFp16Row(&a.k[from], c.head_dim, cache.Keys(l, block, h) + to);
        cpu::ToFp16Row(&a.v[from], c.head_dim, cache.Values(l, block, h) + to);
      }
    });
    Attention(c, l, cache, slots, a.q.data(), a.attn.data(), pool);
    const MatMulOutput wo[] = {{&w.wo, a.xb.data()}};
    ParallelMatMul(wo, a.attn.data(), n, precision, a.scratch, pool);
    const MatMulOutput gate_up[] = {{&w.w_gate, a.gate.data()}, {&w.w_up, a.up.data()}};
    ParallelMatMul(gate_up, a.xb.data(), n, precision, a.scratch, pool, [&](int64_t i) {
      add_residual(i);
      cpu::RmsNorm(&a.x[i * c.dim], w.ffn_norm, c.dim, c.rms_eps, &a.xb[i * c.dim]);
    });
    const MatMulOutput down[] = {{&w.w_down, a.xb.data()}};
    ParallelMatMul(down, a.gate.data(), n, precision, a.scratch, pool, [&](int64_t i) {
      // Row by row: a vector kernel's tail falls on the same elements whatever the batch.
      cpu::SwiGluInPlace(&a.gate[i * c.ffn_dim], &a.up[i * c.ffn_dim], c.ffn_dim);
    });
  }
  // Only the rows whose logits are wanted take the last layer's residual add and go
  // through the (large) output projection.
  const int64_t rows = static_cast<int64_t>(logit_rows.size());
  logits->resize(rows * c.vocab_size);
  if (rows == 0) return absl::OkStatus();
  for (int64_t row : logit_rows) add_residual(row);
  for (int64_t r = 0; r < rows; ++r) {
    cpu::RmsNorm(&a.x[logit_rows[r] * c.dim], weights_.output_norm, c.dim, c.rms_eps,
                 &a.xb[r * c.dim]);
  }
  const MatMulOutput head[] = {{&weights_.output, logits->data()}};
  ParallelMatMul(head, a.xb.data(), rows, precision, a.scratch, pool);
  return absl::OkStatus();
}

}  // namespace hearth
