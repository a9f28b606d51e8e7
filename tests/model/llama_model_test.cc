// The forward pass against the independent NumPy float64 reference (tests/reference/),
// teacher-forced over real text: the fixtures hold the reference's top-1 token and the
// log-probability of the true next token at every position.
#include "lib/model/llama_model.h"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace hearth {
namespace {

const std::string kSource = HEARTH_SOURCE_DIR;

struct Fixture {
  std::vector<int32_t> tokens;
  std::vector<int32_t> argmax;
  std::vector<double> target_logprob;
  double perplexity = 0;
};

Fixture LoadFixture(const std::string& name) {
  std::ifstream in(kSource + "/tests/data/reference/" + name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  const nlohmann::json j = nlohmann::json::parse(in);
  return {j["tokens"].get<std::vector<int32_t>>(), j["argmax"].get<std::vector<int32_t>>(),
          j["target_logprob"].get<std::vector<double>>(), j["perplexity"].get<double>()};
}

std::unique_ptr<LlamaModel> LoadModel(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(path);
  EXPECT_TRUE(model.ok()) << model.status() << " (run scripts/setup.sh to extract the model)";
  return model.ok() ? *std::move(model) : nullptr;
}

double LogSoftmaxAt(const float* logits, int64_t n, int32_t id) {
  double max = logits[0];
  for (int64_t i = 1; i < n; ++i) max = std::max<double>(max, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(logits[i] - max);
  return logits[id] - max - std::log(sum);
}

struct Agreement {
  double top1 = 0;        // fraction of positions whose argmax equals the reference's
  double perplexity = 0;  // of the true next tokens
};

Agreement TeacherForce(const LlamaModel& model, const Fixture& f, int threads) {
  const int64_t n = static_cast<int64_t>(f.tokens.size());
  const int64_t vocab = model.config().vocab_size;
  KvCache cache(model.config(), n);
  ThreadPool pool(threads);
  std::vector<float> logits;
  const absl::Status s = model.Forward(f.tokens, 0, cache, pool, LogitsMode::kAll, &logits);
  EXPECT_TRUE(s.ok()) << s;
  int agree = 0;
  double nll = 0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    const float* row = &logits[i * vocab];
    agree += std::max_element(row, row + vocab) - row == f.argmax[i];
    nll -= LogSoftmaxAt(row, vocab, f.tokens[i + 1]);
  }
  return {static_cast<double>(agree) / (n - 1), std::exp(nll / (n - 1))};
}

TEST(LlamaModelTest, TinyF32ModelMatchesReference) {
  const Fixture f = LoadFixture("stories260K_teacher_forced.json");
  auto model = LoadModel(kSource + "/tests/data/models/stories260K.gguf");
  ASSERT_NE(model, nullptr);
  const Agreement a = TeacherForce(*model, f, 2);
  // F32 weights and float32 arithmetic: only rounding separates us from float64.
  EXPECT_GE(a.top1, 0.99);
  EXPECT_NEAR(a.perplexity / f.perplexity, 1.0, 1e-3);
}

TEST(LlamaModelTest, SmolLm2MatchesReferenceOverRealText) {
  const Fixture f = LoadFixture("SmolLM2-135M-Instruct.Q4_1_teacher_forced.json");
  ASSERT_GE(f.tokens.size(), 513u);
  auto model = LoadModel(kSource + "/models/SmolLM2-135M-Instruct.Q4_1.gguf");
  ASSERT_NE(model, nullptr);
  const Agreement a = TeacherForce(*model, f, 2);
  RecordProperty("top1_agreement", std::to_string(a.top1));
  RecordProperty("perplexity_ratio", std::to_string(a.perplexity / f.perplexity));
  EXPECT_GE(a.top1, 0.98);
  EXPECT_NEAR(a.perplexity / f.perplexity, 1.0, 0.01);
}

TEST(LlamaModelTest, IncrementalDecodeEqualsBatchedPrefill) {
  const Fixture f = LoadFixture("stories260K_teacher_forced.json");
  auto model = LoadModel(kSource + "/tests/data/models/stories260K.gguf");
  ASSERT_NE(model, nullptr);
  const int64_t n = 40, vocab = model->config().vocab_size;
  const std::vector<int32_t> tokens(f.tokens.begin(), f.tokens.begin() + n);
  ThreadPool pool(2);
  KvCache batched(model->config(), n), stepped(model->config(), n);
  std::vector<float> all, one;
  ASSERT_TRUE(model->Forward(tokens, 0, batched, pool, LogitsMode::kAll, &all).ok());
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(model->Forward({tokens[i]}, i, stepped, pool, LogitsMode::kLast, &one).ok());
    for (int64_t v = 0; v < vocab; ++v) {
      ASSERT_NEAR(one[v], all[i * vocab + v], 1e-3) << "position " << i << " token " << v;
    }
  }
}

TEST(LlamaModelTest, ThreadCountDoesNotChangeLogits) {
  const Fixture f = LoadFixture("stories260K_teacher_forced.json");
  auto model = LoadModel(kSource + "/tests/data/models/stories260K.gguf");
  ASSERT_NE(model, nullptr);
  const std::vector<int32_t> tokens(f.tokens.begin(), f.tokens.begin() + 20);
  std::vector<float> one_thread, three_threads;
  for (auto [threads, out] : {std::pair{1, &one_thread}, std::pair{3, &three_threads}}) {
    ThreadPool pool(threads);
    KvCache cache(model->config(), 20);
    ASSERT_TRUE(model->Forward(tokens, 0, cache, pool, LogitsMode::kAll, out).ok());
  }
  EXPECT_EQ(one_thread, three_threads);
}

TEST(LlamaModelTest, RejectsOutOfRangeTokensAndPositions) {
  auto model = LoadModel(kSource + "/tests/data/models/stories260K.gguf");
  ASSERT_NE(model, nullptr);
  ThreadPool pool(1);
  KvCache cache(model->config(), 4);
  std::vector<float> logits;
  EXPECT_EQ(model->Forward({99999}, 0, cache, pool, LogitsMode::kLast, &logits).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(model->Forward({1, 2, 3}, 2, cache, pool, LogitsMode::kLast, &logits).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(model->Forward({}, 0, cache, pool, LogitsMode::kLast, &logits).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LlamaModelTest, RejectsUnsupportedArchitecture) {
  absl::StatusOr<std::unique_ptr<LlamaModel>> model =
      LlamaModel::Load(kSource + "/tests/data/models/ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(model.status().message(), ::testing::HasSubstr("gpt2"));
}

TEST(LlamaModelTest, RejectsLayerCountTheFileCannotBack) {
  // Found by the fuzzer: a huge block_count once sized a vector before any tensor was read.
  absl::StatusOr<std::unique_ptr<LlamaModel>> model =
      LlamaModel::Load(kSource + "/tests/fuzz/seeds/regression-layer-count.gguf");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), ::testing::HasSubstr("layers"));
}

}  // namespace
}  // namespace hearth
