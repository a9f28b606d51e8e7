#include "examples/server/http_routes.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "examples/server/completion_handler.h"
#include "examples/server/http_reply.h"
#include "examples/server/metrics_page.h"
#include "examples/server/prometheus_text.h"
#include "nlohmann/json.hpp"

namespace hearth_server {
namespace {

std::string ModelsBody(const Deployment& deployment) {
  nlohmann::json data = nlohmann::json::array();
  for (const std::string& name : deployment.ModelNames()) {
    data.push_back({{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "hearth"}});
  }
  return nlohmann::json{{"object", "list"}, {"data", data}}.dump();
}

// The body for errors cpp-httplib raises itself, before any handler runs.
ApiError TransportError(const httplib::Request& req, int status, const Deployment& deployment) {
  ApiError error{.http_status = status};
  switch (status) {
    case 404:
      error.code = "not_found";
      error.message = absl::StrCat("no route for ", req.method, " ", req.path);
      break;
    case 413:
      error.code = "request_too_large";
      error.message = absl::StrCat("the request body is larger than ", deployment.config().max_body_bytes,
                                   " bytes (--max-body-bytes)");
      break;
    default:
      error.type = status >= 500 ? "server_error" : "invalid_request_error";
      error.message = absl::StrCat("HTTP ", status, " for ", req.method, " ", req.path);
      break;
  }
  return error;
}

}  // namespace

void InstallRoutes(httplib::Server& server, Deployment& deployment) {
  server.Post("/v1/completions", [&deployment](const httplib::Request& req, httplib::Response& res) {
    HandleCompletion(deployment, Endpoint::kCompletions, req, res);
  });
  server.Post("/v1/chat/completions", [&deployment](const httplib::Request& req, httplib::Response& res) {
    HandleCompletion(deployment, Endpoint::kChatCompletions, req, res);
  });
  server.Get("/v1/models", [&deployment](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, ModelsBody(deployment));
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, R"({"status":"ok"})");
  });
  server.Get("/readyz", [&deployment](const httplib::Request&, httplib::Response& res) {
    if (deployment.draining()) {
      SendJson(res, 503, R"({"status":"draining"})");
    } else {
      SendJson(res, 200, R"({"status":"ready"})");
    }
  });
  server.Get("/metrics", [&deployment](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderMetricsPage(deployment), std::string(kPrometheusContentType).c_str());
  });
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [&deployment](const httplib::Request& req, httplib::Response& res) {
    // Handlers write their own error bodies; only cpp-httplib's own errors arrive empty.
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    SendApiError(res, TransportError(req, res.status, deployment));
    return httplib::Server::HandlerResponse::Handled;
  }));
}

}  // namespace hearth_server
