#include "examples/server/openai_error.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/cord.h"
#include "nlohmann/json.hpp"

namespace hearth_server {
namespace {
constexpr char kParamPayload[] = "hearth.dev/openai-param";
}  // namespace

absl::Status InvalidParam(std::string_view param, std::string_view message) {
  absl::Status status = absl::InvalidArgumentError(std::string(message));
  status.SetPayload(kParamPayload, absl::Cord(std::string(param)));
  return status;
}

ApiError ApiErrorFromStatus(const absl::Status& status) {
  ApiError error;
  error.message = std::string(status.message());
  if (auto param = status.GetPayload(kParamPayload)) {
    error.param = std::string(*param);
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      error.http_status = 400;
      break;
    case absl::StatusCode::kNotFound:
      error.http_status = 404;
      error.code = "model_not_found";
      break;
    case absl::StatusCode::kResourceExhausted:
      error.http_status = 429;
      error.type = "rate_limit_error";
      error.code = "rate_limit_exceeded";
      break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      error.http_status = 503;
      error.type = "server_error";
      error.code = "model_unavailable";
      break;
    default:
      error.http_status = 500;
      error.type = "server_error";
      break;
  }
  return error;
}

std::string ApiErrorBody(const ApiError& error) {
  nlohmann::json body = {{"error",
                          {{"message", error.message},
                           {"type", error.type},
                           {"param", error.param.empty() ? nlohmann::json() : nlohmann::json(error.param)},
                           {"code", error.code.empty() ? nlohmann::json() : nlohmann::json(error.code)}}}};
  // Replace rather than throw on invalid UTF-8 echoed back from a request.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int RetryAfterSeconds(absl::Duration wait) {
  return std::max(1, static_cast<int>(std::ceil(absl::ToDoubleSeconds(wait))));
}

}  // namespace hearth_server
