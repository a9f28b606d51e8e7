// RecommendationWindow: past replica recommendations with their times, for the
// stabilisation windows (HPA: min over the scale-up window, max over the scale-down
// window; predictive: max over its scale-down delay).
//
// Not thread-safe; owned by one policy.
#ifndef HEARTH_LIB_AUTOSCALE_RECOMMENDATION_WINDOW_H_
#define HEARTH_LIB_AUTOSCALE_RECOMMENDATION_WINDOW_H_

#include <deque>
#include <optional>

#include "absl/time/time.h"

namespace hearth {

class RecommendationWindow {
 public:
  void Record(absl::Time time, int replicas);

  // The largest / smallest recommendation recorded strictly after `after` (as the HPA
  // controller compares: timestamp.After(cutoff)); nullopt if none.
  std::optional<int> MaxAfter(absl::Time after) const;
  std::optional<int> MinAfter(absl::Time after) const;

  // Forgets the recommendations recorded at or before `t`.
  void DropUntil(absl::Time t);

 private:
  struct Entry {
    absl::Time time;
    int replicas;
  };
  std::deque<Entry> entries_;  // in time order
};

}  // namespace hearth

#endif  // HEARTH_LIB_AUTOSCALE_RECOMMENDATION_WINDOW_H_
