// Pre-tokenizers for byte-level BPE: split text into the pieces that BPE merges never
// cross. Each kind is a hand-written equivalent of the regex sequence llama.cpp uses for
// the GGUF's tokenizer.ggml.pre, written as matchers over codepoint categories because
// std::regex is neither Unicode-aware nor fast.
#ifndef HEARTH_LIB_TOKENIZER_PRETOKENIZER_H_
#define HEARTH_LIB_TOKENIZER_PRETOKENIZER_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hearth {

enum class PreTokenizerKind {
  // llama.cpp's fallback for a missing or "default" pre: punctuation runs, then the
  // GPT-2 pattern, then number runs, then ASCII digits in threes.
  kDefault,
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
  // Every \p{N} codepoint isolated, then the GPT-2 pattern (starcoder, smollm, ...).
  kDigitsThenGpt2,
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  //  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3,
};

// Maps tokenizer.ggml.pre (empty when absent) to a kind; Unimplemented for names
// llama.cpp knows but hearth does not support yet, and for unknown names.
absl::StatusOr<PreTokenizerKind> PreTokenizerKindFromName(std::string_view name);

// Splits `cps` into consecutive non-empty pieces and returns their lengths in
// codepoints; the lengths sum to cps.size().
std::vector<size_t> PreTokenize(PreTokenizerKind kind, absl::Span<const char32_t> cps);

}  // namespace hearth

#endif  // HEARTH_LIB_TOKENIZER_PRETOKENIZER_H_
