// SampleHistory: the recent LoadSamples of one policy, in time order, with means over
// time windows. The policies' windows (HPA's sync period, KPA's stable and panic windows,
// the load score's interval) all read from one of these.
//
// Not thread-safe; owned by one policy.
#ifndef HEARTH_LIB_AUTOSCALE_SAMPLE_HISTORY_H_
#define HEARTH_LIB_AUTOSCALE_SAMPLE_HISTORY_H_

#include <deque>
#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hearth/autoscaler.h"

namespace hearth {

class SampleHistory {
 public:
  // Appends the sample. InvalidArgument if it fails ValidateLoadSample or its time is
  // before the latest sample's; the history is then unchanged.
  absl::Status Add(const LoadSample& sample);

  bool empty() const { return samples_.empty(); }
  // The most recent sample. Requires !empty().
  const LoadSample& latest() const { return samples_.back(); }

  // Mean of field(sample) over the samples with after < time <= until; nullopt if none.
  std::optional<double> Mean(absl::Time after, absl::Time until,
                             absl::FunctionRef<double(const LoadSample&)> field) const;

  // Forgets the samples at or before `t`, except the latest one.
  void DropUntil(absl::Time t);

 private:
  std::deque<LoadSample> samples_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_AUTOSCALE_SAMPLE_HISTORY_H_
