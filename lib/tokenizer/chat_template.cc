#include "lib/tokenizer/chat_template.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hearth {
namespace {

enum class Format { kChatMl, kLlama2, kLlama2Sys, kLlama2SysBos, kLlama2SysStrip, kZephyr };

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string_view StripAsciiWhitespace(std::string_view s) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<Format> Detect(std::string_view t) {
  if (Contains(t, "<|im_start|>")) {
    // Phi-4 and SmolVLM build on ChatML markers but format turns differently.
    if (Contains(t, "<|im_sep|>") || Contains(t, "<end_of_utterance>")) return std::nullopt;
    return Format::kChatMl;
  }
  if (Contains(t, "[INST]")) {
    // Mistral's templates also use [INST] but place system prompts and spaces differently.
    if (Contains(t, "[SYSTEM_PROMPT]") || Contains(t, "[AVAILABLE_TOOLS]")) return std::nullopt;
    if (Contains(t, "content.strip()")) return Format::kLlama2SysStrip;
    if (Contains(t, "bos_token + '[INST]")) return Format::kLlama2SysBos;
    if (Contains(t, "<<SYS>>")) return Format::kLlama2Sys;
    return Format::kLlama2;
  }
  // Phi-3 shares <|user|>/<|assistant|> but ends turns with <|end|>.
  if (Contains(t, "<|user|>") && Contains(t, "<|assistant|>") && !Contains(t, "<|end|>")) {
    return Format::kZephyr;
  }
  return std::nullopt;
}

// The value of the Jinja string literal that contains position `pos`, or nullopt.
std::optional<std::string> StringLiteralAround(std::string_view t, size_t pos) {
  size_t open = pos;
  while (open > 0 && t[open - 1] != '\'' && t[open - 1] != '"') --open;
  if (open == 0) return std::nullopt;
  const char quote = t[open - 1];
  std::string value;
  for (size_t i = open; i < t.size(); ++i) {
    const char c = t[i];
    if (c == quote) return value;
    if (c != '\\' || i + 1 == t.size()) {
      value.push_back(c);
      continue;
    }
    const char e = t[++i];
    value.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e);
  }
  return std::nullopt;
}

// A complete system turn written as a literal in the template: the message the template
// inserts when the conversation has none. Templates that only wrap the caller's system
// message have no such literal.
std::optional<std::string> DefaultSystemTurn(std::string_view t) {
  constexpr std::string_view kMarker = "<|im_start|>system";
  for (size_t pos = t.find(kMarker); pos != std::string_view::npos;
       pos = t.find(kMarker, pos + 1)) {
    std::optional<std::string> literal = StringLiteralAround(t, pos);
    if (literal.has_value() && literal->rfind(kMarker, 0) == 0 &&
        Contains(*literal, "<|im_end|>")) {
      return literal;
    }
  }
  return std::nullopt;
}

std::string RenderChatMl(std::string_view t, absl::Span<const ChatMessage> messages,
                         bool add_generation_prompt) {
  std::string out;
  if (!messages.empty() && messages[0].role != "system") {
    if (std::optional<std::string> system = DefaultSystemTurn(t)) out += *system;
  }
  for (const ChatMessage& m : messages) {
    absl::StrAppend(&out, "<|im_start|>", m.role, "\n", m.content, "<|im_end|>\n");
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

// Llama-2 ignores add_generation_prompt: a prompt ending in "[/INST]" already asks for
// the assistant's turn.
std::string RenderLlama2(Format format, absl::Span<const ChatMessage> messages) {
  const bool system_block = format != Format::kLlama2;
  const bool bos_in_history = format == Format::kLlama2SysBos;
  const bool strip = format == Format::kLlama2SysStrip;
  std::string out = "[INST] ";
  bool inside_turn = true;
  for (const ChatMessage& m : messages) {
    const std::string_view content = strip ? StripAsciiWhitespace(m.content) : m.content;
    if (!inside_turn) {
      inside_turn = true;
      out += bos_in_history ? "<s>[INST] " : "[INST] ";
    }
    if (m.role == "system") {
      if (system_block) {
        out.append("<<SYS>>\n").append(content).append("\n<</SYS>>\n\n");
      } else {
        out.append(content).append("\n");
      }
    } else if (m.role == "user") {
      out.append(content).append(" [/INST]");
    } else {
      out.append(content).append("</s>");
      inside_turn = false;
    }
  }
  return out;
}

std::string RenderZephyr(absl::Span<const ChatMessage> messages, bool add_generation_prompt) {
  std::string out;
  for (const ChatMessage& m : messages) {
    absl::StrAppend(&out, "<|", m.role, "|>\n", m.content, "<|endoftext|>\n");
  }
  if (add_generation_prompt) out += "<|assistant|>\n";
  return out;
}

}  // namespace

absl::StatusOr<std::string> ApplyChatTemplate(std::string_view jinja_template,
                                              absl::Span<const ChatMessage> messages,
                                              bool add_generation_prompt) {
  const std::optional<Format> format = Detect(jinja_template);
  if (!format.has_value()) {
    return absl::UnimplementedError(absl::StrCat(
        "unsupported chat template (hearth recognises ChatML, Llama-2 [INST] and Zephyr "
        "templates; this one starts with \"",
        std::string(jinja_template.substr(0, 60)), "\")"));
  }
  switch (*format) {
    case Format::kChatMl:
      return RenderChatMl(jinja_template, messages, add_generation_prompt);
    case Format::kZephyr:
      return RenderZephyr(messages, add_generation_prompt);
    case Format::kLlama2:
    case Format::kLlama2Sys:
    case Format::kLlama2SysBos:
    case Format::kLlama2SysStrip:
      return RenderLlama2(*format, messages);
  }
  return absl::InternalError("unreachable chat template format");
}

}  // namespace hearth
