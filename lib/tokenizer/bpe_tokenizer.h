// Byte-level BPE (GPT-2 style): pre-tokenize, map every byte of a piece to its token,
// then apply the ranked merges, lowest rank first and leftmost first among equals -- the
// same order as llama.cpp and Hugging Face tokenizers.
#ifndef HEARTH_LIB_TOKENIZER_BPE_TOKENIZER_H_
#define HEARTH_LIB_TOKENIZER_BPE_TOKENIZER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lib/tokenizer/pretokenizer.h"
#include "lib/tokenizer/vocab.h"

namespace hearth {

class BpeTokenizer {
 public:
  // `merges` are "left right" in rank order (tokenizer.ggml.merges). Every merge's parts
  // and their concatenation must be tokens: InvalidArgument otherwise. `vocab` must
  // outlive the tokenizer. `ignore_merges`: a piece that is itself a token is emitted
  // whole (llama3).
  static absl::StatusOr<std::unique_ptr<BpeTokenizer>> Create(
      const Vocab& vocab, absl::Span<const std::string_view> merges, PreTokenizerKind pre,
      bool ignore_merges);

  // Appends the ids of `text` (plain text, no special tokens) to `ids`. Invalid UTF-8
  // bytes are encoded as U+FFFD, like llama.cpp; a byte whose token is missing from the
  // vocabulary is dropped.
  void Encode(std::string_view text, std::vector<int32_t>* ids) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  BpeTokenizer(const Vocab& vocab, PreTokenizerKind pre, bool ignore_merges)
      : vocab_(vocab), pre_(pre), ignore_merges_(ignore_merges) {}
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  struct Scratch;  // per-call buffers, reused across the pieces of one text
  void EncodePiece(std::string_view utf8, Scratch* scratch, std::vector<int32_t>* ids) const;

  const Vocab& vocab_;
  PreTokenizerKind pre_;
  bool ignore_merges_;
  std::array<int32_t, 256> byte_tokens_{};  // -1 where the vocabulary lacks the byte
  absl::flat_hash_map<uint64_t, Merge> merges_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_TOKENIZER_BPE_TOKENIZER_H_
