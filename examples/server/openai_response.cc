#include "examples/server/openai_response.h"

#include <atomic>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace hearth_server {
namespace {

using nlohmann::json;

bool IsChat(const ResponseMeta& meta) { return meta.endpoint == Endpoint::kChatCompletions; }

json UsageJson(const Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
          {"cost_usd", usage.cost_usd},
          {"cached", usage.cached}};
}

json Envelope(const ResponseMeta& meta, std::string_view object) {
  return {{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model}};
}

// Generated text may end inside a multi-byte character only when the Engine cut it there;
// replace rather than throw.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

ResponseMeta NewResponseMeta(Endpoint endpoint, std::string model) {
  // Unique within the process and unlikely to repeat across restarts.
  static std::atomic<uint64_t> counter{std::random_device{}()};
  const uint64_t n = counter.fetch_add(0x9E3779B97F4A7C15ULL);
  return {.endpoint = endpoint,
          .id = absl::StrFormat("%s-%016x", endpoint == Endpoint::kChatCompletions ? "chatcmpl" : "cmpl", n),
          .created = absl::ToUnixSeconds(absl::Now()),
          .model = std::move(model)};
}

std::string_view FinishReasonText(hearth::FinishReason reason) {
  switch (reason) {
    case hearth::FinishReason::kLength:
    case hearth::FinishReason::kDeadline:
      return "length";
    default:
      return "stop";
  }
}

std::string CompletionBody(const ResponseMeta& meta, std::string_view text,
                           std::string_view finish_reason, const Usage& usage) {
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  if (IsChat(meta)) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  json body = Envelope(meta, IsChat(meta) ? "chat.completion" : "text_completion");
  body["choices"] = json::array({choice});
  body["usage"] = UsageJson(usage);
  return Dump(body);
}

std::string StreamChunk(const ResponseMeta& meta, std::string_view delta, bool first_chunk,
                        std::optional<std::string_view> finish_reason) {
  json choice = {{"index", 0},
                 {"logprobs", nullptr},
                 {"finish_reason", finish_reason ? json(*finish_reason) : json()}};
  if (IsChat(meta)) {
    json d = json::object();
    if (first_chunk) d["role"] = "assistant";
    if (!delta.empty() || !finish_reason) d["content"] = delta;
    choice["delta"] = d;
  } else {
    choice["text"] = delta;
  }
  json chunk = Envelope(meta, IsChat(meta) ? "chat.completion.chunk" : "text_completion");
  chunk["choices"] = json::array({choice});
  return Dump(chunk);
}

std::string UsageChunk(const ResponseMeta& meta, const Usage& usage) {
  json chunk = Envelope(meta, IsChat(meta) ? "chat.completion.chunk" : "text_completion");
  chunk["choices"] = json::array();
  chunk["usage"] = UsageJson(usage);
  return Dump(chunk);
}

std::string SseEvent(std::string_view payload) { return "data: " + std::string(payload) + "\n\n"; }

std::string_view SseDone() { return "data: [DONE]\n\n"; }

}  // namespace hearth_server
