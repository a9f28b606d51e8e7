// SeasonalForecaster: additive Holt-Winters over equally spaced values (one per bin),
// with Holt's level + trend until one whole season has been seen.
//
//   Holt:          l' = a x + (1 - a)(l + b);          b' = c (l' - l) + (1 - c) b
//   Holt-Winters:  l' = a (x - s_i) + (1 - a)(l + b);   b' = c (l' - l) + (1 - c) b;
//                  s_i' = g (x - l') + (1 - g) s_i      (i = bin index mod season)
//   forecast h bins ahead: l + h b (+ s_{(last + h) mod season})
// When the first season completes, Holt-Winters starts classically: level = that
// season's mean, seasonal terms = each bin's deviation from it, trend 0 (the trend is
// then learnt season over season).
//
// Not thread-safe; owned by one policy.
#ifndef HEARTH_LIB_AUTOSCALE_SEASONAL_FORECASTER_H_
#define HEARTH_LIB_AUTOSCALE_SEASONAL_FORECASTER_H_

#include <cstdint>
#include <vector>

namespace hearth {

class SeasonalForecaster {
 public:
  // season_bins >= 2; smoothing factors alpha in (0, 1], beta and gamma in [0, 1]
  // (the caller validates).
  SeasonalForecaster(int season_bins, double alpha, double beta, double gamma);

  // Adds the next bin's value.
  void Add(double value);

  // The forecast `horizon` >= 1 bins after the last added one; 0 before any value.
  double Forecast(int64_t horizon) const;

  bool seasonal() const { return !season_.empty(); }
  int64_t bins_seen() const { return bins_seen_; }

 private:
  void StartSeason();

  const int season_bins_;
  const double alpha_, beta_, gamma_;
  int64_t bins_seen_ = 0;
  double level_ = 0;
  double trend_ = 0;
  std::vector<double> first_season_;  // values of the first season, until it completes
  std::vector<double> season_;        // seasonal terms, once a season is seen
};

}  // namespace hearth

#endif  // HEARTH_LIB_AUTOSCALE_SEASONAL_FORECASTER_H_
