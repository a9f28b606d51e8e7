// Tokenizer: text <-> token ids for a model, built from the GGUF's tokenizer.ggml.*
// metadata and matching llama.cpp's tokenization exactly.
//
// Supported: tokenizer.ggml.model "gpt2" (byte-level BPE; pre-tokenizers default, gpt-2
// family, starcoder/smollm family, llama3 family) and "llama" (SentencePiece with byte
// fallback).
//
// Usage:
//   absl::StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::FromGguf(*gguf);
//   absl::StatusOr<std::vector<int32_t>> ids =
//       (*tok)->Encode(prompt, (*tok)->add_bos(), /*parse_special=*/true);
//   for (int32_t id : generated) stream << (*tok)->TokenBytes(id);  // raw bytes
//
// Thread-safety: immutable after FromGguf(); all methods are const and safe to share.
// The GgufFile may be closed once FromGguf() returns.
#ifndef HEARTH_LIB_TOKENIZER_TOKENIZER_H_
#define HEARTH_LIB_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lib/gguf/gguf_file.h"
#include "lib/tokenizer/bpe_tokenizer.h"
#include "lib/tokenizer/spm_tokenizer.h"
#include "lib/tokenizer/vocab.h"

namespace hearth {

class Tokenizer {
 public:
  // Errors: InvalidArgument for missing or malformed tokenizer metadata (no
  // tokenizer.ggml.model / tokens / merges, array length mismatches, unknown token
  // types, merges naming non-tokens, special token ids out of range); Unimplemented for a
  // tokenizer.ggml.model or tokenizer.ggml.pre that hearth does not support.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& file);

  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_bos: prepend bos_id() (FailedPrecondition if the vocabulary has none); pass
  // add_bos() for the model's own convention. parse_special: control tokens written in
  // the text ("<|im_start|>") become their ids; user-defined tokens always do, as in
  // llama.cpp. Invalid UTF-8 is not an error: byte-level BPE reads each invalid byte as
  // U+FFFD and SentencePiece spells it with byte tokens, both as llama.cpp does.
  absl::StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_bos,
                                              bool parse_special) const;

  // Concatenated TokenBytes(), as llama.cpp's detokenize(remove_special=false,
  // unparse_special=false): control and unknown tokens render as nothing, and with a
  // SentencePiece prefix space the first token loses one leading space. Out-of-range ids
  // are skipped. No clean-up of spaces before punctuation is done. The result may be
  // invalid UTF-8 if the ids end inside a character.
  std::string Decode(absl::Span<const int32_t> ids) const;

  // The bytes one token appends to the output stream (possibly part of a UTF-8
  // character): byte-level BPE tokens mapped back to bytes, SentencePiece U+2581 as a
  // space and <0xNN> as the byte; user-defined tokens as their text; control, unknown,
  // unused and out-of-range tokens as "".
  std::string TokenBytes(int32_t id) const;

  // The token's text as stored in the vocabulary; "" when out of range.
  std::string_view TokenText(int32_t id) const;

  int32_t n_vocab() const { return vocab_.size(); }
  int32_t bos_id() const { return bos_id_; }  // -1 when none
  int32_t eos_id() const { return eos_id_; }  // -1 when none
  // tokenizer.ggml.add_bos_token, defaulting like llama.cpp: true for SentencePiece and
  // llama3-style BPE, false for other BPE vocabularies.
  bool add_bos() const { return add_bos_; }
  // eos, eot, eom and tokens llama.cpp treats as end of generation by their text
  // (<|im_end|>, <|endoftext|>, <|eot_id|>, <end_of_turn>, ...).
  bool IsEndOfGeneration(int32_t id) const { return eog_ids_.contains(id); }

 private:
  Tokenizer() = default;
  absl::Status Load(const GgufFile& file);
  absl::Status LoadSpecialIds(const GgufFile& file, bool is_spm);
  void EncodeText(std::string_view text, bool after_special, std::vector<int32_t>* ids) const;

  Vocab vocab_;
  std::unique_ptr<BpeTokenizer> bpe_;  // exactly one of bpe_ / spm_ is set
  std::unique_ptr<SpmTokenizer> spm_;
  bool add_space_prefix_ = false;
  bool add_bos_ = false;
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  int32_t unk_id_ = -1;
  absl::flat_hash_set<int32_t> eog_ids_;
  // Tokens that are matched in raw text before tokenization, longest text first.
  std::vector<int32_t> special_tokens_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_TOKENIZER_TOKENIZER_H_
