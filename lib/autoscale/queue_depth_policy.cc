// The seed's queue-depth rule with a cooldown between changes.
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

class QueueDepthPolicy final : public ScalingPolicy {
 public:
  explicit QueueDepthPolicy(const QueueDepthConfig& config) : config_(config) {}

  std::string_view name() const override { return "queue_depth"; }

  absl::Status Observe(const LoadSample& sample) override {
    if (absl::Status s = history_.Add(sample); !s.ok()) return s;
    history_.DropUntil(sample.time);
    return absl::OkStatus();
  }

  ScalingDecision Recommend(absl::Time now) override {
    if (history_.empty()) return {0, "queue_depth: no samples yet"};
    const LoadSample& latest = history_.latest();
    const int current = latest.ready_replicas + latest.starting_replicas;
    if (changed_ && now - last_change_ < config_.cooldown) {
      return {last_desired_, absl::StrCat("queue_depth: cooling down until ",
                                          absl::FormatTime(last_change_ + config_.cooldown),
                                          ", keep ", last_desired_)};
    }
    const double depth = latest.queue_depth;
    const double target = config_.target_queue_depth;
    int desired = current;
    if (depth > config_.scale_up_fraction * target) {
      desired = ToReplicas(current + std::max(1.0, std::floor(depth / target)));
    } else if (depth < config_.scale_down_fraction * target) {
      desired = std::max(0, current - 1);
    }
    if (desired != current) {
      changed_ = true;
      last_change_ = now;
    }
    last_desired_ = desired;
    return {desired, absl::StrFormat("queue_depth: depth %.3g vs target %.3g, %d -> %d", depth,
                                     target, current, desired)};
  }

 private:
  const QueueDepthConfig config_;
  SampleHistory history_;
  bool changed_ = false;
  absl::Time last_change_;
  int last_desired_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeQueueDepthPolicy(
    const QueueDepthConfig& config) {
  if (!(config.target_queue_depth > 0) || std::isinf(config.target_queue_depth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("QueueDepthConfig.target_queue_depth must be > 0 and finite, got ",
                     config.target_queue_depth));
  }
  if (!(config.scale_down_fraction >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "QueueDepthConfig.scale_down_fraction must be >= 0, got ", config.scale_down_fraction));
  }
  if (!(config.scale_up_fraction > config.scale_down_fraction) ||
      std::isinf(config.scale_up_fraction)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "QueueDepthConfig.scale_up_fraction must be finite and > scale_down_fraction (",
        config.scale_down_fraction, "), got ", config.scale_up_fraction));
  }
  if (config.cooldown < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("QueueDepthConfig.cooldown is negative: ",
                                                   absl::FormatDuration(config.cooldown)));
  }
  return std::make_unique<QueueDepthPolicy>(config);
}

}  // namespace hearth
