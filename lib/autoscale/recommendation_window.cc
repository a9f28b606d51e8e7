#include "lib/autoscale/recommendation_window.h"

#include <algorithm>

namespace hearth {

void RecommendationWindow::Record(absl::Time time, int replicas) {
  entries_.push_back({time, replicas});
}

std::optional<int> RecommendationWindow::MaxAfter(absl::Time after) const {
  std::optional<int> best;
  for (const Entry& e : entries_) {
    if (e.time > after) best = std::max(best.value_or(e.replicas), e.replicas);
  }
  return best;
}

std::optional<int> RecommendationWindow::MinAfter(absl::Time after) const {
  std::optional<int> best;
  for (const Entry& e : entries_) {
    if (e.time > after) best = std::min(best.value_or(e.replicas), e.replicas);
  }
  return best;
}

void RecommendationWindow::DropUntil(absl::Time t) {
  while (!entries_.empty() && entries_.front().time <= t) entries_.pop_front();
}

}  // namespace hearth
