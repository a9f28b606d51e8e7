#include "hearth/autoscaler.h"

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/clock.h"
#include "hearth/scaling_policies.h"
#include "tests/autoscale/load_series.h"

namespace hearth {
namespace {

using ::hearth::testing::Load;
using ::hearth::testing::T;
using ::testing::HasSubstr;

std::unique_ptr<ScalingPolicy> Static(int replicas) {
  return MakeStaticPolicy(StaticConfig{replicas}).value();
}

std::unique_ptr<AutoScaler> Scaler(AutoScalerConfig config,
                                   std::vector<std::unique_ptr<ScalingPolicy>> policies,
                                   Clock* clock) {
  absl::StatusOr<std::unique_ptr<AutoScaler>> scaler =
      AutoScaler::Create(config, std::move(policies), clock);
  EXPECT_TRUE(scaler.ok()) << scaler.status();
  return *std::move(scaler);
}

std::vector<std::unique_ptr<ScalingPolicy>> One(int replicas) {
  std::vector<std::unique_ptr<ScalingPolicy>> v;
  v.push_back(Static(replicas));
  return v;
}

TEST(AutoScalerTest, CreateRejectsBadConfig) {
  ManualClock clock;
  const auto code = [&](AutoScalerConfig c) {
    return AutoScaler::Create(c, One(1), &clock).status().code();
  };
  EXPECT_EQ(code({.min_replicas = 3, .max_replicas = 2}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.min_replicas = -1, .max_replicas = 2}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.min_replicas = 0, .max_replicas = 0}), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      AutoScaler::Create({.min_replicas = 3, .max_replicas = 2}, One(1), &clock).status().message(),
      HasSubstr("min_replicas"));
  EXPECT_EQ(AutoScaler::Create({}, {}, &clock).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::unique_ptr<ScalingPolicy>> with_null;
  with_null.push_back(nullptr);
  EXPECT_EQ(AutoScaler::Create({}, std::move(with_null), &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AutoScaler::Create({}, One(1), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AutoScalerTest, ObserveRejectsBadSamplesNamingTheField) {
  ManualClock clock(T(0));
  auto scaler = Scaler({}, One(1), &clock);
  const auto message = [&](LoadSample s) {
    absl::Status status = scaler->Observe(s);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    return std::string(status.message());
  };
  LoadSample s = Load(0, 1, 1);
  s.in_flight = std::nan("");
  EXPECT_THAT(message(s), HasSubstr("in_flight"));
  s = Load(0, 1, 1);
  s.queue_depth = -1;
  EXPECT_THAT(message(s), HasSubstr("queue_depth"));
  s = Load(0, 1, 1);
  s.arrival_rate = std::numeric_limits<double>::infinity();
  EXPECT_THAT(message(s), HasSubstr("arrival_rate"));
  s = Load(0, 1, 1);
  s.utilization = 1.5;
  EXPECT_THAT(message(s), HasSubstr("utilization"));
  s = Load(0, 1, 1);
  s.memory_utilization = -0.1;
  EXPECT_THAT(message(s), HasSubstr("memory_utilization"));
  s = Load(0, 1, 1);
  s.ttft_p99_ms = std::nan("");
  EXPECT_THAT(message(s), HasSubstr("ttft_p99_ms"));
  s = Load(0, -1, 1);
  EXPECT_THAT(message(s), HasSubstr("ready_replicas"));
  s = Load(0, 1, 1, /*starting=*/-2);
  EXPECT_THAT(message(s), HasSubstr("starting_replicas"));

  ASSERT_TRUE(scaler->Observe(Load(10, 1, 1)).ok());
  ASSERT_TRUE(scaler->Observe(Load(10, 1, 1)).ok());  // same time is fine
  EXPECT_THAT(message(Load(9, 1, 1)), HasSubstr("time"));
}

TEST(AutoScalerTest, PoliciesRejectSamplesGoingBackInTime) {
  for (const char* name : {"hpa", "kpa", "queue_depth", "load_score", "predictive", "static"}) {
    auto policy = MakeScalingPolicy(name).value();
    ASSERT_TRUE(policy->Observe(Load(5, 1, 1)).ok()) << name;
    EXPECT_EQ(policy->Observe(Load(4, 1, 1)).code(), absl::StatusCode::kInvalidArgument) << name;
    LoadSample bad = Load(6, 1, 1);
    bad.tokens_per_s = -3;
    EXPECT_EQ(policy->Observe(bad).code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST(AutoScalerTest, MakeScalingPolicyKnowsEveryName) {
  for (const char* name : {"hpa", "kpa", "queue_depth", "load_score", "predictive", "static"}) {
    absl::StatusOr<std::unique_ptr<ScalingPolicy>> policy = MakeScalingPolicy(name);
    ASSERT_TRUE(policy.ok()) << name << ": " << policy.status();
    EXPECT_EQ((*policy)->name(), name);
    EXPECT_EQ((*policy)->Recommend(T(0)).desired_replicas, name == std::string("static") ? 1 : 0);
  }
  EXPECT_EQ(MakeScalingPolicy("hpa2").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(MakeScalingPolicy("").status().message(), HasSubstr("unknown"));
}

TEST(AutoScalerTest, TakesTheLargestRecommendationAndNamesIt) {
  ManualClock clock(T(0));
  std::vector<std::unique_ptr<ScalingPolicy>> policies;
  policies.push_back(Static(3));
  policies.push_back(Static(5));
  policies.push_back(Static(2));
  auto scaler = Scaler({.min_replicas = 0, .max_replicas = 10}, std::move(policies), &clock);
  ScalingDecision d = scaler->Decide();
  EXPECT_EQ(d.desired_replicas, 5);
  EXPECT_THAT(d.reason, HasSubstr("static: 5"));
}

TEST(AutoScalerTest, ClampsToMinAndMax) {
  ManualClock clock(T(0));
  ScalingDecision high = Scaler({.min_replicas = 0, .max_replicas = 4}, One(9), &clock)->Decide();
  EXPECT_EQ(high.desired_replicas, 4);
  EXPECT_THAT(high.reason, HasSubstr("clamped"));
  EXPECT_EQ(
      Scaler({.min_replicas = 2, .max_replicas = 4}, One(0), &clock)->Decide().desired_replicas, 2);
}

TEST(AutoScalerTest, WakesFromZeroOnTheFirstRequest) {
  ManualClock clock(T(0));
  auto scaler = Scaler({.min_replicas = 0, .max_replicas = 4}, One(0), &clock);
  ASSERT_TRUE(scaler->Observe(Load(0, 0, 0)).ok());
  EXPECT_EQ(scaler->Decide().desired_replicas, 0);
  LoadSample queued = Load(1, 0, 0);
  queued.queue_depth = 1;
  ASSERT_TRUE(scaler->Observe(queued).ok());
  ScalingDecision d = scaler->Decide();
  EXPECT_EQ(d.desired_replicas, 1);
  EXPECT_THAT(d.reason, HasSubstr("waking"));
  // Once a replica is starting, the wake rule has done its job.
  LoadSample starting = queued;
  starting.time = T(2);
  starting.starting_replicas = 1;
  ASSERT_TRUE(scaler->Observe(starting).ok());
  EXPECT_EQ(scaler->Decide().desired_replicas, 0);
}

TEST(AutoScalerTest, KpaScalesToZeroAndWakesUp) {
  ManualClock clock(T(0));
  std::vector<std::unique_ptr<ScalingPolicy>> policies;
  policies.push_back(MakeScalingPolicy("kpa").value());
  auto scaler = Scaler({.min_replicas = 0, .max_replicas = 10}, std::move(policies), &clock);
  int replicas = 1;
  for (int t = 0; t <= 200; t += 2) {
    clock.Set(T(t));
    ASSERT_TRUE(scaler->Observe(Load(t, replicas, t < 20 ? 30 : 0)).ok());
    replicas = scaler->Decide().desired_replicas;
  }
  EXPECT_EQ(replicas, 0);
  clock.Set(T(202));
  LoadSample request = Load(202, 0, 0);
  request.queue_depth = 1;
  ASSERT_TRUE(scaler->Observe(request).ok());
  EXPECT_EQ(scaler->Decide().desired_replicas, 1);
}

TEST(AutoScalerTest, ColdStartReachesThePredictivePolicy) {
  PredictiveConfig config;
  config.target_concurrency = 10;
  config.headroom = 1;
  config.scale_down_delay = absl::ZeroDuration();
  ManualClock clock(T(0));
  std::vector<std::unique_ptr<ScalingPolicy>> policies;
  policies.push_back(MakePredictivePolicy(config).value());
  auto scaler = Scaler({.min_replicas = 0, .max_replicas = 100}, std::move(policies), &clock);
  for (int t = 0; t < 1800; ++t) {
    LoadSample s = Load(t, 1, 2 * (1 + t / 60.0));
    s.arrival_rate = 1 + t / 60.0;
    ASSERT_TRUE(scaler->Observe(s).ok());
  }
  clock.Set(T(1799));
  scaler->SetColdStart(absl::ZeroDuration());
  const int now = scaler->Decide().desired_replicas;
  scaler->SetColdStart(absl::Minutes(10));
  EXPECT_GT(scaler->Decide().desired_replicas, now);
}

// Random valid series through every policy at once: the decision stays in [min, max].
TEST(AutoScalerTest, RandomSeriesStayWithinBounds) {
  std::mt19937 rng(20260601);
  for (int trial = 0; trial < 20; ++trial) {
    std::uniform_int_distribution<int> pick_min(0, 3);
    const int min_replicas = pick_min(rng);
    const int max_replicas = min_replicas + std::uniform_int_distribution<int>(1, 20)(rng);
    ManualClock clock(T(0));
    std::vector<std::unique_ptr<ScalingPolicy>> policies;
    for (const char* name : {"hpa", "kpa", "queue_depth", "load_score", "predictive", "static"}) {
      policies.push_back(MakeScalingPolicy(name).value());
    }
    auto scaler = Scaler({.min_replicas = min_replicas, .max_replicas = max_replicas},
                         std::move(policies), &clock);
    std::uniform_real_distribution<double> unit(0, 1);
    std::exponential_distribution<double> load(1.0 / 100);
    int ready = 0;
    int starting = 0;
    double t = 0;
    for (int step = 0; step < 600; ++step) {
      t += unit(rng) < 0.1 ? 0 : 0.5 + 3 * unit(rng);  // some samples share a time
      clock.Set(T(t));
      LoadSample s;
      s.time = T(t);
      s.ready_replicas = ready;
      s.starting_replicas = starting;
      s.in_flight = unit(rng) < 0.2 ? 0 : load(rng);
      s.queue_depth = unit(rng) < 0.5 ? 0 : load(rng);
      s.arrival_rate = load(rng) / 10;
      s.tokens_per_s = load(rng) * 30;
      s.utilization = unit(rng);
      s.memory_utilization = unit(rng);
      s.ttft_p50_ms = load(rng);
      s.ttft_p99_ms = s.ttft_p50_ms * 3;
      ASSERT_TRUE(scaler->Observe(s).ok());
      if (unit(rng) < 0.3) scaler->SetColdStart(absl::Seconds(60 * unit(rng)));
      ScalingDecision d = scaler->Decide();
      ASSERT_GE(d.desired_replicas, min_replicas) << d.reason;
      ASSERT_LE(d.desired_replicas, max_replicas) << d.reason;
      ASSERT_FALSE(d.reason.empty());
      // The pool moves part of the way: some start, some become ready.
      const int target = d.desired_replicas;
      ready = std::min(ready + starting, target);
      starting = std::max(0, target - ready) / 2;
    }
  }
}

// Each policy alone also never recommends a negative count on random input.
TEST(AutoScalerTest, RandomSeriesNeverNegativePerPolicy) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  for (const char* name : {"hpa", "kpa", "queue_depth", "load_score", "predictive"}) {
    auto policy = MakeScalingPolicy(name).value();
    int replicas = 0;
    for (int step = 0; step < 2000; ++step) {
      LoadSample s;
      s.time = T(step);
      s.ready_replicas = replicas;
      s.in_flight = unit(rng) < 0.3 ? 0 : 500 * unit(rng);
      s.queue_depth = unit(rng) < 0.7 ? 0 : 50 * unit(rng);
      s.arrival_rate = 30 * unit(rng);
      s.utilization = unit(rng);
      s.memory_utilization = unit(rng);
      ASSERT_TRUE(policy->Observe(s).ok());
      replicas = policy->Recommend(s.time).desired_replicas;
      ASSERT_GE(replicas, 0) << name;
      replicas = std::min(replicas, 1000);
    }
  }
}

// Huge but valid loads saturate at the count's range instead of overflowing.
TEST(AutoScalerTest, HugeLoadsSaturate) {
  for (const char* name : {"hpa", "kpa", "queue_depth", "load_score", "predictive"}) {
    auto policy = MakeScalingPolicy(name).value();
    for (int t = 0; t < 40; ++t) {
      LoadSample s;
      s.time = T(t);
      s.ready_replicas = t % 2 == 0 ? 1 : 2'000'000'000;
      s.starting_replicas = t % 3 == 0 ? 100'000'000 : 0;
      s.in_flight = 1e300;
      s.queue_depth = 1e300;
      s.arrival_rate = 1e300;
      s.tokens_per_s = 1e300;
      s.utilization = 1;
      s.memory_utilization = 1;
      ASSERT_TRUE(policy->Observe(s).ok()) << name;
      ASSERT_GE(policy->Recommend(s.time).desired_replicas, 0) << name;
    }
  }
  ManualClock clock(T(0));
  auto scaler = Scaler({.min_replicas = 0, .max_replicas = 7}, One(0), &clock);
  LoadSample overflow = Load(0, 2'000'000'000, 0, /*starting=*/2'000'000'000);
  EXPECT_THAT(scaler->Observe(overflow).message(), HasSubstr("overflows"));
}

}  // namespace
}  // namespace hearth
