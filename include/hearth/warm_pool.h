// hearth::WarmPool — keeps loaded model instances per model and leases them to requests.
//
// An instance is one loaded copy of a model: an in-process Engine, or a handle to a
// replica elsewhere (a process, a container, a pod). Instances come from a Provisioner
// and live through these states:
//
//   provisioning ─► loading ─► idle ◄──► busy ─► draining ─► gone
//         │                      └──────────────────────────► gone
//         └─► gone (the provisioner failed)
//
//   provisioning  Provisioner::Start was called; done has not fired yet.
//   loading       the provisioner reported (InstanceSpec::on_loading) that the model is
//                 being loaded. Simple provisioners skip it: they fire done and the instance
//                 goes straight from provisioning to idle.
//   idle / busy   loaded, with no lease / at least one lease out.
//   draining      told to go (Retire, or the pool's destruction) while leases are out;
//                 it takes no new lease and goes when the last lease returns.
//   gone          the pool destroyed the InstanceHandle. Handle destruction is THE signal
//                 that an instance is gone: an embedding service or a simulator stops
//                 the replica (and its billing) in its handle's destructor.
//
// Acquiring: AcquireAsync(model, deadline, on_lease) leases a free slot on a loaded
// instance at once (a warm hit; least-loaded instance first, then the most recently
// used). Otherwise the request waits, first in first out per model, for a cold instance
// the pool starts for it if capacity allows (the memory budget over all instances and
// max_instances; idle instances of any model are evicted least-recently-used first to
// make room, never busy ones nor a model's min_warm floor) or, when nothing can be
// started, for a slot to free up. A waiter whose deadline passes gets DeadlineExceeded
// (at the next Tick() or any other call that reads the clock); a provisioner error fails
// the waiters counting on that instance with the provisioner's status.
//
// Keep-alive: when an instance goes idle the KeepAlivePolicy gives it a window (see
// keep_alive.h). Tick() unloads instances whose window has passed, unless that would take
// the model below its floor, max(min_warm, SetDesiredInstances target). With a pre-warm
// window the instance is unloaded at once and a fresh one is started at idle start +
// pre-warm and kept for the keep-alive window from then. NextWakeup() says when Tick()
// next has work, so a simulator can jump its clock there.
//
// Usage:
//   hearth::WarmPoolConfig config;
//   config.models = {{.name = "llama", .memory_bytes = int64_t{2} << 30, .max_leases = 64}};
//   config.memory_budget_bytes = int64_t{16} << 30;
//   config.max_instances = 8;
//   auto pool = hearth::WarmPool::Create(
//       config, hearth::MakeEngineProvisioner({{"llama", engine_config}}).value(),
//       hearth::MakeKeepAlivePolicy("fixed").value(), hearth::RealClock());
//   absl::StatusOr<hearth::Lease> lease =
//       (*pool)->Acquire("llama", absl::Now() + absl::Seconds(30));
//   if (lease.ok()) lease->engine()->Generate(request);  // the lease returns on scope exit
//   // Elsewhere, periodically: (*pool)->Tick();
//
// Thread-safety: every method of WarmPool and Lease may be called from any thread. One
// internal mutex guards the pool; it is never held while calling the Provisioner, an
// on_lease callback or an InstanceHandle's destructor, so those may call back into the
// pool. The KeepAlivePolicy is only called under that mutex. Do not destroy the WarmPool
// from inside one of those callbacks: destruction waits for calls into the Provisioner
// to return.
#ifndef HEARTH_WARM_POOL_H_
#define HEARTH_WARM_POOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hearth/clock.h"
#include "hearth/engine.h"
#include "hearth/histogram.h"
#include "hearth/keep_alive.h"

namespace hearth {

enum class InstanceState { kProvisioning, kLoading, kIdle, kBusy, kDraining, kGone };

// "provisioning", "loading", "idle", "busy", "draining", "gone".
std::string_view InstanceStateName(InstanceState state);

// A loaded instance, owned by the WarmPool from the moment the provisioner hands it over
// until the instance is gone, when the pool destroys it (outside its lock).
class InstanceHandle {
 public:
  virtual ~InstanceHandle() = default;
  // The in-process Engine serving this instance; nullptr for an instance elsewhere. Owned
  // by the handle.
  virtual Engine* engine() { return nullptr; }
  // Memory the instance holds while loaded. Where the model's WarmPoolModelConfig gives
  // memory_bytes, the pool reserves that much and this must not exceed it; where it does
  // not, the pool learns the size from here (0: use the reservation).
  virtual int64_t memory_bytes() const = 0;
};

// What to start.
struct InstanceSpec {
  std::string model;
  int64_t instance_id = 0;   // unique in the pool, never reused
  int64_t memory_bytes = 0;  // the pool's reservation; 0 while the model's size is unknown
  // Optional to call, from any thread, before done: the instance moves from provisioning
  // to loading (e.g. the container runs and now reads the weights).
  std::function<void()> on_loading;
};

// Creates instances. The WarmPool calls Start without holding its lock; done must be
// called exactly once, from any thread, possibly before Start returns or long after (a
// simulator calls it when its virtual clock reaches the end of the cold start). An
// embedding service implements Start by launching a process / container / pod and calling
// done with a handle whose destructor stops it, or with the launch error. (A second call
// of done is a bug; the pool destroys the handle it brings and changes nothing else.)
class Provisioner {
 public:
  using Done = std::function<void(absl::StatusOr<std::unique_ptr<InstanceHandle>>)>;
  virtual ~Provisioner() = default;
  virtual void Start(const InstanceSpec& spec, Done done) = 0;
};

// Creates in-process Engines from `configs` (model name → EngineConfig), each on a
// background thread (the instance is loading meanwhile). handle.memory_bytes() = model
// file bytes + kv_cache_bytes, which must therefore be set (> 0). Its destructor waits
// for Engines still loading. InvalidArgument for an empty map, an empty model_path or
// kv_cache_bytes <= 0; Start for a model not in the map fails with NotFound via done.
absl::StatusOr<std::unique_ptr<Provisioner>> MakeEngineProvisioner(
    std::map<std::string, EngineConfig, std::less<>> configs);

// Per model.
struct WarmPoolModelConfig {
  std::string name;
  int64_t memory_bytes = 0;  // per instance; 0 = learn it from the first handle
  int max_leases = 1;        // leases one instance serves at once (> 0)
  int min_warm = 0;          // instances started at Create and kept loaded
};

struct WarmPoolConfig {
  std::vector<WarmPoolModelConfig> models;  // at least one, names unique and non-empty
  int64_t memory_budget_bytes = 0;  // > 0; all loaded and starting instances together
  int max_instances = 0;            // > 0; instances not yet gone, draining included
};

// A lease on one slot of one loaded instance. Move-only; the slot returns to the pool
// when the lease is destroyed or Release()d (whichever first), and the pool may outlive
// it or not: a lease that outlives its pool keeps its instance (draining) until then.
class Lease {
 public:
  Lease() = default;  // holds nothing
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  // The instance serving this lease (0 once released or for an empty lease).
  int64_t instance_id() const { return instance_id_; }
  // The instance's Engine (owned by the pool); nullptr for an instance elsewhere.
  Engine* engine() const { return engine_; }
  bool held() const { return core_ != nullptr; }
  // Returns the slot now. No-op on an empty lease.
  void Release();

 private:
  friend class WarmPool;
  class Core;
  Lease(std::shared_ptr<Core> core, int64_t instance_id, Engine* engine)
      : core_(std::move(core)), instance_id_(instance_id), engine_(engine) {}

  std::shared_ptr<Core> core_;
  int64_t instance_id_ = 0;
  Engine* engine_ = nullptr;
};

// Per-model view in WarmPoolMetrics.
struct ModelPoolMetrics {
  int provisioning = 0, loading = 0, idle = 0, busy = 0, draining = 0;
  int leases = 0;          // leases out
  int waiting = 0;         // acquirers waiting for a lease
  int desired = 0;         // SetDesiredInstances target
  int min_warm = 0;
  int64_t memory_bytes = 0;  // per instance, as configured or learned
  uint64_t warm_hits = 0, cold_starts = 0;
  double last_cold_start_ms = 0;  // the most recent Start → loaded time; 0 before any
};

// A snapshot; cheap to take.
struct WarmPoolMetrics {
  uint64_t warm_hits = 0;    // acquisitions leased at once
  uint64_t cold_starts = 0;  // acquisitions that found no free warm slot and waited
  uint64_t failed_deadline = 0;     // waiters answered DeadlineExceeded
  uint64_t failed_provisioner = 0;  // waiters answered with a provisioner's error
  uint64_t failed_other = 0;        // unknown model, shutdown, instance too large
  uint64_t instances_started = 0;   // Provisioner::Start calls
  uint64_t instances_failed = 0;    // starts that failed
  uint64_t instances_evicted = 0;   // idle instances unloaded to make room
  uint64_t instances_expired = 0;   // idle instances unloaded by keep-alive (pre-warm too)
  Histogram wait_time_ms;           // acquisition → lease, warm hits included (as 0)
  Histogram cold_start_ms;          // Start → loaded of every instance (failed starts: not)
  double idle_instance_seconds = 0;    // ∫ idle instances dt
  double idle_byte_seconds = 0;        // ∫ memory of idle instances dt
  double loaded_instance_seconds = 0;  // ∫ idle + busy + draining instances dt
  int64_t memory_bytes = 0;            // held or reserved now
  int instances = 0;                   // not gone
  std::map<std::string, ModelPoolMetrics, std::less<>> models;
};

// The cold start to plan with, as the pool measured it: `model`'s most recent Start →
// loaded time, or with no model the longest of every model's most recent one; nullopt
// before any instance has loaded. With the in-process provisioner that is Engine::Create
// on a background thread, whatever the file (.gguf or .hearth). Feeding the AutoScaler's
// predictive policy its lead time is one line:
//   if (auto cold = MeasuredColdStart(pool->metrics())) autoscaler->SetColdStart(*cold);
std::optional<absl::Duration> MeasuredColdStart(const WarmPoolMetrics& metrics,
                                                std::string_view model = {});

class WarmPool {
 public:
  // Validates the config (InvalidArgument naming the field: no models, empty or duplicate
  // names, zero or negative capacity, max_leases or min_warm out of range, a model larger
  // than the budget, min_warm floors that cannot fit together) and starts every model's
  // min_warm instances. clock is not owned and must outlive the pool.
  static absl::StatusOr<std::unique_ptr<WarmPool>> Create(
      WarmPoolConfig config, std::unique_ptr<Provisioner> provisioner,
      std::unique_ptr<KeepAlivePolicy> keep_alive, Clock* clock);

  // Answers every waiter with Cancelled, unloads idle instances, drains busy ones (they go
  // when their leases return), destroys the provisioner. Instances whose done fires later
  // are destroyed at once.
  ~WarmPool();
  WarmPool(const WarmPool&) = delete;
  WarmPool& operator=(const WarmPool&) = delete;

  // Leases a slot of `model` for the caller, or fails: NotFound (unknown model),
  // DeadlineExceeded (deadline passed before a slot was found; a deadline already past
  // only takes a free warm slot), the provisioner's status, ResourceExhausted (the
  // instance turned out larger than the budget allows), Cancelled (pool destroyed).
  // on_lease is called exactly once, never under the pool's lock: at once from this call
  // for a warm hit or an immediate failure, later from whichever thread frees the slot,
  // finishes the start or calls Tick().
  void AcquireAsync(std::string_view model, absl::Time deadline,
                    std::function<void(absl::StatusOr<Lease>)> on_lease);
  // AcquireAsync, blocking until on_lease would run. With RealClock() the wait ends at the
  // real deadline. With any other clock (a ManualClock) the deadline is checked when the
  // clock is read: this call waits until another thread's Tick() (or any other pool call)
  // finds it passed, or a slot comes.
  absl::StatusOr<Lease> Acquire(std::string_view model, absl::Time deadline);

  // Starts `count` more instances of `model` now, beyond what it has. They are kept like
  // any idle instance: above the model's floor, their keep-alive window starts when they
  // are loaded. InvalidArgument for count < 0, NotFound for an unknown model,
  // ResourceExhausted (naming how many started) when not all fit.
  absl::Status Prewarm(std::string_view model, int count);
  // The AutoScaler's target: starts instances until `model` has `count` (not gone, not
  // draining), as capacity allows now (evicting idle instances of models above their own
  // floors) or at a later Tick, and lets idle instances above
  // max(count, min_warm) go by the keep-alive policy. InvalidArgument for count < 0,
  // NotFound for an unknown model.
  absl::Status SetDesiredInstances(std::string_view model, int count);
  // Tells one instance to go: idle → gone now; busy → draining; provisioning or loading →
  // gone when done fires (its waiters wait on). NotFound for an unknown or gone id.
  absl::Status Retire(int64_t instance_id);

  // Applies, at clock->Now(), waiters' deadlines, keep-alive windows and pre-warm timers.
  void Tick();
  // The earliest time at which Tick() has work (InfiniteFuture if none).
  absl::Time NextWakeup() const;
  WarmPoolMetrics metrics() const;

 private:
  explicit WarmPool(std::shared_ptr<Lease::Core> core);
  std::shared_ptr<Lease::Core> core_;
};

}  // namespace hearth

#endif  // HEARTH_WARM_POOL_H_
