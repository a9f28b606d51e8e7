#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/trace.h"
#include "tests/sim/trace_testing.h"

namespace hearth {
namespace {

using ::hearth::testing::WriteScratchFile;
using ::testing::HasSubstr;

std::vector<TraceRequest> RandomTrace(uint64_t seed, size_t n, bool with_blocks) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> gap(0, 2.5);
  const std::vector<std::string> names = {"small", "llama-8b", "acme", "globex.eu"};
  std::vector<TraceRequest> trace;
  double t = 0;
  for (size_t i = 0; i < n; ++i) {
    t += (rng() % 4 == 0) ? 0 : gap(rng);  // ties included
    TraceRequest r{.arrival_s = t,
                   .model = names[rng() % 2],
                   .tenant = names[2 + rng() % 2],
                   .prompt_tokens = static_cast<int>(rng() % 100000),
                   .output_tokens = static_cast<int>(rng() % 2000)};
    if (with_blocks && rng() % 3 != 0) {
      for (uint64_t b = rng() % 5; b > 0; --b) r.prefix_blocks.push_back(rng() % 1000000);
    }
    trace.push_back(std::move(r));
  }
  return trace;
}

class HearthCsvRoundTripTest : public ::testing::TestWithParam<bool> {};

TEST_P(HearthCsvRoundTripTest, WritesAndReadsBackExactly) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const std::vector<TraceRequest> trace = RandomTrace(seed, 500, GetParam());
    const std::string path = ::testing::TempDir() + "/round_trip.csv";
    ASSERT_TRUE(WriteHearthCsv(path, trace).ok());
    absl::StatusOr<std::vector<TraceRequest>> back = ReadHearthCsv(path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, trace) << "seed " << seed;
    absl::StatusOr<std::vector<TraceRequest>> sniffed = ReadTrace(path);
    ASSERT_TRUE(sniffed.ok()) << sniffed.status();
    EXPECT_EQ(*sniffed, trace);
  }
}

INSTANTIATE_TEST_SUITE_P(Blocks, HearthCsvRoundTripTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "WithPrefixBlocks" : "WithoutPrefixBlocks";
                         });

TEST(HearthCsvTest, ReadsTheDocumentedExample) {
  const std::string path = WriteScratchFile(
      "hearth_example.csv",
      "arrival_s,model,tenant,prompt_tokens,output_tokens\r\n"
      "0.25,llama-8b,acme,812,97\r\n0.25,llama-8b,globex,1020,129");
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadHearthCsv(path);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 2u);
  EXPECT_EQ((*trace)[1].tenant, "globex");
  EXPECT_EQ((*trace)[1].output_tokens, 129);
}

TEST(HearthCsvTest, EmptyTraceRoundTrips) {
  const std::string path = ::testing::TempDir() + "/empty_trace.csv";
  ASSERT_TRUE(WriteHearthCsv(path, {}).ok());
  absl::StatusOr<std::vector<TraceRequest>> back = ReadHearthCsv(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->empty());
}

struct BadCsv {
  std::string name;
  std::string rows;
  std::string mentions;
};

class HearthCsvBadInputTest : public ::testing::TestWithParam<BadCsv> {};

TEST_P(HearthCsvBadInputTest, NamesFileLineAndField) {
  const BadCsv& bad = GetParam();
  const std::string path =
      WriteScratchFile("hearth_" + bad.name + ".csv",
                       "arrival_s,model,tenant,prompt_tokens,output_tokens,prefix_blocks\n"
                       "1,m,t,1,1,\n" +
                           bad.rows);
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadHearthCsv(path);
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(path + ":3:"));
  EXPECT_THAT(trace.status().message(), HasSubstr(bad.mentions));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, HearthCsvBadInputTest,
    ::testing::Values(BadCsv{"NanArrival", "nan,m,t,1,1,\n", "arrival_s"},
                      BadCsv{"InfArrival", "inf,m,t,1,1,\n", "arrival_s"},
                      BadCsv{"NegativeArrival", "-1,m,t,1,1,\n", "arrival_s"},
                      BadCsv{"Unsorted", "0.5,m,t,1,1,\n", "sorted"},
                      BadCsv{"EmptyModel", "2,,t,1,1,\n", "model"},
                      BadCsv{"EmptyTenant", "2,m,,1,1,\n", "tenant"},
                      BadCsv{"NegativePrompt", "2,m,t,-1,1,\n", "prompt_tokens"},
                      BadCsv{"TextOutput", "2,m,t,1,many,\n", "output_tokens"},
                      BadCsv{"BadBlock", "2,m,t,1,1,4 x\n", "prefix_blocks"},
                      BadCsv{"Columns", "2,m,t,1,1\n", "6 columns"}),
    [](const ::testing::TestParamInfo<BadCsv>& param_info) { return param_info.param.name; });

TEST(HearthCsvTest, WriterRejectsWhatTheReaderWouldNotRead) {
  const std::string path = ::testing::TempDir() + "/rejected.csv";
  const TraceRequest good{.arrival_s = 1, .model = "m", .tenant = "t"};
  std::vector<std::vector<TraceRequest>> bad(6, {good, good});
  bad[0][1].model = "a,b";
  bad[1][1].tenant = "";
  bad[2][1].arrival_s = 0.5;  // before request 0
  bad[3][1].arrival_s = std::numeric_limits<double>::quiet_NaN();
  bad[4][1].prompt_tokens = -1;
  bad[5][1].tenant = "line\nbreak";
  for (const std::vector<TraceRequest>& trace : bad) {
    const absl::Status s = WriteHearthCsv(path, trace);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("request 1"));
  }
}

TEST(HearthCsvTest, WriterReportsAnUnwritablePath) {
  const absl::Status s = WriteHearthCsv(::testing::TempDir() + "/no/such/dir/t.csv", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace hearth
