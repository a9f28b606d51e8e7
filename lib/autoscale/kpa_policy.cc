// Knative's KPA decider (pkg/autoscaler/scaling/autoscaler.go, Scale) plus the
// scale-to-zero grace of the KPA reconciler, once per tick.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hearth/scaling_policies.h"
#include "lib/autoscale/replica_count.h"
#include "lib/autoscale/sample_history.h"

namespace hearth {
namespace {

double Concurrency(const LoadSample& s) { return s.in_flight + s.queue_depth; }

class KpaPolicy final : public ScalingPolicy {
 public:
  explicit KpaPolicy(const KpaConfig& config)
      : config_(config),
        panic_window_(config.stable_window * (config.panic_window_percentage / 100)),
        target_(config.container_concurrency * config.target_utilization) {}

  std::string_view name() const override { return "kpa"; }

  absl::Status Observe(const LoadSample& sample) override {
    if (absl::Status s = history_.Add(sample); !s.ok()) return s;
    history_.DropUntil(sample.time - config_.stable_window);
    return absl::OkStatus();
  }

  ScalingDecision Recommend(absl::Time now) override {
    if (history_.empty()) return {0, "kpa: no samples yet"};
    if (ticked_ && now - last_tick_ < config_.tick) return last_;
    ticked_ = true;
    last_tick_ = now;
    last_ = Scale(now);
    return last_;
  }

 private:
  ScalingDecision Scale(absl::Time now) {
    const LoadSample& latest = history_.latest();
    const double ready = std::max(1, latest.ready_replicas);
    const double max_up = std::ceil(config_.max_scale_up_rate * ready);
    const double max_down = std::floor(ready / config_.max_scale_down_rate);
    const double stable = history_.Mean(now - config_.stable_window, now, Concurrency).value_or(0);
    const double panic = history_.Mean(now - panic_window_, now, Concurrency).value_or(0);
    const double stable_pods = std::ceil(stable / target_);
    const double panic_pods = std::ceil(panic / target_);
    int desired = ToReplicas(std::clamp(stable_pods, max_down, max_up));
    const int desired_panic = ToReplicas(std::clamp(panic_pods, max_down, max_up));

    const bool over_threshold = panic_pods / ready >= config_.panic_threshold;
    if (over_threshold) {
      panic_since_ = now;  // entering, or extending the panic
      panicking_ = true;
    } else if (panicking_ && panic_since_ + config_.stable_window < now) {
      panicking_ = false;
      max_panic_pods_ = 0;
    }
    std::string mode = "stable";
    if (panicking_) {
      // Never down in panic: hold the largest count the panic has asked for.
      max_panic_pods_ = std::max({max_panic_pods_, desired, desired_panic});
      desired = max_panic_pods_;
      mode = "panic";
    }

    const int current = latest.ready_replicas + latest.starting_replicas;
    std::string zero_note;
    if (desired > 0) {
      last_nonzero_ = now;
      seen_nonzero_ = true;
    } else if (seen_nonzero_ && now - last_nonzero_ < config_.scale_to_zero_grace) {
      desired = current;
      zero_note = absl::StrCat("; holding ", current, " for the scale-to-zero grace");
    }
    return {desired,
            absl::StrFormat("kpa: %s, concurrency stable %.3g panic %.3g over %s/%s, "
                            "target %.3g/replica, ready %d -> %d%s",
                            mode, stable, panic, absl::FormatDuration(config_.stable_window),
                            absl::FormatDuration(panic_window_), target_, latest.ready_replicas,
                            desired, zero_note)};
  }

  const KpaConfig config_;
  const absl::Duration panic_window_;
  const double target_;
  SampleHistory history_;
  bool ticked_ = false;
  absl::Time last_tick_;
  ScalingDecision last_;
  bool panicking_ = false;
  absl::Time panic_since_;
  int max_panic_pods_ = 0;
  bool seen_nonzero_ = false;
  absl::Time last_nonzero_;
};

absl::Status RequirePositive(double value, const char* field) {
  if (!(value > 0) || std::isinf(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("KpaConfig.", field, " must be > 0 and finite, got ", value));
  }
  return absl::OkStatus();
}

absl::Status RequirePositive(absl::Duration value, const char* field) {
  if (value <= absl::ZeroDuration() || value == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "KpaConfig.", field, " must be > 0 and finite, got ", absl::FormatDuration(value)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeKpaPolicy(const KpaConfig& config) {
  for (absl::Status s :
       {RequirePositive(config.container_concurrency, "container_concurrency"),
        RequirePositive(config.target_utilization, "target_utilization"),
        RequirePositive(config.tick, "tick"),
        RequirePositive(config.stable_window, "stable_window"),
        RequirePositive(config.panic_window_percentage, "panic_window_percentage")}) {
    if (!s.ok()) return s;
  }
  if (config.target_utilization > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "KpaConfig.target_utilization must be in (0, 1], got ", config.target_utilization));
  }
  if (config.panic_window_percentage > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("KpaConfig.panic_window_percentage must be in (0, 100], got ",
                     config.panic_window_percentage));
  }
  for (auto [value, field] : {std::pair{config.panic_threshold, "panic_threshold"},
                              std::pair{config.max_scale_up_rate, "max_scale_up_rate"},
                              std::pair{config.max_scale_down_rate, "max_scale_down_rate"}}) {
    if (!(value > 1) || std::isinf(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("KpaConfig.", field, " must be > 1 and finite, got ", value));
    }
  }
  if (config.scale_to_zero_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("KpaConfig.scale_to_zero_grace is negative: ",
                     absl::FormatDuration(config.scale_to_zero_grace)));
  }
  return std::make_unique<KpaPolicy>(config);
}

}  // namespace hearth
