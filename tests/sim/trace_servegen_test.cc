#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/trace.h"
#include "lib/sim/trace_file.h"
#include "tests/sim/trace_testing.h"

namespace hearth {
namespace {

using ::hearth::testing::FixturePath;
using ::hearth::testing::WriteScratchFile;
using ::testing::HasSubstr;

using WindowKey = std::pair<std::string, int64_t>;  // tenant, window start

std::string RatesFixture() { return FixturePath("servegen_client_rates_10min_sample.csv.gz"); }

// rate_rps x 600 per client and window, read straight from the fixture.
std::map<WindowKey, int64_t> FixtureCounts() {
  std::map<WindowKey, int64_t> counts;
  std::istringstream text(trace_internal::ReadTraceFile(RatesFixture()).value());
  std::string line;
  std::getline(text, line);  // header
  while (std::getline(text, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) f.push_back(field);
    const int64_t n = std::llround(std::stod(f[4]) * 600);
    if (n > 0) counts[{f[1] + "/" + f[2], std::stoll(f[3])}] = n;
  }
  return counts;
}

std::map<WindowKey, int64_t> CountsOf(const std::vector<TraceRequest>& trace) {
  std::map<WindowKey, int64_t> counts;
  for (const TraceRequest& r : trace) {
    ++counts[{r.tenant, static_cast<int64_t>(std::floor(r.arrival_s / 600)) * 600}];
  }
  return counts;
}

TraceOptions Exact(std::vector<std::string> models) {
  TraceOptions options;
  options.servegen.models = std::move(models);
  options.servegen.rate_scale = 1;
  return options;
}

TEST(ServeGenTraceTest, ReproducesEveryWindowsExactCount) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadServeGenTrace(RatesFixture(), Exact({"deepseek-r1", "m-large"}));
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->size(), 5436u);
  EXPECT_EQ(CountsOf(*trace), FixtureCounts());
  for (size_t i = 1; i < trace->size(); ++i) {
    ASSERT_GE((*trace)[i].arrival_s, (*trace)[i - 1].arrival_s);
  }
  for (const TraceRequest& r : *trace) {
    EXPECT_EQ(r.tenant.substr(0, r.model.size() + 1), r.model + "/");
    EXPECT_GE(r.prompt_tokens, 1);
    EXPECT_GE(r.output_tokens, 1);
  }
}

TEST(ServeGenTraceTest, SameSeedSameTraceOtherSeedOtherArrivals) {
  TraceOptions options = Exact({"deepseek-r1"});
  absl::StatusOr<std::vector<TraceRequest>> a = ReadServeGenTrace(RatesFixture(), options);
  absl::StatusOr<std::vector<TraceRequest>> b = ReadServeGenTrace(RatesFixture(), options);
  options.seed = 2;
  absl::StatusOr<std::vector<TraceRequest>> c = ReadServeGenTrace(RatesFixture(), options);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(CountsOf(*a), CountsOf(*c));  // counts are data, not chance
}

TEST(ServeGenTraceTest, SelectingClientsLeavesTheirRequestsUnchanged) {
  TraceOptions options = Exact({"deepseek-r1"});
  absl::StatusOr<std::vector<TraceRequest>> all = ReadServeGenTrace(RatesFixture(), options);
  options.servegen.client_ids = {1};
  absl::StatusOr<std::vector<TraceRequest>> one = ReadServeGenTrace(RatesFixture(), options);
  ASSERT_TRUE(all.ok() && one.ok());
  std::vector<TraceRequest> expected;
  std::copy_if(all->begin(), all->end(), std::back_inserter(expected),
               [](const TraceRequest& r) { return r.tenant == "deepseek-r1/1"; });
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(*one, expected);
}

TEST(ServeGenTraceTest, TopClientsKeepsTheBusiest) {
  const std::map<WindowKey, int64_t> counts = FixtureCounts();
  std::map<std::string, int64_t> volume;
  for (const auto& [key, n] : counts) {
    if (key.first.starts_with("deepseek-r1/")) volume[key.first] += n;
  }
  const auto busiest = std::max_element(volume.begin(), volume.end(), [](auto& a, auto& b) {
    return a.second < b.second;
  });
  TraceOptions options = Exact({"deepseek-r1"});
  options.servegen.top_clients = 1;
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(RatesFixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(static_cast<int64_t>(trace->size()), busiest->second);
  for (const TraceRequest& r : *trace) EXPECT_EQ(r.tenant, busiest->first);
}

TEST(ServeGenTraceTest, RateScaleThinsEachWindowByItsShare) {
  TraceOptions options = Exact({"deepseek-r1", "m-large"});
  options.servegen.rate_scale = 0.25;
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(RatesFixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  const std::map<WindowKey, int64_t> scaled = CountsOf(*trace);
  for (const auto& [key, n] : FixtureCounts()) {
    const auto it = scaled.find(key);
    const int64_t got = it == scaled.end() ? 0 : it->second;
    EXPECT_GE(got, n / 4) << key.first << " " << key.second;
    EXPECT_LE(got, (n + 3) / 4) << key.first << " " << key.second;
  }
}

TEST(ServeGenTraceTest, TokensFollowTheClientsSummary) {
  TraceOptions options = Exact({"deepseek-r1"});
  options.servegen.client_ids = {0};
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(RatesFixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_GT(trace->size(), 500u);
  // Client 0, window 0: input p50 143, p90 657, p99 900; output p50 1172, p99 6329.
  std::vector<int> prompts;
  for (const TraceRequest& r : *trace) {
    prompts.push_back(r.prompt_tokens);
    EXPECT_LE(r.prompt_tokens, 1800);
    EXPECT_LE(r.output_tokens, 2 * 6329);
  }
  std::sort(prompts.begin(), prompts.end());
  EXPECT_NEAR(prompts[prompts.size() / 2], 143, 143 * 0.15);
  EXPECT_NEAR(prompts[prompts.size() * 9 / 10], 657, 657 * 0.2);
}

TEST(ServeGenTraceTest, ClientWithoutSummaryDrawsFromTheModelsMixture) {
  TraceOptions options = Exact({"deepseek-r1"});
  options.servegen.client_ids = {3};  // no row in the token fixture
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(RatesFixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_FALSE(trace->empty());
  int above_client1_max = 0;
  for (const TraceRequest& r : *trace) {
    // Mixture of clients 0 (input p99 900) and 1 (p99 332).
    EXPECT_LE(r.prompt_tokens, 1800);
    above_client1_max += r.prompt_tokens > 2 * 332;
  }
  EXPECT_GT(above_client1_max, 0);  // some draws came from client 0's row
}

TEST(ServeGenTraceTest, WindowOptionGeneratesOnlyThoseWindows) {
  TraceOptions options = Exact({"deepseek-r1"});
  options.start_s = 600;
  options.end_s = 1800;
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(RatesFixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  std::map<WindowKey, int64_t> expected;
  for (const auto& [key, n] : FixtureCounts()) {
    if (key.first.starts_with("deepseek-r1/") && key.second >= 600 && key.second < 1800) {
      expected[{key.first, key.second - 600}] = n;
    }
  }
  EXPECT_EQ(CountsOf(*trace), expected);
}

TEST(ServeGenTraceTest, RejectsBadOptions) {
  TraceOptions options = Exact({"gpt-5"});
  EXPECT_EQ(ReadServeGenTrace(RatesFixture(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Exact({"deepseek-r1", "deepseek-r1"});
  EXPECT_EQ(ReadServeGenTrace(RatesFixture(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Exact({"deepseek-r1"});
  options.servegen.rate_scale = std::nan("");
  EXPECT_EQ(ReadServeGenTrace(RatesFixture(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Exact({"deepseek-r1"});
  options.servegen.client_ids = {999};
  EXPECT_EQ(ReadServeGenTrace(RatesFixture(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Exact({"deepseek-r1"});
  options.servegen.tokens_path = FixturePath("no_such_tokens.csv.gz");
  EXPECT_EQ(ReadServeGenTrace(RatesFixture(), options).status().code(),
            absl::StatusCode::kNotFound);
}

constexpr char kRatesHeader[] =
    "category,model,client_id,window_start_s,rate_rps,iat_cv,iat_dist,iat_shape,iat_scale\n";
constexpr char kGoodRow[] = "reason,deepseek-r1,0,0,0.5,1.2,Gamma,0.7,2.8\n";

struct BadRates {
  std::string name;
  std::string rows;  // after kGoodRow
  std::string mentions;
};

class ServeGenBadRatesTest : public ::testing::TestWithParam<BadRates> {};

TEST_P(ServeGenBadRatesTest, NamesFileLineAndField) {
  const BadRates& bad = GetParam();
  const std::string path = WriteScratchFile("servegen_rates_10min_" + bad.name + ".csv",
                                            kRatesHeader + std::string(kGoodRow) + bad.rows);
  TraceOptions options = Exact({"deepseek-r1"});
  options.servegen.tokens_path = FixturePath("servegen_client_tokens_6h_sample.csv.gz");
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(path, options);
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(path + ":3:"));
  EXPECT_THAT(trace.status().message(), HasSubstr(bad.mentions));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ServeGenBadRatesTest,
    ::testing::Values(
        BadRates{"NotWholeCount", "reason,deepseek-r1,0,600,0.0012,1,Gamma,1,1\n", "rate_rps"},
        BadRates{"NegativeRate", "reason,deepseek-r1,0,600,-0.5,1,Gamma,1,1\n", "rate_rps"},
        BadRates{"Unsorted", "reason,deepseek-r1,0,0,0.5,1,Gamma,1,1\n", "sorted"},
        BadRates{"OffGrid", "reason,deepseek-r1,0,650,0.5,1,Gamma,1,1\n", "window_start_s"},
        BadRates{"NoDistribution", "reason,deepseek-r1,0,600,0.5,0,,0,0\n", "iat_dist"},
        BadRates{"ZeroShape", "reason,deepseek-r1,0,600,0.5,1,Weibull,0,1\n", "iat_shape"},
        BadRates{"BadClient", "reason,deepseek-r1,x,600,0.5,1,Gamma,1,1\n", "client_id"},
        BadRates{"Columns", "reason,deepseek-r1,0,600,0.5\n", "9 columns"}),
    [](const ::testing::TestParamInfo<BadRates>& param_info) { return param_info.param.name; });

TEST(ServeGenTraceTest, RejectsTokenPercentilesOutOfOrder) {
  const std::string tokens = WriteScratchFile(
      "servegen_tokens_bad.csv",
      "category,model,client_id,window_start_s,window_len_s,expected_requests,"
      "input_tokens_mean,input_tokens_p50,input_tokens_p90,input_tokens_p99,"
      "output_tokens_mean,output_tokens_p50,output_tokens_p90,output_tokens_p99,"
      "reason_ratio_mean\n"
      "reason,deepseek-r1,0,0,21600,10,5,5,4,9,5,5,6,7,0.5\n");
  TraceOptions options = Exact({"deepseek-r1"});
  options.servegen.tokens_path = tokens;
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(RatesFixture(), options);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(tokens + ":2:"));
  EXPECT_THAT(trace.status().message(), HasSubstr("input_tokens_p50"));
}

// The real summary writes its largest weights rounded in scientific notation (m-large,
// line 694: 1.2212e+06); they are mixture weights, read as numbers.
TEST(ServeGenTraceTest, ReadsExpectedRequestsInScientificNotation) {
  const std::string tokens = WriteScratchFile(
      "servegen_tokens_sci.csv",
      "category,model,client_id,window_start_s,window_len_s,expected_requests,"
      "input_tokens_mean,input_tokens_p50,input_tokens_p90,input_tokens_p99,"
      "output_tokens_mean,output_tokens_p50,output_tokens_p90,output_tokens_p99,"
      "reason_ratio_mean\n"
      "reason,deepseek-r1,0,0,21600,1.2212e+06,5,5,6,9,5,5,6,7,0.5\n");
  TraceOptions options = Exact({"deepseek-r1"});
  options.servegen.tokens_path = tokens;
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(RatesFixture(), options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_FALSE(trace->empty());
}

// Full volume is billions of requests: refused before allocating, not out of memory.
TEST(ServeGenTraceTest, RefusesMoreRequestsThanAReplayHolds) {
  TraceOptions options = Exact({"deepseek-r1"});
  options.servegen.rate_scale = 1e9;
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadServeGenTrace(RatesFixture(), options);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(trace.status().message(), HasSubstr("rate scale"));
}

TEST(ServeGenTraceTest, NeedsATokenPathWhenTheNameGivesNone) {
  const std::string path =
      WriteScratchFile("servegen_elsewhere.csv", kRatesHeader + std::string(kGoodRow));
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadServeGenTrace(path, Exact({"deepseek-r1"}));
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr("tokens_path"));
}

}  // namespace
}  // namespace hearth
