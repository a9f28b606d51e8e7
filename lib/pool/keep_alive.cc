#include "hearth/keep_alive.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hearth {
namespace {

absl::Status CheckIdleTime(std::string_view model, absl::Duration idle) {
  if (idle < absl::ZeroDuration() || idle == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("idle time of model '", std::string(model),
                                                   "' must be finite and >= 0, got ",
                                                   absl::FormatDuration(idle)));
  }
  return absl::OkStatus();
}

class FixedKeepAlive final : public KeepAlivePolicy {
 public:
  explicit FixedKeepAlive(absl::Duration timeout) : timeout_(timeout) {}

  std::string name() const override {
    if (timeout_ == absl::ZeroDuration()) return "immediate";
    return absl::StrCat("fixed:", absl::ToDoubleSeconds(timeout_));
  }
  absl::Status RecordIdleTime(std::string_view model, absl::Duration idle) override {
    return CheckIdleTime(model, idle);
  }
  KeepAliveWindow WindowFor(std::string_view) const override {
    return {absl::ZeroDuration(), timeout_};
  }

 private:
  const absl::Duration timeout_;
};

class HybridKeepAlive final : public KeepAlivePolicy {
 public:
  explicit HybridKeepAlive(const HybridKeepAliveConfig& config)
      : config_(config), bins_(static_cast<size_t>(config.range / config.bin)) {}

  std::string name() const override { return "hybrid"; }

  absl::Status RecordIdleTime(std::string_view model, absl::Duration idle) override {
    if (absl::Status s = CheckIdleTime(model, idle); !s.ok()) return s;
    auto [it, inserted] = models_.try_emplace(absl::string_view(model.data(), model.size()));
    ModelHistory& h = it->second;
    if (inserted) h.bin_counts.assign(bins_, 0);
    if (idle >= config_.range) {
      ++h.out_of_bounds;
    } else {
      ++h.bin_counts[static_cast<size_t>(idle / config_.bin)];
      ++h.in_range;
    }
    const double seconds = absl::ToDoubleSeconds(idle);
    h.forecast_s =
        h.in_range + h.out_of_bounds == 1
            ? seconds
            : config_.forecast_alpha * seconds + (1 - config_.forecast_alpha) * h.forecast_s;
    return absl::OkStatus();
  }

  KeepAliveWindow WindowFor(std::string_view model) const override {
    const KeepAliveWindow unrepresentative{absl::ZeroDuration(), config_.range};
    auto it = models_.find(absl::string_view(model.data(), model.size()));
    if (it == models_.end()) return unrepresentative;
    const ModelHistory& h = it->second;
    const int64_t total = h.in_range + h.out_of_bounds;
    if (total >= config_.min_samples &&
        static_cast<double>(h.out_of_bounds) >
            config_.max_out_of_bounds_share * static_cast<double>(total)) {
      const absl::Duration forecast = absl::Seconds(h.forecast_s);
      return {forecast * (1 - config_.forecast_margin), forecast * (2 * config_.forecast_margin)};
    }
    if (h.in_range < config_.min_samples || BinCountCv(h) < config_.min_cv) {
      return unrepresentative;
    }
    const absl::Duration head =
        config_.bin * static_cast<int64_t>(BinOfPercentile(h, config_.head_percentile));
    const absl::Duration tail =
        config_.bin * static_cast<int64_t>(BinOfPercentile(h, config_.tail_percentile) + 1);
    const absl::Duration prewarm = head * (1 - config_.margin);
    return {prewarm, tail * (1 + config_.margin) - prewarm};
  }

 private:
  struct ModelHistory {
    std::vector<int64_t> bin_counts;
    int64_t in_range = 0;
    int64_t out_of_bounds = 0;
    double forecast_s = 0;  // exponentially smoothed idle time
  };

  // Population standard deviation over mean of the counts of all bins, empty ones
  // included: a pattern concentrated in few bins scores high, a spread-out one low.
  static double BinCountCv(const ModelHistory& h) {
    const double n = static_cast<double>(h.bin_counts.size());
    const double mean = static_cast<double>(h.in_range) / n;
    if (mean == 0) return 0;
    double sum_sq = 0;
    for (int64_t c : h.bin_counts) {
      const double d = static_cast<double>(c) - mean;
      sum_sq += d * d;
    }
    return std::sqrt(sum_sq / n) / mean;
  }

  // Index of the bin holding the sample of rank ceil(p% of the in-range samples) (at
  // least the first sample).
  static size_t BinOfPercentile(const ModelHistory& h, double percentile) {
    const int64_t rank = std::max<int64_t>(
        1, static_cast<int64_t>(std::ceil(percentile / 100 * static_cast<double>(h.in_range))));
    int64_t seen = 0;
    for (size_t b = 0; b < h.bin_counts.size(); ++b) {
      seen += h.bin_counts[b];
      if (seen >= rank) return b;
    }
    return h.bin_counts.size() - 1;
  }

  const HybridKeepAliveConfig config_;
  const size_t bins_;
  absl::flat_hash_map<std::string, ModelHistory> models_;
};

absl::Status CheckUnitInterval(const char* field, double value, bool open_high) {
  if (!(value >= 0) || value > 1 || (open_high && value == 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("HybridKeepAliveConfig.%s must be in [0, 1%s, got %g", field,
                        open_high ? ")" : "]", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> MakeFixedKeepAlive(absl::Duration timeout) {
  if (timeout < absl::ZeroDuration() || timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "keep-alive timeout must be finite and >= 0, got ", absl::FormatDuration(timeout)));
  }
  return std::make_unique<FixedKeepAlive>(timeout);
}

absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> MakeHybridKeepAlive(HybridKeepAliveConfig config) {
  if (config.bin <= absl::ZeroDuration() || config.bin == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("HybridKeepAliveConfig.bin must be finite and > 0, got ",
                     absl::FormatDuration(config.bin)));
  }
  absl::Duration remainder;
  if (config.range < config.bin || config.range == absl::InfiniteDuration() ||
      (absl::IDivDuration(config.range, config.bin, &remainder), remainder) !=
          absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("HybridKeepAliveConfig.range must be a finite multiple of bin, got ",
                     absl::FormatDuration(config.range)));
  }
  for (auto [field, value] : {std::pair{"head_percentile", config.head_percentile},
                              std::pair{"tail_percentile", config.tail_percentile}}) {
    if (!(value >= 0 && value <= 100)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("HybridKeepAliveConfig.%s must be in [0, 100], got %g", field, value));
    }
  }
  if (config.head_percentile > config.tail_percentile) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "HybridKeepAliveConfig.head_percentile (%g) must not exceed tail_percentile (%g)",
        config.head_percentile, config.tail_percentile));
  }
  if (absl::Status s = CheckUnitInterval("margin", config.margin, true); !s.ok()) return s;
  if (absl::Status s = CheckUnitInterval("forecast_margin", config.forecast_margin, true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckUnitInterval("max_out_of_bounds_share", config.max_out_of_bounds_share, false);
      !s.ok()) {
    return s;
  }
  if (config.min_samples < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("HybridKeepAliveConfig.min_samples must be >= 1, got ", config.min_samples));
  }
  if (!(config.min_cv >= 0) || std::isinf(config.min_cv)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "HybridKeepAliveConfig.min_cv must be finite and >= 0, got %g", config.min_cv));
  }
  if (!(config.forecast_alpha > 0 && config.forecast_alpha <= 1)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "HybridKeepAliveConfig.forecast_alpha must be in (0, 1], got %g", config.forecast_alpha));
  }
  return std::make_unique<HybridKeepAlive>(config);
}

absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> MakeKeepAlivePolicy(std::string_view name) {
  if (name == "fixed") return MakeFixedKeepAlive(absl::Minutes(10));
  if (name == "immediate") return MakeFixedKeepAlive(absl::ZeroDuration());
  if (name == "hybrid") return MakeHybridKeepAlive();
  constexpr std::string_view kFixedPrefix = "fixed:";
  if (name.substr(0, kFixedPrefix.size()) == kFixedPrefix) {
    double seconds = 0;
    if (absl::SimpleAtod(std::string(name.substr(kFixedPrefix.size())), &seconds) && seconds >= 0 &&
        std::isfinite(seconds)) {
      return MakeFixedKeepAlive(absl::Seconds(seconds));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("keep-alive policy '", std::string(name),
                     "': seconds after 'fixed:' must be a number >= 0"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown keep-alive policy '", std::string(name),
                   "' (known: fixed, fixed:<seconds>, immediate, hybrid)"));
}

}  // namespace hearth
