// Chat prompt formatting from a GGUF's tokenizer.chat_template.
//
// hearth does not run Jinja: like llama.cpp's template detection, it recognises the
// common formats by marker strings in the template and renders them natively.
// Recognised: ChatML ("<|im_start|>"; a default system message written as a literal in
// the template, as SmolLM2's and Qwen's do, is used when the conversation does not start
// with one), Llama-2 ("[INST]", with or without <<SYS>>, BOS inside the history, or
// stripped contents) and Zephyr ("<|user|>" ... "<|assistant|>", turns ended by
// <|endoftext|> as llama.cpp renders it).
#ifndef HEARTH_LIB_TOKENIZER_CHAT_TEMPLATE_H_
#define HEARTH_LIB_TOKENIZER_CHAT_TEMPLATE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hearth/engine.h"  // ChatMessage, part of the public API

namespace hearth {

// Returns the prompt text; special tokens appear as text, so encode it with
// parse_special = true. Unimplemented when the template is not a recognised format.
absl::StatusOr<std::string> ApplyChatTemplate(std::string_view jinja_template,
                                              absl::Span<const ChatMessage> messages,
                                              bool add_generation_prompt);

}  // namespace hearth

#endif  // HEARTH_LIB_TOKENIZER_CHAT_TEMPLATE_H_
