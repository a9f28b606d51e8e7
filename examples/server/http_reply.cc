#include "examples/server/http_reply.h"

#include <utility>

namespace hearth_server {

void SendJson(httplib::Response& res, int http_status, std::string body) {
  res.status = http_status;
  res.set_content(std::move(body), "application/json");
}

void SendApiError(httplib::Response& res, const ApiError& error) {
  if (error.retry_after) res.set_header("Retry-After", std::to_string(RetryAfterSeconds(*error.retry_after)));
  SendJson(res, error.http_status, ApiErrorBody(error));
}

}  // namespace hearth_server
