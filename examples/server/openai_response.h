// The JSON the server answers with, as OpenAI's API documents it: a whole completion
// (text_completion / chat.completion) or the chunks of a streamed one
// (text_completion / chat.completion.chunk), framed as server-sent events.
//
// usage carries prompt_tokens, completion_tokens, total_tokens and, as hearth's
// extension, cost_usd (what the request cost on the configured offering) and cached
// (answered from the response cache).
#ifndef HEARTH_EXAMPLES_SERVER_OPENAI_RESPONSE_H_
#define HEARTH_EXAMPLES_SERVER_OPENAI_RESPONSE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "examples/server/openai_request.h"
#include "hearth/engine.h"

namespace hearth_server {

struct ResponseMeta {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string id;       // "cmpl-..." or "chatcmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;    // the model that answered
};

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double cost_usd = 0;
  bool cached = false;
};

// A fresh id and the current time for one response.
ResponseMeta NewResponseMeta(Endpoint endpoint, std::string model);

// "stop" or "length" (a deadline counts as length: the answer was cut, not finished).
std::string_view FinishReasonText(hearth::FinishReason reason);

std::string CompletionBody(const ResponseMeta& meta, std::string_view text,
                           std::string_view finish_reason, const Usage& usage);

// One streamed chunk: `delta` text, and the finish reason on the last one. The first chat
// chunk also carries the assistant role (first_chunk).
std::string StreamChunk(const ResponseMeta& meta, std::string_view delta, bool first_chunk,
                        std::optional<std::string_view> finish_reason);
// The extra last chunk stream_options.include_usage asks for: no choices, the usage.
std::string UsageChunk(const ResponseMeta& meta, const Usage& usage);

// Server-sent events framing: "data: <payload>\n\n"; the stream ends with SseDone().
std::string SseEvent(std::string_view payload);
std::string_view SseDone();

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_OPENAI_RESPONSE_H_
