#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/trace.h"

namespace hearth {
namespace {

// A random sorted trace whose requests are numbered by prompt_tokens (their original
// index), so order and identity can be checked after a transformation.
std::vector<TraceRequest> NumberedTrace(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(3.0);
  std::vector<TraceRequest> trace;
  double t = 0;
  for (int i = 0; i < n; ++i) {
    t += rng() % 5 == 0 ? 0 : gap(rng);
    trace.push_back({.arrival_s = t, .model = "m", .tenant = "t", .prompt_tokens = i});
  }
  return trace;
}

void ExpectSorted(const std::vector<TraceRequest>& trace) {
  for (size_t i = 1; i < trace.size(); ++i) {
    ASSERT_GE(trace[i].arrival_s, trace[i - 1].arrival_s) << "at " << i;
  }
}

TEST(ScaleTimeTest, MultipliesEveryArrival) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const std::vector<TraceRequest> trace = NumberedTrace(seed, 300);
    for (double factor : {0.25, 1.0, 3.0}) {
      absl::StatusOr<std::vector<TraceRequest>> scaled = ScaleTime(trace, factor);
      ASSERT_TRUE(scaled.ok());
      ASSERT_EQ(scaled->size(), trace.size());
      for (size_t i = 0; i < trace.size(); ++i) {
        EXPECT_EQ((*scaled)[i].arrival_s, trace[i].arrival_s * factor);
        EXPECT_EQ((*scaled)[i].prompt_tokens, trace[i].prompt_tokens);
      }
    }
  }
}

TEST(ScaleTimeTest, RejectsBadFactors) {
  const std::vector<TraceRequest> trace = NumberedTrace(1, 10);
  for (double factor : {0.0, -2.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(ScaleTime(trace, factor).status().code(), absl::StatusCode::kInvalidArgument)
        << factor;
  }
}

TEST(TransformTest, RejectsUnsortedOrNonFiniteInput) {
  std::vector<TraceRequest> unsorted = NumberedTrace(1, 10);
  std::swap(unsorted[2].arrival_s, unsorted[7].arrival_s);
  unsorted[7].arrival_s += 1;  // strictly out of order even if ties were drawn
  EXPECT_EQ(ScaleTime(unsorted, 2).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SelectWindow(unsorted, 0, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Sample(unsorted, 0.5, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Overlay({{unsorted, "", ""}}).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<TraceRequest> nan = NumberedTrace(1, 3);
  nan[1].arrival_s = std::nan("");
  EXPECT_EQ(ScaleTime(nan, 2).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SelectWindowTest, KeepsHalfOpenRangeAndShiftsToZero) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const std::vector<TraceRequest> trace = NumberedTrace(seed, 300);
    const double start = trace[50].arrival_s;
    const double end = trace[200].arrival_s;
    absl::StatusOr<std::vector<TraceRequest>> window = SelectWindow(trace, start, end);
    ASSERT_TRUE(window.ok());
    const auto expected = std::count_if(trace.begin(), trace.end(), [&](const TraceRequest& r) {
      return r.arrival_s >= start && r.arrival_s < end;
    });
    ASSERT_EQ(static_cast<long>(window->size()), expected);
    for (const TraceRequest& r : *window) {
      EXPECT_EQ(r.arrival_s, trace[r.prompt_tokens].arrival_s - start);
      EXPECT_GE(r.arrival_s, 0);
      EXPECT_LT(r.arrival_s, end - start);
    }
    ExpectSorted(*window);
  }
}

TEST(SelectWindowTest, RejectsBadBounds) {
  const std::vector<TraceRequest> trace = NumberedTrace(1, 10);
  EXPECT_EQ(SelectWindow(trace, -1, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SelectWindow(trace, 5, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SelectWindow(trace, std::nan(""), 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(SelectWindow(trace, 1, std::numeric_limits<double>::infinity()).ok());
}

TEST(OverlayTest, ConservesRequestsKeepsOrderAndRenames) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const std::vector<TraceRequest> a = NumberedTrace(seed, 200);
    const std::vector<TraceRequest> b = NumberedTrace(seed + 100, 300);
    absl::StatusOr<std::vector<TraceRequest>> merged =
        Overlay({{a, "small", "coder"}, {b, "large", ""}});
    ASSERT_TRUE(merged.ok());
    ASSERT_EQ(merged->size(), a.size() + b.size());
    ExpectSorted(*merged);
    int next_a = 0;
    int next_b = 0;
    for (const TraceRequest& r : *merged) {
      if (r.model == "small") {
        EXPECT_EQ(r.tenant, "coder");
        EXPECT_EQ(r.prompt_tokens, next_a++);  // each input's order is kept
      } else {
        ASSERT_EQ(r.model, "large");
        EXPECT_EQ(r.tenant, "t");  // empty name: kept
        EXPECT_EQ(r.prompt_tokens, next_b++);
      }
    }
    EXPECT_EQ(next_a, 200);
    EXPECT_EQ(next_b, 300);
  }
}

TEST(OverlayTest, TiesGoInInputOrder) {
  const std::vector<TraceRequest> a = {{.arrival_s = 1, .model = "a", .tenant = "t"}};
  const std::vector<TraceRequest> b = {{.arrival_s = 1, .model = "b", .tenant = "t"}};
  absl::StatusOr<std::vector<TraceRequest>> merged = Overlay({{b, "", ""}, {a, "", ""}});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ((*merged)[0].model, "b");
  EXPECT_EQ((*merged)[1].model, "a");
}

TEST(SampleTest, KeepsASeededSubsequenceNearTheFraction) {
  const std::vector<TraceRequest> trace = NumberedTrace(7, 20000);
  for (double fraction : {0.1, 0.5, 0.9}) {
    absl::StatusOr<std::vector<TraceRequest>> kept = Sample(trace, fraction, 42);
    absl::StatusOr<std::vector<TraceRequest>> again = Sample(trace, fraction, 42);
    absl::StatusOr<std::vector<TraceRequest>> other = Sample(trace, fraction, 43);
    ASSERT_TRUE(kept.ok() && again.ok() && other.ok());
    EXPECT_EQ(*kept, *again);
    EXPECT_NE(*kept, *other);
    // Binomial: 5 standard deviations.
    const double n = trace.size();
    EXPECT_NEAR(kept->size(), n * fraction, 5 * std::sqrt(n * fraction * (1 - fraction)));
    for (size_t i = 1; i < kept->size(); ++i) {
      ASSERT_LT((*kept)[i - 1].prompt_tokens, (*kept)[i].prompt_tokens);
    }
    for (const TraceRequest& r : *kept) EXPECT_EQ(r, trace[r.prompt_tokens]);
  }
}

TEST(SampleTest, EdgesAndBadFractions) {
  const std::vector<TraceRequest> trace = NumberedTrace(3, 100);
  EXPECT_TRUE(Sample(trace, 0, 1)->empty());
  EXPECT_EQ(*Sample(trace, 1, 1), trace);
  for (double fraction : {-0.1, 1.5, std::nan("")}) {
    EXPECT_EQ(Sample(trace, fraction, 1).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(TokenCountsOfTest, CopiesEveryRequestsCounts) {
  std::vector<TraceRequest> trace = NumberedTrace(3, 5);
  trace[2].output_tokens = 77;
  const std::vector<TokenCounts> counts = TokenCountsOf(trace);
  ASSERT_EQ(counts.size(), 5u);
  EXPECT_EQ(counts[2].prompt_tokens, 2);
  EXPECT_EQ(counts[2].output_tokens, 77);
}

}  // namespace
}  // namespace hearth
