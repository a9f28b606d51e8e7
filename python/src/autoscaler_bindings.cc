// hearth.AutoScaler, hearth.ScalingPolicy and hearth.ScalingDecision.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "bindings.h"
#include "clock.h"
#include "hearth/autoscaler.h"
#include "hearth/scaling_policies.h"
#include "options.h"
#include "status.h"

namespace hearth::python {
namespace {

namespace py = pybind11;

// A scaling policy as a recipe: an AutoScaler takes ownership of its policies (they keep
// state), so one ScalingPolicy, validated once here, makes a fresh policy per AutoScaler.
class PolicySpec {
 public:
  using Make = std::function<absl::StatusOr<std::unique_ptr<ScalingPolicy>>()>;

  explicit PolicySpec(Make make) : make_(std::move(make)), name_(New()->name()) {}

  std::unique_ptr<ScalingPolicy> New() const { return ValueOrThrow(make_()); }
  const std::string& name() const { return name_; }

 private:
  Make make_;
  std::string name_;
};

// HPA's metric by the name Python gives it.
HpaMetric HpaMetricNamed(const std::string& name) {
  static const std::pair<const char*, HpaMetric> kMetrics[] = {
      {"concurrency", HpaMetric::kConcurrency},
      {"utilization", HpaMetric::kUtilization},
      {"memory_utilization", HpaMetric::kMemoryUtilization},
      {"tokens_per_s", HpaMetric::kTokensPerSecond},
      {"arrival_rate", HpaMetric::kArrivalRate}};
  for (const auto& [known, metric] : kMetrics) {
    if (name == known) return metric;
  }
  throw StatusError(absl::InvalidArgumentError(absl::StrCat(
      "unknown HPA metric '", name,
      "' (concurrency, utilization, memory_utilization, tokens_per_s, arrival_rate)")));
}

// The policies' keyword options. HPA's one metric target and its stabilisation windows are
// options; its rate policies keep the Kubernetes defaults.
const OptionTable<HpaConfig>& HpaOptions() {
  using C = HpaConfig;
  static const auto* table =
      &(new OptionTable<C>)
           ->Add("target_per_replica",
                 [](C& c) -> double& { return c.metrics.front().target_per_replica; })
           .Add("tolerance", &C::tolerance)
           .AddSeconds("sync_period_s", &C::sync_period)
           .AddSeconds("scale_up_stabilization_s",
                       [](C& c) -> absl::Duration& { return c.scale_up.stabilization_window; })
           .AddSeconds("scale_down_stabilization_s",
                       [](C& c) -> absl::Duration& { return c.scale_down.stabilization_window; })
           .Add("min_replicas", &C::min_replicas);
  return *table;
}

const OptionTable<KpaConfig>& KpaOptions() {
  using C = KpaConfig;
  static const auto* table = &(new OptionTable<C>)
                                  ->Add("container_concurrency", &C::container_concurrency)
                                  .Add("target_utilization", &C::target_utilization)
                                  .AddSeconds("tick_s", &C::tick)
                                  .AddSeconds("stable_window_s", &C::stable_window)
                                  .Add("panic_window_percentage", &C::panic_window_percentage)
                                  .Add("panic_threshold", &C::panic_threshold)
                                  .Add("max_scale_up_rate", &C::max_scale_up_rate)
                                  .Add("max_scale_down_rate", &C::max_scale_down_rate)
                                  .AddSeconds("scale_to_zero_grace_s", &C::scale_to_zero_grace);
  return *table;
}

const OptionTable<QueueDepthConfig>& QueueDepthOptions() {
  using C = QueueDepthConfig;
  static const auto* table = &(new OptionTable<C>)
                                  ->Add("target_queue_depth", &C::target_queue_depth)
                                  .Add("scale_up_fraction", &C::scale_up_fraction)
                                  .Add("scale_down_fraction", &C::scale_down_fraction)
                                  .AddSeconds("cooldown_s", &C::cooldown);
  return *table;
}

const OptionTable<LoadScoreConfig>& LoadScoreOptions() {
  using C = LoadScoreConfig;
  static const auto* table = &(new OptionTable<C>)
                                  ->Add("cpu_weight", &C::cpu_weight)
                                  .Add("memory_weight", &C::memory_weight)
                                  .Add("rps_weight", &C::rps_weight)
                                  .Add("rps_capacity_per_replica", &C::rps_capacity_per_replica)
                                  .Add("alpha", &C::alpha)
                                  .Add("scale_up_score", &C::scale_up_score)
                                  .Add("scale_down_score", &C::scale_down_score)
                                  .Add("growth", &C::growth)
                                  .AddSeconds("interval_s", &C::interval);
  return *table;
}

const OptionTable<PredictiveConfig>& PredictiveOptions() {
  using C = PredictiveConfig;
  static const auto* table = &(new OptionTable<C>)
                                  ->Add("target_concurrency", &C::target_concurrency)
                                  .Add("headroom", &C::headroom)
                                  .AddSeconds("bin_s", &C::bin)
                                  .AddSeconds("season_period_s", &C::season_period)
                                  .Add("level_smoothing", &C::level_smoothing)
                                  .Add("trend_smoothing", &C::trend_smoothing)
                                  .Add("season_smoothing", &C::season_smoothing)
                                  .Add("service_time_smoothing", &C::service_time_smoothing)
                                  .AddSeconds("initial_service_time_s", &C::initial_service_time)
                                  .AddSeconds("cold_start_s", &C::cold_start)
                                  .AddSeconds("scale_down_delay_s", &C::scale_down_delay);
  return *table;
}

const OptionTable<StaticConfig>& StaticOptions() {
  static const auto* table =
      &(new OptionTable<StaticConfig>)->Add("replicas", &StaticConfig::replicas);
  return *table;
}

// ScalingPolicy.<name>(**options): the typed factory on the options read by `table`.
template <typename Config>
void DefPolicy(py::class_<PolicySpec>& cls, const char* name, const OptionTable<Config>& table,
               absl::StatusOr<std::unique_ptr<ScalingPolicy>> (*factory)(const Config&),
               const std::string& doc) {
  cls.def_static(
      name,
      [&table, factory](const py::kwargs& options) {
        Config config = table.Read(options);
        return PolicySpec([config, factory] { return factory(config); });
      },
      (doc + " Options (defaults): " + table.Describe() + ".").c_str());
}

// The HPA also takes its metric by name.
PolicySpec MakeHpa(const std::string& metric, const py::kwargs& options) {
  HpaConfig config = HpaOptions().Read(options);
  config.metrics.front().metric = HpaMetricNamed(metric);
  return PolicySpec([config] { return MakeHpaPolicy(config); });
}

// What Python gives as a policy: a ScalingPolicy or the name of one with its defaults.
using PolicyArg = std::variant<std::string, PolicySpec>;

struct ScalerState {
  ClockPtr clock;  // declared first: the AutoScaler reads it until destroyed
  std::unique_ptr<AutoScaler> scaler;
};

ScalerState CreateScaler(const std::vector<PolicyArg>& policies, int min_replicas,
                         int max_replicas, const std::optional<ManualClockPtr>& clock) {
  std::vector<std::unique_ptr<ScalingPolicy>> made;
  for (const PolicyArg& policy : policies) {
    if (const auto* name = std::get_if<std::string>(&policy)) {
      made.push_back(ValueOrThrow(MakeScalingPolicy(*name)));
    } else {
      made.push_back(std::get<PolicySpec>(policy).New());
    }
  }
  ScalerState state;
  state.clock = ClockFromPython(clock);
  AutoScalerConfig config;
  config.min_replicas = min_replicas;
  config.max_replicas = max_replicas;
  state.scaler = ValueOrThrow(AutoScaler::Create(config, std::move(made), state.clock.get()));
  return state;
}

const OptionTable<LoadSample>& SampleFields() {
  using S = LoadSample;
  static const auto* table = &(new OptionTable<S>)
                                  ->Add("ready_replicas", &S::ready_replicas)
                                  .Add("starting_replicas", &S::starting_replicas)
                                  .Add("in_flight", &S::in_flight)
                                  .Add("queue_depth", &S::queue_depth)
                                  .Add("arrival_rate", &S::arrival_rate)
                                  .Add("tokens_per_s", &S::tokens_per_s)
                                  .Add("utilization", &S::utilization)
                                  .Add("memory_utilization", &S::memory_utilization)
                                  .Add("ttft_p50_ms", &S::ttft_p50_ms)
                                  .Add("ttft_p99_ms", &S::ttft_p99_ms);
  return *table;
}

void Observe(ScalerState& self, const py::object& time, const py::kwargs& fields) {
  LoadSample sample = SampleFields().Read(fields);
  sample.time = time.is_none() ? self.clock->Now()
                               : absl::UnixEpoch() + SecondsToDuration(time, "time");
  ThrowIfError(self.scaler->Observe(sample));
}

}  // namespace

void BindAutoScaler(py::module_& m) {
  py::class_<ScalingDecision>(m, "ScalingDecision", "An AutoScaler's answer.")
      .def_readonly("desired_replicas", &ScalingDecision::desired_replicas)
      .def_readonly("reason", &ScalingDecision::reason,
                    "Which policy decided, with its numbers (for logs).")
      .def("__repr__", [](const ScalingDecision& d) {
        return absl::StrCat("ScalingDecision(desired_replicas=", d.desired_replicas,
                            ", reason=", std::string(py::repr(py::str(d.reason))), ")");
      });

  py::class_<PolicySpec> policy(
      m, "ScalingPolicy",
      "A scaling rule for an AutoScaler, made by the static methods (durations in seconds). "
      "An AutoScaler's policies= also takes the names ('hpa', 'kpa', 'queue_depth', "
      "'load_score', 'predictive', 'static') for the defaults. Bad values raise "
      "InvalidArgumentError naming the field.");
  policy.def(
      py::init([](const std::string& name) {
        return PolicySpec([name] { return MakeScalingPolicy(name); });
      }),
      py::arg("name"), "A policy by name, with its defaults.");
  policy.def_static("hpa", &MakeHpa, py::arg("metric") = "concurrency",
                    ("Kubernetes HPA v2 target tracking on one metric ('concurrency', "
                     "'utilization', 'memory_utilization', 'tokens_per_s', 'arrival_rate'). "
                     "Options (defaults): " +
                     HpaOptions().Describe() + ".")
                        .c_str());
  DefPolicy(policy, "kpa", KpaOptions(), &MakeKpaPolicy,
            "Knative's KPA: stable and panic windows, scale to zero after the grace.");
  DefPolicy(policy, "queue_depth", QueueDepthOptions(), &MakeQueueDepthPolicy,
            "Queue-depth thresholds with a cooldown.");
  DefPolicy(policy, "load_score", LoadScoreOptions(), &MakeLoadScorePolicy,
            "A weighted CPU / memory / request-rate score (a baseline).");
  DefPolicy(policy, "predictive", PredictiveOptions(), &MakePredictivePolicy,
            "Seasonal arrival forecast, provisioned ahead by the cold-start time.");
  DefPolicy(policy, "static", StaticOptions(), &MakeStaticPolicy, "A fixed replica count.");
  policy.def_property_readonly("name", &PolicySpec::name)
      .def("__repr__", [](const PolicySpec& self) { return "ScalingPolicy('" + self.name() + "')"; });

  py::class_<ScalerState>(
      m, "AutoScaler",
      "Load observations in, a desired replica count out: the largest of its policies' "
      "recommendations, clamped to [min_replicas, max_replicas], and at least 1 while "
      "nothing is ready or starting but requests wait. Pure decision: give the count to "
      "WarmPool.set_desired_instances. Thread-safe.")
      .def(py::init(&CreateScaler), py::arg("policies"), py::kw_only(),
           py::arg("min_replicas") = 0, py::arg("max_replicas") = 100,
           py::arg("clock") = py::none(),
           "policies: a non-empty list of ScalingPolicy objects or names. clock: None (real "
           "time) or a ManualClock.")
      .def("observe", &Observe, py::kw_only(), py::arg("time") = py::none(),
           ("Records one sample of the model's load (time: seconds on the clock, default "
            "now; samples must not go back in time). Fields (all default 0; counts and rates "
            "are totals over the replicas): " +
            SampleFields().Describe() + ". InvalidArgumentError naming a bad field.")
               .c_str())
      .def(
          "decide", [](ScalerState& self) { return self.scaler->Decide(); },
          "The ScalingDecision at the clock's now.")
      .def(
          "set_cold_start",
          [](ScalerState& self, const py::handle& seconds) {
            self.scaler->SetColdStart(SecondsToDuration(seconds, "seconds"));
          },
          py::arg("seconds"), "The measured cold start (the predictive policy's lead time).")
      .def_property_readonly("min_replicas",
                             [](const ScalerState& self) { return self.scaler->config().min_replicas; })
      .def_property_readonly("max_replicas", [](const ScalerState& self) {
        return self.scaler->config().max_replicas;
      });
}

}  // namespace hearth::python
