// The HTTP surface of `hearth serve`, on a cpp-httplib server:
//   POST /v1/completions, /v1/chat/completions   completion_handler.h
//   GET  /v1/models                              the served models (and "auto" with --route)
//   GET  /healthz                                200 while the process runs
//   GET  /readyz                                 200 while accepting requests (also when
//                                                scaled to zero: a request wakes a model);
//                                                503 while draining
//   GET  /metrics                                Prometheus text format 0.0.4
// Every other error (unknown route, a body over --max-body-bytes, ...) gets an
// OpenAI-style JSON body too.
#ifndef HEARTH_EXAMPLES_SERVER_HTTP_ROUTES_H_
#define HEARTH_EXAMPLES_SERVER_HTTP_ROUTES_H_

#include "examples/server/deployment.h"
#include "httplib.h"

namespace hearth_server {

// `deployment` must outlive the server.
void InstallRoutes(httplib::Server& server, Deployment& deployment);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_HTTP_ROUTES_H_
