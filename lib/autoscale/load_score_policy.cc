// The seed's load-score rule: a weighted score, exponentially smoothed, exponential
// scale-up and square-root scale-down. Kept as the seed had it, as a baseline.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hearth/scaling_policies.h"
#include "lib/autoscale/replica_count.h"
#include "lib/autoscale/sample_history.h"

namespace hearth {
namespace {

class LoadScorePolicy final : public ScalingPolicy {
 public:
  explicit LoadScorePolicy(const LoadScoreConfig& config) : config_(config) {}

  std::string_view name() const override { return "load_score"; }

  absl::Status Observe(const LoadSample& sample) override {
    if (absl::Status s = history_.Add(sample); !s.ok()) return s;
    history_.DropUntil(sample.time - config_.interval);
    return absl::OkStatus();
  }

  ScalingDecision Recommend(absl::Time now) override {
    if (history_.empty()) return {0, "load_score: no samples yet"};
    if (evaluated_ && now - last_eval_ < config_.interval) return last_;
    evaluated_ = true;
    last_eval_ = now;
    const LoadSample& latest = history_.latest();
    const double raw =
        history_
            .Mean(now - config_.interval, now, [this](const LoadSample& s) { return RawScore(s); })
            .value_or(RawScore(latest));
    score_ = has_score_ ? config_.alpha * raw + (1 - config_.alpha) * score_ : raw;
    has_score_ = true;

    const int n = latest.ready_replicas + latest.starting_replicas;
    int desired = n;
    if (score_ > config_.scale_up_score) {
      desired =
          ToReplicas(std::ceil(n * std::exp2((score_ - config_.scale_up_score) * config_.growth)));
    } else if (score_ < config_.scale_down_score) {
      desired = ToReplicas(std::floor(std::sqrt(static_cast<double>(n))));
    }
    last_ = {desired, absl::StrFormat("load_score: score %.3f (raw %.3f), %d -> %d", score_, raw, n,
                                      desired)};
    return last_;
  }

 private:
  double RawScore(const LoadSample& s) const {
    const double rps_share =
        s.arrival_rate / (std::max(1, s.ready_replicas) * config_.rps_capacity_per_replica);
    return config_.cpu_weight * s.utilization + config_.memory_weight * s.memory_utilization +
           config_.rps_weight * rps_share;
  }

  const LoadScoreConfig config_;
  SampleHistory history_;
  bool evaluated_ = false;
  absl::Time last_eval_;
  ScalingDecision last_;
  bool has_score_ = false;
  double score_ = 0;
};

absl::Status RequireInRange(double value, double lo, double hi, const char* field) {
  if (!(value >= lo && value <= hi)) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadScoreConfig.", field, " must be in [", lo, ", ", hi, "], got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeLoadScorePolicy(const LoadScoreConfig& config) {
  const double kMax = 1e9;  // any larger weight or rate is a unit mistake
  for (absl::Status s : {RequireInRange(config.cpu_weight, 0, kMax, "cpu_weight"),
                         RequireInRange(config.memory_weight, 0, kMax, "memory_weight"),
                         RequireInRange(config.rps_weight, 0, kMax, "rps_weight"),
                         RequireInRange(config.alpha, 0, 1, "alpha"),
                         RequireInRange(config.scale_down_score, 0, kMax, "scale_down_score"),
                         RequireInRange(config.growth, 0, kMax, "growth")}) {
    if (!s.ok()) return s;
  }
  if (config.cpu_weight + config.memory_weight + config.rps_weight <= 0) {
    return absl::InvalidArgumentError("LoadScoreConfig weights are all 0");
  }
  if (!(config.rps_capacity_per_replica > 0) || std::isinf(config.rps_capacity_per_replica)) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadScoreConfig.rps_capacity_per_replica must be > 0 and finite, got ",
                     config.rps_capacity_per_replica));
  }
  if (config.alpha == 0) {
    return absl::InvalidArgumentError("LoadScoreConfig.alpha must be > 0, got 0");
  }
  if (config.growth == 0) {
    return absl::InvalidArgumentError("LoadScoreConfig.growth must be > 0, got 0");
  }
  if (!(config.scale_up_score > config.scale_down_score) || std::isinf(config.scale_up_score)) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadScoreConfig.scale_up_score must be finite and > scale_down_score (",
                     config.scale_down_score, "), got ", config.scale_up_score));
  }
  if (config.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("LoadScoreConfig.interval must be > 0, got ",
                                                   absl::FormatDuration(config.interval)));
  }
  return std::make_unique<LoadScorePolicy>(config);
}

}  // namespace hearth
