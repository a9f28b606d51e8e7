#include "hearth/cost_optimizer.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace hearth {
namespace {

constexpr char kExample[] = HEARTH_SOURCE_DIR "/data/prices/catalog-2026.json";

TEST(CostOptimizerTest, OwnsEveryPartAndRunsTheRequestPath) {
  ManualClock clock(absl::FromUnixSeconds(0));
  CostOptimizerConfig config;
  config.router.tiers = {{"small", "smollm2", 0.0001, 0.3}, {"large", "llama-8b", 0.002, 1.0}};
  auto optimizer = CostOptimizer::Create(PriceCatalog::Load(kExample).value(), config, &clock).value();
  ASSERT_NE(optimizer->router(), nullptr);
  EXPECT_TRUE(optimizer->catalog().Find("modal-h100").ok());

  GenerateRequest request;
  request.prompt = "What is the capital of France?";
  request.sampling.temperature = 0;
  EXPECT_FALSE(optimizer->cache().Lookup("smollm2", request, false).has_value());
  RouteDecision route = optimizer->router()->Route({request.prompt, 8, request.max_tokens});
  EXPECT_EQ(route.model, "smollm2");
  ASSERT_TRUE(optimizer->ledger().RecordInstanceTime(route.model, "modal-h100", absl::Seconds(3)).ok());
  ASSERT_TRUE(optimizer->ledger().RecordRequest({"acme", route.model, 8, 2, "modal-h100"}).ok());
  ASSERT_TRUE(optimizer->cache().Insert(route.model, request, false, "Paris").ok());
  EXPECT_EQ(optimizer->cache().Lookup("smollm2", request, false).value_or(""), "Paris");
  // 3 s of one H100 at $0.001097 per second, billed per whole second.
  EXPECT_NEAR(optimizer->ledger().Report().total, 3 * 0.001097, 1e-12);
}

TEST(CostOptimizerTest, NoTiersNoRouterAndBadPartsFail) {
  ManualClock clock;
  PriceCatalog catalog = PriceCatalog::Load(kExample).value();
  auto optimizer = CostOptimizer::Create(catalog, {}, &clock).value();
  EXPECT_EQ(optimizer->router(), nullptr);
  CostOptimizerConfig bad_cache;
  bad_cache.cache.capacity_bytes = -1;
  EXPECT_EQ(CostOptimizer::Create(catalog, bad_cache, &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  CostOptimizerConfig bad_tier;
  bad_tier.router.tiers = {{"x", "m", 1, 2.0}};
  EXPECT_EQ(CostOptimizer::Create(catalog, bad_tier, &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearth
