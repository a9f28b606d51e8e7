// hearth::KeepAlivePolicy — how long an idle instance stays loaded, and whether to unload
// it at once and load it again just before the next request is expected.
//
// The WarmPool asks the policy for a KeepAliveWindow each time an instance goes idle (its
// last lease returned) and tells it each idle period of a model as it ends (the time from
// the moment the model had no lease out to its next acquisition). Three policies:
//   - fixed:     keep every idle instance for a fixed time (10 minutes as AWS Lambda does;
//                Azure Functions uses 20). Never pre-warms.
//   - immediate: keep nothing (0 s): idle instances go at once, and the AutoScaler's
//                target (WarmPool::SetDesiredInstances) alone keeps instances loaded.
//   - hybrid:    the hybrid histogram policy of Shahrad et al., "Serverless in the Wild"
//                (USENIX ATC 2020), per model; see HybridKeepAliveConfig.
//
// Usage:
//   absl::StatusOr<std::unique_ptr<hearth::KeepAlivePolicy>> policy =
//       hearth::MakeKeepAlivePolicy("fixed:300");  // or "fixed", "immediate", "hybrid"
//   policy.value()->RecordIdleTime("llama", absl::Minutes(7));
//   hearth::KeepAliveWindow w = policy.value()->WindowFor("llama");
//
// Thread-safety: a policy is not thread-safe; the WarmPool that owns it calls it under its
// own lock. Use a policy from one thread at a time when calling it directly.
#ifndef HEARTH_KEEP_ALIVE_H_
#define HEARTH_KEEP_ALIVE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hearth {

// What to do with an instance that just went idle, both durations from that moment on.
//   prewarm == 0: keep it loaded for keep_alive, then unload it.
//   prewarm > 0:  unload it now, load a fresh instance at idle start + prewarm and keep
//                 that one for keep_alive (measured from the pre-warm point).
// keep_alive may be absl::InfiniteDuration() (never unload).
struct KeepAliveWindow {
  absl::Duration prewarm = absl::ZeroDuration();
  absl::Duration keep_alive = absl::ZeroDuration();
};

class KeepAlivePolicy {
 public:
  virtual ~KeepAlivePolicy() = default;

  // The policy's name as MakeKeepAlivePolicy accepts it (e.g. "fixed:600").
  virtual std::string name() const = 0;
  // A period of `idle` during which `model` had no lease out has just ended with an
  // acquisition. InvalidArgument for a negative or infinite duration.
  virtual absl::Status RecordIdleTime(std::string_view model, absl::Duration idle) = 0;
  // The window for an instance of `model` that goes idle now.
  virtual KeepAliveWindow WindowFor(std::string_view model) const = 0;
};

// Keeps every idle instance for `timeout` (>= 0; 0 is the "immediate" policy).
// InvalidArgument for a negative or infinite timeout.
absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> MakeFixedKeepAlive(absl::Duration timeout);

// The hybrid histogram policy. Per model, idle times go into a histogram of `bin`-wide
// bins covering [0, range); longer ones are "out of bounds". For each new window:
//   1. Out-of-bounds share above max_out_of_bounds_share (with at least min_samples idle
//      times): the histogram cannot see the pattern, so forecast the next idle time by
//      exponential smoothing (weight forecast_alpha on the newest idle time, a stand-in for
//      the paper's ARIMA) and pre-warm at forecast × (1 − forecast_margin), keeping the
//      instance for forecast × 2 × forecast_margin (so it lives until forecast × (1 +
//      margin)).
//   2. Fewer than min_samples in-range idle times, or a coefficient of variation of the
//      bin counts (population standard deviation / mean over all bins) below min_cv: the
//      histogram is not representative; pre-warm 0 and keep alive for the whole range.
//   3. Otherwise: head = lower edge of the bin holding the head_percentile, tail = upper
//      edge of the bin holding the tail_percentile; pre-warm = head × (1 − margin),
//      keep-alive = tail × (1 + margin) − pre-warm (so the instance is unloaded at
//      idle start + tail × (1 + margin)).
struct HybridKeepAliveConfig {
  absl::Duration bin = absl::Minutes(1);
  absl::Duration range = absl::Hours(4);
  double head_percentile = 5;
  double tail_percentile = 99;
  double margin = 0.10;
  int min_samples = 10;  // our choice; the paper does not state one
  double min_cv = 2;
  double max_out_of_bounds_share = 0.5;
  double forecast_alpha = 0.5;
  double forecast_margin = 0.15;
};

// InvalidArgument naming the field for a non-positive bin, a range that is not a
// multiple of the bin, percentiles outside [0, 100] or head > tail, margins outside
// [0, 1), min_samples < 1, a negative min_cv, a share outside [0, 1] or alpha outside
// (0, 1].
absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> MakeHybridKeepAlive(
    HybridKeepAliveConfig config = {});

// "fixed" (10 minutes), "fixed:<seconds>" (a non-negative decimal number), "immediate"
// (0 s) or "hybrid" (HybridKeepAliveConfig defaults). InvalidArgument for anything else.
absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> MakeKeepAlivePolicy(std::string_view name);

}  // namespace hearth

#endif  // HEARTH_KEEP_ALIVE_H_
