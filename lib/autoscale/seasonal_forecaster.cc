#include "lib/autoscale/seasonal_forecaster.h"

#include <numeric>

namespace hearth {

SeasonalForecaster::SeasonalForecaster(int season_bins, double alpha, double beta, double gamma)
    : season_bins_(season_bins), alpha_(alpha), beta_(beta), gamma_(gamma) {
  first_season_.reserve(season_bins);
}

void SeasonalForecaster::Add(double value) {
  const int64_t index = bins_seen_++;
  if (index == 0) {
    level_ = value;
    trend_ = 0;
  } else if (season_.empty()) {
    const double level = alpha_ * value + (1 - alpha_) * (level_ + trend_);
    trend_ = beta_ * (level - level_) + (1 - beta_) * trend_;
    level_ = level;
  } else {
    double& s = season_[index % season_bins_];
    const double level = alpha_ * (value - s) + (1 - alpha_) * (level_ + trend_);
    trend_ = beta_ * (level - level_) + (1 - beta_) * trend_;
    s = gamma_ * (value - level) + (1 - gamma_) * s;
    level_ = level;
  }
  if (season_.empty()) {
    first_season_.push_back(value);
    if (static_cast<int>(first_season_.size()) == season_bins_) StartSeason();
  }
}

void SeasonalForecaster::StartSeason() {
  // The classical start: level = the season's mean, seasonal terms = deviations from it,
  // trend 0. Holt's trend so far is not kept: within one season it mostly measures the
  // seasonal swing, not a trend, and carrying it over skews every seasonal term.
  const double mean =
      std::accumulate(first_season_.begin(), first_season_.end(), 0.0) / season_bins_;
  season_.resize(season_bins_);
  for (int i = 0; i < season_bins_; ++i) season_[i] = first_season_[i] - mean;
  level_ = mean;
  trend_ = 0;
  first_season_.clear();
  first_season_.shrink_to_fit();
}

double SeasonalForecaster::Forecast(int64_t horizon) const {
  if (bins_seen_ == 0) return 0;
  double forecast = level_ + static_cast<double>(horizon) * trend_;
  if (!season_.empty()) forecast += season_[(bins_seen_ - 1 + horizon) % season_bins_];
  return forecast;
}

}  // namespace hearth
