#include "lib/autoscale/seasonal_forecaster.h"

#include <cmath>
#include <numbers>

#include "gtest/gtest.h"

namespace hearth {
namespace {

TEST(SeasonalForecasterTest, EmptyForecastsZero) {
  SeasonalForecaster f(4, 0.5, 0.1, 0.3);
  EXPECT_EQ(f.Forecast(1), 0);
  EXPECT_FALSE(f.seasonal());
}

TEST(SeasonalForecasterTest, HoltFollowsALinearTrend) {
  SeasonalForecaster f(1000, 0.5, 0.1, 0.3);  // never a whole season here
  for (int t = 0; t < 300; ++t) f.Add(3 + 2.0 * t);
  EXPECT_FALSE(f.seasonal());
  EXPECT_NEAR(f.Forecast(5), 3 + 2.0 * (299 + 5), 1e-3);
}

TEST(SeasonalForecasterTest, LearnsARepeatingPattern) {
  const int season = 24;
  const auto value = [&](int t) {
    return 50 + 30 * std::sin(2 * std::numbers::pi * (t % season) / season);
  };
  SeasonalForecaster f(season, 0.3, 0.05, 0.3);
  for (int t = 0; t < 3 * season; ++t) f.Add(value(t));
  ASSERT_TRUE(f.seasonal());
  for (int h = 1; h <= season; ++h) {
    EXPECT_NEAR(f.Forecast(h), value(3 * season - 1 + h), 1.0) << h;
  }
}

TEST(SeasonalForecasterTest, SeasonFollowsTheTrendToo) {
  const int season = 10;
  SeasonalForecaster f(season, 0.3, 0.1, 0.2);
  const auto value = [&](int t) { return 100 + 0.5 * t + (t % season < 5 ? 20 : -20); };
  for (int t = 0; t < 6 * season; ++t) f.Add(value(t));
  for (int h = 1; h <= season; ++h) {
    EXPECT_NEAR(f.Forecast(h), value(6 * season - 1 + h), 3.0) << h;
  }
}

}  // namespace
}  // namespace hearth
