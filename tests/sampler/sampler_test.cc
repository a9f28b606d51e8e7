#include "lib/sampler/sampler.h"

#include <cmath>
#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace hearth {
namespace {

std::vector<float> RandomLogits(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(n);
  for (float& l : logits) l = normal(rng);
  return logits;
}

SamplingParams Plain(float temperature) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

TEST(SamplerTest, GreedyPicksArgmax) {
  const std::vector<float> logits = RandomLogits(1000, 1);
  Sampler sampler(Plain(0.0f));
  EXPECT_EQ(sampler.Sample(logits, {}),
            std::max_element(logits.begin(), logits.end()) - logits.begin());
}

TEST(SamplerTest, SameSeedSameTokens) {
  const std::vector<float> logits = RandomLogits(500, 2);
  SamplingParams p = Plain(1.0f);
  p.seed = 42;
  Sampler a(p), b(p);
  p.seed = 43;
  Sampler c(p);
  int differ = 0;
  for (int i = 0; i < 50; ++i) {
    const int32_t x = a.Sample(logits, {}), y = b.Sample(logits, {});
    EXPECT_EQ(x, y);
    differ += x != c.Sample(logits, {});
  }
  EXPECT_GT(differ, 0);
}

TEST(SamplerTest, FrequenciesFollowSoftmaxAtTemperature) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f};
  const float temperature = 0.7f;
  Sampler sampler(Plain(temperature));
  std::vector<double> expected(logits.size());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) sum += expected[i] = std::exp(logits[i] / temperature);
  const int draws = 200000;
  std::vector<int> counts(logits.size());
  for (int i = 0; i < draws; ++i) ++counts[sampler.Sample(logits, {})];
  for (size_t i = 0; i < logits.size(); ++i) {
    const double p = expected[i] / sum;
    const double sigma = std::sqrt(p * (1 - p) / draws);
    EXPECT_NEAR(counts[i] / static_cast<double>(draws), p, 5 * sigma) << "token " << i;
  }
}

TEST(SamplerTest, TopKKeepsOnlyTheKBest) {
  const std::vector<float> logits = RandomLogits(100, 3);
  SamplingParams p = Plain(5.0f);  // flat enough that every kept token shows up
  p.top_k = 3;
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  Sampler sampler(p);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 3000; ++i) ++seen[sampler.Sample(logits, {})];
  EXPECT_EQ(seen.size(), 3u);
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(seen.contains(order[k]));
}

TEST(SamplerTest, TopPKeepsSmallestPrefixReachingMass) {
  // Probabilities at temperature 1: ~0.66, 0.24, 0.09, 0.01.
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f, -1.0f};
  SamplingParams p = Plain(1.0f);
  p.top_p = 0.8f;  // 0.66 < 0.8 <= 0.90: the two best stay
  Sampler sampler(p);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 5000; ++i) ++seen[sampler.Sample(logits, {})];
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen.contains(0) && seen.contains(1));
}

TEST(SamplerTest, MinPDropsTokensBelowFractionOfBest) {
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f, -1.0f};
  SamplingParams p = Plain(1.0f);
  p.min_p = 0.2f;  // keeps p >= 0.2 * 0.66: tokens 0 and 1 (0.24), not 2 (0.09)
  Sampler sampler(p);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 5000; ++i) ++seen[sampler.Sample(logits, {})];
  EXPECT_EQ(seen.size(), 2u);
}

TEST(SamplerTest, RepetitionPenaltyDemotesRecentTokens) {
  const std::vector<float> logits = {2.0f, 1.9f, -3.0f};
  SamplingParams p = Plain(0.0f);
  p.repetition_penalty = 1.5f;
  Sampler sampler(p);
  EXPECT_EQ(sampler.Sample(logits, {}), 0);
  const std::vector<int32_t> history = {0};
  EXPECT_EQ(sampler.Sample(logits, history), 1);  // 2.0 / 1.5 < 1.9
}

TEST(SamplerTest, ValidationNamesTheBadValue) {
  SamplingParams p;
  p.temperature = -1;
  EXPECT_EQ(ValidateSamplingParams(p).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ValidateSamplingParams(p).message().find("temperature"), std::string::npos);
  p = SamplingParams();
  p.top_p = 0;
  EXPECT_NE(ValidateSamplingParams(p).message().find("top_p"), std::string::npos);
  p = SamplingParams();
  p.min_p = 1;
  EXPECT_NE(ValidateSamplingParams(p).message().find("min_p"), std::string::npos);
  p = SamplingParams();
  p.top_k = -2;
  EXPECT_NE(ValidateSamplingParams(p).message().find("top_k"), std::string::npos);
  p = SamplingParams();
  p.repetition_penalty = 0;
  EXPECT_NE(ValidateSamplingParams(p).message().find("repetition_penalty"), std::string::npos);
  p = SamplingParams();
  p.temperature = std::nanf("");
  EXPECT_FALSE(ValidateSamplingParams(p).ok());
  EXPECT_TRUE(ValidateSamplingParams(SamplingParams()).ok());
}

}  // namespace
}  // namespace hearth
