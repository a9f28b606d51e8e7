#include "lib/tokenizer/pretokenizer.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/tokenizer/unicode.h"

namespace hearth {
namespace {

// The text being split with its codepoint flags computed once. Positions outside the
// current piece read as flags 0 / kNone, which is how the matchers see the piece end.
struct Text {
  absl::Span<const char32_t> cps;
  std::vector<uint16_t> flags;
};

constexpr char32_t kNone = 0xFFFFFFFF;

// Accumulates the piece lengths of one stage.
class PieceSink {
 public:
  explicit PieceSink(std::vector<size_t>* out) : out_(out) {}
  void Add(size_t length) {
    if (length > 0) out_->push_back(length);
  }

 private:
  std::vector<size_t>* out_;
};

// A matcher over one piece [begin, end) of the text, in the style of llama.cpp's custom
// regex implementations: Cpt()/Flags() read a position, Emit() closes a piece there.
class PieceScanner {
 public:
  PieceScanner(const Text& text, size_t begin, size_t end, PieceSink* sink)
      : text_(text), begin_(begin), end_(end), last_(begin), sink_(sink) {}

  char32_t Cpt(size_t pos) const { return pos >= begin_ && pos < end_ ? text_.cps[pos] : kNone; }
  uint16_t Flags(size_t pos) const { return pos >= begin_ && pos < end_ ? text_.flags[pos] : 0; }
  // Emits the piece ending at `pos`; returns its length.
  size_t Emit(size_t pos) {
    const size_t length = pos - last_;
    sink_->Add(length);
    last_ = pos;
    return length;
  }
  size_t begin() const { return begin_; }
  size_t end() const { return end_; }

 private:
  const Text& text_;
  size_t begin_, end_, last_;
  PieceSink* sink_;
};

bool IsLetter(uint16_t f) { return (f & kFlagLetter) != 0; }
bool IsNumber(uint16_t f) { return (f & kFlagNumber) != 0; }
bool IsSpace(uint16_t f) { return (f & kFlagWhitespace) != 0; }
// [^\s\p{L}\p{N}] inside the piece (flags 0 means past its end).
bool IsOther(uint16_t f) { return f != 0 && !IsSpace(f) && !IsLetter(f) && !IsNumber(f); }
char32_t AsciiLower(char32_t c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

// Length of a contraction ('s 't 're 've 'm 'll 'd) at pos, 0 if none.
size_t Contraction(const PieceScanner& s, size_t pos, bool ignore_case) {
  if (s.Cpt(pos) != '\'' || pos + 1 >= s.end()) return 0;
  auto lower = [&](char32_t c) { return ignore_case ? AsciiLower(c) : c; };
  const char32_t c1 = lower(s.Cpt(pos + 1));
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 >= s.end()) return 0;
  const char32_t c2 = lower(s.Cpt(pos + 2));
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// \s+(?!\S)|\s+ at pos: a whitespace run gives its last space to the next word, unless the
// run ends the piece. Returns false when pos is not whitespace.
bool MatchTrailingWhitespace(PieceScanner& s, size_t& pos) {
  size_t n = 0;
  while (IsSpace(s.Flags(pos + n))) ++n;
  if (n > 1 && s.Cpt(pos + n) != kNone) {
    pos += n - 1;
    s.Emit(pos);
    return true;
  }
  if (n > 0) {
    pos += n;
    s.Emit(pos);
    return true;
  }
  return false;
}

void SplitGpt2(PieceScanner& s) {
  size_t pos = s.begin();
  while (pos < s.end()) {
    const char32_t cpt = s.Cpt(pos);
    if (const size_t n = Contraction(s, pos, /*ignore_case=*/false); n > 0) {
      pos += s.Emit(pos + n);
      continue;
    }
    // " ?X+" for X in letters, numbers, others: an optional single leading space.
    const uint16_t f = cpt == ' ' ? s.Flags(pos + 1) : s.Flags(pos);
    bool (*klass)(uint16_t) = IsLetter(f)   ? IsLetter
                              : IsNumber(f) ? IsNumber
                              : IsOther(f)  ? IsOther
                                            : nullptr;
    if (klass != nullptr) {
      pos += cpt == ' ' ? 1 : 0;
      while (klass(s.Flags(pos))) ++pos;
      s.Emit(pos);
      continue;
    }
    if (MatchTrailingWhitespace(s, pos)) continue;
    s.Emit(++pos);
  }
}

void SplitLlama3(PieceScanner& s) {
  size_t pos = s.begin();
  while (pos < s.end()) {
    const char32_t cpt = s.Cpt(pos);
    const uint16_t flags = s.Flags(pos);
    if (const size_t n = Contraction(s, pos, /*ignore_case=*/true); n > 0) {
      pos += s.Emit(pos + n);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(cpt == '\r' || cpt == '\n' || IsNumber(flags)) &&
        (IsLetter(flags) || IsLetter(s.Flags(pos + 1)))) {
      ++pos;
      while (IsLetter(s.Flags(pos))) ++pos;
      s.Emit(pos);
      continue;
    }
    // \p{N}{1,3}
    if (IsNumber(flags)) {
      size_t start = pos;
      while (IsNumber(s.Flags(pos))) {
        if (++pos - start >= 3) {
          s.Emit(pos);
          start = pos;
        }
      }
      s.Emit(pos);
      continue;
    }
    // " ?[^\s\p{L}\p{N}]+[\r\n]*"; the first test reads the unshifted flags, as llama.cpp does.
    const uint16_t f2 = cpt == ' ' ? s.Flags(pos + 1) : flags;
    if (!IsSpace(f2) && !IsLetter(f2) && !IsNumber(f2) && flags != 0) {
      pos += cpt == ' ' ? 1 : 0;
      while (IsOther(s.Flags(pos))) ++pos;
      while (s.Cpt(pos) == '\r' || s.Cpt(pos) == '\n') ++pos;
      s.Emit(pos);
      continue;
    }
    // \s*[\r\n]+
    size_t n = 0;
    size_t last_newline_end = 0;
    while (IsSpace(s.Flags(pos + n))) {
      const char32_t c = s.Cpt(pos + n);
      if (c == '\r' || c == '\n') last_newline_end = pos + n + 1;
      ++n;
    }
    if (last_newline_end > 0) {
      pos = last_newline_end;
      s.Emit(pos);
      continue;
    }
    if (MatchTrailingWhitespace(s, pos)) continue;
    s.Emit(++pos);
  }
}

// Isolates the matches of a single-class pattern: `class_test` runs of `length`
// codepoints exactly (length > 0, matched left to right like a regex iterator), or of
// any length (length == 0, greedy).
void SplitClassRuns(PieceScanner& s, bool (*class_test)(char32_t, uint16_t), size_t length) {
  size_t pos = s.begin();
  auto in_class = [&](size_t p) { return p < s.end() && class_test(s.Cpt(p), s.Flags(p)); };
  while (pos < s.end()) {
    size_t n = 0;
    if (length == 0) {
      while (in_class(pos + n)) ++n;
    } else {
      while (n < length && in_class(pos + n)) ++n;
      if (n < length) n = 0;
    }
    if (n == 0) {
      ++pos;
      continue;
    }
    s.Emit(pos);
    pos += n;
    s.Emit(pos);
  }
  s.Emit(s.end());
}

// [\p{P}\$\+<=>\^~\|]
bool IsDefaultPunct(char32_t c, uint16_t f) {
  return (f & kFlagPunctuation) != 0 || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
         c == '^' || c == '~' || c == '|';
}
bool IsNumberCp(char32_t, uint16_t f) { return IsNumber(f); }
bool IsAsciiDigit(char32_t c, uint16_t) { return c >= '0' && c <= '9'; }

enum class Stage { kGpt2, kLlama3, kDefaultPunct, kNumberEach, kNumberRuns, kDigitTriples };

std::vector<size_t> RunStage(Stage stage, const Text& text, const std::vector<size_t>& pieces) {
  std::vector<size_t> out;
  out.reserve(pieces.size() * 2);
  PieceSink sink(&out);
  size_t begin = 0;
  for (const size_t length : pieces) {
    PieceScanner s(text, begin, begin + length, &sink);
    switch (stage) {
      case Stage::kGpt2:
        SplitGpt2(s);
        break;
      case Stage::kLlama3:
        SplitLlama3(s);
        break;
      case Stage::kDefaultPunct:
        SplitClassRuns(s, IsDefaultPunct, 0);
        break;
      case Stage::kNumberEach:
        SplitClassRuns(s, IsNumberCp, 1);
        break;
      case Stage::kNumberRuns:
        SplitClassRuns(s, IsNumberCp, 0);
        break;
      case Stage::kDigitTriples:
        SplitClassRuns(s, IsAsciiDigit, 3);
        break;
    }
    begin += length;
  }
  return out;
}

absl::Span<const Stage> StagesOf(PreTokenizerKind kind) {
  static constexpr Stage kDefault[] = {Stage::kDefaultPunct, Stage::kGpt2, Stage::kNumberRuns,
                                       Stage::kDigitTriples};
  static constexpr Stage kGpt2[] = {Stage::kGpt2};
  static constexpr Stage kDigitsThenGpt2[] = {Stage::kNumberEach, Stage::kGpt2};
  static constexpr Stage kLlama3[] = {Stage::kLlama3};
  switch (kind) {
    case PreTokenizerKind::kDefault:
      return kDefault;
    case PreTokenizerKind::kGpt2:
      return kGpt2;
    case PreTokenizerKind::kDigitsThenGpt2:
      return kDigitsThenGpt2;
    case PreTokenizerKind::kLlama3:
      return kLlama3;
  }
  return kGpt2;
}

}  // namespace

absl::StatusOr<PreTokenizerKind> PreTokenizerKindFromName(std::string_view name) {
  struct Entry {
    std::string_view name;
    PreTokenizerKind kind;
  };
  static constexpr Entry kNames[] = {
      {"", PreTokenizerKind::kDefault},
      {"default", PreTokenizerKind::kDefault},
      {"gpt2", PreTokenizerKind::kGpt2},
      {"gpt-2", PreTokenizerKind::kGpt2},
      {"phi-2", PreTokenizerKind::kGpt2},
      {"mpt", PreTokenizerKind::kGpt2},
      {"olmo", PreTokenizerKind::kGpt2},
      {"starcoder", PreTokenizerKind::kDigitsThenGpt2},
      {"smollm", PreTokenizerKind::kDigitsThenGpt2},
      {"refact", PreTokenizerKind::kDigitsThenGpt2},
      {"command-r", PreTokenizerKind::kDigitsThenGpt2},
      {"codeshell", PreTokenizerKind::kDigitsThenGpt2},
      {"llama3", PreTokenizerKind::kLlama3},
      {"llama-v3", PreTokenizerKind::kLlama3},
      {"llama-bpe", PreTokenizerKind::kLlama3},
  };
  for (const Entry& e : kNames) {
    if (e.name == name) return e.kind;
  }
  return absl::UnimplementedError(absl::StrCat(
      "tokenizer.ggml.pre '", std::string(name),
      "' is not supported (supported: default, gpt-2, phi-2, mpt, olmo, starcoder, smollm, "
      "refact, command-r, codeshell, llama3, llama-v3, llama-bpe)"));
}

std::vector<size_t> PreTokenize(PreTokenizerKind kind, absl::Span<const char32_t> cps) {
  if (cps.empty()) return {};
  Text text{cps, std::vector<uint16_t>(cps.size())};
  for (size_t i = 0; i < cps.size(); ++i) text.flags[i] = CodepointFlags(cps[i]);
  std::vector<size_t> pieces = {cps.size()};
  for (const Stage stage : StagesOf(kind)) pieces = RunStage(stage, text, pieces);
  return pieces;
}

}  // namespace hearth
