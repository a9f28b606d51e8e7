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
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MooncakeTraceTest, ReadsRequestsWithPrefixBlocks) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      ReadMooncakeTrace(FixturePath("mooncake_head.jsonl"));
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 20u);
  const TraceRequest& first = (*trace)[0];
  EXPECT_EQ(first.arrival_s, 0);
  EXPECT_EQ(first.prompt_tokens, 6758);
  EXPECT_EQ(first.output_tokens, 500);
  EXPECT_EQ(first.model, "mooncake_head");
  EXPECT_EQ(first.prefix_blocks,
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
  // The second request shares the first block (the system prompt) only.
  EXPECT_EQ((*trace)[1].prefix_blocks[0], 0);
  EXPECT_EQ((*trace)[1].prefix_blocks[1], 14);
  for (const TraceRequest& r : *trace) {
    // The format's invariant: one hash per started 512-token block.
    EXPECT_EQ(r.prefix_blocks.size(), static_cast<size_t>((r.prompt_tokens + 511) / 512));
  }
}

TEST(MooncakeTraceTest, TimestampsAreMilliseconds) {
  const std::string path = WriteScratchFile(
      "mooncake_ms.jsonl",
      "{\"timestamp\": 1500, \"input_length\": 10, \"output_length\": 2, \"hash_ids\": [7]}\n"
      "{\"timestamp\": 3001, \"input_length\": 0, \"output_length\": 0}");
  TraceOptions options;
  options.model = "kimi";
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadMooncakeTrace(path, options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 2u);
  EXPECT_DOUBLE_EQ((*trace)[0].arrival_s, 1.5);
  EXPECT_DOUBLE_EQ((*trace)[1].arrival_s, 3.001);
  EXPECT_THAT((*trace)[0].prefix_blocks, ElementsAre(7));
  EXPECT_TRUE((*trace)[1].prefix_blocks.empty());
  EXPECT_EQ((*trace)[1].model, "kimi");
}

struct BadLine {
  std::string name;
  std::string second_line;
  std::string mentions;
};

class MooncakeBadInputTest : public ::testing::TestWithParam<BadLine> {};

TEST_P(MooncakeBadInputTest, NamesFileLineAndField) {
  const BadLine& bad = GetParam();
  const std::string path = WriteScratchFile(
      "mooncake_" + bad.name + ".jsonl",
      "{\"timestamp\": 10, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1]}\n" +
          bad.second_line + "\n");
  absl::StatusOr<std::vector<TraceRequest>> trace = ReadMooncakeTrace(path);
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(trace.status().message(), HasSubstr(path + ":2:"));
  EXPECT_THAT(trace.status().message(), HasSubstr(bad.mentions));
}

INSTANTIATE_TEST_SUITE_P(
    Lines, MooncakeBadInputTest,
    ::testing::Values(
        BadLine{"NotJson", "{\"timestamp\": 10,", "JSON"},
        BadLine{"NotObject", "[1, 2]", "JSON object"},
        BadLine{"Blank", "", "JSON"},
        BadLine{"MissingTimestamp", "{\"input_length\": 1, \"output_length\": 1}", "timestamp"},
        BadLine{"NegativeInput",
                "{\"timestamp\": 10, \"input_length\": -1, \"output_length\": 1}", "input_length"},
        BadLine{"FractionalOutput",
                "{\"timestamp\": 10, \"input_length\": 1, \"output_length\": 1.5}",
                "output_length"},
        BadLine{"StringTimestamp",
                "{\"timestamp\": \"10\", \"input_length\": 1, \"output_length\": 1}", "timestamp"},
        BadLine{"HugeInput",
                "{\"timestamp\": 10, \"input_length\": 9999999999, \"output_length\": 1}",
                "input_length"},
        BadLine{"HashIdsNotArray",
                "{\"timestamp\": 10, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": 3}",
                "hash_ids"},
        BadLine{"HashIdNotInteger",
                "{\"timestamp\": 10, \"input_length\": 1, \"output_length\": 1, "
                "\"hash_ids\": [\"a\"]}",
                "hash_ids"},
        BadLine{"Unsorted", "{\"timestamp\": 9, \"input_length\": 1, \"output_length\": 1}",
                "sorted"}),
    [](const ::testing::TestParamInfo<BadLine>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace hearth
