// Unicode helpers for the tokenizer: lenient UTF-8 decoding, codepoint categories and
// the GPT-2 byte <-> codepoint mapping used by byte-level BPE vocabularies.
#ifndef HEARTH_LIB_TOKENIZER_UNICODE_H_
#define HEARTH_LIB_TOKENIZER_UNICODE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

// Codepoint flags. The low byte is the general category class (exactly one bit set for
// a valid codepoint); kFlagWhitespace is the Unicode White_Space property.
enum CodepointFlag : uint16_t {
  kFlagLetter = 1,        // \p{L}
  kFlagNumber = 2,        // \p{N}
  kFlagPunctuation = 4,   // \p{P}
  kFlagSymbol = 8,        // \p{S}
  kFlagMark = 16,         // \p{M}
  kFlagSeparator = 32,    // \p{Z}
  kFlagControl = 64,      // \p{C} except Cn
  kFlagUnassigned = 128,  // Cn
  kFlagWhitespace = 256,  // \s
};

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr char32_t kMaxCodepoint = 0x10FFFF;

uint16_t CodepointFlags(char32_t cp);

// Decodes UTF-8 the way llama.cpp does, so that token ids agree with it on any input:
// structurally valid sequences are accepted as they are (overlong forms and surrogates
// included), and every byte that does not start a complete sequence becomes U+FFFD.
// Sequences decoding above U+10FFFF also become U+FFFD, one per byte (llama.cpp throws).
std::vector<char32_t> DecodeUtf8(std::string_view text);

void AppendUtf8(char32_t cp, std::string* out);

// Length of the UTF-8 sequence a lead byte announces; continuation and invalid bytes
// count as 1 (SentencePiece splits text into symbols this way).
inline size_t Utf8SequenceLength(uint8_t lead) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

// GPT-2's bytes_to_unicode(): printable bytes map to themselves, the others to
// U+0100.. in order, so that every byte sequence is representable as visible text.
char32_t ByteToCodepoint(uint8_t byte);
// Inverse of ByteToCodepoint(); -1 for codepoints outside the mapping.
int ByteFromCodepoint(char32_t cp);

}  // namespace hearth

#endif  // HEARTH_LIB_TOKENIZER_UNICODE_H_
