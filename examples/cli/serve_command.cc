#include "examples/cli/serve_command.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/commandlineflag.h"
#include "examples/model_path.h"
#include "examples/server/server.h"
#include "examples/server/server_config.h"

// Shared with other commands (defined in their files): --threads, --catalog, --offering,
// --max-replicas.
ABSL_DECLARE_FLAG(int, threads);
ABSL_DECLARE_FLAG(std::string, catalog);
ABSL_DECLARE_FLAG(std::string, offering);
ABSL_DECLARE_FLAG(int, max_replicas);

ABSL_FLAG(std::string, host, "127.0.0.1", "serve: address to listen on");
ABSL_FLAG(int, port, 8080, "serve: port to listen on; 0 = any free port (printed on start)");
ABSL_FLAG(double, keep_alive_s, 300, "serve: idle seconds before an instance is unloaded; 0 = at once");
ABSL_FLAG(int, min_warm, 0, "serve: instances per model kept loaded; 0 = scale to zero");
ABSL_FLAG(int, max_concurrent, 8, "serve: requests one instance runs at once");
ABSL_FLAG(int, max_queue, 64, "serve: requests waiting beyond those; more get 503 + Retry-After");
ABSL_FLAG(double, queue_timeout_s, 60, "serve: a waiting request gets 503 after this many seconds");
ABSL_FLAG(double, rate, 0, "serve: requests/s admitted (token bucket); 0 = unlimited; beyond: 429");
ABSL_FLAG(double, burst, 0, "serve: token bucket size; 0 = max(1, --rate)");
ABSL_FLAG(int64_t, max_body_bytes, 1 << 20, "serve: larger request bodies get 413");
ABSL_FLAG(int64_t, kv_cache_bytes, int64_t{256} << 20, "serve: KV cache memory per instance");
ABSL_FLAG(std::string, autoscaler, "kpa",
          "serve: scaling policy for hearth_desired_replicas: kpa, hpa, queue_depth, load_score, "
          "predictive, static");
ABSL_FLAG(std::string, route, "",
          "serve: SMALL,LARGE: requests for model \"auto\" go to one of these two served models "
          "by hearth::Router");
ABSL_FLAG(int, circuit_failures, 5, "serve: consecutive failures that open a model's circuit");
ABSL_FLAG(double, circuit_open_s, 10, "serve: seconds a circuit stays open before a probe");
ABSL_FLAG(double, response_cache_ttl_s, 600, "serve: how long a deterministic answer is reused");

namespace hearth_cli {

std::vector<std::string> TakeModelFlags(std::vector<std::string>& args) {
  std::vector<std::string> specs;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && args[i] == "--model" && i + 1 < args.size()) {
      specs.push_back(args[++i]);
    } else if (i > 0 && args[i].rfind("--model=", 0) == 0) {
      specs.push_back(args[i].substr(8));
    } else {
      rest.push_back(args[i]);
    }
  }
  args = std::move(rest);
  return specs;
}

int RunServe(const std::vector<std::string>& model_specs) {
  hearth_server::ServerConfig config;
  for (const std::string& spec :
       model_specs.empty() ? std::vector<std::string>{hearth_examples::ResolveModelPath("")} : model_specs) {
    absl::StatusOr<hearth_server::ServedModel> model = hearth_server::ParseModelSpec(spec);
    if (!model.ok()) {
      std::fprintf(stderr, "hearth serve: %s\n", std::string(model.status().message()).c_str());
      return 2;
    }
    config.models.push_back(*std::move(model));
  }
  if (const std::string route = absl::GetFlag(FLAGS_route); !route.empty()) {
    absl::StatusOr<hearth_server::RouteConfig> parsed = hearth_server::ParseRouteSpec(route);
    if (!parsed.ok()) {
      std::fprintf(stderr, "hearth serve: %s\n", std::string(parsed.status().message()).c_str());
      return 2;
    }
    config.route = *parsed;
  }
  config.host = absl::GetFlag(FLAGS_host);
  config.port = absl::GetFlag(FLAGS_port);
  config.keep_alive_s = absl::GetFlag(FLAGS_keep_alive_s);
  config.min_warm = absl::GetFlag(FLAGS_min_warm);
  config.threads = absl::GetFlag(FLAGS_threads);
  config.max_concurrent = absl::GetFlag(FLAGS_max_concurrent);
  config.max_queue = absl::GetFlag(FLAGS_max_queue);
  config.queue_timeout_s = absl::GetFlag(FLAGS_queue_timeout_s);
  config.rate = absl::GetFlag(FLAGS_rate);
  config.burst = absl::GetFlag(FLAGS_burst);
  config.max_body_bytes = absl::GetFlag(FLAGS_max_body_bytes);
  config.kv_cache_bytes = absl::GetFlag(FLAGS_kv_cache_bytes);
  config.autoscaler = absl::GetFlag(FLAGS_autoscaler);
  config.max_replicas = absl::GetFlag(FLAGS_max_replicas);
  config.catalog = absl::GetFlag(FLAGS_catalog);
  // The default catalog is a path inside the repository: elsewhere (an installed binary,
  // a container) serve unpriced rather than refuse to start.
  const absl::CommandLineFlag& catalog_flag = absl::GetFlagReflectionHandle(FLAGS_catalog);
  if (catalog_flag.CurrentValue() == catalog_flag.DefaultValue() && !std::filesystem::exists(config.catalog)) {
    std::fprintf(stderr, "hearth serve: no price catalog at %s (pass --catalog); cost_usd will be 0\n",
                 config.catalog.c_str());
    config.catalog.clear();
  }
  config.offering = absl::GetFlag(FLAGS_offering);
  config.circuit_failures = absl::GetFlag(FLAGS_circuit_failures);
  config.circuit_open_s = absl::GetFlag(FLAGS_circuit_open_s);
  config.response_cache_ttl_s = absl::GetFlag(FLAGS_response_cache_ttl_s);
  if (absl::Status s = hearth_server::RunServer(config); !s.ok()) {
    std::fprintf(stderr, "hearth serve: %s\n", std::string(s.message()).c_str());
    return absl::IsInvalidArgument(s) ? 2 : 1;
  }
  return 0;
}

}  // namespace hearth_cli
