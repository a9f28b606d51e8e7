#include "hearth/warm_pool.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace hearth {

std::string_view InstanceStateName(InstanceState state) {
  switch (state) {
    case InstanceState::kProvisioning: return "provisioning";
    case InstanceState::kLoading: return "loading";
    case InstanceState::kIdle: return "idle";
    case InstanceState::kBusy: return "busy";
    case InstanceState::kDraining: return "draining";
    case InstanceState::kGone: return "gone";
  }
  return "unknown";
}

namespace {

using LeaseCallback = std::function<void(absl::StatusOr<Lease>)>;

Histogram EmptyLatencyHistogram() {
  Histogram h;
  h.upper_bounds = DefaultLatencyBoundsMs();
  h.counts.assign(h.upper_bounds.size() + 1, 0);
  return h;
}

// Counts `ms` in the bucket (upper_bounds[i-1], upper_bounds[i]] holding it.
void AddSample(Histogram& h, double ms) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(h.upper_bounds.begin(), h.upper_bounds.end(), ms) - h.upper_bounds.begin());
  ++h.counts[bucket];
  ++h.count;
  h.sum += ms;
}

absl::Time SaturatingAdd(absl::Time t, absl::Duration d) {
  return d == absl::InfiniteDuration() ? absl::InfiniteFuture() : t + d;
}

}  // namespace

// Everything the pool is, shared by the WarmPool and the leases and provisioner callbacks
// it hands out, so that both may outlive the WarmPool object.
//
// Every entry point follows one pattern: under mu_, read the clock, integrate the metrics
// up to now, expire waiters' deadlines, do the work, and collect what must happen outside
// the lock (provisioner starts, answers to waiters, handles to destroy) in an Effects;
// then run those after unlocking.
class Lease::Core : public std::enable_shared_from_this<Lease::Core> {
 public:
  Core(WarmPoolConfig config, std::unique_ptr<Provisioner> provisioner,
       std::unique_ptr<KeepAlivePolicy> keep_alive, Clock* clock)
      : budget_(config.memory_budget_bytes),
        max_instances_(config.max_instances),
        provisioner_(std::move(provisioner)),
        keep_alive_(std::move(keep_alive)),
        clock_(clock),
        last_integrated_(clock->Now()),
        wait_time_ms_(EmptyLatencyHistogram()),
        cold_start_ms_(EmptyLatencyHistogram()) {
    for (WarmPoolModelConfig& m : config.models) {
      model_index_[m.name] = static_cast<int>(models_.size());
      models_.push_back(Model{std::move(m)});
    }
  }

  bool UsesRealClock() const { return clock_ == RealClock(); }

  void Start() {
    Effects fx;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Pump(clock_->Now(), fx, /*maintain_floors=*/true);
    }
    Run(fx);
  }

  void AcquireAsync(std::string_view model_name, absl::Time deadline, LeaseCallback on_lease) {
    Effects fx;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const absl::Time now = Begin(fx);
      auto it = model_index_.find(absl::string_view(model_name.data(), model_name.size()));
      if (shutdown_ || it == model_index_.end()) {
        ++failed_other_;
        fx.answers.emplace_back(
            std::move(on_lease),
            shutdown_ ? absl::CancelledError("the WarmPool is being destroyed")
                      : absl::NotFoundError(
                            absl::StrCat("WarmPool has no model '", std::string(model_name), "'")));
      } else {
        Enqueue(it->second, deadline, std::move(on_lease), now, fx);
      }
    }
    Run(fx);
  }

  void Release(int64_t instance_id) {
    Effects fx;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const absl::Time now = Begin(fx);
      auto it = instances_.find(instance_id);
      if (it != instances_.end() && it->second.leases > 0) {
        Instance& inst = it->second;
        Model& m = models_[inst.model];
        --inst.leases;
        --m.leases;
        inst.last_used = now;
        if (m.leases == 0) m.no_lease_since = now;
        if (inst.leases == 0 && inst.state == InstanceState::kDraining) {
          Remove(instance_id, fx);
        } else {
          // The freed slot goes to the next waiter of the model if there is one;
          // otherwise, once no lease is left, the instance goes idle under its keep-alive
          // window, and may then make room for other models' waiters.
          Pump(now, fx, /*maintain_floors=*/false);
          if (inst.leases == 0) {
            GoIdle(inst, now, fx);
            Pump(now, fx, /*maintain_floors=*/false);
          }
        }
      }
    }
    Run(fx);
  }

  absl::Status Prewarm(std::string_view model_name, int count) {
    Effects fx;
    absl::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Begin(fx);
      absl::StatusOr<int> model = Find(model_name, count);
      int started = 0;
      while (model.ok() && started < count && TryStart(*model, /*for_waiters=*/false, fx) != 0) {
        ++started;
      }
      if (!model.ok()) {
        status = model.status();
      } else if (started < count) {
        status = absl::ResourceExhaustedError(absl::StrCat(
            "Prewarm('", std::string(model_name), "', ", count, "): capacity for ", started,
            " only (memory budget ", budget_, " bytes, max_instances ", max_instances_, ")"));
      }
    }
    Run(fx);
    return status;
  }

  // Like every entry point, these run the effects even when they fail: Begin() may have
  // answered expired waiters, whose callbacks must still run.
  absl::Status SetDesired(std::string_view model_name, int count) {
    Effects fx;
    absl::StatusOr<int> model;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const absl::Time now = Begin(fx);
      model = Find(model_name, count);
      if (model.ok()) {
        models_[*model].desired = count;
        ExpireIdle(now, fx);
        Pump(now, fx, /*maintain_floors=*/true);
      }
    }
    Run(fx);
    return model.status();
  }

  absl::Status Retire(int64_t instance_id) {
    Effects fx;
    absl::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const absl::Time now = Begin(fx);
      auto it = instances_.find(instance_id);
      if (it == instances_.end() || it->second.retiring) {
        status = absl::NotFoundError(absl::StrCat("WarmPool has no live instance ", instance_id));
      } else {
        RetireLocked(it->second, fx);
        Pump(now, fx, /*maintain_floors=*/false);
      }
    }
    Run(fx);
    return status;
  }

  void Tick() {
    Effects fx;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const absl::Time now = Begin(fx);
      while (!reloads_.empty() && reloads_.begin()->at <= now) {
        const Reload r = *reloads_.begin();
        reloads_.erase(reloads_.begin());
        // A reload that finds no room is dropped: the next request starts cold instead.
        if (const int64_t id = TryStart(r.model, /*for_waiters=*/false, fx); id != 0) {
          instances_.at(id).reload_expire = SaturatingAdd(r.at, r.keep_alive);
        }
      }
      ExpireIdle(now, fx);
      Pump(now, fx, /*maintain_floors=*/true);
    }
    Run(fx);
  }

  absl::Time NextWakeup() {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Time next = absl::InfiniteFuture();
    if (!deadlines_.empty()) next = std::min(next, deadlines_.begin()->first);
    if (!reloads_.empty()) next = std::min(next, reloads_.begin()->at);
    const std::vector<int> live = LiveCounts();
    for (const auto& [id, inst] : instances_) {
      if (inst.state == InstanceState::kIdle && live[inst.model] > Floor(inst.model)) {
        next = std::min(next, inst.expire_at);
      }
    }
    return next;
  }

  WarmPoolMetrics Metrics() {
    std::lock_guard<std::mutex> lock(mu_);
    Integrate(clock_->Now());
    WarmPoolMetrics out;
    out.warm_hits = warm_hits_;
    out.cold_starts = cold_starts_;
    out.failed_deadline = failed_deadline_;
    out.failed_provisioner = failed_provisioner_;
    out.failed_other = failed_other_;
    out.instances_started = instances_started_;
    out.instances_failed = instances_failed_;
    out.instances_evicted = instances_evicted_;
    out.instances_expired = instances_expired_;
    out.wait_time_ms = wait_time_ms_;
    out.cold_start_ms = cold_start_ms_;
    out.idle_instance_seconds = idle_instance_seconds_;
    out.idle_byte_seconds = idle_byte_seconds_;
    out.loaded_instance_seconds = loaded_instance_seconds_;
    out.memory_bytes = memory_in_use_;
    out.instances = static_cast<int>(instances_.size());
    for (const Model& m : models_) {
      ModelPoolMetrics& mm = out.models[m.config.name];
      mm.leases = m.leases;
      mm.waiting = static_cast<int>(m.waiters.size());
      mm.desired = m.desired;
      mm.min_warm = m.config.min_warm;
      mm.memory_bytes = m.bytes();
      mm.warm_hits = m.warm_hits;
      mm.cold_starts = m.cold_starts;
      mm.last_cold_start_ms = m.last_cold_start_ms;
    }
    for (const auto& [id, inst] : instances_) {
      ModelPoolMetrics& mm = out.models[models_[inst.model].config.name];
      switch (inst.state) {
        case InstanceState::kProvisioning: ++mm.provisioning; break;
        case InstanceState::kLoading: ++mm.loading; break;
        case InstanceState::kIdle: ++mm.idle; break;
        case InstanceState::kBusy: ++mm.busy; break;
        case InstanceState::kDraining: ++mm.draining; break;
        case InstanceState::kGone: break;
      }
    }
    return out;
  }

  // The WarmPool is going: nothing new starts, waiters are cancelled, idle instances go,
  // busy ones drain. Returns once no thread is inside Provisioner::Start, so the
  // provisioner can be destroyed.
  void Shutdown() {
    Effects fx;
    std::unique_ptr<Provisioner> provisioner;
    {
      std::unique_lock<std::mutex> lock(mu_);
      Begin(fx);
      shutdown_ = true;
      reloads_.clear();
      for (Model& m : models_) {
        while (!m.waiters.empty()) {
          Answer(m.waiters.begin()->first, absl::CancelledError("the WarmPool is being destroyed"),
                 fx);
          ++failed_other_;
        }
      }
      std::vector<int64_t> ids;
      for (const auto& [id, inst] : instances_) ids.push_back(id);
      for (int64_t id : ids) RetireLocked(instances_.at(id), fx);
      no_start_in_flight_.wait(lock, [this] { return starts_in_flight_ == 0; });
      provisioner = std::move(provisioner_);
    }
    Run(fx);
    // Destroyed outside the lock: an EngineProvisioner joins its loading threads, whose
    // done callbacks take the lock.
    provisioner.reset();
  }

 private:
  struct Waiter {
    absl::Time deadline;
    absl::Time enqueued;
    LeaseCallback on_lease;
    int64_t counting_on = 0;  // the starting instance it waits for; 0: a free slot
  };

  struct Model {
    WarmPoolModelConfig config;
    int64_t learned_bytes = 0;  // from the first handle when config.memory_bytes == 0
    int desired = 0;
    int leases = 0;
    std::optional<absl::Time> no_lease_since;  // since the last lease returned
    std::map<int64_t, Waiter> waiters;         // by id: first in, first out
    uint64_t warm_hits = 0, cold_starts = 0;
    double last_cold_start_ms = 0;

    int64_t bytes() const { return config.memory_bytes > 0 ? config.memory_bytes : learned_bytes; }
  };

  struct Instance {
    int64_t id = 0;
    int model = 0;
    InstanceState state = InstanceState::kProvisioning;
    std::unique_ptr<InstanceHandle> handle;
    Engine* engine = nullptr;
    int64_t bytes = 0;  // reserved while starting, then the handle's
    int leases = 0;
    absl::Time started;
    absl::Time last_used;
    absl::Time expire_at = absl::InfiniteFuture();  // keep-alive end while idle
    // Set for an instance a pre-warm timer started: its first keep-alive end.
    std::optional<absl::Time> reload_expire;
    bool retiring = false;          // told to go before it was loaded
    std::vector<int64_t> counting;  // waiters counting on it while it starts
  };

  struct Reload {
    absl::Time at;
    int64_t seq;
    int model;
    absl::Duration keep_alive;
    bool operator<(const Reload& o) const { return std::tie(at, seq) < std::tie(o.at, o.seq); }
  };

  struct Effects {
    std::vector<InstanceSpec> starts;
    std::vector<std::pair<LeaseCallback, absl::StatusOr<Lease>>> answers;
    std::vector<std::unique_ptr<InstanceHandle>> graveyard;
  };

  void Run(Effects& fx) {
    fx.graveyard.clear();
    for (InstanceSpec& spec : fx.starts) {
      std::shared_ptr<Core> self = shared_from_this();
      const int64_t id = spec.instance_id;
      spec.on_loading = [self, id] { self->OnLoading(id); };
      provisioner_->Start(spec, [self, id](absl::StatusOr<std::unique_ptr<InstanceHandle>> r) {
        self->OnDone(id, std::move(r));
      });
      std::lock_guard<std::mutex> lock(mu_);
      if (--starts_in_flight_ == 0) no_start_in_flight_.notify_all();
    }
    for (auto& [on_lease, result] : fx.answers) on_lease(std::move(result));
  }

  void OnLoading(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    Integrate(clock_->Now());
    auto it = instances_.find(id);
    if (it != instances_.end() && it->second.state == InstanceState::kProvisioning) {
      it->second.state = InstanceState::kLoading;
    }
  }

  void OnDone(int64_t id, absl::StatusOr<std::unique_ptr<InstanceHandle>> result) {
    Effects fx;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const absl::Time now = Begin(fx);
      auto it = instances_.find(id);
      if (it == instances_.end() || !IsStarting(it->second)) {  // done called twice
        if (result.ok()) fx.graveyard.push_back(std::move(*result));
      } else {
        Loaded(it->second, id, std::move(result), now, fx);
      }
    }
    Run(fx);
  }

  void Loaded(Instance& inst, int64_t id, absl::StatusOr<std::unique_ptr<InstanceHandle>> result,
              absl::Time now, Effects& fx) {
    Model& m = models_[inst.model];
    absl::Status failure = result.status();
    if (result.ok() && *result == nullptr) {
      failure = absl::InternalError(
          absl::StrCat("provisioner of model '", m.config.name, "' returned no instance"));
    }
    if (failure.ok()) {
      inst.handle = std::move(*result);
      const int64_t actual =
          inst.handle->memory_bytes() > 0 ? inst.handle->memory_bytes() : inst.bytes;
      if (actual > inst.bytes &&
          !MakeRoom(inst.model, actual - inst.bytes, 0, /*for_waiters=*/true, fx)) {
        failure = absl::ResourceExhaustedError(absl::StrCat(
            "instance of model '", m.config.name, "' holds ", actual,
            " bytes, more than the memory budget (", budget_, " bytes) leaves for it"));
      } else {
        memory_in_use_ += actual - inst.bytes;
        inst.bytes = actual;
        if (m.config.memory_bytes == 0) m.learned_bytes = actual;
      }
    }
    if (!failure.ok()) {
      ++instances_failed_;
      for (int64_t w : std::vector<int64_t>(inst.counting)) {
        Answer(w, failure, fx);
        ++(failure.code() == absl::StatusCode::kResourceExhausted ? failed_other_
                                                                  : failed_provisioner_);
      }
      Remove(id, fx);
      Pump(now, fx, /*maintain_floors=*/false);
      return;
    }
    // Only a start that produced a serving instance is a cold start to plan with: a
    // failure's time (a missing file fails at once) would understate it.
    const double cold_ms = absl::ToDoubleMilliseconds(now - inst.started);
    AddSample(cold_start_ms_, cold_ms);
    m.last_cold_start_ms = cold_ms;
    inst.engine = inst.handle->engine();
    Detach(inst);
    if (inst.retiring) {
      Remove(id, fx);
      Pump(now, fx, /*maintain_floors=*/false);
      return;
    }
    // Busy until the pump has served the waiters, so that starting instances for other
    // models cannot evict it meanwhile.
    inst.state = InstanceState::kBusy;
    inst.last_used = now;
    Pump(now, fx, /*maintain_floors=*/false);
    if (inst.leases == 0) {
      inst.state = InstanceState::kIdle;
      // Freshly loaded and unused: keep it for the keep-alive window (from the pre-warm
      // point for a reloaded one); a pre-warm window would only unload it again.
      inst.expire_at = inst.reload_expire.value_or(
          SaturatingAdd(now, keep_alive_->WindowFor(m.config.name).keep_alive));
      ExpireIdle(now, fx);
      Pump(now, fx, /*maintain_floors=*/false);
    }
  }

  // Reads the clock (never backwards), integrates metrics up to it and answers waiters
  // whose deadline has passed.
  absl::Time Begin(Effects& fx) {
    const absl::Time now = std::max(clock_->Now(), last_integrated_);
    Integrate(now);
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const int64_t w = deadlines_.begin()->second;
      const Model& m = models_[waiter_model_.at(w)];
      Answer(w,
             absl::DeadlineExceededError(
                 absl::StrCat("no instance of model '", m.config.name, "' before the deadline")),
             fx);
      ++failed_deadline_;
    }
    return now;
  }

  void Integrate(absl::Time now) {
    if (now <= last_integrated_) return;
    const double dt = absl::ToDoubleSeconds(now - last_integrated_);
    last_integrated_ = now;
    for (const auto& [id, inst] : instances_) {
      if (inst.state == InstanceState::kIdle) {
        idle_instance_seconds_ += dt;
        idle_byte_seconds_ += dt * static_cast<double>(inst.bytes);
      }
      if (inst.state == InstanceState::kIdle || inst.state == InstanceState::kBusy ||
          inst.state == InstanceState::kDraining) {
        loaded_instance_seconds_ += dt;
      }
    }
  }

  absl::StatusOr<int> Find(std::string_view model_name, int count) const {
    if (count < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "instance count for model '", std::string(model_name), "' must be >= 0, got ", count));
    }
    auto it = model_index_.find(absl::string_view(model_name.data(), model_name.size()));
    if (it == model_index_.end()) {
      return absl::NotFoundError(
          absl::StrCat("WarmPool has no model '", std::string(model_name), "'"));
    }
    return it->second;
  }

  void Enqueue(int model, absl::Time deadline, LeaseCallback on_lease, absl::Time now,
               Effects& fx) {
    Model& m = models_[model];
    // The model's idle period ends with this request; a pending pre-warm for it is moot.
    if (m.leases == 0 && m.waiters.empty() && m.no_lease_since.has_value()) {
      // The duration is non-negative and finite by construction.
      keep_alive_->RecordIdleTime(m.config.name, now - *m.no_lease_since).IgnoreError();
      m.no_lease_since.reset();
    }
    std::erase_if(reloads_, [model](const Reload& r) { return r.model == model; });
    const int64_t w = next_waiter_id_++;
    m.waiters.emplace(w, Waiter{deadline, now, std::move(on_lease)});
    waiter_model_[w] = model;
    if (FreeSlot(model) != nullptr) {
      ++warm_hits_;
      ++m.warm_hits;
    } else {
      ++cold_starts_;
      ++m.cold_starts;
      if (deadline <= now) {
        Answer(w,
               absl::DeadlineExceededError(
                   absl::StrCat("deadline already passed and no warm instance of model '",
                                m.config.name, "' is free")),
               fx);
        ++failed_deadline_;
        return;
      }
    }
    deadlines_.emplace(deadline, w);
    Pump(now, fx, /*maintain_floors=*/false);
  }

  // The loaded, not draining instance of `model` with a free slot: fewest leases first,
  // then the most recently used.
  Instance* FreeSlot(int model) {
    const int max_leases = models_[model].config.max_leases;
    Instance* best = nullptr;
    for (auto& [id, inst] : instances_) {
      if (inst.model != model || inst.leases >= max_leases ||
          (inst.state != InstanceState::kIdle && inst.state != InstanceState::kBusy)) {
        continue;
      }
      if (best == nullptr || inst.leases < best->leases ||
          (inst.leases == best->leases && inst.last_used > best->last_used)) {
        best = &inst;
      }
    }
    return best;
  }

  // Serves waiters from free slots, attaches the rest to starting instances or starts new
  // ones where capacity allows; with maintain_floors, also starts instances up to each
  // model's floor. Floors are kept only from Tick, SetDesiredInstances and Create so that
  // a provisioner that fails at once is retried at the next Tick, not in a loop.
  void Pump(absl::Time now, Effects& fx, bool maintain_floors) {
    for (size_t model = 0; model < models_.size(); ++model) {
      ServeWaiters(static_cast<int>(model), now, fx);
    }
    if (!maintain_floors) return;
    for (size_t model = 0; model < models_.size(); ++model) {
      const int m = static_cast<int>(model);
      while (Live(m) < Floor(m) && TryStart(m, /*for_waiters=*/false, fx) != 0) {
      }
    }
  }

  void ServeWaiters(int model, absl::Time now, Effects& fx) {
    Model& m = models_[model];
    while (!m.waiters.empty()) {
      Instance* inst = FreeSlot(model);
      if (inst == nullptr) break;
      const auto first = m.waiters.begin();
      AddSample(wait_time_ms_, absl::ToDoubleMilliseconds(now - first->second.enqueued));
      if (m.leases == 0) m.no_lease_since.reset();
      ++inst->leases;
      ++m.leases;
      inst->state = InstanceState::kBusy;
      inst->last_used = now;
      inst->expire_at = absl::InfiniteFuture();
      Answer(first->first, Lease(shared_from_this(), inst->id, inst->engine), fx);
    }
    const int max_leases = m.config.max_leases;
    for (auto& [w, waiter] : m.waiters) {
      if (waiter.counting_on != 0) continue;
      Instance* starting = nullptr;
      for (auto& [id, inst] : instances_) {
        if (inst.model == model && !inst.retiring && IsStarting(inst) &&
            static_cast<int>(inst.counting.size()) < max_leases) {
          starting = &inst;
          break;
        }
      }
      if (starting == nullptr) {
        const int64_t started = TryStart(model, /*for_waiters=*/true, fx);
        if (started == 0) break;
        starting = &instances_.at(started);
      }
      starting->counting.push_back(w);
      waiter.counting_on = starting->id;
    }
  }

  static bool IsStarting(const Instance& inst) {
    return inst.state == InstanceState::kProvisioning || inst.state == InstanceState::kLoading;
  }

  // Instances of each model that count towards its floor: not gone, not going.
  std::vector<int> LiveCounts() const {
    std::vector<int> live(models_.size(), 0);
    for (const auto& [id, inst] : instances_) {
      live[inst.model] += !inst.retiring && inst.state != InstanceState::kDraining;
    }
    return live;
  }

  int Live(int model) const { return LiveCounts()[model]; }

  int Floor(int model) const {
    return std::max(models_[model].config.min_warm, models_[model].desired);
  }

  // Starts one instance of `model` if it fits, evicting idle instances to make room, and
  // returns its id (0 if it does not fit). for_waiters: requests are waiting, so any
  // model's instances above its min_warm may be evicted; otherwise (floors, prewarm,
  // reloads) only those above max(min_warm, desired).
  int64_t TryStart(int model, bool for_waiters, Effects& fx) {
    if (shutdown_) return 0;
    const Model& m = models_[model];
    const int64_t bytes = m.bytes();
    if (bytes == 0) {
      // Size unknown until the first handle reports it: one start at a time.
      for (const auto& [id, inst] : instances_) {
        if (inst.model == model) return 0;
      }
    }
    if (!MakeRoom(model, bytes, 1, for_waiters, fx)) return 0;
    const int64_t id = next_instance_id_++;
    Instance& inst = instances_[id];
    inst.id = id;
    inst.model = model;
    inst.bytes = bytes;
    inst.started = last_integrated_;
    inst.last_used = last_integrated_;
    memory_in_use_ += bytes;
    ++instances_started_;
    ++starts_in_flight_;
    fx.starts.push_back(InstanceSpec{m.config.name, id, bytes, nullptr});
    return id;
  }

  // Evicts idle instances of models other than `model`, least recently used first, until
  // `bytes` more memory and `instances` more instances fit; evicts nothing if even all
  // candidates would not do.
  bool MakeRoom(int model, int64_t bytes, int instances, bool for_waiters, Effects& fx) {
    auto fits = [&] {
      return memory_in_use_ + bytes <= budget_ &&
             static_cast<int>(instances_.size()) + instances <= max_instances_;
    };
    if (fits()) return true;
    std::vector<std::pair<absl::Time, int64_t>> candidates;
    for (const auto& [id, inst] : instances_) {
      if (inst.state == InstanceState::kIdle && inst.model != model) {
        candidates.emplace_back(inst.last_used, id);
      }
    }
    std::sort(candidates.begin(), candidates.end());
    std::vector<int> live = LiveCounts();
    std::vector<int64_t> victims;
    int64_t freed_bytes = 0;
    for (const auto& [used, id] : candidates) {
      const Instance& inst = instances_.at(id);
      const Model& m = models_[inst.model];
      const int keep = for_waiters ? m.config.min_warm : Floor(inst.model);
      if (live[inst.model] <= keep) continue;
      --live[inst.model];
      victims.push_back(id);
      freed_bytes += inst.bytes;
      if (memory_in_use_ - freed_bytes + bytes <= budget_ &&
          static_cast<int>(instances_.size() - victims.size()) + instances <= max_instances_) {
        for (int64_t v : victims) {
          Remove(v, fx);
          ++instances_evicted_;
        }
        return true;
      }
    }
    return false;
  }

  // Unloads idle instances whose keep-alive window has passed, earliest first, while the
  // model stays at or above its floor.
  void ExpireIdle(absl::Time now, Effects& fx) {
    std::vector<std::pair<absl::Time, int64_t>> due;
    for (const auto& [id, inst] : instances_) {
      if (inst.state == InstanceState::kIdle && inst.expire_at <= now) {
        due.emplace_back(inst.expire_at, id);
      }
    }
    if (due.empty()) return;
    std::sort(due.begin(), due.end());
    std::vector<int> live = LiveCounts();
    for (const auto& [at, id] : due) {
      const int model = instances_.at(id).model;
      if (live[model] <= Floor(model)) continue;
      --live[model];
      Remove(id, fx);
      ++instances_expired_;
    }
  }

  // The instance's last lease returned and no waiter took the slot.
  void GoIdle(Instance& inst, absl::Time now, Effects& fx) {
    inst.state = InstanceState::kIdle;
    const int model = inst.model;
    const KeepAliveWindow window = keep_alive_->WindowFor(models_[model].config.name);
    if (window.prewarm > absl::ZeroDuration() && Live(model) > Floor(model)) {
      reloads_.insert(
          Reload{SaturatingAdd(now, window.prewarm), next_reload_seq_++, model, window.keep_alive});
      Remove(inst.id, fx);
      ++instances_expired_;
      return;
    }
    inst.expire_at = SaturatingAdd(now, window.keep_alive);
    ExpireIdle(now, fx);
  }

  void RetireLocked(Instance& inst, Effects& fx) {
    if (inst.state == InstanceState::kIdle) {
      Remove(inst.id, fx);
    } else if (inst.state == InstanceState::kBusy) {
      inst.state = InstanceState::kDraining;
    } else if (IsStarting(inst)) {
      inst.retiring = true;
      Detach(inst);
    }
  }

  // Its waiters count on it no longer (it is loaded, or will never serve).
  void Detach(Instance& inst) {
    for (int64_t w : inst.counting) {
      Model& m = models_[waiter_model_.at(w)];
      m.waiters.at(w).counting_on = 0;
    }
    inst.counting.clear();
  }

  void Remove(int64_t id, Effects& fx) {
    auto it = instances_.find(id);
    Detach(it->second);
    memory_in_use_ -= it->second.bytes;
    if (it->second.handle != nullptr) fx.graveyard.push_back(std::move(it->second.handle));
    instances_.erase(it);
  }

  void Answer(int64_t w, absl::StatusOr<Lease> result, Effects& fx) {
    const int model = waiter_model_.at(w);
    waiter_model_.erase(w);
    Model& m = models_[model];
    auto it = m.waiters.find(w);
    Waiter& waiter = it->second;
    deadlines_.erase({waiter.deadline, w});
    if (waiter.counting_on != 0) {
      std::vector<int64_t>& counting = instances_.at(waiter.counting_on).counting;
      counting.erase(std::find(counting.begin(), counting.end(), w));
    }
    fx.answers.emplace_back(std::move(waiter.on_lease), std::move(result));
    m.waiters.erase(it);
  }

  const int64_t budget_;
  const int max_instances_;

  std::mutex mu_;
  std::condition_variable no_start_in_flight_;
  std::unique_ptr<Provisioner> provisioner_;
  const std::unique_ptr<KeepAlivePolicy> keep_alive_;
  Clock* const clock_;
  bool shutdown_ = false;
  int starts_in_flight_ = 0;  // queued or inside Provisioner::Start

  std::vector<Model> models_;
  absl::flat_hash_map<std::string, int> model_index_;
  std::map<int64_t, Instance> instances_;  // by id
  int64_t next_instance_id_ = 1;
  absl::flat_hash_map<int64_t, int> waiter_model_;      // waiter id → model
  std::set<std::pair<absl::Time, int64_t>> deadlines_;  // (deadline, waiter id)
  int64_t next_waiter_id_ = 1;
  std::set<Reload> reloads_;
  int64_t next_reload_seq_ = 0;
  int64_t memory_in_use_ = 0;

  absl::Time last_integrated_;
  uint64_t warm_hits_ = 0, cold_starts_ = 0;
  uint64_t failed_deadline_ = 0, failed_provisioner_ = 0, failed_other_ = 0;
  uint64_t instances_started_ = 0, instances_failed_ = 0;
  uint64_t instances_evicted_ = 0, instances_expired_ = 0;
  Histogram wait_time_ms_;
  Histogram cold_start_ms_;
  double idle_instance_seconds_ = 0, idle_byte_seconds_ = 0, loaded_instance_seconds_ = 0;
};

Lease::Lease(Lease&& other) noexcept
    : core_(std::move(other.core_)),
      instance_id_(std::exchange(other.instance_id_, 0)),
      engine_(std::exchange(other.engine_, nullptr)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    core_ = std::move(other.core_);
    instance_id_ = std::exchange(other.instance_id_, 0);
    engine_ = std::exchange(other.engine_, nullptr);
  }
  return *this;
}

Lease::~Lease() { Release(); }

void Lease::Release() {
  if (core_ == nullptr) return;
  std::shared_ptr<Core> core = std::move(core_);
  const int64_t id = std::exchange(instance_id_, 0);
  engine_ = nullptr;
  core->Release(id);
}

namespace {

absl::Status ValidateConfig(const WarmPoolConfig& config) {
  if (config.models.empty()) {
    return absl::InvalidArgumentError("WarmPoolConfig.models is empty");
  }
  if (config.memory_budget_bytes <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "WarmPoolConfig.memory_budget_bytes must be > 0, got ", config.memory_budget_bytes));
  }
  if (config.max_instances <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("WarmPoolConfig.max_instances must be > 0, got ", config.max_instances));
  }
  absl::flat_hash_set<std::string_view> names;
  int64_t floor_instances = 0;
  int64_t floor_bytes = 0;
  for (const WarmPoolModelConfig& m : config.models) {
    if (m.name.empty()) return absl::InvalidArgumentError("WarmPoolModelConfig.name is empty");
    if (!names.insert(m.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("WarmPoolConfig.models names '", m.name, "' twice"));
    }
    if (m.memory_bytes < 0 || m.memory_bytes > config.memory_budget_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", m.name, "': memory_bytes must be in [0, memory_budget_bytes = ",
                       config.memory_budget_bytes, "], got ", m.memory_bytes));
    }
    if (m.max_leases <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", m.name, "': max_leases must be > 0, got ", m.max_leases));
    }
    if (m.min_warm < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", m.name, "': min_warm must be >= 0, got ", m.min_warm));
    }
    if (m.min_warm > 0 && m.memory_bytes == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", m.name, "': min_warm > 0 needs memory_bytes to reserve"));
    }
    floor_instances += m.min_warm;
    floor_bytes += m.min_warm * m.memory_bytes;
  }
  if (floor_instances > config.max_instances || floor_bytes > config.memory_budget_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_warm instances together (", floor_instances, " instances, ", floor_bytes,
                     " bytes) exceed max_instances (", config.max_instances,
                     ") or memory_budget_bytes (", config.memory_budget_bytes, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<WarmPool>> WarmPool::Create(
    WarmPoolConfig config, std::unique_ptr<Provisioner> provisioner,
    std::unique_ptr<KeepAlivePolicy> keep_alive, Clock* clock) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  if (provisioner == nullptr || keep_alive == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError(
        "WarmPool::Create needs a provisioner, a keep-alive "
        "policy and a clock");
  }
  auto core = std::make_shared<Lease::Core>(std::move(config), std::move(provisioner),
                                            std::move(keep_alive), clock);
  core->Start();
  return std::unique_ptr<WarmPool>(new WarmPool(std::move(core)));
}

WarmPool::WarmPool(std::shared_ptr<Lease::Core> core) : core_(std::move(core)) {}

WarmPool::~WarmPool() { core_->Shutdown(); }

void WarmPool::AcquireAsync(std::string_view model, absl::Time deadline,
                            std::function<void(absl::StatusOr<Lease>)> on_lease) {
  core_->AcquireAsync(model, deadline, std::move(on_lease));
}

absl::StatusOr<Lease> WarmPool::Acquire(std::string_view model, absl::Time deadline) {
  struct Result {
    std::mutex mu;
    std::condition_variable ready;
    std::optional<absl::StatusOr<Lease>> lease;
  };
  auto result = std::make_shared<Result>();
  core_->AcquireAsync(model, deadline, [result](absl::StatusOr<Lease> lease) {
    std::lock_guard<std::mutex> lock(result->mu);
    result->lease = std::move(lease);
    result->ready.notify_all();
  });
  std::unique_lock<std::mutex> lock(result->mu);
  const bool real_deadline = core_->UsesRealClock() && deadline != absl::InfiniteFuture();
  while (!result->lease.has_value()) {
    if (!real_deadline) {
      result->ready.wait(lock);
    } else if (result->ready.wait_until(lock, absl::ToChronoTime(deadline)) ==
               std::cv_status::timeout) {
      // Past the real deadline: let the pool answer the waiter (DeadlineExceeded, or a
      // lease that came just in time). Tick takes the pool's lock, so not under ours.
      lock.unlock();
      core_->Tick();
      lock.lock();
      // The real clock may trail the chrono one by a hair; do not spin.
      if (!result->lease.has_value()) {
        result->ready.wait_for(lock, std::chrono::milliseconds(1));
      }
    }
  }
  return std::move(*result->lease);
}

absl::Status WarmPool::Prewarm(std::string_view model, int count) {
  return core_->Prewarm(model, count);
}

absl::Status WarmPool::SetDesiredInstances(std::string_view model, int count) {
  return core_->SetDesired(model, count);
}

absl::Status WarmPool::Retire(int64_t instance_id) { return core_->Retire(instance_id); }

void WarmPool::Tick() { core_->Tick(); }

absl::Time WarmPool::NextWakeup() const { return core_->NextWakeup(); }

WarmPoolMetrics WarmPool::metrics() const { return core_->Metrics(); }

}  // namespace hearth
