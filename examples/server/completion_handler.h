// POST /v1/completions and /v1/chat/completions: the request path.
//
//   draining?            503 draining
//   parse and validate   400 (or 404 for an unknown model), OpenAI-style body
//   rate limit           429 rate_limited + Retry-After
//   response cache       a deterministic request seen before: answered without the Engine
//   admission queue      503 queue_full + Retry-After
//   circuit breaker      503 circuit_open + Retry-After
//   lease + submit       waits for a cold start if the model is scaled to zero; 503 if the
//                        model cannot be loaded
//   answer               one JSON body, or server-sent events ending with data: [DONE]; a
//                        client that hangs up mid-stream cancels the request
//   settle               usage with cost_usd, cost by tenant, ledger, cache
#ifndef HEARTH_EXAMPLES_SERVER_COMPLETION_HANDLER_H_
#define HEARTH_EXAMPLES_SERVER_COMPLETION_HANDLER_H_

#include "examples/server/deployment.h"
#include "examples/server/openai_request.h"
#include "httplib.h"

namespace hearth_server {

// Runs on cpp-httplib's worker thread; blocks it while the request waits and runs (a
// streamed answer is written from the same thread, by the content provider it installs).
void HandleCompletion(Deployment& deployment, Endpoint endpoint, const httplib::Request& req,
                      httplib::Response& res);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_COMPLETION_HANDLER_H_
