// hearth::Histogram — a snapshot of a latency distribution in fixed buckets.
//
// Buckets are cumulative-friendly (Prometheus style): counts[i] holds the samples in
// (upper_bounds[i-1], upper_bounds[i]]; the last count is the overflow above the last
// bound. A snapshot is a plain value: copy it, merge it, read quantiles from it.
#ifndef HEARTH_HISTOGRAM_H_
#define HEARTH_HISTOGRAM_H_

#include <cstdint>
#include <vector>

namespace hearth {

struct Histogram {
  std::vector<double> upper_bounds;  // ascending, in the unit of the samples (ms)
  std::vector<uint64_t> counts;      // upper_bounds.size() + 1 entries
  uint64_t count = 0;                // total samples
  double sum = 0;                    // sum of all samples

  double Mean() const;
  // q in [0, 1]; linear interpolation inside the bucket holding the q-th sample (as
  // Prometheus' histogram_quantile). 0 when empty.
  double Quantile(double q) const;
};

// Bounds growing by a factor of about 1.25 from 0.5 ms to about 10 minutes: fine enough
// for p99s of both inter-token latencies (ms) and queueing times (s).
std::vector<double> DefaultLatencyBoundsMs();

}  // namespace hearth

#endif  // HEARTH_HISTOGRAM_H_
