#include "hearth/cost_ledger.h"

#include <random>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hearth {
namespace {

Offering Hourly(std::string name, double hourly) {
  Offering o;
  o.name = std::move(name);
  o.kind = OfferingKind::kOnDemand;
  o.hourly = hourly;
  o.currency = "USD";
  o.price_date = "2026-01-01";
  o.source = "https://example.com";
  return o;
}

Offering Serverless(std::string name, double per_second, double per_request) {
  Offering o = Hourly(std::move(name), 0);
  o.kind = OfferingKind::kServerless;
  o.resources.accelerator_count = 1;
  o.per_accelerator_second = per_second;
  o.per_request = per_request;
  return o;
}

class CostLedgerTest : public ::testing::Test {
 protected:
  CostLedgerTest()
      : catalog_(PriceCatalog::FromOfferings({Hourly("vm", 36.0),  // $0.01 per second
                                              Serverless("fn", 0.002, 0.5)})
                     .value()),
        clock_(absl::FromUnixSeconds(1000)) {}

  std::unique_ptr<CostLedger> Ledger(CostLedgerConfig config = {}) {
    return CostLedger::Create(&catalog_, config, &clock_).value();
  }

  PriceCatalog catalog_;
  ManualClock clock_;
};

const TenantCost& Tenant(const CostReport& r, std::string_view name) {
  for (const TenantCost& t : r.tenants) {
    if (t.tenant == name) return t;
  }
  ADD_FAILURE() << "no tenant " << name;
  return r.tenants.front();
}

TEST_F(CostLedgerTest, SharesInstanceCostByTokens) {
  auto ledger = Ledger();
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(100)).ok());  // $1.00
  ASSERT_TRUE(ledger->RecordRequest({"a", "m", 100, 200, ""}).ok());            // 300 tokens
  ASSERT_TRUE(ledger->RecordRequest({"b", "m", 50, 50, ""}).ok());              // 100 tokens
  CostReport r = ledger->Report();
  ASSERT_EQ(r.models.size(), 1u);
  EXPECT_DOUBLE_EQ(r.models[0].instance_cost, 1.0);
  EXPECT_EQ(r.models[0].requests, 2);
  EXPECT_EQ(r.models[0].prompt_tokens, 150);
  EXPECT_EQ(r.models[0].output_tokens, 250);
  ASSERT_EQ(r.models[0].offerings.size(), 1u);
  EXPECT_DOUBLE_EQ(r.models[0].offerings[0].instance_seconds, 100);
  EXPECT_DOUBLE_EQ(Tenant(r, "a").total, 0.75);
  EXPECT_DOUBLE_EQ(Tenant(r, "b").total, 0.25);
  EXPECT_DOUBLE_EQ(r.total, 1.0);
  EXPECT_DOUBLE_EQ(r.unattributed, 0);
}

TEST_F(CostLedgerTest, OutputTokenWeightShiftsShares) {
  auto ledger = Ledger({.output_token_weight = 3.0});
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(100)).ok());
  ASSERT_TRUE(ledger->RecordRequest({"a", "m", 100, 0, ""}).ok());  // 100
  ASSERT_TRUE(ledger->RecordRequest({"b", "m", 0, 100, ""}).ok());  // 300
  CostReport r = ledger->Report();
  EXPECT_DOUBLE_EQ(Tenant(r, "a").instance_share, 0.25);
  EXPECT_DOUBLE_EQ(Tenant(r, "b").instance_share, 0.75);
}

TEST_F(CostLedgerTest, FeesGoToTheRequesterAndServerlessRoundsNothingWithoutGranularity) {
  auto ledger = Ledger();
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "fn", absl::Seconds(10)).ok());  // $0.02
  ASSERT_TRUE(ledger->RecordRequest({"a", "m", 10, 10, "fn"}).ok());
  ASSERT_TRUE(ledger->RecordRequest({"a", "m", 10, 10, "fn"}).ok());
  ASSERT_TRUE(ledger->RecordRequest({"b", "m", 20, 20, "fn"}).ok());
  CostReport r = ledger->Report();
  EXPECT_DOUBLE_EQ(r.request_fees, 1.5);
  EXPECT_DOUBLE_EQ(Tenant(r, "a").request_fees, 1.0);
  EXPECT_DOUBLE_EQ(Tenant(r, "a").instance_share, 0.01);
  EXPECT_DOUBLE_EQ(Tenant(r, "b").total, 0.51);
  EXPECT_NEAR(r.total, 1.52, 1e-12);
}

TEST_F(CostLedgerTest, IdleModelIsUnattributedNotDropped) {
  auto ledger = Ledger();
  ASSERT_TRUE(ledger->RecordInstanceTime("idle", "vm", absl::Seconds(50)).ok());
  ASSERT_TRUE(ledger->RecordInstanceTime("busy", "vm", absl::Seconds(10)).ok());
  ASSERT_TRUE(ledger->RecordRequest({"a", "busy", 1, 1, ""}).ok());
  CostReport r = ledger->Report();
  EXPECT_DOUBLE_EQ(r.unattributed, 0.5);
  EXPECT_DOUBLE_EQ(Tenant(r, "a").total, 0.1);
  EXPECT_DOUBLE_EQ(r.total, 0.6);
}

TEST_F(CostLedgerTest, BadInputs) {
  auto ledger = Ledger();
  EXPECT_EQ(ledger->RecordInstanceTime("m", "nope", absl::Seconds(1)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ledger->RecordInstanceTime("", "vm", absl::Seconds(1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger->RecordInstanceTime("m", "vm", absl::Seconds(-1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger->RecordRequest({"a", "m", -1, 0, ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger->RecordRequest({"", "m", 1, 0, ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger->RecordRequest({"a", "m", 1, 0, "nope"}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ledger->SetBudget("a", {.amount = 0}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger->SetBudget("a", {.amount = 1, .period = absl::ZeroDuration()}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger->SetBudget("a", {.amount = 1, .period = absl::Hours(1), .thresholds = {0.5, -1}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger->PeriodSpend("a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(CostLedger::Create(&catalog_, {.output_token_weight = std::nan("")}, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CostLedger::Create(nullptr, {}, &clock_).status().code(), absl::StatusCode::kInvalidArgument);
  // Nothing above was recorded.
  EXPECT_DOUBLE_EQ(ledger->Report().total, 0);
}

TEST_F(CostLedgerTest, AlertsOncePerThresholdPerPeriod) {
  auto ledger = Ledger();
  std::vector<BudgetAlert> via_callback;
  ledger->SetAlertCallback([&](const BudgetAlert& a) { via_callback.push_back(a); });
  ASSERT_TRUE(ledger->SetBudget("a", {.amount = 1.0, .period = absl::Hours(1)}).ok());
  const absl::Time start = clock_.Now();

  ASSERT_TRUE(ledger->RecordRequest({"a", "m", 1, 0, ""}).ok());
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(40)).ok());  // $0.40
  EXPECT_TRUE(ledger->alerts().empty());
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(15)).ok());  // $0.55: 50 %
  ASSERT_EQ(ledger->alerts().size(), 1u);
  EXPECT_DOUBLE_EQ(ledger->alerts()[0].threshold, 0.5);
  EXPECT_NEAR(ledger->alerts()[0].spent, 0.55, 1e-12);
  EXPECT_EQ(ledger->alerts()[0].period_start, start);
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(1)).ok());  // still 50 %: no repeat
  EXPECT_EQ(ledger->alerts().size(), 1u);
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(60)).ok());  // $1.16: 80 % and 100 %
  ASSERT_EQ(ledger->alerts().size(), 3u);
  EXPECT_DOUBLE_EQ(ledger->alerts()[1].threshold, 0.8);
  EXPECT_DOUBLE_EQ(ledger->alerts()[2].threshold, 1.0);
  EXPECT_NEAR(ledger->PeriodSpend("a").value(), 1.16, 1e-12);

  // The next period starts empty; its thresholds fire again, once.
  clock_.Advance(absl::Hours(1));
  EXPECT_DOUBLE_EQ(ledger->PeriodSpend("a").value(), 0);
  ASSERT_TRUE(ledger->RecordRequest({"a", "m", 1, 0, ""}).ok());
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(120)).ok());
  ASSERT_EQ(ledger->alerts().size(), 6u);
  EXPECT_EQ(ledger->alerts()[3].period_start, start + absl::Hours(1));
  EXPECT_EQ(via_callback.size(), 6u);
  // Lifetime totals keep both periods.
  EXPECT_NEAR(ledger->Report().total, 2.36, 1e-12);
}

TEST_F(CostLedgerTest, SilentPeriodsAreSkippedWhole) {
  auto ledger = Ledger();
  ASSERT_TRUE(ledger->SetBudget("a", {.amount = 1.0, .period = absl::Hours(1)}).ok());
  const absl::Time start = clock_.Now();
  clock_.Advance(absl::Hours(5) + absl::Minutes(30));
  ASSERT_TRUE(ledger->RecordRequest({"a", "m", 1, 0, ""}).ok());
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(100)).ok());
  ASSERT_EQ(ledger->alerts().size(), 3u);
  EXPECT_EQ(ledger->alerts()[0].period_start, start + absl::Hours(5));
}

TEST_F(CostLedgerTest, OtherTenantsTokensLowerTheShare) {
  auto ledger = Ledger();
  ASSERT_TRUE(ledger->SetBudget("a", {.amount = 1.0, .period = absl::Hours(1), .thresholds = {1.0}}).ok());
  ASSERT_TRUE(ledger->RecordRequest({"a", "m", 10, 0, ""}).ok());
  ASSERT_TRUE(ledger->RecordRequest({"b", "m", 30, 0, ""}).ok());
  ASSERT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(200)).ok());  // $2, a's share $0.50
  EXPECT_TRUE(ledger->alerts().empty());
  EXPECT_DOUBLE_EQ(ledger->PeriodSpend("a").value(), 0.5);
}

// Random records: the tenants' totals plus the unattributed cost always add up to the
// ledger's total, and each model's shares add up to its instance cost.
TEST_F(CostLedgerTest, PropertySharesAddUp) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    auto ledger = Ledger({.output_token_weight = std::uniform_real_distribution<double>(0, 4)(rng)});
    const std::vector<std::string> models = {"m0", "m1", "m2"}, tenants = {"t0", "t1", "t2", "t3"};
    for (int i = 0; i < 200; ++i) {
      const std::string& model = models[rng() % models.size()];
      if (rng() % 3 == 0) {
        ASSERT_TRUE(ledger->RecordInstanceTime(model, rng() % 2 ? "vm" : "fn",
                                               absl::Milliseconds(rng() % 100000))
                        .ok());
      } else if (model != "m2") {  // m2 never serves tokens
        ASSERT_TRUE(ledger->RecordRequest({tenants[rng() % tenants.size()], model,
                                           static_cast<int64_t>(rng() % 500),
                                           static_cast<int64_t>(rng() % 500), rng() % 2 ? "fn" : ""})
                        .ok());
      }
    }
    CostReport r = ledger->Report();
    double tenants_total = 0;
    for (const TenantCost& t : r.tenants) tenants_total += t.total;
    EXPECT_NEAR(tenants_total + r.unattributed, r.total, 1e-9 * (1 + r.total));
    for (const ModelCost& m : r.models) {
      double shares = 0;
      for (const TenantCost& t : r.tenants) {
        for (const TenantModelCost& tm : t.models) {
          if (tm.model == m.model) shares += tm.instance_share;
        }
      }
      if (m.model != "m2" && m.prompt_tokens + m.output_tokens > 0) {
        EXPECT_NEAR(shares, m.instance_cost, 1e-9 * (1 + m.instance_cost)) << m.model;
      }
    }
  }
}

TEST_F(CostLedgerTest, ConcurrentRecordsAreAllCounted) {
  auto ledger = Ledger();
  ASSERT_TRUE(ledger->SetBudget("t0", {.amount = 1e9, .period = absl::Hours(1)}).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        EXPECT_TRUE(ledger->RecordRequest({absl::StrCat("t", t), "m", 1, 1, "fn"}).ok());
        EXPECT_TRUE(ledger->RecordInstanceTime("m", "vm", absl::Seconds(1)).ok());
        if (i % 100 == 0) (void)ledger->Report();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CostReport r = ledger->Report();
  EXPECT_EQ(r.models[0].requests, 2000);
  EXPECT_NEAR(r.instance_cost, 2000 * 0.01, 1e-9);
  EXPECT_NEAR(r.request_fees, 2000 * 0.5, 1e-9);
}

}  // namespace
}  // namespace hearth
