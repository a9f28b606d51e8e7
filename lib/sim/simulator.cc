#include "hearth/simulator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "hearth/clock.h"
#include "hearth/keep_alive.h"
#include "hearth/price_catalog.h"
#include "hearth/warm_pool.h"
#include "lib/sim/sim_events.h"
#include "lib/sim/sim_fleet.h"
#include "lib/sim/sim_replica.h"
#include "lib/sim/simulator_stats.h"

namespace hearth {
namespace {

absl::Status CheckDuration(absl::Duration d, const char* field, bool allow_zero) {
  if (d == absl::InfiniteDuration() || d < absl::ZeroDuration() ||
      (!allow_zero && d == absl::ZeroDuration())) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be finite and ",
                                                   allow_zero ? ">= 0" : "> 0", ", got ",
                                                   absl::FormatDuration(d)));
  }
  return absl::OkStatus();
}

bool PoliciesDisabled(const std::vector<std::string>& names) {
  return names.empty() || (names.size() == 1 && names[0] == "none");
}

absl::Status ValidateConfig(const SimulationConfig& c) {
  if (c.models.empty()) return absl::InvalidArgumentError("models: at least one model is needed");
  absl::flat_hash_map<std::string, int> seen;
  for (size_t i = 0; i < c.models.size(); ++i) {
    const SimModelConfig& m = c.models[i];
    const std::string field = absl::StrCat("models[", i, "]");
    if (m.name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ".name is empty"));
    if (!seen.emplace(m.name, 0).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".name: '", m.name, "' appears twice"));
    }
    if (absl::Status s = m.profile.Validate(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".profile: ", s.message()));
    }
    if (m.max_leases < 0 || m.max_leases > m.profile.max_sequences) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".max_leases must be in [0, profile.max_sequences = ", m.profile.max_sequences,
          "], got ", m.max_leases));
    }
    if (m.min_warm < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".min_warm must be >= 0, got ", m.min_warm));
    }
    if (m.always_on_replicas < 0 || m.always_on_replicas > m.min_warm) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".always_on_replicas must be in [0, min_warm = ", m.min_warm,
                       "], got ", m.always_on_replicas));
    }
  }
  if (c.max_instances <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_instances must be > 0, got ", c.max_instances));
  }
  if (c.memory_budget_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory_budget_bytes must be >= 0, got ", c.memory_budget_bytes));
  }
  if (!PoliciesDisabled(c.scaling_policies)) {
    for (const std::string& name : c.scaling_policies) {
      if (name == "none") {
        return absl::InvalidArgumentError(
            "scaling_policies: 'none' cannot be combined with other policies");
      }
    }
  }
  if (c.min_replicas < 0 || c.max_replicas < std::max(1, c.min_replicas)) {
    return absl::InvalidArgumentError(absl::StrCat("min_replicas (", c.min_replicas,
                                                   ") and max_replicas (", c.max_replicas,
                                                   ") must satisfy 0 <= min <= max and max >= 1"));
  }
  if (c.price_catalog_path.empty()) {
    return absl::InvalidArgumentError("price_catalog_path is empty");
  }
  if (!(c.provision_failure_rate >= 0 && c.provision_failure_rate < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("provision_failure_rate must be in [0, 1), got ", c.provision_failure_rate));
  }
  if (absl::Status s = CheckDuration(c.provisioning_overhead, "provisioning_overhead", true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckDuration(c.max_queue_wait, "max_queue_wait", false); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckDuration(c.slo_ttft, "slo_ttft", false); !s.ok()) return s;
  if (absl::Status s = CheckDuration(c.tick, "tick", false); !s.ok()) return s;
  if (!(std::isfinite(c.slo_prefill_slack) && c.slo_prefill_slack >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("slo_prefill_slack must be finite and >= 0, got ", c.slo_prefill_slack));
  }
  if (!(std::isfinite(c.horizon_s) && c.horizon_s >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("horizon_s must be finite and >= 0, got ", c.horizon_s));
  }
  return absl::OkStatus();
}

absl::Status ValidateTrace(absl::Span<const TraceRequest> trace,
                           const absl::flat_hash_map<std::string, int>& models) {
  double previous = 0;
  for (size_t i = 0; i < trace.size(); ++i) {
    const TraceRequest& r = trace[i];
    if (!(std::isfinite(r.arrival_s) && r.arrival_s >= previous)) {
      return absl::InvalidArgumentError(
          absl::StrCat("trace[", i, "].arrival_s: ", r.arrival_s,
                       " is not finite, negative or before the previous request's ", previous));
    }
    previous = r.arrival_s;
    if (!models.contains(r.model)) {
      return absl::InvalidArgumentError(
          absl::StrCat("trace[", i, "].model: '", r.model, "' is not in config.models"));
    }
    if (r.prompt_tokens < 0 || r.output_tokens < 0) {
      return absl::InvalidArgumentError(absl::StrCat("trace[", i, "]: prompt_tokens (",
                                                     r.prompt_tokens, ") and output_tokens (",
                                                     r.output_tokens, ") must be >= 0"));
    }
  }
  return absl::OkStatus();
}

// One request's path through the run.
struct RequestState {
  enum class Phase { kPending, kWaiting, kServing, kEnded };
  Phase phase = Phase::kPending;
  int output_tokens = 0;  // after truncation to the context
  SimInstance* instance = nullptr;
  Lease lease;
};

// Per model, the counters a tick samples.
struct ModelLoad {
  int64_t arrivals_in_tick = 0;
  int64_t waiting = 0;
  int64_t serving = 0;
  std::vector<double> ttfts_in_tick_ms;
  int desired = 0;
};

class SimulationRun {
 public:
  SimulationRun(const SimulationConfig& config, absl::Span<const TraceRequest> trace)
      : config_(config), trace_(trace), requests_(trace.size()), outcomes_(trace.size()) {}
  // After an error requests may still wait or hold leases. The pool goes first: it
  // answers its waiters (into granted_, still alive) and lets the leases outlive it; the
  // leases then return to no pool, and their instances' handles reach the fleet, which
  // is destroyed last of the three.
  ~SimulationRun() {
    pool_.reset();
    granted_.clear();
    requests_.clear();
  }
  SimulationRun(const SimulationRun&) = delete;
  SimulationRun& operator=(const SimulationRun&) = delete;

  absl::StatusOr<SimulationResult> Run();

 private:
  absl::Status Setup();
  absl::Status Process(const SimEvent& event);
  void Arrive(int64_t index);
  void OnLease(int64_t index, absl::StatusOr<Lease> lease);
  void DrainLeases();
  void Advance(SimInstance* instance);
  void HandleProgress(const std::vector<ReplicaProgress>& progress);
  void ScheduleChange(SimInstance* instance);
  absl::Status Tick();
  void SchedulePoolWakeup();
  void Reject(int64_t index, RejectReason reason);
  void End(int64_t index);
  double NowS() const { return SimSeconds(clock_.Now()); }

  const SimulationConfig& config_;
  absl::Span<const TraceRequest> trace_;
  ManualClock clock_{SimTime(0)};
  EventQueue events_;
  absl::flat_hash_map<std::string, int> model_index_;
  std::vector<double> cold_start_s_;
  std::unique_ptr<SimFleet> fleet_;
  std::unique_ptr<WarmPool> pool_;
  std::vector<std::unique_ptr<AutoScaler>> scalers_;  // per model; empty: none
  std::optional<PriceCatalog> catalog_;
  std::unique_ptr<CostLedger> ledger_;
  std::string offering_;
  std::string base_offering_;  // what always-on base instances are billed at

  std::vector<RequestState> requests_;
  std::vector<RequestOutcome> outcomes_;
  std::vector<ModelLoad> load_;
  std::deque<std::pair<int64_t, absl::StatusOr<Lease>>> granted_;
  std::vector<TimelinePoint> timeline_;
  int64_t ended_ = 0;
  int64_t pool_wakeup_ns_ = -1;  // the pending kPoolWakeup, -1 if none
  int64_t last_pool_tick_ns_ = -1;
  double end_s_ = 0;
  bool finished_ = false;
  absl::Status error_;  // the first internal inconsistency
};

absl::Status SimulationRun::Setup() {
  if (absl::Status s = ValidateConfig(config_); !s.ok()) return s;
  std::vector<SimFleetModel> fleet_models;
  WarmPoolConfig pool_config;
  pool_config.max_instances = config_.max_instances;
  int64_t largest = 0;
  for (size_t i = 0; i < config_.models.size(); ++i) {
    const SimModelConfig& m = config_.models[i];
    model_index_[m.name] = static_cast<int>(i);
    const double load_s = m.load_from_disk ? m.profile.load_cold_s : m.profile.load_warm_s;
    cold_start_s_.push_back(load_s + absl::ToDoubleSeconds(config_.provisioning_overhead));
    fleet_models.push_back({m.name, &m.profile, cold_start_s_.back(), m.always_on_replicas});
    pool_config.models.push_back(
        {.name = m.name,
         .memory_bytes = m.profile.memory_bytes(),
         .max_leases = m.max_leases > 0 ? m.max_leases : m.profile.max_sequences,
         .min_warm = m.min_warm});
    largest = std::max(largest, m.profile.memory_bytes());
  }
  pool_config.memory_budget_bytes = config_.memory_budget_bytes > 0
                                        ? config_.memory_budget_bytes
                                        : largest * config_.max_instances;
  if (absl::Status s = ValidateTrace(trace_, model_index_); !s.ok()) return s;

  absl::StatusOr<PriceCatalog> catalog = PriceCatalog::Load(config_.price_catalog_path);
  if (!catalog.ok()) return catalog.status();
  catalog_ = *std::move(catalog);
  const bool always_on =
      config_.scaling_policies.size() == 1 && config_.scaling_policies[0] == "static";
  offering_ = always_on ? config_.always_on_offering : config_.offering;
  if (absl::StatusOr<const Offering*> o = catalog_->Find(offering_); !o.ok()) {
    return absl::Status(
        o.status().code(),
        absl::StrCat(always_on ? "always_on_offering: " : "offering: ", o.status().message()));
  }
  const bool has_base = std::any_of(config_.models.begin(), config_.models.end(),
                                    [](const SimModelConfig& m) { return m.always_on_replicas > 0; });
  if (has_base && !always_on) {
    if (absl::StatusOr<const Offering*> o = catalog_->Find(config_.always_on_offering); !o.ok()) {
      return absl::Status(o.status().code(),
                          absl::StrCat("always_on_offering: ", o.status().message()));
    }
    base_offering_ = config_.always_on_offering;
  } else {
    base_offering_ = offering_;
  }
  absl::StatusOr<std::unique_ptr<CostLedger>> ledger =
      CostLedger::Create(&*catalog_, config_.ledger, &clock_);
  if (!ledger.ok()) return ledger.status();
  ledger_ = *std::move(ledger);
  for (const auto& [tenant, budget] : config_.budgets) {
    if (absl::Status s = ledger_->SetBudget(tenant, budget); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("budgets[", tenant, "]: ", s.message()));
    }
  }

  if (!PoliciesDisabled(config_.scaling_policies)) {
    for (size_t i = 0; i < config_.models.size(); ++i) {
      std::vector<std::unique_ptr<ScalingPolicy>> policies;
      for (const std::string& name : config_.scaling_policies) {
        absl::StatusOr<std::unique_ptr<ScalingPolicy>> p =
            config_.policy_factory ? config_.policy_factory(config_.models[i].name, name)
                                   : MakeScalingPolicy(name);
        if (!p.ok()) {
          return absl::Status(p.status().code(),
                              absl::StrCat("scaling_policies: ", p.status().message()));
        }
        policies.push_back(*std::move(p));
      }
      absl::StatusOr<std::unique_ptr<AutoScaler>> scaler = AutoScaler::Create(
          {.min_replicas = config_.min_replicas, .max_replicas = config_.max_replicas},
          std::move(policies), &clock_);
      if (!scaler.ok()) return scaler.status();
      (*scaler)->SetColdStart(absl::Seconds(cold_start_s_[i]));
      scalers_.push_back(*std::move(scaler));
    }
  }

  absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> keep_alive =
      MakeKeepAlivePolicy(config_.keep_alive);
  if (!keep_alive.ok()) {
    return absl::Status(keep_alive.status().code(),
                        absl::StrCat("keep_alive: ", keep_alive.status().message()));
  }
  fleet_ = std::make_unique<SimFleet>(std::move(fleet_models), &events_, &clock_,
                                      config_.provision_failure_rate, config_.seed);
  absl::StatusOr<std::unique_ptr<WarmPool>> pool = WarmPool::Create(
      std::move(pool_config), fleet_->MakeProvisioner(), *std::move(keep_alive), &clock_);
  if (!pool.ok()) return pool.status();
  pool_ = *std::move(pool);
  load_.resize(config_.models.size());

  for (size_t i = 0; i < trace_.size(); ++i) {
    events_.Push(SimNanos(trace_[i].arrival_s), EventKind::kArrival, static_cast<int64_t>(i));
    outcomes_[i].model = model_index_[trace_[i].model];
  }
  const double tick_s = absl::ToDoubleSeconds(config_.tick);
  const double last = std::max(trace_.empty() ? 0.0 : trace_.back().arrival_s, config_.horizon_s);
  end_s_ = std::ceil(last / tick_s) * tick_s;
  events_.Push(SimNanos(tick_s), EventKind::kScalerTick, 0);
  return absl::OkStatus();
}

void SimulationRun::Arrive(int64_t index) {
  const TraceRequest& r = trace_[index];
  const int m = model_index_[r.model];
  RequestOutcome& out = outcomes_[index];
  out.arrival_s = r.arrival_s;
  ++load_[m].arrivals_in_tick;
  const ReplicaProfile& profile = config_.models[m].profile;
  if (r.prompt_tokens == 0) {
    Reject(index, RejectReason::kEmptyPrompt);
    return;
  }
  if (r.prompt_tokens >= profile.context_length) {
    Reject(index, RejectReason::kPromptTooLong);
    return;
  }
  RequestState& state = requests_[index];
  state.output_tokens = std::min(r.output_tokens, profile.context_length - r.prompt_tokens);
  out.truncated = state.output_tokens < r.output_tokens;
  state.phase = RequestState::Phase::kWaiting;
  ++load_[m].waiting;
  pool_->AcquireAsync(r.model, clock_.Now() + config_.max_queue_wait,
                      [this, index](absl::StatusOr<Lease> lease) {
                        granted_.emplace_back(index, std::move(lease));
                      });
}

void SimulationRun::DrainLeases() {
  while (!granted_.empty()) {
    auto [index, lease] = std::move(granted_.front());
    granted_.pop_front();
    OnLease(index, std::move(lease));
  }
}

void SimulationRun::OnLease(int64_t index, absl::StatusOr<Lease> lease) {
  RequestState& state = requests_[index];
  const int m = outcomes_[index].model;
  if (state.phase != RequestState::Phase::kWaiting) {
    error_.Update(absl::InternalError(absl::StrCat("request ", index, " leased twice")));
    return;
  }
  --load_[m].waiting;
  if (!lease.ok()) {
    switch (lease.status().code()) {
      case absl::StatusCode::kDeadlineExceeded:
        Reject(index, RejectReason::kQueueTimeout);
        break;
      case absl::StatusCode::kUnavailable:  // what the simulated provisioner fails with
        Reject(index, RejectReason::kProvisionerError);
        break;
      default:
        Reject(index, RejectReason::kPoolError);
    }
    return;
  }
  SimInstance* instance = fleet_->Find(lease->instance_id());
  if (instance == nullptr || !instance->loaded()) {
    error_.Update(absl::InternalError(
        absl::StrCat("request ", index, " leased instance ", lease->instance_id(), " not loaded")));
    return;
  }
  const double now = NowS();
  state.phase = RequestState::Phase::kServing;
  state.instance = instance;
  state.lease = *std::move(lease);
  ++load_[m].serving;
  outcomes_[index].cold_start = instance->ready_s > outcomes_[index].arrival_s;
  instance->AddLeases(1, now);
  std::vector<ReplicaProgress> progress;
  const TraceRequest& r = trace_[index];
  if (absl::Status s = instance->replica.Add(now, index, r.prompt_tokens,
                                             std::max(1, state.output_tokens), &progress);
      !s.ok()) {
    error_.Update(absl::InternalError(s.message()));
    return;
  }
  HandleProgress(progress);
  ScheduleChange(instance);
}

void SimulationRun::Advance(SimInstance* instance) {
  std::vector<ReplicaProgress> progress;
  instance->replica.AdvanceTo(NowS(), &progress);
  HandleProgress(progress);
  ScheduleChange(instance);
}

void SimulationRun::HandleProgress(const std::vector<ReplicaProgress>& progress) {
  for (const ReplicaProgress& p : progress) {
    RequestOutcome& out = outcomes_[p.request];
    if (p.kind == ReplicaProgress::Kind::kFirstToken) {
      out.ttft_s = p.time_s - out.arrival_s;
      load_[out.model].ttfts_in_tick_ms.push_back(out.ttft_s * 1e3);
      continue;
    }
    RequestState& state = requests_[p.request];
    const TraceRequest& r = trace_[p.request];
    out.e2e_s = p.time_s - out.arrival_s;
    out.served = true;
    out.prompt_tokens = r.prompt_tokens;
    out.output_tokens = state.output_tokens;
    if (absl::Status s = ledger_->RecordRequest({.tenant = r.tenant,
                                                 .model = r.model,
                                                 .prompt_tokens = r.prompt_tokens,
                                                 .output_tokens = state.output_tokens,
                                                 .offering = state.instance->always_on
                                                                 ? base_offering_
                                                                 : offering_});
        !s.ok()) {
      error_.Update(s);
    }
    --load_[out.model].serving;
    state.instance->AddLeases(-1, NowS());
    state.instance = nullptr;
    End(p.request);
    // May hand the slot to a waiter at once: its callback only queues it in granted_.
    state.lease.Release();
  }
}

void SimulationRun::ScheduleChange(SimInstance* instance) {
  const double next = instance->replica.NextChangeS();
  if (!std::isfinite(next)) return;
  const int64_t at = SimNanos(next);
  if (instance->change_event_ns >= 0 && instance->change_event_ns <= at) return;
  instance->change_event_ns = at;
  events_.Push(at, EventKind::kInstanceChange, instance->id);
}

void SimulationRun::Reject(int64_t index, RejectReason reason) {
  outcomes_[index].rejected = reason;
  End(index);
}

void SimulationRun::End(int64_t index) {
  RequestState& state = requests_[index];
  if (state.phase == RequestState::Phase::kEnded) {
    error_.Update(absl::InternalError(absl::StrCat("request ", index, " ended twice")));
    return;
  }
  state.phase = RequestState::Phase::kEnded;
  ++ended_;
}

absl::Status SimulationRun::Tick() {
  const double now = NowS();
  const double tick_s = absl::ToDoubleSeconds(config_.tick);
  for (size_t m = 0; m < config_.models.size(); ++m) {
    LoadSample sample;
    sample.time = clock_.Now();
    int64_t tokens = 0;
    double busy_s = 0, memory_fraction = 0;
    const ReplicaProfile& profile = config_.models[m].profile;
    for (SimInstance* instance : fleet_->LiveInstances(static_cast<int>(m))) {
      if (instance->starting()) ++sample.starting_replicas;
      if (!instance->loaded()) continue;
      Advance(instance);
      ++sample.ready_replicas;
      tokens += instance->replica.output_tokens() - instance->tick_tokens;
      busy_s += instance->replica.busy_s() - instance->tick_busy_s;
      instance->tick_tokens = instance->replica.output_tokens();
      instance->tick_busy_s = instance->replica.busy_s();
      memory_fraction +=
          static_cast<double>(profile.weights_bytes +
                              instance->replica.context_tokens() * profile.kv_bytes_per_token) /
          static_cast<double>(profile.memory_bytes());
    }
    ModelLoad& load = load_[m];
    sample.in_flight = static_cast<double>(load.serving);
    sample.queue_depth = static_cast<double>(load.waiting);
    sample.arrival_rate = static_cast<double>(load.arrivals_in_tick) / tick_s;
    sample.tokens_per_s = static_cast<double>(tokens) / tick_s;
    if (sample.ready_replicas > 0) {
      // A step in progress at the tick is counted when it ends: clamp the overhang.
      sample.utilization = std::min(1.0, busy_s / (tick_s * sample.ready_replicas));
      sample.memory_utilization = std::min(1.0, memory_fraction / sample.ready_replicas);
    }
    sample.ttft_p50_ms = ExactQuantile(load.ttfts_in_tick_ms, 0.50);
    sample.ttft_p99_ms = ExactQuantile(load.ttfts_in_tick_ms, 0.99);
    if (!scalers_.empty()) {
      if (absl::Status s = scalers_[m]->Observe(sample); !s.ok()) {
        return absl::InternalError(
            absl::StrCat("model ", config_.models[m].name, ": sample rejected: ", s.message()));
      }
      load.desired = scalers_[m]->Decide().desired_replicas;
      if (absl::Status s = pool_->SetDesiredInstances(config_.models[m].name, load.desired);
          !s.ok()) {
        return s;
      }
    }
    timeline_.push_back({.time_s = now,
                         .model = config_.models[m].name,
                         .arrivals = load.arrivals_in_tick,
                         .in_flight = load.serving,
                         .queue_depth = load.waiting,
                         .ready = sample.ready_replicas,
                         .starting = sample.starting_replicas,
                         .desired = load.desired});
    load.arrivals_in_tick = 0;
    load.ttfts_in_tick_ms.clear();
  }
  if (ended_ == static_cast<int64_t>(trace_.size()) && now >= end_s_ - 1e-9) {
    finished_ = true;
  } else {
    events_.Push(SimNanos(now + tick_s), EventKind::kScalerTick, 0);
  }
  return absl::OkStatus();
}

void SimulationRun::SchedulePoolWakeup() {
  const absl::Time wakeup = pool_->NextWakeup();
  if (wakeup == absl::InfiniteFuture()) return;
  int64_t at = absl::ToUnixNanos(wakeup);
  if (absl::FromUnixNanos(at) < wakeup) ++at;
  const int64_t now = absl::ToUnixNanos(clock_.Now());
  at = std::max(at, now);
  // The pool was ticked at this very time and still has work now: look again a
  // millisecond later rather than spin.
  if (at <= last_pool_tick_ns_) at = last_pool_tick_ns_ + 1'000'000;
  if (pool_wakeup_ns_ >= 0 && pool_wakeup_ns_ <= at) return;
  pool_wakeup_ns_ = at;
  events_.Push(at, EventKind::kPoolWakeup, 0);
}

absl::Status SimulationRun::Process(const SimEvent& event) {
  clock_.Set(absl::FromUnixNanos(event.time_ns));
  switch (event.kind) {
    case EventKind::kArrival:
      Arrive(event.id);
      break;
    case EventKind::kInstanceReady:
      fleet_->Ready(event.id);
      break;
    case EventKind::kInstanceChange:
      if (SimInstance* instance = fleet_->Find(event.id)) {
        if (instance->change_event_ns == event.time_ns) instance->change_event_ns = -1;
        if (instance->loaded()) Advance(instance);
      }
      break;
    case EventKind::kScalerTick:
      if (absl::Status s = Tick(); !s.ok()) return s;
      break;
    case EventKind::kPoolWakeup:
      if (pool_wakeup_ns_ == event.time_ns) pool_wakeup_ns_ = -1;
      last_pool_tick_ns_ = event.time_ns;
      pool_->Tick();
      break;
  }
  DrainLeases();
  SchedulePoolWakeup();
  return error_;
}

absl::StatusOr<SimulationResult> SimulationRun::Run() {
  if (absl::Status s = Setup(); !s.ok()) return s;
  DrainLeases();  // min_warm starts may already have answered
  SchedulePoolWakeup();
  while (!finished_) {
    std::optional<SimEvent> event = events_.Pop();
    if (!event.has_value()) break;
    if (absl::Status s = Process(*event); !s.ok()) return s;
  }
  const uint64_t processed = events_.popped();
  // Close the books at the end: starts in progress are cancelled, and destroying the pool
  // destroys every handle (all idle by now), which stamps each instance's end.
  fleet_->CancelStarts();
  DrainLeases();
  SimulationResult result;
  const WarmPoolMetrics pool_metrics = pool_->metrics();
  result.pool_cold_starts = pool_metrics.cold_starts;
  result.pool_warm_hits = pool_metrics.warm_hits;
  pool_.reset();
  if (!error_.ok()) return error_;
  for (size_t i = 0; i < requests_.size(); ++i) {
    if (requests_[i].phase != RequestState::Phase::kEnded) {
      return absl::InternalError(absl::StrCat("request ", i, " never ended"));
    }
  }

  const double end = NowS();
  std::vector<InstanceOutcome> instances;
  for (const auto& instance : fleet_->instances()) {
    const double gone = std::min(instance->gone_s, end);
    const double loaded = instance->ready_s < gone ? gone - instance->ready_s : 0;
    instances.push_back({.model = instance->model,
                         .billed_s = gone - instance->start_s,
                         .loaded_s = loaded,
                         .idle_s = std::max(0.0, loaded - instance->leased_s)});
    if (absl::Status s =
            ledger_->RecordInstanceTime(fleet_->models()[instance->model].name,
                                        instance->always_on ? base_offering_ : offering_,
                                        absl::Seconds(gone - instance->start_s));
        !s.ok()) {
      return s;
    }
  }
  result.cost = ledger_->Report();
  result.alerts = ledger_->alerts();
  result.billed_offering =
      base_offering_ == offering_ ? offering_ : absl::StrCat(base_offering_, " + ", offering_);
  result.duration_s = end;
  result.events = processed;
  result.timeline = std::move(timeline_);
  std::vector<std::string> names;
  for (const SimModelConfig& m : config_.models) names.push_back(m.name);
  if (absl::Status s = SummarizeSimulation(config_, names, outcomes_, instances, &result);
      !s.ok()) {
    return s;
  }
  return result;
}

}  // namespace

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kQueueTimeout:
      return "queue_timeout";
    case RejectReason::kPromptTooLong:
      return "prompt_too_long";
    case RejectReason::kProvisionerError:
      return "provisioner_error";
    case RejectReason::kPoolError:
      return "pool_error";
    case RejectReason::kEmptyPrompt:
      return "empty_prompt";
  }
  return "unknown";
}

int64_t SimulationTotals::rejected_total() const {
  int64_t total = 0;
  for (int64_t r : rejected) total += r;
  return total;
}

absl::StatusOr<SimulationResult> Simulate(const SimulationConfig& config,
                                          absl::Span<const TraceRequest> trace) {
  return SimulationRun(config, trace).Run();
}

}  // namespace hearth
