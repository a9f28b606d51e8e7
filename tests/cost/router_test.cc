#include "hearth/router.h"

#include <random>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hearth {
namespace {

RouterConfig ThreeTiers() {
  // Deliberately out of price order: the router sorts them.
  return {.tiers = {{"large", "llama-70b", 0.01, 1.0},
                    {"small", "smollm2", 0.0001, 0.2},
                    {"medium", "llama-8b", 0.002, 0.5}},
          .escalate_below_logprob = -1.0};
}

TEST(RouterTest, DifficultyFormulaByHand) {
  EXPECT_DOUBLE_EQ(Router::EstimateDifficulty({"hi", 0, 0}), 0);
  // 2048 prompt tokens: 0.35 * 0.5; 512 max tokens: 0.25 * 0.5.
  EXPECT_DOUBLE_EQ(Router::EstimateDifficulty({"hi", 2048, 512}), 0.175 + 0.125);
  // Caps at 1 per feature.
  EXPECT_DOUBLE_EQ(Router::EstimateDifficulty({"hi", 1 << 20, 1 << 20}), 0.6);
  EXPECT_DOUBLE_EQ(Router::EstimateDifficulty({"Prove it Step By Step.", 0, 0}), 0.2);
  EXPECT_DOUBLE_EQ(Router::EstimateDifficulty({"```\nint x;\n```", 0, 0}), 0.1);
  // Five questions: (5 - 1) / 4 = 1; one question: 0.
  EXPECT_DOUBLE_EQ(Router::EstimateDifficulty({"a? b? c? d? e?", 0, 0}), 0.1);
  EXPECT_DOUBLE_EQ(Router::EstimateDifficulty({"what?", 0, 0}), 0);
  EXPECT_DOUBLE_EQ(Router::EstimateDifficulty({"hi", -5, -5}), 0);
}

TEST(RouterTest, RoutesToCheapestCoveringTier) {
  auto router = Router::Create(ThreeTiers()).value();
  ASSERT_EQ(router->tiers()[0].name, "small");
  ASSERT_EQ(router->tiers()[2].name, "large");
  EXPECT_EQ(router->Route({"hello", 10, 32}).tier_name, "small");
  EXPECT_EQ(router->Route({"hello", 2048, 256}).tier_name, "medium");  // 0.175 + 0.0625
  RouteDecision hard = router->Route({"Prove step by step: ```def f():```", 4096, 1024});
  EXPECT_EQ(hard.tier_name, "large");
  EXPECT_EQ(hard.model, "llama-70b");
  EXPECT_FALSE(hard.escalated);
  std::vector<TierStats> stats = router->stats();
  EXPECT_EQ(stats[0].routed, 1);
  EXPECT_EQ(stats[1].routed, 1);
  EXPECT_EQ(stats[2].routed, 1);
}

TEST(RouterTest, NoCoveringTierGoesToMostCapable) {
  auto router = Router::Create({.tiers = {{"a", "ma", 1, 0.1}, {"b", "mb", 2, 0.3}}}).value();
  RouteDecision d = router->Route({"Explain why, step by step", 4096, 1024});
  EXPECT_EQ(d.tier_name, "b");
  EXPECT_THAT(d.reason, ::testing::HasSubstr("above every tier"));
}

TEST(RouterTest, CascadeEscalatesBelowThreshold) {
  auto router = Router::Create(ThreeTiers()).value();
  RouteDecision first = router->Route({"hello", 10, 32});
  ASSERT_EQ(first.tier, 0);
  RouteDecision keep = router->Escalate(first.tier, -0.4).value();
  EXPECT_EQ(keep.tier, 0);
  EXPECT_FALSE(keep.escalated);
  // Exactly at the threshold is confident enough.
  EXPECT_FALSE(router->Escalate(0, -1.0).value().escalated);
  RouteDecision up = router->Escalate(0, -1.5).value();
  EXPECT_TRUE(up.escalated);
  EXPECT_EQ(up.tier_name, "medium");
  RouteDecision top = router->Escalate(up.tier, -2.0).value();
  EXPECT_EQ(top.tier_name, "large");
  RouteDecision stay = router->Escalate(top.tier, -5.0).value();
  EXPECT_FALSE(stay.escalated);
  EXPECT_EQ(stay.tier_name, "large");
  std::vector<TierStats> stats = router->stats();
  EXPECT_EQ(stats[0].escalated_out, 1);
  EXPECT_EQ(stats[1].escalated_in, 1);
  EXPECT_EQ(stats[1].escalated_out, 1);
  EXPECT_EQ(stats[2].escalated_in, 1);
  EXPECT_EQ(stats[2].escalated_out, 0);
}

TEST(RouterTest, BadInputs) {
  EXPECT_EQ(Router::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Router::Create({.tiers = {{"a", "m", 1, 1.5}}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Router::Create({.tiers = {{"a", "m", -1, 0.5}}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Router::Create({.tiers = {{"a", "m", 1, 0.5}, {"a", "n", 2, 1}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Router::Create({.tiers = {{"a", "m", 1, 0.5}}, .escalate_below_logprob = 0.5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto router = Router::Create(ThreeTiers()).value();
  EXPECT_EQ(router->Escalate(3, -2).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router->Escalate(0, std::nan("")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router->Escalate(0, 0.1).status().code(), absl::StatusCode::kInvalidArgument);
}

// Random requests: the estimate stays in [0, 1], the chosen tier covers it when any tier
// does, and no cheaper tier would have.
TEST(RouterTest, PropertyCheapestCoveringTier) {
  auto router = Router::Create(ThreeTiers()).value();
  std::mt19937 rng(11);
  const std::vector<std::string> words = {"why ", "prove", "def ", "hello", "?", "step by step", " "};
  for (int i = 0; i < 2000; ++i) {
    std::string prompt;
    for (int w = rng() % 8; w > 0; --w) prompt += words[rng() % words.size()];
    RoutingRequest r{prompt, static_cast<int64_t>(rng() % 6000), static_cast<int64_t>(rng() % 2000)};
    RouteDecision d = router->Route(r);
    ASSERT_GE(d.difficulty, 0);
    ASSERT_LE(d.difficulty, 1);
    const auto& tiers = router->tiers();
    if (tiers[d.tier].max_difficulty >= d.difficulty) {
      for (int t = 0; t < d.tier; ++t) EXPECT_LT(tiers[t].max_difficulty, d.difficulty);
    } else {
      for (const ModelTier& t : tiers) EXPECT_LT(t.max_difficulty, d.difficulty);
    }
  }
}

}  // namespace
}  // namespace hearth
