#include "lib/model/llama_config.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hearth {
namespace {

// Architectures whose GGUF tensors and forward pass are exactly Llama's.
bool IsLlamaFamily(std::string_view arch) { return arch == "llama"; }

absl::StatusOr<int64_t> PositiveInt(const GgufFile& file, const std::string& key) {
  absl::StatusOr<int64_t> v = file.GetInt(key);
  if (!v.ok()) return v.status();
  if (*v <= 0 || *v > (int64_t{1} << 24)) {
    return absl::InvalidArgumentError(absl::StrFormat("model metadata '%s' = %d is out of range", key, *v));
  }
  return *v;
}

}  // namespace

absl::StatusOr<LlamaConfig> ReadLlamaConfig(const GgufFile& file) {
  LlamaConfig c;
  absl::StatusOr<std::string_view> arch = file.GetString("general.architecture");
  if (!arch.ok()) return arch.status();
  if (!IsLlamaFamily(*arch)) {
    return absl::UnimplementedError(absl::StrFormat(
        "model architecture '%s' is not supported (hearth runs: llama)", *arch));
  }
  c.architecture = std::string(*arch);
  if (absl::StatusOr<std::string_view> name = file.GetString("general.name"); name.ok()) {
    c.name = std::string(*name);
  }
  const std::string p = c.architecture + ".";
  struct IntField {
    const char* key;
    int64_t* out;
  };
  for (const IntField& f : {IntField{"block_count", &c.n_layers},
                            IntField{"embedding_length", &c.dim},
                            IntField{"feed_forward_length", &c.ffn_dim},
                            IntField{"attention.head_count", &c.n_heads},
                            IntField{"context_length", &c.context_length}}) {
    absl::StatusOr<int64_t> v = PositiveInt(file, p + f.key);
    if (!v.ok()) return v.status();
    *f.out = *v;
  }
  c.n_kv_heads = c.n_heads;
  if (file.Find(p + "attention.head_count_kv") != nullptr) {
    absl::StatusOr<int64_t> v = PositiveInt(file, p + "attention.head_count_kv");
    if (!v.ok()) return v.status();
    c.n_kv_heads = *v;
  }
  if (c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "model has %d heads, %d KV heads and width %d: heads must divide the width and KV "
        "heads must divide the heads",
        c.n_heads, c.n_kv_heads, c.dim));
  }
  c.head_dim = c.dim / c.n_heads;
  if (c.head_dim % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("head dimension %d is odd", c.head_dim));
  }
  if (file.Find(p + "rope.dimension_count") != nullptr) {
    absl::StatusOr<int64_t> rot = file.GetInt(p + "rope.dimension_count");
    if (!rot.ok()) return rot.status();
    if (*rot != c.head_dim) {
      return absl::UnimplementedError(absl::StrFormat(
          "partial rotary embeddings (%d of %d dimensions) are not supported", *rot, c.head_dim));
    }
  }
  if (file.Find(p + "rope.freq_base") != nullptr) {
    absl::StatusOr<double> theta = file.GetFloat(p + "rope.freq_base");
    if (!theta.ok()) return theta.status();
    c.rope_theta = static_cast<float>(*theta);
  }
  if (file.Find(p + "rope.scaling.type") != nullptr) {
    absl::StatusOr<std::string_view> scaling = file.GetString(p + "rope.scaling.type");
    if (scaling.ok() && *scaling != "none") {
      return absl::UnimplementedError(
          absl::StrFormat("RoPE scaling '%s' is not supported", *scaling));
    }
  }
  absl::StatusOr<double> eps = file.GetFloat(p + "attention.layer_norm_rms_epsilon");
  if (!eps.ok()) return eps.status();
  c.rms_eps = static_cast<float>(*eps);
  if (!(c.rope_theta > 0) || !(c.rms_eps > 0)) {
    return absl::InvalidArgumentError("model has a non-positive RoPE base or RMS epsilon");
  }
  // vocab_size is optional in GGUF; the embedding tensor is the authority, checked later.
  if (file.Find(p + "vocab_size") != nullptr) {
    absl::StatusOr<int64_t> v = PositiveInt(file, p + "vocab_size");
    if (!v.ok()) return v.status();
    c.vocab_size = *v;
  }
  return c;
}

}  // namespace hearth
