#include "lib/tokenizer/unicode.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/tokenizer/pretokenizer.h"

namespace hearth {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Pieces(PreTokenizerKind kind, const std::string& text) {
  const std::vector<char32_t> cps = DecodeUtf8(text);
  std::vector<std::string> out;
  size_t begin = 0;
  for (const size_t length : PreTokenize(kind, cps)) {
    std::string piece;
    for (size_t i = begin; i < begin + length; ++i) AppendUtf8(cps[i], &piece);
    out.push_back(piece);
    begin += length;
  }
  return out;
}

TEST(UnicodeTest, DecodeUtf8IsLenientLikeLlamaCpp) {
  EXPECT_THAT(DecodeUtf8("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
              ElementsAre('a', 0xE9, 0x20AC, 0x1F600));
  // Truncated and stray bytes: one U+FFFD per byte.
  EXPECT_THAT(DecodeUtf8("\xE2\x82"), ElementsAre(kReplacementChar, kReplacementChar));
  EXPECT_THAT(DecodeUtf8("\x80x"), ElementsAre(kReplacementChar, 'x'));
  // Overlong forms and surrogates are structurally valid and kept.
  EXPECT_THAT(DecodeUtf8("\xC0\xAF"), ElementsAre(0x2F));
  EXPECT_THAT(DecodeUtf8("\xED\xA0\x80"), ElementsAre(0xD800));
  // Above U+10FFFF.
  EXPECT_EQ(DecodeUtf8("\xF4\x90\x80\x80").front(), kReplacementChar);
}

TEST(UnicodeTest, Categories) {
  EXPECT_EQ(CodepointFlags('a'), kFlagLetter);
  EXPECT_EQ(CodepointFlags(0x4E2D), kFlagLetter);  // 中
  EXPECT_EQ(CodepointFlags('7'), kFlagNumber);
  EXPECT_EQ(CodepointFlags(0x0663), kFlagNumber);  // Arabic-Indic 3
  EXPECT_EQ(CodepointFlags(0x2167), kFlagNumber);  // Roman numeral VIII (Nl)
  EXPECT_EQ(CodepointFlags('!'), kFlagPunctuation);
  EXPECT_EQ(CodepointFlags('$'), kFlagSymbol);
  EXPECT_EQ(CodepointFlags(0x0301), kFlagMark);
  EXPECT_EQ(CodepointFlags(' '), kFlagSeparator | kFlagWhitespace);
  EXPECT_EQ(CodepointFlags('\n'), kFlagControl | kFlagWhitespace);
  EXPECT_EQ(CodepointFlags(0x3000), kFlagSeparator | kFlagWhitespace);
  EXPECT_EQ(CodepointFlags(0x1C), kFlagControl);    // not White_Space, unlike str.isspace
  EXPECT_EQ(CodepointFlags(0x200B), kFlagControl);  // ZERO WIDTH SPACE is Cf
  EXPECT_EQ(CodepointFlags(0x0378), kFlagUnassigned);
  EXPECT_EQ(CodepointFlags(0x10FFFF), kFlagUnassigned);
}

TEST(UnicodeTest, ByteMapping) {
  EXPECT_EQ(ByteToCodepoint('A'), U'A');
  EXPECT_EQ(ByteToCodepoint(' '), 0x120u);   // Ġ
  EXPECT_EQ(ByteToCodepoint('\n'), 0x10Au);  // Ċ
  for (int b = 0; b < 256; ++b)
    EXPECT_EQ(ByteFromCodepoint(ByteToCodepoint(static_cast<uint8_t>(b))), b);
  EXPECT_EQ(ByteFromCodepoint(0x2581), -1);
}

TEST(PreTokenizerTest, Gpt2) {
  EXPECT_THAT(Pieces(PreTokenizerKind::kGpt2, "Hello world's  end 123!!\n\n x"),
              ElementsAre("Hello", " world", "'s", " ", " end", " 123", "!!", "\n\n", " x"));
  EXPECT_THAT(Pieces(PreTokenizerKind::kGpt2, "trailing   "), ElementsAre("trailing", "   "));
}

TEST(PreTokenizerTest, DigitsThenGpt2) {
  EXPECT_THAT(Pieces(PreTokenizerKind::kDigitsThenGpt2, "a 1234b"),
              ElementsAre("a", " ", "1", "2", "3", "4", "b"));
}

TEST(PreTokenizerTest, Llama3) {
  EXPECT_THAT(Pieces(PreTokenizerKind::kLlama3, "I'VE 1234567 x\r\n\n  y"),
              ElementsAre("I", "'VE", " ", "123", "456", "7", " x", "\r\n\n", " ", " y"));
}

TEST(PreTokenizerTest, Default) {
  EXPECT_THAT(Pieces(PreTokenizerKind::kDefault, "a+=1234567"),
              ElementsAre("a", "+=", "123", "456", "7"));
}

TEST(PreTokenizerTest, NamesMapToKinds) {
  EXPECT_EQ(*PreTokenizerKindFromName("smollm"), PreTokenizerKind::kDigitsThenGpt2);
  EXPECT_EQ(*PreTokenizerKindFromName(""), PreTokenizerKind::kDefault);
  EXPECT_EQ(PreTokenizerKindFromName("qwen2").status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace hearth
