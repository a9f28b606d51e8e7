// Token ids must equal those of independent references: llama.cpp's own vocab fixtures,
// and golden files written by scripts/gen_tokenizer_fixtures.py (Hugging Face
// `tokenizers` cross-checked against llama.cpp for SmolLM2; llama.cpp for the
// SentencePiece model).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/tokenizer/tokenizer.h"
#include "tests/tokenizer/test_data.h"

namespace hearth {
namespace {

using ::hearth::testing::EncodeCase;
using ::hearth::testing::kSmolLm2Path;
using ::hearth::testing::LoadedTokenizer;
using ::hearth::testing::LoadTokenizer;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

constexpr int kMaxReported = 5;

std::vector<int32_t> MustEncode(const Tokenizer& tok, std::string_view text, bool add_bos,
                                bool parse_special) {
  absl::StatusOr<std::vector<int32_t>> ids = tok.Encode(text, add_bos, parse_special);
  EXPECT_TRUE(ids.ok()) << ids.status();
  return ids.ok() ? *ids : std::vector<int32_t>{};
}

// Checks every case, reporting the first few mismatches in full; returns the number of
// cases whose ids matched.
int ExpectEncodes(const Tokenizer& tok, const std::vector<EncodeCase>& cases,
                  const std::string& label) {
  int matched = 0;
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const EncodeCase& c = cases[i];
    bool ok = MustEncode(tok, c.text, false, false) == c.ids;
    if (!ok && ++failures <= kMaxReported) {
      EXPECT_THAT(MustEncode(tok, c.text, false, false), ElementsAreArray(c.ids))
          << label << " case " << i << ": \"" << c.text << "\"";
    }
    if (c.ids_special.has_value()) {
      const std::vector<int32_t> special = MustEncode(tok, c.text, false, true);
      if (special != *c.ids_special) {
        ok = false;
        if (++failures <= kMaxReported) {
          EXPECT_THAT(special, ElementsAreArray(*c.ids_special))
              << label << " case " << i << " (parse_special): \"" << c.text << "\"";
        }
      }
    }
    matched += ok ? 1 : 0;
  }
  EXPECT_EQ(failures, 0) << label << ": " << failures << " mismatches";
  return matched;
}

LoadedTokenizer MustLoad(const std::string& path) {
  absl::StatusOr<LoadedTokenizer> loaded = LoadTokenizer(path);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? *std::move(loaded) : LoadedTokenizer{};
}

std::vector<EncodeCase> MustReadGolden(const std::string& path) {
  absl::StatusOr<std::vector<EncodeCase>> cases = testing::ReadGoldenJsonl(path);
  EXPECT_TRUE(cases.ok()) << cases.status();
  return cases.ok() ? *std::move(cases) : std::vector<EncodeCase>{};
}

class VocabFixtureTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabFixtureTest, MatchesLlamaCpp) {
  const std::string path = absl::StrCat("tests/data/models/", GetParam());
  LoadedTokenizer loaded = MustLoad(path);
  ASSERT_NE(loaded.tokenizer, nullptr);
  absl::StatusOr<std::vector<EncodeCase>> cases = testing::ReadVocabFixture(path);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_GT(cases->size(), 30u);
  const int matched = ExpectEncodes(*loaded.tokenizer, *cases, path);
  std::printf("%s: %d/%zu strings match llama.cpp\n", GetParam(), matched, cases->size());
}

INSTANTIATE_TEST_SUITE_P(LlamaCpp, VocabFixtureTest,
                         ::testing::Values("ggml-vocab-starcoder.gguf", "ggml-vocab-gpt-2.gguf",
                                           "ggml-vocab-llama-spm.gguf"));

class SmolLm2Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { loaded_ = new LoadedTokenizer(MustLoad(kSmolLm2Path)); }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(loaded_->tokenizer, nullptr)
        << "cannot load " << kSmolLm2Path
        << ": run scripts/setup.sh to extract the model (CI always has it)";
  }
  const Tokenizer& tok() const { return *loaded_->tokenizer; }

  static LoadedTokenizer* loaded_;
};
LoadedTokenizer* SmolLm2Test::loaded_ = nullptr;

TEST_F(SmolLm2Test, Metadata) {
  EXPECT_EQ(tok().n_vocab(), 49152);
  EXPECT_EQ(tok().bos_id(), 1);
  EXPECT_EQ(tok().eos_id(), 2);
  EXPECT_FALSE(tok().add_bos());
  EXPECT_TRUE(tok().IsEndOfGeneration(2));   // <|im_end|>
  EXPECT_TRUE(tok().IsEndOfGeneration(0));   // <|endoftext|>
  EXPECT_FALSE(tok().IsEndOfGeneration(1));  // <|im_start|>
  EXPECT_FALSE(tok().IsEndOfGeneration(19556));
}

TEST_F(SmolLm2Test, GoldenIds) {
  const std::vector<EncodeCase> cases = MustReadGolden("tests/data/tokenizer/smollm2_golden.jsonl");
  ASSERT_GE(cases.size(), 1000u);
  const int matched = ExpectEncodes(tok(), cases, "smollm2_golden");
  std::printf("smollm2_golden: %d/%zu strings match\n", matched, cases.size());
}

TEST_F(SmolLm2Test, DecodeRoundTripsAndStreams) {
  const std::vector<EncodeCase> cases = MustReadGolden("tests/data/tokenizer/smollm2_golden.jsonl");
  int checked = 0;
  for (const EncodeCase& c : cases) {
    std::string streamed;
    for (const int32_t id : c.ids) streamed += tok().TokenBytes(id);
    EXPECT_EQ(streamed, tok().Decode(c.ids));
    if (c.valid_utf8) {
      EXPECT_EQ(tok().Decode(c.ids), c.text);
      ++checked;
    }
    if (c.decoded_special.has_value()) {
      EXPECT_EQ(tok().Decode(*c.ids_special), *c.decoded_special);
    }
  }
  EXPECT_GE(checked, 1000);
}

TEST_F(SmolLm2Test, SpecialTokens) {
  EXPECT_THAT(MustEncode(tok(), "<|im_start|>user\nHi<|im_end|>", false, true),
              ElementsAre(1, 4093, 198, 26843, 2));
  // Without parse_special the markers are plain text.
  EXPECT_EQ(MustEncode(tok(), "<|im_start|>", false, false).size(), 7u);
  EXPECT_THAT(MustEncode(tok(), "Hi", true, false), ElementsAre(1, 26843));
  EXPECT_EQ(tok().TokenBytes(2), "");
  EXPECT_EQ(tok().TokenText(2), "<|im_end|>");
  EXPECT_EQ(tok().TokenBytes(-1), "");
  EXPECT_EQ(tok().TokenBytes(tok().n_vocab()), "");
  EXPECT_EQ(tok().Decode({26843, 49152, -7, 2}), "Hi");  // bad ids skipped
}

TEST_F(SmolLm2Test, InvalidUtf8EncodesAsReplacementCharacter) {
  // Each invalid byte reads as U+FFFD, as in llama.cpp.
  EXPECT_EQ(MustEncode(tok(), "\xff", false, false),
            MustEncode(tok(), "\xEF\xBF\xBD", false, false));
  EXPECT_EQ(MustEncode(tok(), "a\xc3", false, false),
            MustEncode(tok(), "a\xEF\xBF\xBD", false, false));
}

// One TokenBytes() per id may end inside a character; the concatenation must not.
TEST_F(SmolLm2Test, TokenBytesSplitsMultibyteCharacters) {
  const std::string text = "👨‍👩‍👧‍👦 你好";
  const std::vector<int32_t> ids = MustEncode(tok(), text, false, false);
  std::string streamed;
  bool saw_partial = false;
  for (const int32_t id : ids) {
    const std::string bytes = tok().TokenBytes(id);
    streamed += bytes;
    saw_partial |= bytes.size() == 1 && static_cast<uint8_t>(bytes[0]) >= 0x80;
  }
  EXPECT_EQ(streamed, text);
  EXPECT_TRUE(saw_partial);
}

std::string MakeEnglishText(size_t bytes) {
  static constexpr const char* kWords[] = {"the",        "of",         "and",
                                           "to",         "in",         "is",
                                           "was",        "that",       "for",
                                           "it",         "with",       "as",
                                           "his",        "on",         "be",
                                           "at",         "by",         "I",
                                           "this",       "had",        "not",
                                           "are",        "but",        "from",
                                           "or",         "have",       "an",
                                           "they",       "which",      "one",
                                           "you",        "were",       "her",
                                           "all",        "she",        "there",
                                           "would",      "their",      "we",
                                           "him",        "been",       "has",
                                           "when",       "who",        "will",
                                           "more",       "no",         "if",
                                           "out",        "language",   "model",
                                           "inference",  "tokenizer",  "quickly",
                                           "beautiful",  "government", "understanding",
                                           "1984",       "3.14",       "don't",
                                           "it's",       "(see",       "below)",
                                           "\"quoted\"", "Hello,",     "world.",
                                           "Paris",      "London",     "New",
                                           "York",       "2024-01-15", "e-mail"};
  std::string text;
  text.reserve(bytes + 64);
  uint32_t state = 12345;
  size_t words_in_sentence = 0;
  while (text.size() < bytes) {
    state = state * 1664525u + 1013904223u;
    text += kWords[(state >> 8) % std::size(kWords)];
    if (++words_in_sentence > 12 + (state >> 28)) {
      text += (state & 1) ? ".\n" : ". ";
      words_in_sentence = 0;
    } else {
      text += ' ';
    }
  }
  return text;
}

TEST_F(SmolLm2Test, EncodesOneMegabyteQuickly) {
  const std::string text = MakeEnglishText(1 << 20);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = MustEncode(tok(), text, false, false);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("encoded %zu bytes into %zu tokens in %.3f s (%.1f MB/s)\n", text.size(), ids.size(),
              seconds, text.size() / seconds / 1e6);
  EXPECT_EQ(tok().Decode(ids), text);
  // Generous so that sanitizer and debug builds pass; a release build takes ~0.1 s.
  EXPECT_LT(seconds, 10.0);
}

class Stories260kTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loaded_ = MustLoad("tests/data/models/stories260K.gguf");
    ASSERT_NE(loaded_.tokenizer, nullptr);
  }
  const Tokenizer& tok() const { return *loaded_.tokenizer; }
  LoadedTokenizer loaded_;
};

TEST_F(Stories260kTest, Metadata) {
  EXPECT_EQ(tok().n_vocab(), 512);
  EXPECT_EQ(tok().bos_id(), 1);
  EXPECT_EQ(tok().eos_id(), 2);
  EXPECT_TRUE(tok().add_bos());
  EXPECT_TRUE(tok().IsEndOfGeneration(2));
  EXPECT_EQ(tok().TokenBytes(3 + 'A'), "A");  // <0x41>
  EXPECT_EQ(tok().TokenBytes(0), "");         // <unk>
}

TEST_F(Stories260kTest, GoldenIds) {
  const std::vector<EncodeCase> cases =
      MustReadGolden("tests/data/tokenizer/stories260k_golden.jsonl");
  ASSERT_GE(cases.size(), 300u);
  const int matched = ExpectEncodes(tok(), cases, "stories260k_golden");
  std::printf("stories260k_golden: %d/%zu strings match\n", matched, cases.size());
}

TEST_F(Stories260kTest, DecodeRoundTrips) {
  const std::vector<EncodeCase> cases =
      MustReadGolden("tests/data/tokenizer/stories260k_golden.jsonl");
  for (const EncodeCase& c : cases) {
    if (c.valid_utf8) {
      EXPECT_EQ(tok().Decode(c.ids), c.text);
    }
    if (c.decoded_special.has_value()) {
      EXPECT_EQ(tok().Decode(*c.ids_special), *c.decoded_special);
    }
  }
}

TEST_F(Stories260kTest, BosAndPrefixSpace) {
  const std::vector<int32_t> plain = MustEncode(tok(), "Hello world", false, false);
  std::vector<int32_t> with_bos = {1};
  with_bos.insert(with_bos.end(), plain.begin(), plain.end());
  EXPECT_EQ(MustEncode(tok(), "Hello world", true, false), with_bos);
  // llama.cpp keeps the prefix space when BOS comes first.
  EXPECT_EQ(tok().Decode(with_bos), " Hello world");
  EXPECT_EQ(tok().Decode(plain), "Hello world");
}

}  // namespace
}  // namespace hearth
