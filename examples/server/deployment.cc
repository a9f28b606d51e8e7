#include "examples/server/deployment.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "hearth/keep_alive.h"
#include "hearth/scaling_policies.h"
#include "nlohmann/json.hpp"

namespace hearth_server {
namespace {

// How often the pool is ticked and the AutoScaler sampled: often enough that a zero
// keep-alive unloads within a fraction of a second, rarely enough to cost nothing.
constexpr std::chrono::milliseconds kControlPeriod{200};
// The router's tiers: the small model takes requests up to this estimated difficulty.
constexpr double kSmallTierMaxDifficulty = 0.3;

absl::StatusOr<std::unique_ptr<hearth::ScalingPolicy>> MakePolicy(const ServerConfig& config) {
  if (config.autoscaler == "kpa") {
    // One replica's capacity is one instance's concurrent requests.
    hearth::KpaConfig kpa;
    kpa.container_concurrency = config.max_concurrent;
    return hearth::MakeKpaPolicy(kpa);
  }
  return hearth::MakeScalingPolicy(config.autoscaler);
}

absl::StatusOr<hearth::PriceCatalog> LoadCatalog(const std::string& path) {
  if (path.empty()) return hearth::PriceCatalog::FromOfferings({});
  return hearth::PriceCatalog::Load(path);
}

std::string CacheValue(const CachedAnswer& answer) {
  return nlohmann::json{{"text", answer.text},
                        {"finish_reason", answer.finish_reason},
                        {"prompt_tokens", answer.prompt_tokens},
                        {"completion_tokens", answer.completion_tokens}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<CachedAnswer> ParseCacheValue(const std::string& value) {
  const nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return CachedAnswer{.text = j.value("text", ""),
                      .finish_reason = j.value("finish_reason", "stop"),
                      .prompt_tokens = j.value("prompt_tokens", 0),
                      .completion_tokens = j.value("completion_tokens", 0)};
}

}  // namespace

Deployment::Deployment(ServerConfig config)
    : config_(std::move(config)), admission_(config_.max_queue) {}

absl::StatusOr<std::unique_ptr<Deployment>> Deployment::Create(const ServerConfig& config) {
  if (absl::Status s = ValidateServerConfig(config); !s.ok()) return s;
  std::unique_ptr<Deployment> d(new Deployment(config));
  hearth::Clock* clock = hearth::RealClock();

  absl::StatusOr<std::unique_ptr<TokenBucket>> bucket = TokenBucket::Create(config.rate, config.burst, clock);
  if (!bucket.ok()) return bucket.status();
  d->rate_limit_ = *std::move(bucket);

  std::map<std::string, hearth::EngineConfig, std::less<>> engines;
  hearth::WarmPoolConfig pool_config;
  for (const ServedModel& model : config.models) {
    std::error_code error;
    const uintmax_t file_bytes = std::filesystem::file_size(model.path, error);
    if (error) {
      return absl::NotFoundError(absl::StrCat("--model ", model.name, "=", model.path, ": ", error.message()));
    }
    hearth::EngineConfig engine;
    engine.model_path = model.path;
    engine.threads = config.threads;
    engine.kv_cache_bytes = config.kv_cache_bytes;
    engine.max_sequences = config.max_concurrent;
    engines[model.name] = engine;
    const int64_t memory = static_cast<int64_t>(file_bytes) + config.kv_cache_bytes;
    pool_config.models.push_back({.name = model.name,
                                  .memory_bytes = memory,
                                  .max_leases = config.max_concurrent,
                                  .min_warm = config.min_warm});
    // Room for min_warm instances, and at least one, of every model at once.
    pool_config.memory_budget_bytes += memory * std::max(1, config.min_warm);
    pool_config.max_instances += std::max(1, config.min_warm);

    absl::StatusOr<std::unique_ptr<CircuitBreaker>> breaker =
        CircuitBreaker::Create(config.circuit_failures, absl::Seconds(config.circuit_open_s), clock);
    if (!breaker.ok()) return breaker.status();
    d->breakers_[model.name] = *std::move(breaker);
  }

  absl::StatusOr<hearth::PriceCatalog> catalog = LoadCatalog(config.catalog);
  if (!catalog.ok()) return catalog.status();
  hearth::CostOptimizerConfig optimizer_config;
  optimizer_config.cache.ttl = absl::Seconds(config.response_cache_ttl_s);
  if (config.route) {
    // Prices only order the tiers here: the small model first.
    optimizer_config.router.tiers = {{"small", config.route->small, 1, kSmallTierMaxDifficulty},
                                     {"large", config.route->large, 2, 1}};
  }
  absl::StatusOr<std::unique_ptr<hearth::CostOptimizer>> optimizer =
      hearth::CostOptimizer::Create(*std::move(catalog), optimizer_config, clock);
  if (!optimizer.ok()) return optimizer.status();
  d->optimizer_ = *std::move(optimizer);
  if (!config.catalog.empty()) {
    absl::StatusOr<const hearth::Offering*> offering = d->optimizer_->catalog().Find(config.offering);
    if (!offering.ok()) return offering.status();
    d->offering_ = *offering;
  }

  absl::StatusOr<std::unique_ptr<hearth::ScalingPolicy>> policy = MakePolicy(config);
  if (!policy.ok()) return policy.status();
  std::vector<std::unique_ptr<hearth::ScalingPolicy>> policies;
  policies.push_back(*std::move(policy));
  absl::StatusOr<std::unique_ptr<hearth::AutoScaler>> scaler = hearth::AutoScaler::Create(
      {.min_replicas = config.min_warm, .max_replicas = std::max(config.max_replicas, config.min_warm)},
      std::move(policies), clock);
  if (!scaler.ok()) return scaler.status();
  d->autoscaler_ = *std::move(scaler);

  absl::StatusOr<std::unique_ptr<hearth::Provisioner>> provisioner =
      hearth::MakeEngineProvisioner(std::move(engines));
  if (!provisioner.ok()) return provisioner.status();
  absl::StatusOr<std::unique_ptr<hearth::KeepAlivePolicy>> keep_alive =
      hearth::MakeFixedKeepAlive(absl::Seconds(config.keep_alive_s));
  if (!keep_alive.ok()) return keep_alive.status();
  d->tracker_ = std::make_shared<InstanceTracker>();
  absl::StatusOr<std::unique_ptr<hearth::WarmPool>> pool = hearth::WarmPool::Create(
      std::move(pool_config), d->tracker_->Wrap(*std::move(provisioner)), *std::move(keep_alive), clock);
  if (!pool.ok()) return pool.status();
  d->pool_ = *std::move(pool);

  d->control_thread_ = std::thread([raw = d.get()] { raw->ControlLoop(); });
  return d;
}

Deployment::~Deployment() {
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    stop_control_ = true;
  }
  control_cv_.notify_all();
  if (control_thread_.joinable()) control_thread_.join();
  pool_.reset();
}

std::vector<std::string> Deployment::ModelNames() const {
  std::vector<std::string> names;
  for (const ServedModel& model : config_.models) names.push_back(model.name);
  if (config_.route) names.emplace_back(kRoutedModelName);
  return names;
}

absl::StatusOr<std::string> Deployment::ResolveModel(const OpenAiRequest& request) {
  if (breakers_.contains(request.model)) return request.model;
  if (config_.route && request.model == kRoutedModelName) {
    const std::string text = RoutingText(request.generate);
    // The tokenizer belongs to an instance that may not be loaded: estimate 4 characters
    // per token, as OpenAI's guidance does for English text.
    const hearth::RouteDecision decision = optimizer_->router()->Route(
        {.prompt = text, .prompt_tokens = static_cast<int64_t>(text.size() / 4),
         .max_tokens = request.generate.max_tokens});
    return decision.model;
  }
  return absl::NotFoundError(absl::StrCat("the model '", request.model, "' does not exist; this server serves: ",
                                          absl::StrJoin(ModelNames(), ", ")));
}

std::optional<CachedAnswer> Deployment::LookupCache(const std::string& model, const OpenAiRequest& request) {
  std::optional<std::string> hit = optimizer_->cache().Lookup(model, request.generate, request.seed_explicit);
  if (!hit) return std::nullopt;
  std::optional<CachedAnswer> answer = ParseCacheValue(*hit);
  if (answer) metrics_.CountCacheHit();
  return answer;
}

absl::StatusOr<std::unique_ptr<Generation>> Deployment::Start(const std::string& model,
                                                              const OpenAiRequest& request, RequestSlot slot,
                                                              Generation::SteadyTime arrival) {
  CircuitBreaker& circuit = breaker(model);
  absl::StatusOr<hearth::Lease> lease =
      pool_->Acquire(model, absl::Now() + absl::Seconds(config_.queue_timeout_s));
  if (!lease.ok()) {
    if (absl::IsDeadlineExceeded(lease.status())) {
      circuit.RecordAbandoned();
      return absl::DeadlineExceededError(absl::StrCat("no instance of '", model, "' became free within ",
                                                      config_.queue_timeout_s, " s; retry later"));
    }
    circuit.RecordFailure();
    return absl::UnavailableError(
        absl::StrCat("the model '", model, "' could not be loaded: ", lease.status().message()));
  }
  absl::StatusOr<hearth::RequestId> id = lease->engine()->Submit(request.generate);
  if (!id.ok()) {
    if (absl::IsInvalidArgument(id.status()) || absl::IsOutOfRange(id.status()) ||
        absl::IsResourceExhausted(id.status())) {
      // The instance is fine; the request is not (a prompt longer than the context...).
      circuit.RecordSuccess();
      return absl::InvalidArgumentError(id.status().message());
    }
    circuit.RecordFailure();
    return absl::UnavailableError(absl::StrCat("the model '", model, "' refused the request: ", id.status().message()));
  }
  circuit.RecordSuccess();
  return std::make_unique<Generation>(std::move(slot), *std::move(lease), *id, arrival, &metrics_, &circuit);
}

Usage Deployment::Settle(const std::string& tenant, const std::string& model, const OpenAiRequest& request,
                         const hearth::GenerateResult& result, double held_seconds) {
  Usage usage{.prompt_tokens = result.prompt_tokens, .completion_tokens = result.completion_tokens};
  if (offering_ != nullptr) {
    usage.cost_usd = offering_->PricePerSecond() * held_seconds / config_.max_concurrent +
                     offering_->per_request;
    optimizer_->ledger()
        .RecordRequest({.tenant = tenant,
                        .model = model,
                        .prompt_tokens = result.prompt_tokens,
                        .output_tokens = result.completion_tokens,
                        .offering = offering_->name})
        .IgnoreError();  // valid by construction: names non-empty, counts >= 0
  }
  metrics_.AddCost(tenant, usage.cost_usd);
  if (result.finish_reason == hearth::FinishReason::kStop || result.finish_reason == hearth::FinishReason::kLength) {
    // Refused only when larger than the whole cache, or for a non-deterministic request.
    optimizer_->cache()
        .Insert(model, request.generate, request.seed_explicit,
                CacheValue({.text = result.text,
                            .finish_reason = std::string(FinishReasonText(result.finish_reason)),
                            .prompt_tokens = result.prompt_tokens,
                            .completion_tokens = result.completion_tokens}))
        .IgnoreError();
  }
  return usage;
}

Deployment::State Deployment::state() const {
  State s;
  s.queued = admission_.queued();
  s.in_flight = admission_.in_flight();
  s.desired_replicas = desired_replicas_;
  s.pool = pool_->metrics();
  s.starts = tracker_->starts();
  s.engine_load = tracker_->engine_load();
  for (const auto& [model, circuit] : breakers_) s.circuits[model] = circuit->state();
  return s;
}

void Deployment::ControlLoop() {
  auto last = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(control_mu_);
  while (!control_cv_.wait_for(lock, kControlPeriod, [this] { return stop_control_; })) {
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    ControlTick(std::chrono::duration<double>(now - last).count());
    last = now;
    lock.lock();
  }
}

void Deployment::ControlTick(double dt_s) {
  pool_->Tick();
  const hearth::WarmPoolMetrics pool = pool_->metrics();
  hearth::LoadSample sample;
  sample.time = absl::Now();
  for (const auto& [model, m] : pool.models) {
    const int loaded = m.idle + m.busy + m.draining;
    sample.ready_replicas += m.idle + m.busy;
    sample.starting_replicas += m.provisioning + m.loading;
    if (offering_ != nullptr && loaded > 0) {
      optimizer_->ledger()
          .RecordInstanceTime(model, offering_->name, absl::Seconds(dt_s * loaded))
          .IgnoreError();  // known offering, non-empty model, positive time
    }
  }
  sample.in_flight = admission_.in_flight();
  sample.queue_depth = admission_.queued();
  const uint64_t arrivals = metrics_.snapshot().arrivals;
  sample.arrival_rate = dt_s > 0 ? static_cast<double>(arrivals - last_arrivals_) / dt_s : 0;
  last_arrivals_ = arrivals;
  if (sample.ready_replicas > 0) {
    sample.utilization =
        std::min(1.0, sample.in_flight / (sample.ready_replicas * static_cast<double>(config_.max_concurrent)));
  }
  if (std::optional<absl::Duration> cold = hearth::MeasuredColdStart(pool)) autoscaler_->SetColdStart(*cold);
  if (autoscaler_->Observe(sample).ok()) desired_replicas_ = autoscaler_->Decide().desired_replicas;
}

}  // namespace hearth_server
