#include <algorithm>
#include <optional>
#include <string_view>

#include "absl/time/time.h"
#include "hearth/warm_pool.h"

namespace hearth {

std::optional<absl::Duration> MeasuredColdStart(const WarmPoolMetrics& metrics,
                                                std::string_view model) {
  double longest_ms = 0;
  for (const auto& [name, m] : metrics.models) {
    if (model.empty() || name == model) longest_ms = std::max(longest_ms, m.last_cold_start_ms);
  }
  if (longest_ms <= 0) return std::nullopt;
  return absl::Microseconds(longest_ms * 1000);
}

}  // namespace hearth
