#include "hearth/capacity_planner.h"

#include <cmath>
#include <random>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hearth {
namespace {

Offering Make(std::string name, OfferingKind kind, double hourly) {
  Offering o;
  o.name = std::move(name);
  o.kind = kind;
  o.hourly = hourly;
  o.currency = "USD";
  o.price_date = "2026-01-01";
  o.source = "https://example.com";
  if (kind == OfferingKind::kReserved) o.term = absl::Hours(24 * 365);
  return o;
}

// Serverless $0.001/s + $0.01/request; always-on $0.0005/s; reserved $0.0003/s.
CapacityPlannerConfig Config(absl::Duration cold_start) {
  Offering serverless = Make("fn", OfferingKind::kServerless, 0);
  serverless.resources.accelerator_count = 1;
  serverless.per_accelerator_second = 0.001;
  serverless.per_request = 0.01;
  return {serverless, Make("od", OfferingKind::kOnDemand, 1.8), Make("ri", OfferingKind::kReserved, 1.08),
          cold_start};
}

DemandSeries Tiny() {
  return {absl::Seconds(100), {0.5, 2.0, 1.0, 0}, {10, 40, 20, 0}};
}

TEST(CapacityPlannerTest, HandComputedCostsOnTinySeries) {
  CapacityPlanner planner = CapacityPlanner::Create(Config(absl::Seconds(10))).value();
  PlanResult plan = planner.Plan(Tiny(), absl::Seconds(10)).value();
  EXPECT_EQ(plan.always_on_replicas, 2);
  EXPECT_NEAR(plan.always_on_cost, 2 * 400 * 0.0005, 1e-12);
  ASSERT_EQ(plan.hybrid.size(), 3u);
  // R = 0: 3.5 busy replica-intervals x 100 s x $0.001, two replicas added x 10 s, 70 fees.
  EXPECT_NEAR(plan.hybrid[0].serverless_cost, 0.35 + 0.02, 1e-12);
  EXPECT_NEAR(plan.hybrid[0].request_fees, 0.7, 1e-12);
  EXPECT_NEAR(plan.serverless_cost, 1.07, 1e-12);
  // R = 1: one reserved for 400 s; excess 1.0 in interval 1 (half its 40 requests).
  EXPECT_NEAR(plan.hybrid[1].reserved_cost, 0.12, 1e-12);
  EXPECT_NEAR(plan.hybrid[1].serverless_cost, 0.1 + 0.01, 1e-12);
  EXPECT_NEAR(plan.hybrid[1].request_fees, 0.2, 1e-12);
  EXPECT_NEAR(plan.hybrid[1].total, 0.43, 1e-12);
  EXPECT_NEAR(plan.hybrid[2].total, 0.24, 1e-12);
  EXPECT_EQ(plan.best_reserved, 2);
  EXPECT_NEAR(plan.best_cost, 0.24, 1e-12);
  EXPECT_EQ(plan.recommendation, "reserved");
  // Seeds' rule: 70 requests in 400 s = 15,120 a day; x 10 s / 86,400 = 1.75 -> 2.
  EXPECT_NEAR(plan.daily_requests, 15120, 1e-9);
  EXPECT_EQ(plan.seed_reserved, 2);
  EXPECT_NEAR(plan.seed_cost, 0.24, 1e-12);
  // With a P95 of 3 s the rule reserves 1 (0.525 -> 1) and pays more than our optimum.
  PlanResult short_p95 = planner.Plan(Tiny(), absl::Seconds(3)).value();
  EXPECT_EQ(short_p95.seed_reserved, 1);
  EXPECT_NEAR(short_p95.seed_cost, 0.43, 1e-12);
  EXPECT_LT(short_p95.best_cost, short_p95.seed_cost);
}

TEST(CapacityPlannerTest, SparseLoadStaysServerless) {
  CapacityPlanner planner = CapacityPlanner::Create(Config(absl::Seconds(10))).value();
  DemandSeries sparse{absl::Minutes(1), std::vector<double>(60, 0.0), std::vector<double>(60, 0.0)};
  sparse.busy_replicas[10] = 0.05;
  sparse.requests[10] = 2;
  PlanResult plan = planner.Plan(sparse, absl::Seconds(2)).value();
  EXPECT_EQ(plan.best_reserved, 0);
  EXPECT_EQ(plan.recommendation, "serverless");
}

TEST(CapacityPlannerTest, FromRequestsUsesLittlesLaw) {
  DemandSeries s = DemandSeries::FromRequests({60, 120}, absl::Minutes(1), absl::Seconds(4), 2).value();
  EXPECT_DOUBLE_EQ(s.busy_replicas[0], 2.0);  // 1 req/s x 4 s / 2 per replica
  EXPECT_DOUBLE_EQ(s.busy_replicas[1], 4.0);
  EXPECT_DOUBLE_EQ(s.requests[1], 120);
}

TEST(CapacityPlannerTest, CrossoverMatchesClosedFormAndThePlan) {
  CapacityPlanner planner = CapacityPlanner::Create(Config(absl::ZeroDuration())).value();
  Crossover c = planner.FindCrossover(absl::Seconds(2), 1).value();
  // 86,400 x 0.0005 / (2 x 0.001 + 0.01) = 3,600 requests a day.
  EXPECT_NEAR(c.requests_per_day, 3600, 1e-9);
  EXPECT_NEAR(c.always_on_cost_per_day, 43.2, 1e-9);
  EXPECT_TRUE(c.valid);
  auto day = [&](double requests) {
    DemandSeries s = DemandSeries::FromRequests({requests}, absl::Hours(24), absl::Seconds(2), 1).value();
    return planner.Plan(s, absl::Seconds(2)).value();
  };
  PlanResult at = day(c.requests_per_day);
  EXPECT_NEAR(at.serverless_cost, at.always_on_cost, 1e-9);
  PlanResult below = day(0.9 * c.requests_per_day);
  EXPECT_LT(below.serverless_cost, below.always_on_cost);
  PlanResult above = day(1.1 * c.requests_per_day);
  EXPECT_GT(above.serverless_cost, above.always_on_cost);
}

TEST(CapacityPlannerTest, CrossoverInvalidWhenServerlessAlwaysCheaper) {
  CapacityPlannerConfig config = Config(absl::ZeroDuration());
  config.always_on.hourly = 100;  // far dearer per second than serverless
  CapacityPlanner planner = CapacityPlanner::Create(config).value();
  EXPECT_FALSE(planner.FindCrossover(absl::Seconds(5), 1).value().valid);
}

TEST(CapacityPlannerTest, PlacesModelsByCostAndBySeedThreshold) {
  CapacityPlanner planner = CapacityPlanner::Create(Config(absl::Seconds(10))).value();
  const std::vector<double> busy(24, 30.0), quiet(24, 0.0);
  std::vector<ModelDemand> models = {
      {"hot", DemandSeries::FromRequests(std::vector<double>(24, 36000), absl::Hours(1), absl::Seconds(2), 1).value(),
       absl::Seconds(3)},
      {"cold", DemandSeries::FromRequests(std::vector<double>(24, 10), absl::Hours(1), absl::Seconds(2), 1).value(),
       absl::Seconds(3)}};
  std::vector<Placement> placements = planner.Place(models).value();
  ASSERT_EQ(placements.size(), 2u);
  EXPECT_NEAR(placements[0].mean_qps, 10, 1e-9);
  EXPECT_EQ(placements[0].by_seed_threshold, "always_on");
  EXPECT_NE(placements[0].by_cost, "serverless");
  EXPECT_EQ(placements[1].by_seed_threshold, "serverless");
  EXPECT_EQ(placements[1].by_cost, "serverless");
  for (const Placement& p : placements) {
    EXPECT_LE(std::min({p.plan.best_cost, p.plan.always_on_cost}), p.seed_choice_cost + 1e-12) << p.model;
  }
}

TEST(CapacityPlannerTest, BadInputs) {
  CapacityPlanner planner = CapacityPlanner::Create(Config(absl::Seconds(1))).value();
  DemandSeries nan = Tiny();
  nan.busy_replicas[1] = std::nan("");
  absl::Status s = planner.Plan(nan, absl::Seconds(1)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("busy_replicas[1]"));
  DemandSeries negative = Tiny();
  negative.requests[2] = -1;
  EXPECT_THAT(planner.Plan(negative, absl::Seconds(1)).status().message(), ::testing::HasSubstr("requests[2]"));
  DemandSeries mismatched = Tiny();
  mismatched.requests.pop_back();
  EXPECT_EQ(planner.Plan(mismatched, absl::Seconds(1)).status().code(), absl::StatusCode::kInvalidArgument);
  DemandSeries zero_interval = Tiny();
  zero_interval.interval = absl::ZeroDuration();
  EXPECT_EQ(planner.Plan(zero_interval, absl::Seconds(1)).status().code(), absl::StatusCode::kInvalidArgument);
  DemandSeries huge = Tiny();
  huge.busy_replicas[0] = 1e9;
  EXPECT_EQ(planner.Plan(huge, absl::Seconds(1)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(planner.Plan(Tiny(), absl::Seconds(-1)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DemandSeries::FromRequests({1}, absl::Minutes(1), absl::Seconds(1), 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(DemandSeries::FromRequests({1, std::nan("")}, absl::Minutes(1), absl::Seconds(1), 1).status().message(),
              ::testing::HasSubstr("requests[1]"));
  EXPECT_EQ(planner.FindCrossover(absl::ZeroDuration(), 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(planner.Place({}, std::nan("")).status().code(), absl::StatusCode::kInvalidArgument);

  CapacityPlannerConfig wrong_kind = Config(absl::Seconds(1));
  std::swap(wrong_kind.serverless, wrong_kind.always_on);
  EXPECT_EQ(CapacityPlanner::Create(wrong_kind).status().code(), absl::StatusCode::kInvalidArgument);
  CapacityPlannerConfig negative_cold = Config(absl::Seconds(-1));
  EXPECT_EQ(CapacityPlanner::Create(negative_cold).status().code(), absl::StatusCode::kInvalidArgument);
  CapacityPlannerConfig nan_price = Config(absl::Seconds(1));
  nan_price.reserved.hourly = std::nan("");
  EXPECT_EQ(CapacityPlanner::Create(nan_price).status().code(), absl::StatusCode::kInvalidArgument);
}

// Random bursty series: the hybrid optimum is never worse than all-serverless,
// all-reserved, the seeds' rule or any other reserved count.
TEST(CapacityPlannerTest, PropertyHybridOptimumNeverWorse) {
  std::mt19937 rng(5);
  for (int round = 0; round < 200; ++round) {
    CapacityPlannerConfig config = Config(absl::Seconds(rng() % 60));
    config.reserved.hourly = std::uniform_real_distribution<double>(0.1, 4)(rng);
    config.serverless.per_accelerator_second = std::uniform_real_distribution<double>(0.0001, 0.003)(rng);
    CapacityPlanner planner = CapacityPlanner::Create(config).value();
    std::vector<double> requests(48);
    const double base = std::uniform_real_distribution<double>(0, 2000)(rng);
    for (double& r : requests) {
      r = rng() % 4 == 0 ? base * std::uniform_real_distribution<double>(0, 10)(rng) : base * 0.2;
    }
    DemandSeries series =
        DemandSeries::FromRequests(requests, absl::Minutes(30), absl::Seconds(1 + rng() % 10), 1 + rng() % 8)
            .value();
    PlanResult plan = planner.Plan(series, absl::Seconds(1 + rng() % 20)).value();
    const double eps = 1e-9 * (1 + plan.serverless_cost);
    EXPECT_LE(plan.best_cost, plan.serverless_cost + eps);
    EXPECT_LE(plan.best_cost, plan.hybrid.back().total + eps);
    EXPECT_LE(plan.best_cost, plan.seed_cost + eps);
    for (int r : {plan.always_on_replicas + 1, plan.always_on_replicas + 5}) {
      EXPECT_LE(plan.best_cost, planner.PriceHybrid(series, r).total + eps);
    }
    for (const HybridCost& h : plan.hybrid) EXPECT_LE(plan.best_cost, h.total + eps);
  }
}

}  // namespace
}  // namespace hearth
