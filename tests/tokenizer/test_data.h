// Loading test inputs: files under the source tree, llama.cpp vocab fixtures and the
// golden JSONL fixtures written by scripts/gen_tokenizer_fixtures.py.
#ifndef HEARTH_TESTS_TOKENIZER_TEST_DATA_H_
#define HEARTH_TESTS_TOKENIZER_TEST_DATA_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/gguf/gguf_file.h"
#include "lib/tokenizer/tokenizer.h"

namespace hearth::testing {

std::string SourcePath(const std::string& relative);
absl::StatusOr<std::string> ReadFile(const std::string& path);

// The real SmolLM2 model, which scripts/setup.sh extracts into models/ (git-ignored).
inline constexpr char kSmolLm2Path[] = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

struct LoadedTokenizer {
  std::unique_ptr<GgufFile> file;
  std::unique_ptr<Tokenizer> tokenizer;
};
// Opens a GGUF under the source tree and builds its tokenizer. A missing models/ file
// fails with a message that says to run scripts/setup.sh.
absl::StatusOr<LoadedTokenizer> LoadTokenizer(const std::string& relative);

struct EncodeCase {
  std::string text;
  std::vector<int32_t> ids;
  // Present when the case checks parse_special = true as well.
  std::optional<std::vector<int32_t>> ids_special;
  std::optional<std::string> decoded_special;  // llama.cpp's detokenize of ids_special
  bool valid_utf8 = true;
};

// llama.cpp's test-tokenizer-0 fixture pair: `.inp` strings separated by
// "\n__ggml_vocab_test__\n", `.out` one line of ids per string.
absl::StatusOr<std::vector<EncodeCase>> ReadVocabFixture(const std::string& gguf_relative);

// One JSON object per line: "text" (or "hex" for invalid UTF-8), "ids", and optionally
// "ids_special" and "decoded_special".
absl::StatusOr<std::vector<EncodeCase>> ReadGoldenJsonl(const std::string& relative);

}  // namespace hearth::testing

#endif  // HEARTH_TESTS_TOKENIZER_TEST_DATA_H_
