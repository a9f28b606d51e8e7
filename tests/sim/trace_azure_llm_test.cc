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

TEST(AzureLlmTraceTest, ReadsRowsFromTheFirstRequest) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadAzureLlmTrace(FixturePath("azure_llm_code_head.csv"));
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 20u);
  EXPECT_EQ((*trace)[0].arrival_s, 0);
  // 18:17:04.0319600 - 18:17:03.9799600
  EXPECT_NEAR((*trace)[1].arrival_s, 0.052, 1e-9);
  EXPECT_EQ((*trace)[0].prompt_tokens, 4808);
  EXPECT_EQ((*trace)[0].output_tokens, 10);
  EXPECT_EQ((*trace)[0].model, "azure_llm_code_head");
  EXPECT_EQ((*trace)[0].tenant, "default");
  EXPECT_TRUE((*trace)[0].prefix_blocks.empty());
  for (size_t i = 1; i < trace->size(); ++i) {
    EXPECT_GE((*trace)[i].arrival_s, (*trace)[i - 1].arrival_s);
  }
}

TEST(AzureLlmTraceTest, ReadsALastRowWithoutLineBreak) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadAzureLlmTrace(FixturePath("azure_llm_conv_tail.csv"));
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 10u);
  EXPECT_EQ(trace->back().prompt_tokens, 197);
  EXPECT_EQ(trace->back().output_tokens, 183);
}

TEST(AzureLlmTraceTest, Accepts2024TimestampsWithUtcOffset) {
  TraceOptions options;
  options.model = "coder";
  options.tenant = "acme";
  absl::StatusOr<std::vector<TraceRequest>> with_offset =
      ReadAzureLlmTrace(FixturePath("azure_llm_2024_style.csv"), options);
  absl::StatusOr<std::vector<TraceRequest>> plain =
      ReadAzureLlmTrace(FixturePath("azure_llm_code_head.csv"), options);
  ASSERT_TRUE(with_offset.ok()) << with_offset.status();
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_EQ(with_offset->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    // The fixture keeps six of the seven fractional digits.
    EXPECT_NEAR((*with_offset)[i].arrival_s, (*plain)[i].arrival_s, 1e-6);
    EXPECT_EQ((*with_offset)[i].prompt_tokens, (*plain)[i].prompt_tokens);
    EXPECT_EQ((*with_offset)[i].model, "coder");
    EXPECT_EQ((*with_offset)[i].tenant, "acme");
  }
}

TEST(AzureLlmTraceTest, HeaderOnlyIsAnEmptyTrace) {
  const std::string path =
      WriteScratchFile("azure_header_only.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n");
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureLlmTrace(path);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_TRUE(trace->empty());
}

struct BadRow {
  std::string name;
  std::string body;      // rows after the header
  std::string where;     // the expected ":line:" (or other) part of the message
  std::string mentions;  // the field the message must name
};

class AzureLlmBadInputTest : public ::testing::TestWithParam<BadRow> {};

TEST_P(AzureLlmBadInputTest, NamesFileLineAndField) {
  const BadRow& bad = GetParam();
  const std::string path = WriteScratchFile(
      "azure_" + bad.name + ".csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n" + bad.body);
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureLlmTrace(path);
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(path + bad.where));
  EXPECT_THAT(trace.status().message(), HasSubstr(bad.mentions));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, AzureLlmBadInputTest,
    ::testing::Values(
        BadRow{"BadTimestamp", "2023-11-16 18:17:03.97,1,2\n2023-11-16 25:00:00.0,1,2\n", ":3:",
               "TIMESTAMP"},
        BadRow{"DateOnly", "2023-11-16,1,2\n", ":2:", "TIMESTAMP"},
        BadRow{"NegativeTokens", "2023-11-16 18:17:03.97,-4,2\n", ":2:", "ContextTokens"},
        BadRow{"FractionalTokens", "2023-11-16 18:17:03.97,4,2.5\n", ":2:", "GeneratedTokens"},
        BadRow{"SpacedTokens", "2023-11-16 18:17:03.97, 4,2\n", ":2:", "ContextTokens"},
        BadRow{"TooFewColumns", "2023-11-16 18:17:03.97,4\n", ":2:", "3 columns"},
        BadRow{"TooManyColumns", "2023-11-16 18:17:03.97,4,5,6\n", ":2:", "3 columns"},
        BadRow{"BlankLine", "2023-11-16 18:17:03.97,4,5\n\n2023-11-16 18:17:04.0,4,5\n", ":3:",
               "3 columns"},
        BadRow{"Unsorted", "2023-11-16 18:17:03.97,4,5\n2023-11-16 18:17:02.0,4,5\n", ":3:",
               "sorted"}),
    [](const ::testing::TestParamInfo<BadRow>& param_info) { return param_info.param.name; });

TEST(AzureLlmTraceTest, RejectsAnotherHeader) {
  const std::string path = WriteScratchFile("azure_bad_header.csv", "time,in,out\n");
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureLlmTrace(path);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(path + ":1:"));
}

TEST(AzureLlmTraceTest, RejectsAnEmptyFile) {
  const std::string path = WriteScratchFile("azure_empty.csv", "");
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadAzureLlmTrace(path);
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr("empty file"));
}

TEST(AzureLlmTraceTest, MissingFileIsNotFound) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadAzureLlmTrace(FixturePath("no_such_trace.csv"));
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(trace.status().message(), HasSubstr("no_such_trace.csv"));
}

}  // namespace
}  // namespace hearth
