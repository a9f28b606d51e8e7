// hearth.WarmPool, hearth.Lease, hearth.PoolModel, hearth.KeepAlive and the pool's metrics.
//
// The pool provisions real Engines (MakeEngineProvisioner) and hands them out as the same
// hearth.Engine type a Python program creates itself.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "bindings.h"
#include "clock.h"
#include "gil.h"
#include "hearth/warm_pool.h"
#include "options.h"
#include "status.h"

namespace hearth::python {
namespace {

namespace py = pybind11;

// A keep-alive policy as a recipe: a WarmPool takes ownership of the policy it is given,
// so one KeepAlive (validated once, here) makes a fresh policy for every pool it
// configures.
class KeepAliveSpec {
 public:
  using Make = std::function<absl::StatusOr<std::unique_ptr<KeepAlivePolicy>>()>;

  explicit KeepAliveSpec(Make make) : make_(std::move(make)), name_(New()->name()) {}

  std::unique_ptr<KeepAlivePolicy> New() const { return ValueOrThrow(make_()); }
  const std::string& name() const { return name_; }

 private:
  Make make_;
  std::string name_;
};

const OptionTable<HybridKeepAliveConfig>& HybridOptions() {
  using C = HybridKeepAliveConfig;
  static const auto* table = &(new OptionTable<C>)
                                  ->AddSeconds("bin_s", &C::bin)
                                  .AddSeconds("range_s", &C::range)
                                  .Add("head_percentile", &C::head_percentile)
                                  .Add("tail_percentile", &C::tail_percentile)
                                  .Add("margin", &C::margin)
                                  .Add("min_samples", &C::min_samples)
                                  .Add("min_cv", &C::min_cv)
                                  .Add("max_out_of_bounds_share", &C::max_out_of_bounds_share)
                                  .Add("forecast_alpha", &C::forecast_alpha)
                                  .Add("forecast_margin", &C::forecast_margin);
  return *table;
}

// One model a pool may load: the pool's view of it and the Engine it is loaded as.
struct PoolModel {
  WarmPoolModelConfig pool;
  EngineConfig engine;
};

// Engine options of a pooled model; the same keywords as hearth.Engine's constructor.
const OptionTable<EngineConfig>& EngineOptions() {
  using C = EngineConfig;
  static const auto* table = &(new OptionTable<C>)
                                  ->Add("threads", &C::threads)
                                  .Add("context_length", &C::context_length)
                                  .Add("kv_block_tokens", &C::kv_block_tokens)
                                  .Add("max_batch_tokens", &C::max_batch_tokens)
                                  .Add("max_sequences", &C::max_sequences)
                                  .Add("prefix_caching", &C::prefix_caching);
  return *table;
}

PoolModel MakePoolModel(const py::object& model_path, int64_t kv_cache_bytes, int max_leases,
                        int min_warm, const std::optional<int64_t>& memory_bytes,
                        const py::kwargs& engine_options) {
  PoolModel model;
  model.engine = EngineOptions().Read(engine_options);
  model.engine.model_path = py::module_::import("os").attr("fspath")(model_path).cast<std::string>();
  model.engine.kv_cache_bytes = kv_cache_bytes;
  model.pool.max_leases = max_leases;
  model.pool.min_warm = min_warm;
  if (memory_bytes) {
    model.pool.memory_bytes = *memory_bytes;
  } else {
    // What the Engine provisioner will report, known before the first instance so that
    // the pool plans its first cold start within the budget. A file that cannot be read
    // leaves it to be learned (its load fails anyway, with the Engine's error).
    std::error_code error;
    const std::uintmax_t file_bytes = std::filesystem::file_size(model.engine.model_path, error);
    if (!error) model.pool.memory_bytes = static_cast<int64_t>(file_bytes) + kv_cache_bytes;
  }
  return model;
}

// What a Python WarmPool holds. The pool reads the clock until it is destroyed, so the
// clock is declared first (destroyed last).
struct PoolState {
  ClockPtr clock;
  std::unique_ptr<WarmPool> pool;
};
using PoolPtr = std::shared_ptr<PoolState>;

// What Python gives as keep_alive: a KeepAlive or the name of one. (Not an implicit
// conversion: pybind11 would turn the C++ error for a bad name into a bare TypeError.)
using KeepAliveArg = std::variant<std::string, KeepAliveSpec>;

std::unique_ptr<KeepAlivePolicy> KeepAliveFrom(const KeepAliveArg& keep_alive) {
  if (const auto* name = std::get_if<std::string>(&keep_alive)) {
    return ValueOrThrow(MakeKeepAlivePolicy(*name));
  }
  return std::get<KeepAliveSpec>(keep_alive).New();
}

PoolPtr CreatePool(const std::map<std::string, PoolModel>& models, int64_t memory_budget_bytes,
                   int max_instances, const KeepAliveArg& keep_alive,
                   const std::optional<ManualClockPtr>& clock) {
  WarmPoolConfig config;
  config.memory_budget_bytes = memory_budget_bytes;
  config.max_instances = max_instances;
  std::map<std::string, EngineConfig, std::less<>> engines;
  for (const auto& [name, model] : models) {
    WarmPoolModelConfig pool_model = model.pool;
    pool_model.name = name;
    config.models.push_back(std::move(pool_model));
    engines.emplace(name, model.engine);
  }
  auto state = std::make_unique<PoolState>();
  state->clock = ClockFromPython(clock);
  std::unique_ptr<Provisioner> provisioner = ValueOrThrow(MakeEngineProvisioner(std::move(engines)));
  std::unique_ptr<KeepAlivePolicy> policy = KeepAliveFrom(keep_alive);
  absl::StatusOr<std::unique_ptr<WarmPool>> pool;
  {
    py::gil_scoped_release release;  // min_warm instances start loading here
    pool = WarmPool::Create(std::move(config), std::move(provisioner), std::move(policy),
                            state->clock.get());
  }
  state->pool = ValueOrThrow(std::move(pool));
  return ShareReleasingGil(std::move(state));
}

// A Python Lease.
//
// Lifetime: the pool owns each instance's Engine and destroys it once the instance is
// unloaded, which may happen as soon as its last lease returns. A hearth.Engine taken
// from `lease.engine` may outlive the `with` block (a variable, a closure), so it must
// keep the instance loaded: every such Engine object holds a share of this lease (a
// shared_ptr aliasing the Held below), and the slot returns to the pool when the Lease is
// released AND no Engine object taken from it is left. Returning the slot earlier would
// leave those objects dangling; refusing to release would hide the misuse. The
// instance's memory stays accounted as busy for exactly as long as Python can reach it.
// pybind11 maps one Engine* to one Python object, so a second lease on the same instance
// may get the object (and share) of the first: still a lease on that instance, hence
// still safe.
class PoolLease {
 public:
  PoolLease(PoolPtr pool, std::string model, Lease lease)
      : model_(std::move(model)), instance_id_(lease.instance_id()) {
    // The pool stays alive while a lease is out (Held declares it first).
    held_ = ShareReleasingGil(std::make_unique<Held>(Held{std::move(pool), std::move(lease)}));
  }

  const std::string& model() const { return model_; }
  int64_t instance_id() const { return instance_id_; }
  bool held() const { return held_ != nullptr; }

  py::object engine() const {
    if (!held_) throw StatusError(absl::FailedPreconditionError("the lease was released"));
    Engine* engine = held_->lease.engine();
    if (engine == nullptr) return py::none();
    return py::cast(std::shared_ptr<Engine>(held_, engine));
  }

  // Drops this object's share; the slot returns when no Engine taken from it is left.
  void Release() {
    std::shared_ptr<Held> doomed = std::move(held_);
    py::gil_scoped_release release;  // the last share may unload the instance
    doomed.reset();
  }

 private:
  struct Held {
    PoolPtr pool;
    Lease lease;
  };
  std::string model_;
  int64_t instance_id_;
  std::shared_ptr<Held> held_;
};

PoolLease Acquire(const PoolPtr& self, const std::string& model, const py::object& timeout) {
  const absl::Time deadline = timeout.is_none()
                                  ? absl::InfiniteFuture()
                                  : self->clock->Now() + SecondsToDuration(timeout, "timeout");
  absl::StatusOr<Lease> lease;
  {
    py::gil_scoped_release release;
    lease = self->pool->Acquire(model, deadline);
  }
  return PoolLease(self, model, ValueOrThrow(std::move(lease)));
}

void BindMetrics(py::module_& m) {
  py::class_<ModelPoolMetrics>(m, "ModelPoolMetrics", "One model's part of PoolMetrics.")
      .def_readonly("provisioning", &ModelPoolMetrics::provisioning)
      .def_readonly("loading", &ModelPoolMetrics::loading)
      .def_readonly("idle", &ModelPoolMetrics::idle)
      .def_readonly("busy", &ModelPoolMetrics::busy)
      .def_readonly("draining", &ModelPoolMetrics::draining)
      .def_readonly("leases", &ModelPoolMetrics::leases, "Leases out.")
      .def_readonly("waiting", &ModelPoolMetrics::waiting, "Acquirers waiting for a lease.")
      .def_readonly("desired", &ModelPoolMetrics::desired, "The set_desired_instances target.")
      .def_readonly("min_warm", &ModelPoolMetrics::min_warm)
      .def_readonly("memory_bytes", &ModelPoolMetrics::memory_bytes,
                    "Per instance, as configured or learned from the first instance.")
      .def_readonly("warm_hits", &ModelPoolMetrics::warm_hits)
      .def_readonly("cold_starts", &ModelPoolMetrics::cold_starts)
      .def_readonly("last_cold_start_ms", &ModelPoolMetrics::last_cold_start_ms);

  using M = WarmPoolMetrics;
  py::class_<M>(m, "PoolMetrics", "A snapshot of a WarmPool; cheap to take.")
      .def_readonly("warm_hits", &M::warm_hits, "Acquisitions leased at once.")
      .def_readonly("cold_starts", &M::cold_starts,
                    "Acquisitions that found no free warm slot and waited.")
      .def_readonly("failed_deadline", &M::failed_deadline)
      .def_readonly("failed_provisioner", &M::failed_provisioner)
      .def_readonly("failed_other", &M::failed_other)
      .def_readonly("instances_started", &M::instances_started)
      .def_readonly("instances_failed", &M::instances_failed)
      .def_readonly("instances_evicted", &M::instances_evicted,
                    "Idle instances unloaded to make room.")
      .def_readonly("instances_expired", &M::instances_expired,
                    "Idle instances unloaded by the keep-alive policy.")
      .def_readonly("wait_time_ms", &M::wait_time_ms)
      .def_readonly("cold_start_ms", &M::cold_start_ms)
      .def_readonly("idle_instance_seconds", &M::idle_instance_seconds)
      .def_readonly("idle_byte_seconds", &M::idle_byte_seconds)
      .def_readonly("loaded_instance_seconds", &M::loaded_instance_seconds)
      .def_readonly("memory_bytes", &M::memory_bytes, "Held or reserved now.")
      .def_readonly("instances", &M::instances, "Instances not gone.")
      .def_readonly("models", &M::models, "Per model name.");
}

void BindKeepAlive(py::module_& m) {
  py::class_<KeepAliveSpec>(
      m, "KeepAlive",
      "How long a WarmPool keeps an idle instance loaded. KeepAlive('fixed:300') takes the "
      "C++ names ('fixed' = 10 minutes, 'fixed:<seconds>', 'immediate', 'hybrid'); the "
      "static methods take parameters. A WarmPool's keep_alive= also takes the name itself.")
      .def(py::init([](const std::string& name) {
             return KeepAliveSpec([name] { return MakeKeepAlivePolicy(name); });
           }),
           py::arg("name"))
      .def_static(
          "fixed",
          [](const py::handle& seconds) {
            const absl::Duration timeout = SecondsToDuration(seconds, "seconds");
            return KeepAliveSpec([timeout] { return MakeFixedKeepAlive(timeout); });
          },
          py::arg("seconds") = 600, "Keeps every idle instance `seconds` (>= 0).")
      .def_static(
          "immediate",
          [] { return KeepAliveSpec([] { return MakeFixedKeepAlive(absl::ZeroDuration()); }); },
          "Unloads idle instances at once; only set_desired_instances keeps any loaded.")
      .def_static(
          "hybrid",
          [](const py::kwargs& options) {
            HybridKeepAliveConfig config = HybridOptions().Read(options);
            return KeepAliveSpec([config] { return MakeHybridKeepAlive(config); });
          },
          ("The hybrid histogram policy (Shahrad et al., ATC 2020): per model, pre-warm and "
           "keep-alive windows from the histogram of idle times. Options (defaults): " +
           HybridOptions().Describe() + ".")
              .c_str())
      .def_property_readonly("name", &KeepAliveSpec::name,
                             "The C++ policy's name, e.g. 'fixed:600'.")
      .def("__repr__", [](const KeepAliveSpec& self) { return "KeepAlive('" + self.name() + "')"; });
}

}  // namespace

void BindPool(py::module_& m) {
  BindMetrics(m);
  BindKeepAlive(m);

  py::class_<PoolModel>(
      m, "PoolModel",
      "A model a WarmPool may load: its GGUF file and the Engine options of each instance. "
      "kv_cache_bytes is required: the pool budgets every instance as file bytes + KV cache.")
      .def(py::init(&MakePoolModel), py::arg("model_path"), py::kw_only(),
           py::arg("kv_cache_bytes"), py::arg("max_leases") = 1, py::arg("min_warm") = 0,
           py::arg("memory_bytes") = py::none(),
           ("max_leases: requests one instance serves at once; min_warm: instances kept "
            "loaded from the start; memory_bytes: the pool's reservation per instance (None: "
            "the model file's size + kv_cache_bytes, as the loaded Engine holds). Engine options as hearth.Engine's (defaults): " +
            EngineOptions().Describe() + ".")
               .c_str())
      .def_property_readonly("model_path", [](const PoolModel& self) { return self.engine.model_path; })
      .def_property_readonly("kv_cache_bytes", [](const PoolModel& self) { return self.engine.kv_cache_bytes; })
      .def_property_readonly("max_leases", [](const PoolModel& self) { return self.pool.max_leases; })
      .def_property_readonly("min_warm", [](const PoolModel& self) { return self.pool.min_warm; })
      .def_property_readonly("memory_bytes", [](const PoolModel& self) { return self.pool.memory_bytes; });

  py::class_<PoolLease>(
      m, "Lease",
      "A slot on one loaded instance, from WarmPool.acquire. Use it as a context manager; "
      "`engine` is the instance's hearth.Engine (owned by the pool: do not close() it). The "
      "slot returns to the pool once the lease is released and no Engine taken from it is "
      "referenced any more.")
      .def_property_readonly("model", &PoolLease::model)
      .def_property_readonly("instance_id", &PoolLease::instance_id)
      .def_property_readonly("held", &PoolLease::held, "False once released.")
      .def_property_readonly("engine", &PoolLease::engine,
                             "The instance's Engine. FailedPreconditionError once released.")
      .def("release", &PoolLease::Release, "Gives the slot back (idempotent).")
      .def("__enter__", [](PoolLease& self) -> PoolLease& { return self; },
           py::return_value_policy::reference)
      .def("__exit__", [](PoolLease& self, const py::args&) { self.Release(); })
      .def("__repr__", [](const PoolLease& self) {
        return absl::StrCat("Lease(model='", self.model(), "', instance_id=", self.instance_id(),
                            self.held() ? "" : ", released", ")");
      });

  py::class_<PoolState, PoolPtr>(
      m, "WarmPool",
      "Keeps loaded Engines per model and leases them out: a warm hit when an instance has "
      "a free slot, else a cold start within the memory budget and max_instances (idle "
      "instances of any model evicted least-recently-used first). Thread-safe; blocking "
      "calls release the GIL. With a ManualClock, deadlines and keep-alive windows are "
      "applied by tick().")
      .def(py::init(&CreatePool), py::arg("models"), py::kw_only(),
           py::arg("memory_budget_bytes"), py::arg("max_instances"),
           py::arg("keep_alive") = "fixed",
           py::arg("clock") = py::none(),
           "models: {name: PoolModel}. memory_budget_bytes covers all loaded and starting "
           "instances; keep_alive: a KeepAlive or its name; clock: None (real time) or a "
           "ManualClock.")
      .def("acquire", &Acquire, py::arg("model"), py::kw_only(), py::arg("timeout") = py::none(),
           "Blocks until a slot of `model` is leased and returns the Lease. timeout: seconds "
           "(None: no limit) -> DeadlineExceededError (a TimeoutError); NotFoundError for an "
           "unknown model; a load failure as the Engine reported it.")
      // Calls that may evict or unload an idle instance destroy its Engine, which joins the
      // Engine's thread: they run without the GIL (see gil.h). A StatusError thrown there
      // is translated once the GIL is back.
      .def(
          "prewarm",
          [](PoolState& self, const std::string& model, int count) {
            ThrowIfError(self.pool->Prewarm(model, count));
          },
          py::call_guard<py::gil_scoped_release>(), py::arg("model"), py::arg("count") = 1,
          "Starts `count` more instances of `model` now (they load in the background). "
          "ResourceExhaustedError when not all fit.")
      .def(
          "set_desired_instances",
          [](PoolState& self, const std::string& model, int count) {
            ThrowIfError(self.pool->SetDesiredInstances(model, count));
          },
          py::call_guard<py::gil_scoped_release>(), py::arg("model"), py::arg("count"),
          "The autoscaler's target: starts instances until `model` has `count`, and lets idle "
          "ones above max(count, min_warm) go by the keep-alive policy.")
      .def(
          "retire",
          [](PoolState& self, int64_t instance_id) { ThrowIfError(self.pool->Retire(instance_id)); },
          py::call_guard<py::gil_scoped_release>(), py::arg("instance_id"), "Tells one instance to go (busy ones drain first).")
      .def(
          "tick", [](PoolState& self) { self.pool->Tick(); },
          py::call_guard<py::gil_scoped_release>(),
          "Applies deadlines, keep-alive windows and pre-warm timers at the clock's now.")
      .def(
          "next_wakeup",
          [](const PoolState& self) -> std::optional<double> {
            const absl::Time next = self.pool->NextWakeup();
            if (next == absl::InfiniteFuture()) return std::nullopt;
            return TimeToSeconds(next);
          },
          "When tick() next has work (seconds on the pool's clock), or None.")
      .def("metrics", [](const PoolState& self) { return self.pool->metrics(); },
           "A PoolMetrics snapshot.");
}

}  // namespace hearth::python
