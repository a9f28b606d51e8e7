#include "hearth/histogram.h"

#include <algorithm>
#include <cmath>

namespace hearth {

double Histogram::Mean() const { return count == 0 ? 0 : sum / static_cast<double>(count); }

double Histogram::Quantile(double q) const {
  // Total from the buckets rather than `count`: a snapshot taken while samples arrive may
  // disagree by a few, and the buckets are what the interpolation walks.
  if (counts.size() != upper_bounds.size() + 1) return 0;
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0) return 0;
  if (upper_bounds.empty()) return Mean();  // one overflow bucket: nothing to interpolate
  q = std::isnan(q) ? 0.0 : std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(total);
  // The first bucket whose cumulative count reaches the rank. Unlike Prometheus (which
  // gives NaN when rank 0 lands on an empty first bucket), skip empty buckets: q = 0 is
  // then the lower edge of the first non-empty one.
  uint64_t below = 0;
  size_t b = 0;
  for (; b < counts.size(); ++b) {
    if (counts[b] > 0 && static_cast<double>(below + counts[b]) >= rank) break;
    below += counts[b];
  }
  // Samples above the last bound have no upper edge: report the last one.
  if (b >= upper_bounds.size()) return upper_bounds.back();
  const double start = b == 0 ? 0.0 : upper_bounds[b - 1];
  const double end = upper_bounds[b];
  return start + (end - start) * ((rank - static_cast<double>(below)) /
                                  static_cast<double>(counts[b]));
}

std::vector<double> DefaultLatencyBoundsMs() {
  // 0.5 * 1.25^k up to the first bound past 10 minutes (k = 63, about 638 s): 64 buckets,
  // each within 25% of its neighbours.
  constexpr double kFirst = 0.5, kFactor = 1.25, kLast = 600'000;
  std::vector<double> bounds;
  for (int k = 0;; ++k) {
    bounds.push_back(kFirst * std::pow(kFactor, k));
    if (bounds.back() >= kLast) break;
  }
  return bounds;
}

}  // namespace hearth
