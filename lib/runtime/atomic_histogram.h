// AtomicHistogram: a latency histogram that threads record into without locks.
//
// Record() is two relaxed atomic additions after a binary search over the bucket bounds;
// Snapshot() reads every bucket into a plain hearth::Histogram. Samples recorded while a
// snapshot is taken may be in it or not, and the snapshot's sum may lag its counts by
// those samples; count is always the sum of the snapshot's buckets.
//
// Usage:
//   AtomicHistogram ttft;                    // DefaultLatencyBoundsMs()
//   ttft.Record(12.5);                       // scheduler thread
//   Histogram h = ttft.Snapshot();           // any thread
//   double p99 = h.Quantile(0.99);
//
// Thread-safety: Record and Snapshot may be called from any number of threads at once.
#ifndef HEARTH_LIB_RUNTIME_ATOMIC_HISTOGRAM_H_
#define HEARTH_LIB_RUNTIME_ATOMIC_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "hearth/histogram.h"

namespace hearth {

class AtomicHistogram {
 public:
  // upper_bounds: ascending bucket bounds (sorted here if they are not).
  explicit AtomicHistogram(std::vector<double> upper_bounds = DefaultLatencyBoundsMs());
  AtomicHistogram(const AtomicHistogram&) = delete;
  AtomicHistogram& operator=(const AtomicHistogram&) = delete;

  // Adds one sample to the bucket (upper_bounds[i-1], upper_bounds[i]] holding it, or to
  // the overflow bucket above the last bound. NaN is ignored.
  void Record(double value);
  Histogram Snapshot() const;

 private:
  const std::vector<double> upper_bounds_;
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // upper_bounds_.size() + 1
  std::atomic<double> sum_{0};
};

}  // namespace hearth

#endif  // HEARTH_LIB_RUNTIME_ATOMIC_HISTOGRAM_H_
