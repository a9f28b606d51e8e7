#include "tests/tokenizer/test_data.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace hearth::testing {

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(HEARTH_SOURCE_DIR, "/", relative);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<LoadedTokenizer> LoadTokenizer(const std::string& relative) {
  const std::string path = SourcePath(relative);
  if (relative.rfind("models/", 0) == 0 && !std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat(
        path, " is missing: run scripts/setup.sh to extract the model (CI always has it)"));
  }
  LoadedTokenizer loaded;
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(path);
  if (!file.ok()) return file.status();
  loaded.file = *std::move(file);
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::FromGguf(*loaded.file);
  if (!tokenizer.ok()) return tokenizer.status();
  loaded.tokenizer = *std::move(tokenizer);
  return loaded;
}

absl::StatusOr<std::vector<EncodeCase>> ReadVocabFixture(const std::string& gguf_relative) {
  absl::StatusOr<std::string> inp = ReadFile(SourcePath(gguf_relative + ".inp"));
  if (!inp.ok()) return inp.status();
  absl::StatusOr<std::string> out = ReadFile(SourcePath(gguf_relative + ".out"));
  if (!out.ok()) return out.status();
  std::vector<std::string> texts = absl::StrSplit(*inp, "\n__ggml_vocab_test__\n");
  // The file ends with a separator line followed by nothing.
  if (!texts.empty() && texts.back().empty()) texts.pop_back();
  std::vector<std::string> lines = absl::StrSplit(*out, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.size() != texts.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(gguf_relative, ": ", texts.size(), " inputs but ", lines.size(), " outputs"));
  }
  std::vector<EncodeCase> cases;
  for (size_t i = 0; i < texts.size(); ++i) {
    EncodeCase c;
    c.text = texts[i];
    const std::vector<std::string> fields = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    for (const std::string& field : fields) {
      int32_t id = 0;
      if (!absl::SimpleAtoi(field, &id)) return absl::InvalidArgumentError("bad id in .out");
      c.ids.push_back(id);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

absl::StatusOr<std::vector<EncodeCase>> ReadGoldenJsonl(const std::string& relative) {
  absl::StatusOr<std::string> data = ReadFile(SourcePath(relative));
  if (!data.ok()) return data.status();
  std::vector<EncodeCase> cases;
  const std::vector<std::string> lines = absl::StrSplit(*data, '\n', absl::SkipEmpty());
  for (size_t n = 0; n < lines.size(); ++n) {
    const nlohmann::json row = nlohmann::json::parse(lines[n], nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded() || !row.contains("ids") ||
        !(row.contains("text") || row.contains("hex"))) {
      return absl::InvalidArgumentError(absl::StrCat(relative, ":", n + 1, ": bad fixture line"));
    }
    EncodeCase c;
    if (row.contains("hex")) {
      const std::string hex = row["hex"].get<std::string>();
      for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        c.text.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
      }
      c.valid_utf8 = false;
    } else {
      c.text = row["text"].get<std::string>();
    }
    c.ids = row["ids"].get<std::vector<int32_t>>();
    if (row.contains("ids_special")) c.ids_special = row["ids_special"].get<std::vector<int32_t>>();
    if (row.contains("decoded_special"))
      c.decoded_special = row["decoded_special"].get<std::string>();
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace hearth::testing
