#include "lib/tokenizer/chat_template.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/gguf/gguf_file.h"
#include "nlohmann/json.hpp"
#include "tests/tokenizer/test_data.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

std::string MustApply(std::string_view tmpl, const std::vector<ChatMessage>& messages,
                      bool add_gen) {
  absl::StatusOr<std::string> out = ApplyChatTemplate(tmpl, messages, add_gen);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

// jinja2's rendering of the real template (scripts/gen_tokenizer_fixtures.py).
TEST(ChatTemplateTest, SmolLm2MatchesJinja) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file =
      GgufFile::Open(testing::SourcePath(testing::kSmolLm2Path));
  ASSERT_TRUE(file.ok()) << file.status() << " (run scripts/setup.sh to extract the model)";
  absl::StatusOr<std::string_view> tmpl = (*file)->GetString("tokenizer.chat_template");
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();
  absl::StatusOr<std::string> data =
      testing::ReadFile(testing::SourcePath("tests/data/tokenizer/chat_template_smollm2.jsonl"));
  ASSERT_TRUE(data.ok()) << data.status();
  int checked = 0;
  for (size_t start = 0, end; start < data->size(); start = end + 1) {
    end = data->find('\n', start);
    if (end == std::string::npos) end = data->size();
    if (end == start) continue;
    const nlohmann::json row = nlohmann::json::parse(data->substr(start, end - start));
    std::vector<ChatMessage> messages;
    for (const nlohmann::json& m : row["messages"]) {
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    EXPECT_EQ(MustApply(*tmpl, messages, row["add_generation_prompt"].get<bool>()),
              row["expected"].get<std::string>())
        << row.dump();
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(ChatTemplateTest, ChatMlWithoutDefaultSystem) {
  const std::string tmpl =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}";
  EXPECT_EQ(MustApply(tmpl, {{"user", "Hi"}}, true),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

// Qwen writes its default system turn with escaped newlines inside the literal.
TEST(ChatTemplateTest, ChatMlDefaultSystemWithEscapes) {
  const std::string tmpl =
      "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + "
      "messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are "
      "Qwen.<|im_end|>\\n' }}{%- endif %}...<|im_start|>";
  EXPECT_EQ(MustApply(tmpl, {{"user", "Hi"}}, false),
            "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(MustApply(tmpl, {{"system", "S"}, {"user", "Hi"}}, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

// The conversation and expected prompts of llama.cpp's tests/test-chat-template.cpp.
const std::vector<ChatMessage> kConversation = {
    {"system", "You are a helpful assistant"},
    {"user", "Hello"},
    {"assistant", "Hi there"},
    {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},
    {"user", "Another question"},
};

TEST(ChatTemplateTest, Llama2Variants) {
  EXPECT_EQ(MustApply("[INST] {{ message['content'] }} [/INST]", kConversation, true),
            "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you "
            "[/INST]   I am an assistant   </s>[INST] Another question [/INST]");
  EXPECT_EQ(MustApply("[INST] <<SYS>>\\n{{ system }}", kConversation, true),
            "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"
            "[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]");
  EXPECT_EQ(MustApply("{{ bos_token + '[INST] ' }}<<SYS>>", kConversation, true),
            "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"
            "<s>[INST] Who are you [/INST]   I am an assistant   </s><s>[INST] Another question "
            "[/INST]");
  EXPECT_EQ(MustApply("[INST] <<SYS>> {% set content = message['content'] %}{{ content.strip() }}",
                      kConversation, true),
            "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"
            "[INST] Who are you [/INST]I am an assistant</s>[INST] Another question [/INST]");
}

TEST(ChatTemplateTest, Zephyr) {
  const std::string tmpl =
      "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + "
      "message['content'] + eos_token }}{% elif message['role'] == 'assistant' %}{{ "
      "'<|assistant|>\\n' + message['content'] + eos_token }}{% endif %}{% endfor %}";
  EXPECT_EQ(MustApply(tmpl, kConversation, true),
            "<|system|>\nYou are a helpful assistant<|endoftext|>\n<|user|>\nHello<|endoftext|>\n"
            "<|assistant|>\nHi there<|endoftext|>\n<|user|>\nWho are you<|endoftext|>\n"
            "<|assistant|>\n   I am an assistant   <|endoftext|>\n<|user|>\nAnother "
            "question<|endoftext|>\n<|assistant|>\n");
}

TEST(ChatTemplateTest, UnknownTemplateIsUnimplemented) {
  for (const std::string& tmpl : {
           std::string(""),
           std::string("{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m['role'] }}"),
           std::string("{% for m in messages %}<|im_start|>{{ m['role'] }}<|im_sep|>"),  // phi-4
           std::string("[INST] [SYSTEM_PROMPT]"),                                        // mistral
           std::string("<|user|> <|assistant|> <|end|>"),                                // phi-3
       }) {
    absl::StatusOr<std::string> out = ApplyChatTemplate(tmpl, kConversation, true);
    EXPECT_EQ(out.status().code(), absl::StatusCode::kUnimplemented) << tmpl;
    EXPECT_THAT(out.status().message(), HasSubstr("unsupported chat template"));
  }
}

}  // namespace
}  // namespace hearth
