#include "lib/tokenizer/tokenizer.h"

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/tokenizer/pretokenizer.h"
#include "lib/tokenizer/unicode.h"

namespace hearth {
namespace {

// Texts llama.cpp treats as end of generation whatever the GGUF's ids say (its
// special_eog_ids heuristic); it also forces these tokens to be control tokens.
constexpr std::string_view kEndOfGenerationTexts[] = {
    "<|eot_id|>",    "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",        "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<EOT>",   "_<EOT>",     "<|end_of_text|>", "<end_of_utterance>",
};

// A part of the input: raw text [offset, offset + length), or a special token (id >= 0).
struct Fragment {
  int32_t id;
  size_t offset;
  size_t length;
};

absl::StatusOr<bool> GetOptionalBool(const GgufFile& file, std::string_view key, bool fallback) {
  if (file.Find(key) == nullptr) return fallback;
  absl::StatusOr<int64_t> v = file.GetInt(key);
  if (!v.ok()) return v.status();
  return *v != 0;
}

// Decodes a byte-level BPE token text back to bytes. Codepoints outside the byte mapping
// only appear in hand-made vocabularies; they are kept as UTF-8 instead of failing.
std::string ByteLevelToBytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t cp : DecodeUtf8(text)) {
    const int byte = ByteFromCodepoint(cp);
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
    } else {
      AppendUtf8(cp, &out);
    }
  }
  return out;
}

// "<0xNN>" -> NN; -1 when `text` is not of that form.
int ParseByteToken(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (const char c : text.substr(3, 2)) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& file) {
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  if (absl::Status s = tokenizer->Load(file); !s.ok()) return s;
  return tokenizer;
}

absl::Status Tokenizer::Load(const GgufFile& file) {
  if (file.Find("tokenizer.ggml.model") == nullptr) {
    return absl::InvalidArgumentError("GGUF has no tokenizer (tokenizer.ggml.model is missing)");
  }
  absl::StatusOr<std::string_view> model = file.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.status();
  const bool is_bpe = *model == "gpt2";
  if (!is_bpe && *model != "llama") {
    return absl::UnimplementedError(absl::StrCat("tokenizer.ggml.model '", std::string(*model),
                                                 "' is not supported (supported: gpt2, llama)"));
  }

  if (file.Find("tokenizer.ggml.tokens") == nullptr) {
    return absl::InvalidArgumentError("GGUF tokenizer has no tokenizer.ggml.tokens array");
  }
  absl::StatusOr<absl::Span<const std::string_view>> texts =
      file.GetStringArray("tokenizer.ggml.tokens");
  if (!texts.ok()) return texts.status();
  if (texts->empty() || texts->size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer.ggml.tokens has an unusable size ", texts->size()));
  }
  vocab_.texts.assign(texts->begin(), texts->end());
  const size_t n = vocab_.texts.size();

  vocab_.types.assign(n, TokenType::kNormal);
  if (file.Find("tokenizer.ggml.token_type") != nullptr) {
    absl::StatusOr<std::vector<int64_t>> types = file.GetIntArray("tokenizer.ggml.token_type");
    if (!types.ok()) return types.status();
    if (types->size() != n) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer.ggml.token_type has ",
                                                     types->size(), " entries for ", n, " tokens"));
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = (*types)[i];
      if (t < 0 || t > static_cast<int64_t>(TokenType::kByte)) {
        return absl::InvalidArgumentError(
            absl::StrCat("tokenizer.ggml.token_type[", i, "] = ", t, " is not a token type"));
      }
      vocab_.types[i] = static_cast<TokenType>(t);
    }
  }
  vocab_.BuildIndex();
  for (const std::string_view text : kEndOfGenerationTexts) {
    if (const int32_t id = vocab_.Find(text); id >= 0) {
      vocab_.types[id] = TokenType::kControl;
      eog_ids_.insert(id);
    }
  }

  if (absl::Status s = LoadSpecialIds(file, !is_bpe); !s.ok()) return s;
  absl::StatusOr<bool> add_bos = GetOptionalBool(file, "tokenizer.ggml.add_bos_token", !is_bpe);
  if (!add_bos.ok()) return add_bos.status();
  add_bos_ = *add_bos;
  absl::StatusOr<bool> prefix = GetOptionalBool(file, "tokenizer.ggml.add_space_prefix", !is_bpe);
  if (!prefix.ok()) return prefix.status();
  add_space_prefix_ = *prefix;

  if (is_bpe) {
    std::string_view pre_name;
    if (file.Find("tokenizer.ggml.pre") != nullptr) {
      absl::StatusOr<std::string_view> pre = file.GetString("tokenizer.ggml.pre");
      if (!pre.ok()) return pre.status();
      pre_name = *pre;
    }
    absl::StatusOr<PreTokenizerKind> pre = PreTokenizerKindFromName(pre_name);
    if (!pre.ok()) return pre.status();
    const bool llama3 = *pre == PreTokenizerKind::kLlama3;
    if (llama3 && file.Find("tokenizer.ggml.add_bos_token") == nullptr) add_bos_ = true;
    if (file.Find("tokenizer.ggml.merges") == nullptr) {
      return absl::InvalidArgumentError("BPE tokenizer has no tokenizer.ggml.merges array");
    }
    absl::StatusOr<absl::Span<const std::string_view>> merges =
        file.GetStringArray("tokenizer.ggml.merges");
    if (!merges.ok()) return merges.status();
    absl::StatusOr<std::unique_ptr<BpeTokenizer>> bpe =
        BpeTokenizer::Create(vocab_, *merges, *pre, /*ignore_merges=*/llama3);
    if (!bpe.ok()) return bpe.status();
    bpe_ = *std::move(bpe);
  } else {
    if (file.Find("tokenizer.ggml.scores") != nullptr) {
      absl::StatusOr<std::vector<float>> scores = file.GetFloatArray("tokenizer.ggml.scores");
      if (!scores.ok()) return scores.status();
      if (scores->size() != n) {
        return absl::InvalidArgumentError(absl::StrCat("tokenizer.ggml.scores has ", scores->size(),
                                                       " entries for ", n, " tokens"));
      }
      vocab_.scores = *std::move(scores);
    }
    spm_ = std::make_unique<SpmTokenizer>(vocab_, unk_id_);
  }

  for (int32_t id = 0; id < vocab_.size(); ++id) {
    const TokenType t = vocab_.types[id];
    if ((t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) &&
        !vocab_.texts[id].empty()) {
      special_tokens_.push_back(id);
    }
  }
  // Longer texts first so that a special token containing another one wins.
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(), [&](int32_t a, int32_t b) {
    return vocab_.texts[a].size() > vocab_.texts[b].size();
  });
  return absl::OkStatus();
}

absl::Status Tokenizer::LoadSpecialIds(const GgufFile& file, bool is_spm) {
  struct Special {
    std::string_view key;
    int32_t* id;
    int32_t spm_default;  // llama.cpp's defaults for SentencePiece vocabularies
    bool end_of_generation;
  };
  int32_t eot = -1;
  int32_t eom = -1;
  const Special specials[] = {
      {"tokenizer.ggml.bos_token_id", &bos_id_, 1, false},
      {"tokenizer.ggml.eos_token_id", &eos_id_, 2, true},
      {"tokenizer.ggml.unknown_token_id", &unk_id_, 0, false},
      {"tokenizer.ggml.eot_token_id", &eot, -1, true},
      {"tokenizer.ggml.eom_token_id", &eom, -1, true},
  };
  for (const Special& s : specials) {
    *s.id = is_spm && s.spm_default < vocab_.size() ? s.spm_default : -1;
    if (file.Find(s.key) != nullptr) {
      absl::StatusOr<int64_t> v = file.GetInt(s.key);
      if (!v.ok()) return v.status();
      // Converters write "none" as -1 or, in uint32 fields, 0xFFFFFFFF.
      if (*v == -1 || *v == 0xFFFFFFFF) {
        *s.id = -1;
      } else if (*v < 0 || *v >= vocab_.size()) {
        return absl::InvalidArgumentError(absl::StrCat(std::string(s.key), " = ", *v,
                                                       " is outside the vocabulary of ",
                                                       vocab_.size(), " tokens"));
      } else {
        *s.id = static_cast<int32_t>(*v);
      }
    }
    if (s.end_of_generation && *s.id >= 0) eog_ids_.insert(*s.id);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text, bool add_bos,
                                                       bool parse_special) const {
  // Split out special tokens the way llama.cpp does: one token at a time, longest first,
  // each over all the raw text still left.
  std::vector<Fragment> fragments;
  if (!text.empty()) fragments.push_back(Fragment{-1, 0, text.size()});
  std::vector<Fragment> next;
  for (const int32_t special : special_tokens_) {
    if (!parse_special && vocab_.types[special] != TokenType::kUserDefined) continue;
    const std::string_view needle = vocab_.texts[special];
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view raw = text.substr(f.offset, f.length);
      size_t pos = 0;
      for (size_t match; (match = raw.find(needle, pos)) != std::string_view::npos;
           pos = match + needle.size()) {
        if (match > pos) next.push_back(Fragment{-1, f.offset + pos, match - pos});
        next.push_back(Fragment{special, 0, 0});
      }
      if (pos < raw.size()) next.push_back(Fragment{-1, f.offset + pos, raw.size() - pos});
    }
    fragments.swap(next);
  }

  std::vector<int32_t> ids;
  if (add_bos) {
    if (bos_id_ < 0) {
      return absl::FailedPreconditionError("add_bos requested but the vocabulary has no BOS token");
    }
    ids.push_back(bos_id_);
  }
  bool after_special = true;
  for (const Fragment& f : fragments) {
    if (f.id >= 0) {
      ids.push_back(f.id);
      after_special = true;
    } else {
      EncodeText(text.substr(f.offset, f.length), after_special, &ids);
      after_special = false;
    }
  }
  return ids;
}

void Tokenizer::EncodeText(std::string_view text, bool after_special,
                           std::vector<int32_t>* ids) const {
  if (bpe_ != nullptr) {
    bpe_->Encode(text, ids);
    return;
  }
  // SentencePiece models were trained on text with a leading space; llama.cpp restores it
  // at the start and after every special token.
  if (add_space_prefix_ && after_special) {
    std::string prefixed;
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(text);
    spm_->Encode(prefixed, ids);
  } else {
    spm_->Encode(text, ids);
  }
}

std::string_view Tokenizer::TokenText(int32_t id) const {
  return id >= 0 && id < vocab_.size() ? std::string_view(vocab_.texts[id]) : std::string_view();
}

std::string Tokenizer::TokenBytes(int32_t id) const {
  if (id < 0 || id >= vocab_.size()) return "";
  const std::string& text = vocab_.texts[id];
  switch (vocab_.types[id]) {
    case TokenType::kUserDefined:
      return text;
    case TokenType::kNormal:
      break;
    case TokenType::kByte:
      if (spm_ != nullptr) {
        const int byte = ParseByteToken(text);
        return byte < 0 ? "" : std::string(1, static_cast<char>(byte));
      }
      break;
    case TokenType::kUndefined:
    case TokenType::kUnknown:
    case TokenType::kControl:
    case TokenType::kUnused:
      return "";
  }
  if (bpe_ != nullptr) return ByteLevelToBytes(text);
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    if (text.compare(pos, kSpmSpaceMarker.size(), kSpmSpaceMarker) == 0) {
      out.push_back(' ');
      pos += kSpmSpaceMarker.size();
    } else {
      out.push_back(text[pos++]);
    }
  }
  return out;
}

std::string Tokenizer::Decode(absl::Span<const int32_t> ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string piece = TokenBytes(ids[i]);
    // The prefix space Encode() added belongs to no word; llama.cpp drops it from the
    // first token only (even when that token renders as nothing).
    if (i == 0 && add_space_prefix_ && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    out += piece;
  }
  return out;
}

}  // namespace hearth
