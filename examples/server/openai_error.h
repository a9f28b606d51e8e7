// OpenAI-style errors: every 4xx/5xx the server sends has the body
//   {"error": {"message": "...", "type": "...", "param": "..." | null, "code": "..." | null}}
// so that OpenAI clients raise their typed exceptions with the server's message.
#ifndef HEARTH_EXAMPLES_SERVER_OPENAI_ERROR_H_
#define HEARTH_EXAMPLES_SERVER_OPENAI_ERROR_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace hearth_server {

struct ApiError {
  int http_status = 400;
  std::string type = "invalid_request_error";
  std::string code;   // empty: null
  std::string message;
  std::string param;  // the request field at fault; empty: null
  std::optional<absl::Duration> retry_after;  // sent as Retry-After (whole seconds, >= 1)
};

// InvalidArgument naming `param` (kept as the error's param in the body).
absl::Status InvalidParam(std::string_view param, std::string_view message);

// The HTTP answer for a failed Status: InvalidArgument / FailedPrecondition / OutOfRange
// 400, NotFound 404, ResourceExhausted 429, Unavailable and DeadlineExceeded 503, the rest
// 500; the param of InvalidParam is carried over.
ApiError ApiErrorFromStatus(const absl::Status& status);

// The JSON body.
std::string ApiErrorBody(const ApiError& error);

// Whole seconds for Retry-After: rounded up, at least 1.
int RetryAfterSeconds(absl::Duration wait);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_OPENAI_ERROR_H_
