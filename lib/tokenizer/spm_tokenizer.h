// SentencePiece-style BPE as llama.cpp runs it on "llama" GGUF vocabularies: start from
// UTF-8 characters, repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring token (leftmost among equals), and spell anything left without a token
// as <0xNN> byte tokens.
#ifndef HEARTH_LIB_TOKENIZER_SPM_TOKENIZER_H_
#define HEARTH_LIB_TOKENIZER_SPM_TOKENIZER_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "lib/tokenizer/vocab.h"

namespace hearth {

// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's stand-in for a space.
inline constexpr std::string_view kSpmSpaceMarker = "\xE2\x96\x81";

class SpmTokenizer {
 public:
  // `vocab` (with scores) must outlive the tokenizer. `unk_id` spells bytes that have no
  // <0xNN> token (-1: drop them).
  SpmTokenizer(const Vocab& vocab, int32_t unk_id);

  // Appends the ids of `text` to `ids`. Spaces become U+2581 first; the caller decides
  // about the leading space. Bytes are not validated as UTF-8: invalid ones fall back to
  // byte tokens.
  void Encode(std::string_view text, std::vector<int32_t>* ids) const;

 private:
  const Vocab& vocab_;
  std::array<int32_t, 256> byte_tokens_{};
};

}  // namespace hearth

#endif  // HEARTH_LIB_TOKENIZER_SPM_TOKENIZER_H_
