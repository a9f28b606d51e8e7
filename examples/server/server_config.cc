#include "examples/server/server_config.h"

#include <cmath>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hearth_server {
namespace {

absl::Status CheckNonNegative(double value, std::string_view flag) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(flag), " must be a finite number >= 0"));
  }
  return absl::OkStatus();
}

absl::Status CheckAtLeast(int64_t value, int64_t least, std::string_view flag) {
  if (value < least) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(flag), " must be >= ", least, ", not ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServedModel> ParseModelSpec(std::string_view spec) {
  ServedModel model;
  const size_t eq = spec.find('=');
  if (eq == std::string_view::npos) {
    model.path = std::string(spec);
    model.name = std::filesystem::path(model.path).stem().string();
  } else {
    model.name = std::string(spec.substr(0, eq));
    model.path = std::string(spec.substr(eq + 1));
  }
  if (model.name.empty() || model.path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--model '", std::string(spec), "': expected NAME=PATH or PATH (a .gguf or .hearth file)"));
  }
  return model;
}

absl::StatusOr<RouteConfig> ParseRouteSpec(std::string_view spec) {
  std::vector<std::string> parts = absl::StrSplit(std::string(spec), ',');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty() || parts[0] == parts[1]) {
    return absl::InvalidArgumentError(
        absl::StrCat("--route '", std::string(spec), "': expected SMALL,LARGE (two different served models)"));
  }
  return RouteConfig{.small = parts[0], .large = parts[1]};
}

absl::Status ValidateServerConfig(const ServerConfig& config) {
  if (config.models.empty()) return absl::InvalidArgumentError("--model: serve at least one model");
  std::set<std::string, std::less<>> names;
  for (const ServedModel& model : config.models) {
    if (model.name == kRoutedModelName) {
      return absl::InvalidArgumentError(
          absl::StrCat("--model: '", std::string(kRoutedModelName), "' is reserved for --route"));
    }
    if (!names.insert(model.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("--model: the name '", model.name, "' is used twice"));
    }
  }
  if (config.port < 0 || config.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--port must be in [0, 65535], not ", config.port));
  }
  for (auto [value, flag] : {std::pair{config.keep_alive_s, "keep-alive-s"},
                             {config.queue_timeout_s, "queue-timeout-s"},
                             {config.rate, "rate"},
                             {config.burst, "burst"},
                             {config.response_cache_ttl_s, "response-cache-ttl-s"}}) {
    if (absl::Status s = CheckNonNegative(value, flag); !s.ok()) return s;
  }
  if (!std::isfinite(config.circuit_open_s) || config.circuit_open_s <= 0) {
    return absl::InvalidArgumentError("--circuit-open-s must be a finite number > 0");
  }
  for (auto [value, least, flag] : {std::tuple<int64_t, int64_t, const char*>{config.min_warm, 0, "min-warm"},
                                    {config.threads, 0, "threads"},
                                    {config.max_concurrent, 1, "max-concurrent"},
                                    {config.max_queue, 1, "max-queue"},
                                    {config.max_body_bytes, 1, "max-body-bytes"},
                                    {config.kv_cache_bytes, 1, "kv-cache-bytes"},
                                    {config.max_replicas, 1, "max-replicas"},
                                    {config.circuit_failures, 1, "circuit-failures"}}) {
    if (absl::Status s = CheckAtLeast(value, least, flag); !s.ok()) return s;
  }
  if (config.route) {
    for (const std::string& name : {config.route->small, config.route->large}) {
      if (!names.contains(name)) {
        return absl::InvalidArgumentError(absl::StrCat("--route names '", name, "', which no --model serves"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace hearth_server
