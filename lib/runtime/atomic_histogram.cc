#include "lib/runtime/atomic_histogram.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace hearth {
namespace {

std::vector<double> Sorted(std::vector<double> bounds) {
  std::erase_if(bounds, [](double b) { return std::isnan(b); });
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  return bounds;
}

}  // namespace

AtomicHistogram::AtomicHistogram(std::vector<double> upper_bounds)
    : upper_bounds_(Sorted(std::move(upper_bounds))),
      // Value-initialised: every count starts at 0.
      counts_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {}

void AtomicHistogram::Record(double value) {
  if (std::isnan(value)) return;
  // The first bound >= value: buckets are closed above, as Prometheus' `le`.
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
      upper_bounds_.begin());
  // Relaxed: the counters are independent statistics; nothing else is published
  // through them.
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram AtomicHistogram::Snapshot() const {
  Histogram h;
  h.upper_bounds = upper_bounds_;
  h.counts.resize(upper_bounds_.size() + 1);
  for (size_t i = 0; i < h.counts.size(); ++i) {
    h.counts[i] = counts_[i].load(std::memory_order_relaxed);
    h.count += h.counts[i];
  }
  h.sum = sum_.load(std::memory_order_relaxed);
  return h;
}

}  // namespace hearth
