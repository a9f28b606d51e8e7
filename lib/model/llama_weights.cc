#include "lib/model/llama_weights.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace hearth {
namespace {

absl::StatusOr<const GgufTensor*> Require(const GgufFile& file, const std::string& name) {
  const GgufTensor* t = file.FindTensor(name);
  if (t == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat("model is missing tensor '%s'", name));
  }
  return t;
}

// GGUF stores ne[0] = columns (the contiguous dimension), ne[1] = rows.
absl::StatusOr<WeightMatrix> Matrix(const GgufFile& file, const std::string& name, int64_t rows,
                                    int64_t cols) {
  absl::StatusOr<const GgufTensor*> t = Require(file, name);
  if (!t.ok()) return t.status();
  const GgufTensor& tensor = **t;
  if (tensor.dims.size() != 2 || tensor.dims[0] != cols || tensor.dims[1] != rows) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor '%s' has shape [%s], expected (%d rows, %d columns)", name,
        absl::StrJoin(tensor.dims, ", "), rows, cols));
  }
  return WeightMatrix{static_cast<cpu::GgmlType>(tensor.type), tensor.data, rows, cols};
}

absl::StatusOr<const float*> Vector(const GgufFile& file, const std::string& name, int64_t n) {
  absl::StatusOr<const GgufTensor*> t = Require(file, name);
  if (!t.ok()) return t.status();
  const GgufTensor& tensor = **t;
  if (tensor.dims.size() != 1 || tensor.dims[0] != n) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tensor '%s' has shape [%s], expected (%d,)", name,
                        absl::StrJoin(tensor.dims, ", "), n));
  }
  if (tensor.type != static_cast<uint32_t>(cpu::GgmlType::kF32)) {
    return absl::UnimplementedError(absl::StrFormat(
        "norm tensor '%s' has type %s; hearth expects f32", name, cpu::TypeName(tensor.type)));
  }
  return reinterpret_cast<const float*>(tensor.data);
}

}  // namespace

absl::StatusOr<LlamaWeights> BindLlamaWeights(const GgufFile& file, LlamaConfig* config) {
  LlamaConfig& c = *config;
  LlamaWeights w;
  absl::StatusOr<const GgufTensor*> embd = Require(file, "token_embd.weight");
  if (!embd.ok()) return embd.status();
  if ((*embd)->dims.size() != 2) {
    return absl::InvalidArgumentError("tensor 'token_embd.weight' is not a matrix");
  }
  if (c.vocab_size == 0) c.vocab_size = (*embd)->dims[1];

#define HEARTH_ASSIGN(lhs, expr)       \
  do {                                 \
    auto result = (expr);              \
    if (!result.ok()) return result.status(); \
    lhs = *result;                     \
  } while (0)

  HEARTH_ASSIGN(w.token_embd, Matrix(file, "token_embd.weight", c.vocab_size, c.dim));
  HEARTH_ASSIGN(w.output_norm, Vector(file, "output_norm.weight", c.dim));
  if (file.FindTensor("output.weight") != nullptr) {
    HEARTH_ASSIGN(w.output, Matrix(file, "output.weight", c.vocab_size, c.dim));
  } else {
    w.output = w.token_embd;
    w.tied_output = true;
  }
  // Each layer has kTensorsPerLayer tensors: a layer count the file cannot back is refused
  // before anything is sized by it.
  constexpr int64_t kTensorsPerLayer = 9;
  if (c.n_layers > static_cast<int64_t>(file.tensors().size()) / kTensorsPerLayer) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "model declares %d layers but holds only %d tensors", c.n_layers, file.tensors().size()));
  }
  w.layers.resize(c.n_layers);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    LayerWeights& l = w.layers[i];
    const std::string b = absl::StrCat("blk.", i, ".");
    HEARTH_ASSIGN(l.attn_norm, Vector(file, b + "attn_norm.weight", c.dim));
    HEARTH_ASSIGN(l.wq, Matrix(file, b + "attn_q.weight", c.q_dim(), c.dim));
    HEARTH_ASSIGN(l.wk, Matrix(file, b + "attn_k.weight", c.kv_dim(), c.dim));
    HEARTH_ASSIGN(l.wv, Matrix(file, b + "attn_v.weight", c.kv_dim(), c.dim));
    HEARTH_ASSIGN(l.wo, Matrix(file, b + "attn_output.weight", c.dim, c.q_dim()));
    HEARTH_ASSIGN(l.ffn_norm, Vector(file, b + "ffn_norm.weight", c.dim));
    HEARTH_ASSIGN(l.w_gate, Matrix(file, b + "ffn_gate.weight", c.ffn_dim, c.dim));
    HEARTH_ASSIGN(l.w_up, Matrix(file, b + "ffn_up.weight", c.ffn_dim, c.dim));
    HEARTH_ASSIGN(l.w_down, Matrix(file, b + "ffn_down.weight", c.dim, c.ffn_dim));
  }
#undef HEARTH_ASSIGN
  return w;
}

}  // namespace hearth
