// The token table shared by the tokenizer models: texts, types, scores and the reverse
// text -> id index.
#ifndef HEARTH_LIB_TOKENIZER_VOCAB_H_
#define HEARTH_LIB_TOKENIZER_VOCAB_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace hearth {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct Vocab {
  std::vector<std::string> texts;
  std::vector<TokenType> types;
  std::vector<float> scores;  // SentencePiece merge priorities; empty for BPE
  // Keys view into `texts`, which must not change after BuildIndex(). On duplicate texts
  // the highest id wins, as in llama.cpp.
  absl::flat_hash_map<std::string_view, int32_t> ids;

  void BuildIndex() {
    ids.clear();
    ids.reserve(texts.size());
    for (size_t i = 0; i < texts.size(); ++i)
      ids.insert_or_assign(texts[i], static_cast<int32_t>(i));
  }
  // -1 when `text` is not a token.
  int32_t Find(std::string_view text) const {
    auto it = ids.find(text);
    return it == ids.end() ? -1 : it->second;
  }
  int32_t size() const { return static_cast<int32_t>(texts.size()); }
};

}  // namespace hearth

#endif  // HEARTH_LIB_TOKENIZER_VOCAB_H_
