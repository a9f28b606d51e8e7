// `hearth serve`: an OpenAI-compatible HTTP endpoint over hearth's Engine, WarmPool,
// AutoScaler and CostOptimizer (deployment.h), on cpp-httplib.
//
// RunServer binds, prints exactly one line "hearth serve: listening on http://HOST:PORT"
// to stdout (the port it got when asked for port 0), serves until SIGTERM or SIGINT, then
// drains: /readyz turns 503, new requests get 503 draining, requests in flight (streams
// included) run to their end, and it returns OK (exit code 0).
#ifndef HEARTH_EXAMPLES_SERVER_SERVER_H_
#define HEARTH_EXAMPLES_SERVER_SERVER_H_

#include "absl/status/status.h"
#include "examples/server/server_config.h"

namespace hearth_server {

// Call from the main thread before any other thread starts (signals are blocked for the
// whole process). The first error: a bad config, a model file missing, the catalog, or an
// address it cannot listen on.
absl::Status RunServer(const ServerConfig& config);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_SERVER_H_
