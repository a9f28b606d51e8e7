// Parsing and validating the body of POST /v1/completions and /v1/chat/completions into a
// hearth::GenerateRequest.
//
// Accepted fields (others are ignored, as OpenAI clients send several the Engine has no
// use for): model (string, required); prompt (string, or a list of one string;
// completions) or messages (non-empty list of {role: system|user|assistant|developer,
// content: string or list of {type: "text", text}}; chat); max_tokens (integer > 0;
// chat also max_completion_tokens); temperature (number in [0, 2]); top_p (number in
// (0, 1]); seed (integer); stop (string or list of up to 4 strings); stream (bool);
// stream_options.include_usage (bool); n (only 1); user (string); and, as vLLM's server
// does, ignore_eos (bool: generate exactly max_tokens, for load tests).
//
// Defaults follow OpenAI: temperature 1, top_p 1, no top-k or min-p cut, max_tokens 16
// for completions and kDefaultChatMaxTokens for chat.
//
// Every error is InvalidArgument made with InvalidParam, naming the field at fault.
#ifndef HEARTH_EXAMPLES_SERVER_OPENAI_REQUEST_H_
#define HEARTH_EXAMPLES_SERVER_OPENAI_REQUEST_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "hearth/engine.h"

namespace hearth_server {

enum class Endpoint { kCompletions, kChatCompletions };

inline constexpr int kDefaultCompletionMaxTokens = 16;
inline constexpr int kDefaultChatMaxTokens = 512;

struct OpenAiRequest {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string model;
  hearth::GenerateRequest generate;
  bool seed_explicit = false;  // the client chose the seed (the response cache's rule)
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::string user;
};

absl::StatusOr<OpenAiRequest> ParseOpenAiRequest(std::string_view body, Endpoint endpoint);

// The tenant a request is billed to: the X-Hearth-Tenant header if non-empty, else the
// body's user field if non-empty, else "anonymous".
std::string TenantOf(std::string_view tenant_header, const OpenAiRequest& request);

// The request's text as the router reads it: the prompt, or every message's content.
std::string RoutingText(const hearth::GenerateRequest& request);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_OPENAI_REQUEST_H_
