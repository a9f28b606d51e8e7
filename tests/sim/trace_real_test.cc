// The real traces in data/traces read whole (ServeGen: one model's day) and checked
// against the figures their README states.
#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hearth/trace.h"
#include "lib/sim/trace_file.h"
#include "tests/sim/trace_testing.h"

namespace hearth {
namespace {

using ::hearth::testing::RealTracePath;

void ExpectSorted(const std::vector<TraceRequest>& trace) {
  EXPECT_TRUE(std::is_sorted(trace.begin(), trace.end(),
                             [](const TraceRequest& a, const TraceRequest& b) {
                               return a.arrival_s < b.arrival_s;
                             }));
}

TEST(RealTraceTest, AzureLlmCode2023) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(RealTracePath("AzureLLMInferenceTrace_code_2023.csv"));
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->size(), 8819u);
  EXPECT_EQ(trace->front().arrival_s, 0);
  // 18:17:03.98 to 19:14:19.93: 57.3 minutes.
  EXPECT_NEAR(trace->back().arrival_s, 57 * 60 + 15.95, 0.01);
  EXPECT_EQ(trace->front().prompt_tokens, 4808);
  ExpectSorted(*trace);
}

TEST(RealTraceTest, AzureLlmConv2023) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(RealTracePath("AzureLLMInferenceTrace_conv_2023.csv"));
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->size(), 19366u);
  // 18:15:46.68 to 19:14:08.40: 58.4 minutes.
  EXPECT_NEAR(trace->back().arrival_s, 58 * 60 + 21.72, 0.01);
  EXPECT_EQ(trace->back().prompt_tokens, 197);  // the row without a final line break
  EXPECT_EQ(trace->back().output_tokens, 183);
  ExpectSorted(*trace);
}

TEST(RealTraceTest, MooncakeConversation) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(RealTracePath("mooncake_conversation_trace.jsonl"));
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->size(), 12031u);
  EXPECT_EQ(trace->front().arrival_s, 0);
  EXPECT_DOUBLE_EQ(trace->back().arrival_s, 3536.999);
  size_t references = 0;
  std::set<int64_t> distinct;
  for (const TraceRequest& r : *trace) {
    references += r.prefix_blocks.size();
    distinct.insert(r.prefix_blocks.begin(), r.prefix_blocks.end());
  }
  EXPECT_EQ(references, 288500u);
  EXPECT_EQ(distinct.size(), 182790u);
}

TEST(RealTraceTest, AzureFunctionsInVitroSample) {
  TraceOptions options;
  options.model = "fn";  // short names stay inline: a million requests allocate less
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(RealTracePath("azure_functions_2019_invitro_sample_1350fn_1day.csv"), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->size(), 927272u);
  EXPECT_LT(trace->back().arrival_s, 1440 * 60);
  std::set<std::string> functions;
  for (const TraceRequest& r : *trace) functions.insert(r.tenant);
  EXPECT_EQ(functions.size(), 1350u);
  ExpectSorted(*trace);
}

// The token summary's expected_requests is the sum of rate_rps x 600 over each client's
// 6-h window: an independent count for the first 6 hours of deepseek-r1 (the README's
// 1,383,669 for the whole day takes a few seconds more to generate).
int64_t ExpectedDeepSeekRequestsInFirst6Hours() {
  std::istringstream text(
      trace_internal::ReadTraceFile(RealTracePath("servegen_client_tokens_6h.csv.gz")).value());
  int64_t sum = 0;
  for (std::string line; std::getline(text, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) f.push_back(field);
    if (f[1] == "deepseek-r1" && f[3] == "0") sum += std::stoll(f[5]);
  }
  return sum;
}

TEST(RealTraceTest, ServeGenDeepSeekR1HasItsExactCount) {
  TraceOptions options;
  options.servegen.models = {"deepseek-r1"};
  options.servegen.rate_scale = 1;
  options.end_s = 21600;
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(RealTracePath("servegen_client_rates_10min.csv.gz"), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(static_cast<int64_t>(trace->size()), ExpectedDeepSeekRequestsInFirst6Hours());
  EXPECT_GT(trace->size(), 100000u);
  EXPECT_LT(trace->back().arrival_s, 21600);
  ExpectSorted(*trace);
}

TEST(RealTraceTest, ServeGenDefaultSubsetIsATenthOfDeepSeekR1) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(RealTracePath("servegen_client_rates_10min.csv.gz"));
  ASSERT_TRUE(trace.ok()) << trace.status();
  // A tenth of the README's 1,383,669, each window rounded up or down at random.
  EXPECT_NEAR(static_cast<double>(trace->size()), 138367, 1500);
  std::set<std::string> tenants;
  for (const TraceRequest& r : *trace) tenants.insert(r.tenant);
  EXPECT_LE(tenants.size(), 73u);
  EXPECT_GT(tenants.size(), 20u);
}

}  // namespace
}  // namespace hearth
