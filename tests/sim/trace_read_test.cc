#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
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

TEST(ReadTraceTest, DetectsEveryFormatFromItsHeader) {
  TraceOptions options;
  options.servegen.models = {"deepseek-r1"};
  const struct {
    std::string file;
    absl::StatusOr<std::vector<TraceRequest>> (*reader)(std::string_view, const TraceOptions&);
  } cases[] = {
      {"azure_llm_code_head.csv", ReadAzureLlmTrace},
      {"azure_llm_2024_style.csv", ReadAzureLlmTrace},
      {"mooncake_head.jsonl", ReadMooncakeTrace},
      {"servegen_client_rates_10min_sample.csv.gz", ReadServeGenTrace},
      {"azure_functions_sample.csv", ReadAzureFunctionsTrace},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::vector<TraceRequest>> sniffed = ReadTrace(FixturePath(c.file), options);
    absl::StatusOr<std::vector<TraceRequest>> direct = c.reader(FixturePath(c.file), options);
    ASSERT_TRUE(sniffed.ok()) << c.file << ": " << sniffed.status();
    ASSERT_TRUE(direct.ok()) << c.file << ": " << direct.status();
    EXPECT_FALSE(sniffed->empty()) << c.file;
    EXPECT_EQ(*sniffed, *direct) << c.file;
  }
}

TEST(ReadTraceTest, ExplicitFormatSkipsDetection) {
  TraceOptions options;
  options.format = TraceFormat::kMooncake;
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(FixturePath("azure_llm_code_head.csv"), options);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr("azure_llm_code_head.csv:1:"));
}

TEST(ReadTraceTest, UnknownHeaderIsNamed) {
  const std::string path = WriteScratchFile("unknown.csv", "when,what\n1,2\n");
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadTrace(path);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr("when,what"));
}

TEST(ReadTraceTest, TokenSummaryIsNotATrace) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(FixturePath("servegen_client_tokens_6h_sample.csv.gz"));
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr("token summary"));
}

TEST(ReadTraceTest, CorruptGzipIsDataLoss) {
  // A gzip header whose deflate stream is garbage.
  const std::string corrupt("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff\xff", 14);
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadTrace(WriteScratchFile("corrupt.csv.gz", corrupt));
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ReadTraceTest, TruncatedGzipIsDataLoss) {
  const std::string whole = [] {
    std::string bytes;
    std::ifstream in(FixturePath("servegen_client_tokens_6h_sample.csv.gz"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    return bytes;
  }();
  ASSERT_GT(whole.size(), 40u);
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadTrace(
      WriteScratchFile("truncated.csv.gz", whole.substr(0, whole.size() - 20)));
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ReadTraceTest, WindowOptionSelectsAndShifts) {
  TraceOptions options;
  options.start_s = 0.1;
  options.end_s = 0.5;
  absl::StatusOr<std::vector<TraceRequest>> all = ReadTrace(FixturePath("azure_llm_code_head.csv"));
  absl::StatusOr<std::vector<TraceRequest>> part =
      ReadTrace(FixturePath("azure_llm_code_head.csv"), options);
  ASSERT_TRUE(all.ok() && part.ok());
  absl::StatusOr<std::vector<TraceRequest>> expected = SelectWindow(*all, 0.1, 0.5);
  ASSERT_TRUE(expected.ok());
  EXPECT_FALSE(part->empty());
  EXPECT_EQ(*part, *expected);
}

TEST(ReadTraceTest, RejectsBadOptionsBeforeReading) {
  TraceOptions options;
  options.start_s = std::nan("");
  EXPECT_EQ(ReadTrace(FixturePath("no_such_file.csv"), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = TraceOptions();
  options.start_s = 10;
  options.end_s = 10;
  EXPECT_EQ(ReadTrace(FixturePath("no_such_file.csv"), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = TraceOptions();
  options.tenant = "";
  EXPECT_EQ(ReadTrace(FixturePath("no_such_file.csv"), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearth
