#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "hearth/scaling_policies.h"
#include "lib/autoscale/sample_history.h"

namespace hearth {
namespace {

class StaticPolicy final : public ScalingPolicy {
 public:
  explicit StaticPolicy(int replicas) : replicas_(replicas) {}

  std::string_view name() const override { return "static"; }

  absl::Status Observe(const LoadSample& sample) override {
    if (absl::Status s = history_.Add(sample); !s.ok()) return s;
    history_.DropUntil(sample.time);
    return absl::OkStatus();
  }

  ScalingDecision Recommend(absl::Time) override {
    return {replicas_, absl::StrCat("static: ", replicas_)};
  }

 private:
  const int replicas_;
  SampleHistory history_;  // only to reject samples going back in time
};

}  // namespace

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakeStaticPolicy(const StaticConfig& config) {
  if (config.replicas < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("StaticConfig.replicas is negative: ", config.replicas));
  }
  return std::make_unique<StaticPolicy>(config.replicas);
}

}  // namespace hearth
