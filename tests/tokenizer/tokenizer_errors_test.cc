// Malformed or unsupported tokenizer metadata: FromGguf() must fail with a specific
// status, never crash. Also small in-memory vocabularies that exercise edge cases the
// real ones do not.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gguf/gguf_file.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/unicode.h"
#include "tests/testing/gguf_builder.h"

namespace hearth {
namespace {

using ::hearth::testing::GgufBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The 256 byte-level BPE byte tokens, then `extra`.
std::vector<std::string> ByteLevelTokens(const std::vector<std::string>& extra) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) {
    std::string t;
    AppendUtf8(ByteToCodepoint(static_cast<uint8_t>(b)), &t);
    tokens.push_back(t);
  }
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  return tokens;
}

// A GGUF image and the tokenizer built from it (the image must outlive the file).
struct Built {
  std::vector<std::byte> image;
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = absl::UnknownError("unset");
};

Built Build(const GgufBuilder& builder) {
  Built built;
  built.image = builder.Build();
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::FromBytes(built.image);
  EXPECT_TRUE(file.ok()) << file.status();
  if (file.ok()) built.tokenizer = Tokenizer::FromGguf(**file);
  return built;
}

GgufBuilder TinyBpe(const std::vector<std::string>& merges, const std::string& pre = "gpt-2") {
  GgufBuilder b;
  b.String("general.architecture", "llama")
      .String("tokenizer.ggml.model", "gpt2")
      .String("tokenizer.ggml.pre", pre)
      .StringArray("tokenizer.ggml.tokens", ByteLevelTokens({"ab", "abc", "<|end|>"}))
      .StringArray("tokenizer.ggml.merges", merges);
  return b;
}

void ExpectError(const GgufBuilder& builder, absl::StatusCode code, const std::string& fragment) {
  Built built = Build(builder);
  EXPECT_EQ(built.tokenizer.status().code(), code) << built.tokenizer.status();
  EXPECT_THAT(built.tokenizer.status().message(), HasSubstr(fragment));
}

TEST(TokenizerErrorsTest, NoTokenizerMetadata) {
  ExpectError(GgufBuilder().String("general.architecture", "llama"),
              absl::StatusCode::kInvalidArgument, "tokenizer.ggml.model");
}

TEST(TokenizerErrorsTest, UnsupportedModel) {
  ExpectError(GgufBuilder().String("tokenizer.ggml.model", "bert"),
              absl::StatusCode::kUnimplemented, "'bert' is not supported");
}

TEST(TokenizerErrorsTest, MissingTokens) {
  ExpectError(GgufBuilder().String("tokenizer.ggml.model", "gpt2"),
              absl::StatusCode::kInvalidArgument, "tokenizer.ggml.tokens");
}

TEST(TokenizerErrorsTest, TokensOfWrongType) {
  ExpectError(
      GgufBuilder().String("tokenizer.ggml.model", "gpt2").Int32Array("tokenizer.ggml.tokens", {1}),
      absl::StatusCode::kInvalidArgument, "tokenizer.ggml.tokens");
}

TEST(TokenizerErrorsTest, MissingMerges) {
  ExpectError(GgufBuilder()
                  .String("tokenizer.ggml.model", "gpt2")
                  .StringArray("tokenizer.ggml.tokens", ByteLevelTokens({})),
              absl::StatusCode::kInvalidArgument, "tokenizer.ggml.merges");
}

TEST(TokenizerErrorsTest, MergeOfUnknownToken) {
  ExpectError(TinyBpe({"a b", "x yz"}), absl::StatusCode::kInvalidArgument,
              "'yz', which is not a token");
  ExpectError(TinyBpe({"a d"}), absl::StatusCode::kInvalidArgument, "'ad', which is not a token");
}

TEST(TokenizerErrorsTest, MergeWithoutSeparator) {
  ExpectError(TinyBpe({"ab"}), absl::StatusCode::kInvalidArgument, "no space separator");
}

TEST(TokenizerErrorsTest, UnsupportedPreTokenizer) {
  ExpectError(TinyBpe({"a b"}, "deepseek-llm"), absl::StatusCode::kUnimplemented,
              "'deepseek-llm' is not supported");
}

TEST(TokenizerErrorsTest, TokenTypeArrayMismatch) {
  ExpectError(TinyBpe({"a b"}).Int32Array("tokenizer.ggml.token_type", {1, 1}),
              absl::StatusCode::kInvalidArgument, "token_type has 2 entries");
  std::vector<int32_t> types(259, 1);
  types[7] = 9;
  ExpectError(TinyBpe({"a b"}).Int32Array("tokenizer.ggml.token_type", types),
              absl::StatusCode::kInvalidArgument, "token_type[7] = 9");
}

TEST(TokenizerErrorsTest, SpecialIdOutOfRange) {
  ExpectError(TinyBpe({"a b"}).Uint32("tokenizer.ggml.bos_token_id", 259),
              absl::StatusCode::kInvalidArgument, "bos_token_id = 259");
  ExpectError(TinyBpe({"a b"}).Int32("tokenizer.ggml.eos_token_id", -5),
              absl::StatusCode::kInvalidArgument, "eos_token_id = -5");
}

TEST(TokenizerErrorsTest, ScoresMismatch) {
  ExpectError(GgufBuilder()
                  .String("tokenizer.ggml.model", "llama")
                  .StringArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"})
                  .Float32Array("tokenizer.ggml.scores", {0.0f}),
              absl::StatusCode::kInvalidArgument, "scores has 1 entries");
}

TEST(TinyVocabTest, BpeMergesByRank) {
  Built built = Build(TinyBpe({"a b", "ab c"}).Uint32("tokenizer.ggml.bos_token_id", 0xFFFFFFFF));
  ASSERT_TRUE(built.tokenizer.ok()) << built.tokenizer.status();
  const Tokenizer& tok = **built.tokenizer;
  EXPECT_EQ(tok.bos_id(), -1);
  EXPECT_FALSE(tok.add_bos());
  absl::StatusOr<std::vector<int32_t>> ids = tok.Encode("abcab", false, false);
  ASSERT_TRUE(ids.ok());
  EXPECT_THAT(*ids, ElementsAre(257, 256));
  // No BOS token: asking for one is the caller's error.
  EXPECT_EQ(tok.Encode("a", true, false).status().code(), absl::StatusCode::kFailedPrecondition);
  // <|end|> is an end-of-generation text, so it becomes a control token, as in llama.cpp.
  EXPECT_TRUE(tok.IsEndOfGeneration(258));
  EXPECT_THAT(*tok.Encode("a<|end|>", false, true), ElementsAre('a', 258));
  EXPECT_EQ(tok.Decode(*tok.Encode("ab abc", false, false)), "ab abc");
}

TEST(TinyVocabTest, SentencePieceByteFallbackAndUnknown) {
  std::vector<std::string> tokens = {"<unk>",
                                     "<s>",
                                     "</s>",
                                     "\xE2\x96\x81"
                                     "a",
                                     "b",
                                     "<0x63>"};
  Built built = Build(GgufBuilder()
                          .String("tokenizer.ggml.model", "llama")
                          .StringArray("tokenizer.ggml.tokens", tokens)
                          .Float32Array("tokenizer.ggml.scores", {0, 0, 0, -1, -2, 0})
                          .Int32Array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 6}));
  ASSERT_TRUE(built.tokenizer.ok()) << built.tokenizer.status();
  const Tokenizer& tok = **built.tokenizer;
  EXPECT_TRUE(tok.add_bos());
  // "c" has a byte token; "d" has none and falls back to <unk>.
  EXPECT_THAT(*tok.Encode("abcd", true, false), ElementsAre(1, 3, 4, 5, 0));
  EXPECT_EQ(tok.Decode({3, 4, 5}), "abc");
}

}  // namespace
}  // namespace hearth
