#include "hearth/replica_profile.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace hearth {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kCommittedProfile[] = "data/profiles/smollm2-135m-q4_1-cpu.json";

Json ValidJson() {
  return Json::parse(R"({
    "schema_version": 1,
    "name": "test-replica",
    "hardware": "test CPU, 2 cores, 2 threads",
    "load_s": {"cold": 0.4, "warm": 0.1},
    "first_token_s": 0.05,
    "memory_bytes": {"weights": 1000, "kv_cache": 500},
    "kv_bytes_per_token": 10,
    "max_sequences": 64,
    "max_batch_tokens": 256,
    "context_length": 2048,
    "prefill": [{"tokens": 64, "tokens_per_s": 400}, {"tokens": 256, "tokens_per_s": 600},
                {"tokens": 1024, "tokens_per_s": 500}],
    "decode": [{"batch": 1, "tokens_per_s": 100}, {"batch": 2, "tokens_per_s": 150},
               {"batch": 4, "tokens_per_s": 190}, {"batch": 8, "tokens_per_s": 230}],
    "measurement": {"command": "bench_profile_replica", "load_average": [0.5, 0.4, 0.3]}
  })");
}

ReplicaProfile ValidProfile() {
  absl::StatusOr<ReplicaProfile> p = ReplicaProfile::Parse(ValidJson().dump());
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : ReplicaProfile{};
}

TEST(ReplicaProfileTest, ParsesEveryField) {
  const ReplicaProfile p = ValidProfile();
  EXPECT_EQ(p.name, "test-replica");
  EXPECT_EQ(p.hardware, "test CPU, 2 cores, 2 threads");
  EXPECT_DOUBLE_EQ(p.load_cold_s, 0.4);
  EXPECT_DOUBLE_EQ(p.load_warm_s, 0.1);
  EXPECT_DOUBLE_EQ(p.first_token_s, 0.05);
  EXPECT_EQ(p.weights_bytes, 1000);
  EXPECT_EQ(p.kv_cache_bytes, 500);
  EXPECT_EQ(p.memory_bytes(), 1500);
  EXPECT_EQ(p.kv_bytes_per_token, 10);
  EXPECT_EQ(p.max_sequences, 64);
  EXPECT_EQ(p.max_batch_tokens, 256);
  EXPECT_EQ(p.context_length, 2048);
  ASSERT_EQ(p.prefill.size(), 3u);
  EXPECT_EQ(p.prefill[2].tokens, 1024);
  EXPECT_DOUBLE_EQ(p.prefill[2].tokens_per_s, 500);
  ASSERT_EQ(p.decode.size(), 4u);
  EXPECT_EQ(p.decode[3].batch, 8);
  EXPECT_DOUBLE_EQ(p.decode[3].tokens_per_s, 230);
}

TEST(ReplicaProfileTest, LoadsTheCommittedProfile) {
  const std::string path = std::string(HEARTH_SOURCE_DIR) + "/" + kCommittedProfile;
  absl::StatusOr<ReplicaProfile> p = ReplicaProfile::Load(path);
  ASSERT_TRUE(p.ok()) << p.status();
  // What bench/profile_replica promises to measure.
  std::vector<int> batches;
  for (const DecodePoint& d : p->decode) batches.push_back(d.batch);
  EXPECT_THAT(batches, ::testing::ElementsAre(1, 2, 4, 8, 16, 32, 64));
  std::vector<int> prompts;
  for (const PrefillPoint& q : p->prefill) prompts.push_back(q.tokens);
  EXPECT_THAT(prompts, ::testing::IsSupersetOf({64, 256, 1024}));
  EXPECT_LE(prompts.back(), p->context_length);
  EXPECT_GE(p->max_sequences, batches.back());
  EXPECT_GE(p->kv_cache_bytes, int64_t{p->max_sequences} * p->kv_bytes_per_token);
  // Loading includes the first token of the short prompt measured alone.
  EXPECT_GT(p->load_warm_s, p->first_token_s);
}

TEST(ReplicaProfileTest, EveryCommittedProfileLoads) {
  const std::filesystem::path dir = std::filesystem::path(HEARTH_SOURCE_DIR) / "data/profiles";
  int seen = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() != ".json") continue;
    ++seen;
    absl::StatusOr<ReplicaProfile> p = ReplicaProfile::Load(entry.path().string());
    EXPECT_TRUE(p.ok()) << p.status();
  }
  EXPECT_FALSE(error) << error.message();
  EXPECT_GE(seen, 1);
}

TEST(ReplicaProfileTest, MissingFileIsNotFound) {
  absl::StatusOr<ReplicaProfile> p = ReplicaProfile::Load("/nonexistent/profile.json");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr("/nonexistent/profile.json"));
}

TEST(ReplicaProfileTest, SyntaxErrorNamesTheColumn) {
  absl::StatusOr<ReplicaProfile> p = ReplicaProfile::Parse(R"({"name": "x",, })");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("line 1, column 14"));
}

TEST(ReplicaProfileTest, NotAnObject) {
  absl::StatusOr<ReplicaProfile> p = ReplicaProfile::Parse("[1, 2]");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("object"));
}

// One malformed profile: the valid one with `pointer` set to `value` (or removed when
// value is discarded), and the field its error must name.
struct Malformed {
  std::string test_name;
  std::string pointer;
  Json value;
  std::string field;
};

Json Removed() { return Json(Json::value_t::discarded); }

class MalformedProfileTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedProfileTest, IsInvalidArgumentNamingTheField) {
  const Malformed& m = GetParam();
  Json j = ValidJson();
  const Json::json_pointer ptr(m.pointer);
  if (m.value.is_discarded()) {
    j[ptr.parent_pointer()].erase(ptr.back());
  } else {
    j[ptr] = m.value;
  }
  absl::StatusOr<ReplicaProfile> p = ReplicaProfile::Parse(j.dump());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr(m.field + ":"));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, MalformedProfileTest,
    ::testing::Values(
        Malformed{"MissingVersion", "/schema_version", Removed(), "schema_version"},
        Malformed{"WrongVersion", "/schema_version", 2, "schema_version"},
        Malformed{"MissingName", "/name", Removed(), "name"},
        Malformed{"EmptyName", "/name", "", "name"},
        Malformed{"NameNotString", "/name", 7, "name"},
        Malformed{"MissingHardware", "/hardware", Removed(), "hardware"},
        Malformed{"MissingLoad", "/load_s", Removed(), "load_s"},
        Malformed{"LoadNotObject", "/load_s", 0.3, "load_s"},
        Malformed{"MissingColdLoad", "/load_s/cold", Removed(), "load_s.cold"},
        Malformed{"ZeroColdLoad", "/load_s/cold", 0, "load_s.cold"},
        Malformed{"NegativeWarmLoad", "/load_s/warm", -0.1, "load_s.warm"},
        Malformed{"StringWarmLoad", "/load_s/warm", "0.1", "load_s.warm"},
        Malformed{"UnknownLoadKey", "/load_s/hot", 0.1, "load_s.hot"},
        Malformed{"MissingFirstToken", "/first_token_s", Removed(), "first_token_s"},
        Malformed{"BoolFirstToken", "/first_token_s", true, "first_token_s"},
        Malformed{"MissingWeights", "/memory_bytes/weights", Removed(), "memory_bytes.weights"},
        Malformed{"FractionalWeights", "/memory_bytes/weights", 10.5, "memory_bytes.weights"},
        Malformed{"ZeroKvCache", "/memory_bytes/kv_cache", 0, "memory_bytes.kv_cache"},
        Malformed{"HugeKvCache", "/memory_bytes/kv_cache", 18446744073709551615ull,
                  "memory_bytes.kv_cache"},
        Malformed{"NegativeKvPerToken", "/kv_bytes_per_token", -4, "kv_bytes_per_token"},
        Malformed{"ZeroMaxSequences", "/max_sequences", 0, "max_sequences"},
        Malformed{"MaxSequencesOver32Bits", "/max_sequences", int64_t{1} << 40, "max_sequences"},
        Malformed{"MissingMaxBatchTokens", "/max_batch_tokens", Removed(), "max_batch_tokens"},
        Malformed{"NegativeContext", "/context_length", -1, "context_length"},
        Malformed{"UnknownTopLevelKey", "/decode_points", Json::array(), "decode_points"},
        Malformed{"MeasurementNotObject", "/measurement", "today", "measurement"},
        Malformed{"MissingPrefill", "/prefill", Removed(), "prefill"},
        Malformed{"EmptyPrefill", "/prefill", Json::array(), "prefill"},
        Malformed{"PrefillNotArray", "/prefill", Json::object(), "prefill"},
        Malformed{"PrefillPointNotObject", "/prefill/1", 5, "prefill[1]"},
        Malformed{"PrefillTokensMissing", "/prefill/0/tokens", Removed(), "prefill[0].tokens"},
        Malformed{"PrefillTokensRepeated", "/prefill/1/tokens", 64, "prefill[1].tokens"},
        Malformed{"PrefillRateZero", "/prefill/2/tokens_per_s", 0, "prefill[2].tokens_per_s"},
        Malformed{"PrefillUnknownKey", "/prefill/0/batch", 1, "prefill[0].batch"},
        Malformed{"EmptyDecode", "/decode", Json::array(), "decode"},
        Malformed{"DecodeBatchZero", "/decode/0/batch", 0, "decode[0].batch"},
        Malformed{"DecodeBatchDecreasing", "/decode/3/batch", 3, "decode[3].batch"},
        Malformed{"DecodeBatchFractional", "/decode/1/batch", 1.5, "decode[1].batch"},
        Malformed{"DecodeRateNegative", "/decode/2/tokens_per_s", -5, "decode[2].tokens_per_s"},
        Malformed{"DecodeRateMissing", "/decode/2/tokens_per_s", Removed(),
                  "decode[2].tokens_per_s"},
        Malformed{"DecodeRateNull", "/decode/2/tokens_per_s", nullptr, "decode[2].tokens_per_s"}),
    [](const ::testing::TestParamInfo<Malformed>& param) { return param.param.test_name; });

TEST(ReplicaProfileTest, OverflowingNumberIsNotFinite) {
  std::string text = ValidJson().dump();
  const std::string needle = "\"first_token_s\":0.05";
  ASSERT_NE(text.find(needle), std::string::npos);
  text.replace(text.find(needle), needle.size(), "\"first_token_s\":1e400");
  absl::StatusOr<ReplicaProfile> p = ReplicaProfile::Parse(text);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReplicaProfileTest, ValidateRejectsNaNBuiltInCode) {
  ReplicaProfile p = ValidProfile();
  p.decode[1].tokens_per_s = std::nan("");
  EXPECT_EQ(p.Validate().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.Validate().message(), HasSubstr("decode[1].tokens_per_s"));
  p = ValidProfile();
  p.load_warm_s = std::numeric_limits<double>::infinity();
  EXPECT_THAT(p.Validate().message(), HasSubstr("load_s.warm"));
  p = ValidProfile();
  p.weights_bytes = std::numeric_limits<int64_t>::max();
  EXPECT_THAT(p.Validate().message(), HasSubstr("memory_bytes"));
}

TEST(ReplicaProfileTest, DecodeAtBetweenAndBeyondThePoints) {
  const ReplicaProfile p = ValidProfile();
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(1), 100);
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(4), 190);
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(8), 230);
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(3), 170);   // halfway between 150 and 190
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(6), 210);
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(9), 230);   // flat beyond the last point
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(1000), 230);
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(0.5), 50);  // proportional below the first
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(0), 0);
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(-3), 0);
  EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(std::nan("")), 0);
}

TEST(ReplicaProfileTest, PrefillAtBetweenAndBeyondThePoints) {
  const ReplicaProfile p = ValidProfile();
  EXPECT_DOUBLE_EQ(p.PrefillTokensPerS(64), 400);
  EXPECT_DOUBLE_EQ(p.PrefillTokensPerS(160), 500);   // halfway between 400 and 600
  EXPECT_DOUBLE_EQ(p.PrefillTokensPerS(640), 550);   // halfway between 600 and 500
  EXPECT_DOUBLE_EQ(p.PrefillTokensPerS(1024), 500);
  EXPECT_DOUBLE_EQ(p.PrefillTokensPerS(4096), 500);  // flat beyond the last point
  EXPECT_DOUBLE_EQ(p.PrefillTokensPerS(8), 400);     // flat below the first
  EXPECT_DOUBLE_EQ(p.PrefillTokensPerS(0), 0);
}

TEST(ReplicaProfileTest, StepTimes) {
  const ReplicaProfile p = ValidProfile();
  EXPECT_DOUBLE_EQ(p.DecodeStepSeconds(1), 0.01);
  EXPECT_DOUBLE_EQ(p.DecodeStepSeconds(8), 8.0 / 230);
  // Fewer sequences than the first point cost the first point's step.
  EXPECT_DOUBLE_EQ(p.DecodeStepSeconds(0.5), 0.01);
  EXPECT_DOUBLE_EQ(p.PrefillSeconds(256), 256.0 / 600);
  EXPECT_DOUBLE_EQ(p.PrefillSeconds(0), 0);
  EXPECT_DOUBLE_EQ(p.DecodeStepSeconds(-1), 0);
}

// Random valid point lists (fixed seed): an interpolated rate lies between its two
// neighbours' rates, equals them at the points, and step times invert the rates.
TEST(ReplicaProfileTest, InterpolationStaysBetweenNeighbours) {
  std::mt19937 rng(20240917);
  std::uniform_int_distribution<int> gap(1, 40);
  std::uniform_real_distribution<double> rate(1, 5000);
  for (int round = 0; round < 200; ++round) {
    ReplicaProfile p = ValidProfile();
    p.decode.clear();
    int batch = 0;
    const int n = 1 + round % 9;
    for (int i = 0; i < n; ++i) {
      batch += gap(rng);
      p.decode.push_back({batch, rate(rng)});
    }
    ASSERT_TRUE(p.Validate().ok()) << p.Validate();
    for (size_t i = 0; i < p.decode.size(); ++i) {
      EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(p.decode[i].batch), p.decode[i].tokens_per_s);
      if (i == 0) continue;
      const DecodePoint& lo = p.decode[i - 1];
      const DecodePoint& hi = p.decode[i];
      for (double x = lo.batch; x <= hi.batch; x += 0.25) {
        const double r = p.DecodeTokensPerS(x);
        EXPECT_GE(r, std::min(lo.tokens_per_s, hi.tokens_per_s) - 1e-9);
        EXPECT_LE(r, std::max(lo.tokens_per_s, hi.tokens_per_s) + 1e-9);
        EXPECT_NEAR(p.DecodeStepSeconds(x) * r, x, 1e-9 * x);
      }
    }
    EXPECT_DOUBLE_EQ(p.DecodeTokensPerS(batch + 100), p.decode.back().tokens_per_s);
  }
}

TEST(ReplicaProfileTest, ScaledSpeedsUpThroughputAndLoad) {
  const ReplicaProfile p = ValidProfile();
  absl::StatusOr<ReplicaProfile> fast = p.Scaled(2.0);
  ASSERT_TRUE(fast.ok()) << fast.status();
  EXPECT_DOUBLE_EQ(fast->load_cold_s, 0.2);
  EXPECT_DOUBLE_EQ(fast->load_warm_s, 0.05);
  EXPECT_DOUBLE_EQ(fast->first_token_s, 0.025);
  EXPECT_DOUBLE_EQ(fast->DecodeTokensPerS(3), 340);
  EXPECT_DOUBLE_EQ(fast->PrefillTokensPerS(64), 800);
  EXPECT_EQ(fast->memory_bytes(), p.memory_bytes());
  EXPECT_EQ(fast->max_sequences, p.max_sequences);
}

TEST(ReplicaProfileTest, ScaledRejectsBadSpeedups) {
  const ReplicaProfile p = ValidProfile();
  for (double s : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    absl::StatusOr<ReplicaProfile> q = p.Scaled(s);
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(q.status().message(), HasSubstr("speedup")) << s;
  }
  // Finite but so large that a rate overflows.
  absl::StatusOr<ReplicaProfile> q = p.Scaled(1e308);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReplicaProfileTest, OverridesReplaceOnlyTheFieldsGiven) {
  const ReplicaProfile p = ValidProfile();
  absl::StatusOr<ReplicaProfile> q = p.WithOverrides(R"({
    "hardware": "faster box",
    "load_s": {"cold": 2.5},
    "decode": [{"batch": 1, "tokens_per_s": 300}, {"batch": 16, "tokens_per_s": 1200}]
  })");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->hardware, "faster box");
  EXPECT_DOUBLE_EQ(q->load_cold_s, 2.5);
  EXPECT_DOUBLE_EQ(q->load_warm_s, p.load_warm_s);  // not given: kept
  ASSERT_EQ(q->decode.size(), 2u);                   // a list is replaced whole
  EXPECT_DOUBLE_EQ(q->DecodeTokensPerS(16), 1200);
  EXPECT_EQ(q->prefill.size(), p.prefill.size());
  EXPECT_EQ(q->name, p.name);

  absl::StatusOr<ReplicaProfile> same = p.WithOverrides("{}");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->decode.size(), p.decode.size());
}

TEST(ReplicaProfileTest, OverridesAreValidated) {
  const ReplicaProfile p = ValidProfile();
  absl::StatusOr<ReplicaProfile> q = p.WithOverrides(R"({"max_sequence": 8})");
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(q.status().message(), HasSubstr("max_sequence: unknown field"));
  q = p.WithOverrides(R"({"load_s": {"warm": -1}})");
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(q.status().message(), HasSubstr("load_s.warm"));
  q = p.WithOverrides(R"({"decode": [{"batch": 4, "tokens_per_s": 1}, {"batch": 2, "tokens_per_s": 1}]})");
  EXPECT_THAT(q.status().message(), HasSubstr("decode[1].batch"));
  q = p.WithOverrides(R"({"schema_version": 3})");
  EXPECT_THAT(q.status().message(), HasSubstr("schema_version"));
  q = p.WithOverrides("{");
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hearth
