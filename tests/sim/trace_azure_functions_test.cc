#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/trace.h"
#include "tests/sim/trace_testing.h"

namespace hearth {
namespace {

using ::hearth::testing::FixturePath;
using ::hearth::testing::WriteScratchFile;
using ::testing::HasSubstr;

std::string Fixture() { return FixturePath("azure_functions_sample.csv"); }

// Invocations per (name, minute) as the fixture's rows give them (first 12 hex digits).
const std::map<std::pair<std::string, int>, int>& FixtureCounts() {
  static const auto* counts = new std::map<std::pair<std::string, int>, int>{
      {{"1779fd3337dd", 0}, 1}, {{"1779fd3337dd", 3}, 1}, {{"1779fd3337dd", 6}, 1},
      {{"1779fd3337dd", 9}, 1}, {{"bd28ee142ca5", 0}, 1}, {{"bd28ee142ca5", 1}, 1},
      {{"bd28ee142ca5", 2}, 1}, {{"bd28ee142ca5", 3}, 1}, {{"bd28ee142ca5", 5}, 1},
      {{"1b46c1a27eed", 0}, 1}, {{"88a43b1b8ef6", 0}, 1}, {{"88a43b1b8ef6", 9}, 1}};
  return *counts;
}

std::map<std::pair<std::string, int>, int> CountsBy(const std::vector<TraceRequest>& trace,
                                                    bool by_model) {
  std::map<std::pair<std::string, int>, int> counts;
  for (const TraceRequest& r : trace) {
    ++counts[{by_model ? r.model : r.tenant, static_cast<int>(std::floor(r.arrival_s / 60))}];
  }
  return counts;
}

TEST(AzureFunctionsTraceTest, EachMinutesInvocationsLandInThatMinute) {
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureFunctionsTrace(Fixture());
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(CountsBy(*trace, /*by_model=*/false), FixtureCounts());
  for (const TraceRequest& r : *trace) {
    EXPECT_EQ(r.model, "azure_functions_sample");
    EXPECT_EQ(r.prompt_tokens, 1020);
    EXPECT_EQ(r.output_tokens, 129);
  }
}

TEST(AzureFunctionsTraceTest, FunctionsAsModels) {
  TraceOptions options;
  options.azure_functions.function_as_model = true;
  options.tenant = "azure";
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureFunctionsTrace(Fixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(CountsBy(*trace, /*by_model=*/true), FixtureCounts());
  for (const TraceRequest& r : *trace) EXPECT_EQ(r.tenant, "azure");
}

TEST(AzureFunctionsTraceTest, EvenSpreadPutsTheKthOfNAtItsSlot) {
  const std::string path = WriteScratchFile(
      "functions_even.csv", "HashFunction,HashOwner,HashApp,minute_1,minute_2\nab,ab,ab,0,4\n");
  TraceOptions options;
  options.azure_functions.uniform_in_minute = false;
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureFunctionsTrace(path, options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 4u);
  for (int k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ((*trace)[k].arrival_s, 60 + (k + 0.5) * 15);
  EXPECT_EQ((*trace)[0].tenant, "ab");
}

TEST(AzureFunctionsTraceTest, UniformSpreadIsSeeded) {
  TraceOptions options;
  absl::StatusOr<std::vector<TraceRequest>> a = ReadAzureFunctionsTrace(Fixture(), options);
  absl::StatusOr<std::vector<TraceRequest>> b = ReadAzureFunctionsTrace(Fixture(), options);
  options.seed = 9;
  absl::StatusOr<std::vector<TraceRequest>> c = ReadAzureFunctionsTrace(Fixture(), options);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

// Hostile counts (2 x 2e9 here) are refused before allocating, not out of memory.
TEST(AzureFunctionsTraceTest, RefusesMoreRequestsThanAReplayHolds) {
  const std::string path = WriteScratchFile(
      "functions_huge.csv",
      "HashFunction,HashOwner,HashApp,minute_1,minute_2\nab,ab,ab,2000000000,2000000000\n");
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureFunctionsTrace(path);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(trace.status().message(), HasSubstr(path));
}

TEST(AzureFunctionsTraceTest, TopFunctionsAndTokenSamples) {
  TraceOptions options;
  options.azure_functions.top_functions = 1;
  options.azure_functions.token_samples = {{100, 10}, {200, 20}};
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureFunctionsTrace(Fixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 5u);  // bd28ee142ca5 has the most invocations
  std::set<int> prompts;
  for (const TraceRequest& r : *trace) {
    EXPECT_EQ(r.tenant, "bd28ee142ca5");
    EXPECT_EQ(r.output_tokens * 10, r.prompt_tokens);
    prompts.insert(r.prompt_tokens);
  }
  EXPECT_THAT(prompts, ::testing::IsSubsetOf({100, 200}));
}

TEST(AzureFunctionsTraceTest, WindowOptionKeepsThoseMinutes) {
  TraceOptions options;
  options.start_s = 180;
  options.end_s = 360;
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureFunctionsTrace(Fixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 3u);  // minutes 3 and 5 (0-based)
  for (const TraceRequest& r : *trace) {
    EXPECT_GE(r.arrival_s, 0);
    EXPECT_LT(r.arrival_s, 180);
  }
}

TEST(AzureFunctionsTraceTest, RejectsNegativeTokenOptions) {
  TraceOptions options;
  options.azure_functions.token_samples = {{1, -1}};
  EXPECT_EQ(ReadAzureFunctionsTrace(Fixture(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

struct BadTable {
  std::string name;
  std::string text;
  std::string where;
  std::string mentions;
};

class AzureFunctionsBadInputTest : public ::testing::TestWithParam<BadTable> {};

TEST_P(AzureFunctionsBadInputTest, NamesFileLineAndField) {
  const BadTable& bad = GetParam();
  const std::string path = WriteScratchFile("functions_" + bad.name + ".csv", bad.text);
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureFunctionsTrace(path);
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(path + bad.where));
  EXPECT_THAT(trace.status().message(), HasSubstr(bad.mentions));
}

constexpr char kHeader[] = "HashFunction,HashOwner,HashApp,minute_1,minute_2\n";

INSTANTIATE_TEST_SUITE_P(
    Tables, AzureFunctionsBadInputTest,
    ::testing::Values(
        BadTable{"MinuteGap", "HashFunction,HashOwner,HashApp,minute_1,minute_3\n", ":1:",
                 "minute_2"},
        BadTable{"NoMinutes", "HashFunction,HashOwner,HashApp\n", ":1:", "header"},
        BadTable{"NegativeCount", std::string(kHeader) + "ab,ab,ab,1,-2\n", ":2:", "minute_2"},
        BadTable{"FractionalCount", std::string(kHeader) + "ab,ab,ab,1.5,2\n", ":2:",
                 "minute_1"},
        BadTable{"Columns", std::string(kHeader) + "ab,ab,ab,1\n", ":2:", "5 columns"},
        BadTable{"EmptyId", std::string(kHeader) + ",ab,ab,1,1\n", ":2:", "HashFunction"},
        BadTable{"SameName",
                 std::string(kHeader) + "0123456789abX,a,a,1,1\n0123456789abY,b,b,1,1\n", ":3:",
                 "line 2"}),
    [](const ::testing::TestParamInfo<BadTable>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace hearth
