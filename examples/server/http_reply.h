// Writing JSON answers and OpenAI-style errors onto a cpp-httplib response.
#ifndef HEARTH_EXAMPLES_SERVER_HTTP_REPLY_H_
#define HEARTH_EXAMPLES_SERVER_HTTP_REPLY_H_

#include <string>

#include "examples/server/openai_error.h"
#include "httplib.h"

namespace hearth_server {

void SendJson(httplib::Response& res, int http_status, std::string body);
// The error's status, body and (when set) Retry-After header.
void SendApiError(httplib::Response& res, const ApiError& error);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_HTTP_REPLY_H_
