// Predictive scaling: forecast the arrival rate one cold start ahead, convert it to
// replicas with Little's law, and never provision below what the load needs now.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hearth/scaling_policies.h"
#include "lib/autoscale/recommendation_window.h"
#include "lib/autoscale/replica_count.h"
#include "lib/autoscale/sample_history.h"
#include "lib/autoscale/seasonal_forecaster.h"

namespace hearth {
namespace {

class PredictivePolicy final : public ScalingPolicy {
 public:
  explicit PredictivePolicy(const PredictiveConfig& config)
      : config_(config),
        forecaster_(static_cast<int>(config.season_period / config.bin), config.level_smoothing,
                    config.trend_smoothing, config.season_smoothing),
        lead_(config.cold_start) {}

  std::string_view name() const override { return "predictive"; }

  absl::Status Observe(const LoadSample& sample) override {
    if (absl::Status s = history_.Add(sample); !s.ok()) return s;
    history_.DropUntil(sample.time);
    if (!started_) {
      started_ = true;
      origin_ = sample.time;
      smoothed_in_flight_ = sample.in_flight;
      smoothed_rate_ = sample.arrival_rate;
    } else {
      const double a = config_.service_time_smoothing;
      smoothed_in_flight_ = a * sample.in_flight + (1 - a) * smoothed_in_flight_;
      smoothed_rate_ = a * sample.arrival_rate + (1 - a) * smoothed_rate_;
    }
    const int64_t bin = BinOf(sample.time);
    if (bin > open_bin_) {
      forecaster_.Add(bin_sum_ / bin_count_);  // the open bin holds >= 1 sample
      // Bins nobody sampled get the model's own forecast: no news, so no correction
      // (neither "the load vanished" nor "the last value went on"). A gap longer than two
      // seasons is shortened by whole seasons, keeping the phase without one step per bin.
      const int64_t season = config_.season_period / config_.bin;
      int64_t missing = bin - open_bin_ - 1;
      if (missing > 2 * season) missing = season + missing % season;
      for (int64_t b = 0; b < missing; ++b) {
        forecaster_.Add(std::max(0.0, forecaster_.Forecast(1)));
      }
      open_bin_ = bin;
      bin_sum_ = 0;
      bin_count_ = 0;
    }
    bin_sum_ += sample.arrival_rate;
    ++bin_count_;
    return absl::OkStatus();
  }

  ScalingDecision Recommend(absl::Time now) override {
    if (history_.empty()) return {0, "predictive: no samples yet"};
    const LoadSample& latest = history_.latest();
    const double service_s = smoothed_rate_ > 0 && smoothed_in_flight_ > 0
                                 ? smoothed_in_flight_ / smoothed_rate_
                                 : absl::ToDoubleSeconds(config_.initial_service_time);
    double forecast;
    if (forecaster_.bins_seen() == 0) {
      forecast = bin_sum_ / bin_count_;  // the open bin: all there is
    } else {
      // forecaster_'s last value is bin open_bin_ - 1.
      const int64_t horizon = std::max<int64_t>(1, BinOf(now + lead_) - (open_bin_ - 1));
      forecast = std::max(0.0, forecaster_.Forecast(horizon));
    }
    const double per_replica = config_.target_concurrency / config_.headroom;
    const double need_forecast = forecast * service_s / per_replica;
    const double need_rate = latest.arrival_rate * service_s / per_replica;
    const double need_now = (latest.in_flight + latest.queue_depth) / per_replica;
    const double need = std::max({need_forecast, need_rate, need_now});
    const int raw = ToReplicas(std::ceil(need));

    window_.Record(now, raw);
    window_.DropUntil(now - config_.scale_down_delay);
    const int desired =
        std::max(raw, window_.MaxAfter(now - config_.scale_down_delay).value_or(raw));
    return {desired, absl::StrFormat("predictive: %s forecast %.3g req/s at +%s, service %.3gs, "
                                     "now %.3g req/s and %.3g in system, target %.3g/replica x%.2f "
                                     "raw %d, %d held over %s",
                                     forecaster_.seasonal() ? "seasonal" : "trend", forecast,
                                     absl::FormatDuration(lead_), service_s, latest.arrival_rate,
                                     latest.in_flight + latest.queue_depth,
                                     config_.target_concurrency, config_.headroom, raw, desired,
                                     absl::FormatDuration(config_.scale_down_delay))};
  }

  void SetColdStart(absl::Duration measured) override {
    if (measured >= absl::ZeroDuration() && measured < absl::InfiniteDuration()) {
      lead_ = measured;
    }
  }

 private:
  int64_t BinOf(absl::Time t) const {
    return static_cast<int64_t>(std::floor(absl::FDivDuration(t - origin_, config_.bin)));
  }

  const PredictiveConfig config_;
  SeasonalForecaster forecaster_;
  absl::Duration lead_;
  SampleHistory history_;  // the latest sample
  RecommendationWindow window_;
  bool started_ = false;
  absl::Time origin_;
  int64_t open_bin_ = 0;
  double bin_sum_ = 0;
  int bin_count_ = 0;
  double smoothed_in_flight_ = 0;
  double smoothed_rate_ = 0;
};

absl::Status RequireIn(double value, double lo, double hi, bool lo_open, const char* field) {
  if (!(lo_open ? value > lo : value >= lo) || !(value <= hi)) {
    return absl::InvalidArgumentError(absl::StrCat("PredictiveConfig.", field, " must be in ",
                                                   lo_open ? "(" : "[", lo, ", ", hi, "], got ",
                                                   value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScalingPolicy>> MakePredictivePolicy(
    const PredictiveConfig& config) {
  const double kHuge = 1e12;
  for (absl::Status s :
       {RequireIn(config.target_concurrency, 0, kHuge, true, "target_concurrency"),
        RequireIn(config.headroom, 1, kHuge, false, "headroom"),
        RequireIn(config.level_smoothing, 0, 1, true, "level_smoothing"),
        RequireIn(config.trend_smoothing, 0, 1, false, "trend_smoothing"),
        RequireIn(config.season_smoothing, 0, 1, false, "season_smoothing"),
        RequireIn(config.service_time_smoothing, 0, 1, true, "service_time_smoothing")}) {
    if (!s.ok()) return s;
  }
  const auto positive = [](absl::Duration d) {
    return d > absl::ZeroDuration() && d < absl::InfiniteDuration();
  };
  const auto non_negative = [](absl::Duration d) {
    return d >= absl::ZeroDuration() && d < absl::InfiniteDuration();
  };
  for (auto [d, field, ok] :
       {std::tuple{config.bin, "bin", positive(config.bin)},
        std::tuple{config.initial_service_time, "initial_service_time",
                   positive(config.initial_service_time)},
        std::tuple{config.cold_start, "cold_start", non_negative(config.cold_start)},
        std::tuple{config.scale_down_delay, "scale_down_delay",
                   non_negative(config.scale_down_delay)}}) {
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("PredictiveConfig.", field, " out of range: ", absl::FormatDuration(d)));
    }
  }
  absl::Duration remainder;
  const int64_t bins = absl::IDivDuration(config.season_period, config.bin, &remainder);
  if (bins < 2 || bins > 1'000'000 || remainder != absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PredictiveConfig.season_period must be a whole number (2 to 1e6) of "
        "bins of ",
        absl::FormatDuration(config.bin), ", got ", absl::FormatDuration(config.season_period)));
  }
  return std::make_unique<PredictivePolicy>(config);
}

}  // namespace hearth
