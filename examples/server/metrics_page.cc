#include "examples/server/metrics_page.h"

#include <vector>

#include "examples/server/prometheus_text.h"

namespace hearth_server {
namespace {

// One sample per served model, from `value(model)`.
template <typename F>
std::vector<Sample> PerModel(const Deployment& deployment, F value) {
  std::vector<Sample> samples;
  for (const ServedModel& model : deployment.config().models) {
    samples.push_back({{{"model", model.name}}, static_cast<double>(value(model.name))});
  }
  return samples;
}

template <typename Map, typename F>
auto Lookup(const Map& map, const std::string& key, F field) {
  auto it = map.find(key);
  return it == map.end() ? decltype(field(it->second)){} : field(it->second);
}

}  // namespace

std::string RenderMetricsPage(Deployment& deployment) {
  const ServerMetrics::Snapshot counts = deployment.metrics().snapshot();
  const Deployment::State state = deployment.state();
  PrometheusText text;

  std::vector<Sample> requests;
  for (const auto& [key, n] : counts.requests) {
    requests.push_back({{{"model", key.first}, {"code", std::to_string(key.second)}}, static_cast<double>(n)});
  }
  text.Counter("hearth_requests_total", "Completion requests answered, by model and HTTP status.", requests);
  std::vector<Sample> rejected;
  for (const auto& [reason, n] : counts.rejected) rejected.push_back({{{"reason", reason}}, static_cast<double>(n)});
  text.Counter("hearth_rejected_requests_total",
               "Requests turned away before running: rate_limited (429), queue_full, circuit_open, draining (503).",
               rejected);
  text.Gauge("hearth_queue_depth", "Requests admitted and waiting for an instance, cold starts included.",
             {{{}, static_cast<double>(state.queued)}});
  text.Gauge("hearth_requests_in_flight", "Requests running on an instance.",
             {{{}, static_cast<double>(state.in_flight)}});
  text.Histogram("hearth_time_to_first_token_seconds",
                 "From the request's arrival to its first generated token (queueing and cold start included).",
                 counts.ttft);
  text.Histogram("hearth_inter_token_latency_seconds", "Time between consecutive generated tokens.", counts.itl);

  const auto model_metrics = [&](const std::string& model, auto field) {
    return Lookup(state.pool.models, model, field);
  };
  text.Counter("hearth_cold_starts_total", "Instances loaded (cold starts), by model.",
               PerModel(deployment, [&](const std::string& m) {
                 return Lookup(state.starts, m, [](const ModelStarts& s) { return s.cold_starts; });
               }));
  text.Counter("hearth_cold_start_failures_total", "Instance loads that failed, by model.",
               PerModel(deployment, [&](const std::string& m) {
                 return Lookup(state.starts, m, [](const ModelStarts& s) { return s.failed_starts; });
               }));
  text.Gauge("hearth_cold_start_seconds", "The last measured cold start (load to ready), by model.",
             PerModel(deployment, [&](const std::string& m) {
               return Lookup(state.starts, m, [](const ModelStarts& s) { return s.last_cold_start_s; });
             }));
  text.Gauge("hearth_loaded_instances", "Loaded instances (idle, busy or draining); 0 when scaled to zero.",
             PerModel(deployment, [&](const std::string& m) {
               return model_metrics(m, [](const hearth::ModelPoolMetrics& p) { return p.idle + p.busy + p.draining; });
             }));
  text.Gauge("hearth_warm_pool_idle_instances", "Loaded instances with no request, kept by the keep-alive policy.",
             PerModel(deployment, [&](const std::string& m) {
               return model_metrics(m, [](const hearth::ModelPoolMetrics& p) { return p.idle; });
             }));
  text.Gauge("hearth_starting_instances", "Instances being provisioned or loaded.",
             PerModel(deployment, [&](const std::string& m) {
               return model_metrics(m, [](const hearth::ModelPoolMetrics& p) { return p.provisioning + p.loading; });
             }));
  text.Gauge("hearth_desired_replicas",
             "The AutoScaler's desired replica count for this deployment, from this server's load.",
             {{{}, static_cast<double>(state.desired_replicas)}});
  text.Gauge("hearth_engine_running_requests", "Requests holding KV memory in the model's Engines.",
             PerModel(deployment, [&](const std::string& m) {
               return Lookup(state.engine_load, m, [](const EngineLoad& l) { return l.running; });
             }));
  text.Gauge("hearth_engine_kv_blocks_used", "KV cache blocks referenced by running requests.",
             PerModel(deployment, [&](const std::string& m) {
               return Lookup(state.engine_load, m, [](const EngineLoad& l) { return l.kv_blocks_used; });
             }));

  std::vector<Sample> cost;
  for (const auto& [tenant, usd] : counts.cost_usd) cost.push_back({{{"tenant", tenant}}, usd});
  text.Counter("hearth_cost_usd_total", "What requests cost on the configured offering, by tenant.", cost);
  text.Counter("hearth_response_cache_hits_total", "Requests answered from the response cache.",
               {{{}, static_cast<double>(counts.cache_hits)}});
  text.Gauge("hearth_circuit_state", "Circuit breaker per model: 0 closed, 1 open, 2 half-open.",
             PerModel(deployment, [&](const std::string& m) {
               return static_cast<int>(Lookup(state.circuits, m, [](CircuitState s) { return s; }));
             }));
  return text.str();
}

}  // namespace hearth_server
