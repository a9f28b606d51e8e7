// ServerConfig — everything `hearth serve` is told on its command line, in one value.
#ifndef HEARTH_EXAMPLES_SERVER_SERVER_CONFIG_H_
#define HEARTH_EXAMPLES_SERVER_SERVER_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hearth_server {

struct ServedModel {
  std::string name;  // what clients put in "model"
  std::string path;  // .gguf or .hearth
};

struct RouteConfig {
  std::string small;  // a served model's name: the cheap tier
  std::string large;  // the capable tier
};

// The name clients send to let the router choose between the --route models.
inline constexpr std::string_view kRoutedModelName = "auto";

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0: any free port
  std::vector<ServedModel> models;   // at least one, names unique
  double keep_alive_s = 300;         // idle seconds before an instance is unloaded; 0 = at once
  int min_warm = 0;                  // instances per model kept loaded; 0 = scale to zero
  int threads = 0;                   // Engine worker threads; 0 = one per core
  int max_concurrent = 8;            // requests one instance runs at once (its leases)
  int max_queue = 64;                // requests waiting beyond those; more get 503
  double queue_timeout_s = 60;       // a waiting request gives up (503) after this
  double rate = 0;                   // requests/s admitted on average; 0 = unlimited
  double burst = 0;                  // token bucket size; 0 = max(1, rate)
  int64_t max_body_bytes = 1 << 20;  // larger bodies get 413
  int64_t kv_cache_bytes = int64_t{256} << 20;  // per instance
  std::string autoscaler = "kpa";    // a policy name MakeScalingPolicy knows
  int max_replicas = 16;             // the AutoScaler's upper bound
  std::string catalog;               // price catalog JSON
  std::string offering;              // the catalog offering one instance is billed at
  std::optional<RouteConfig> route;
  int circuit_failures = 5;
  double circuit_open_s = 10;
  double response_cache_ttl_s = 600;
};

// "NAME=PATH", or a bare PATH whose file stem (name without directory and extension) is
// the name. InvalidArgument for an empty name or path.
absl::StatusOr<ServedModel> ParseModelSpec(std::string_view spec);
// "SMALL,LARGE". InvalidArgument unless two non-empty, different names.
absl::StatusOr<RouteConfig> ParseRouteSpec(std::string_view spec);

// InvalidArgument naming the flag at fault: no model, duplicate names, a port outside
// [0, 65535], negative or non-finite durations and rates, max_queue / max_concurrent /
// circuit_failures < 1, sizes <= 0, a route naming a model not served.
absl::Status ValidateServerConfig(const ServerConfig& config);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_SERVER_CONFIG_H_
