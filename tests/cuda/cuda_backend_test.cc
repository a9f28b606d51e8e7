// The CUDA ForwardBackend (lib/engine/cuda_backend.cc). Built twice (tests/cuda/
// CMakeLists.txt): without HEARTH_CUDA_BACKEND_GPU_TESTS, the creation error path, which
// runs on every machine (label cuda_host); with it, the forward pass against the CPU
// backend on real models, which needs a GPU (label gpu, skipped without one).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/cuda/dequantize.cuh"
#include "lib/engine/forward_backend.h"
#include "lib/model/llama_model.h"
#include "lib/runtime/thread_pool.h"
#include "nlohmann/json.hpp"

namespace hearth {
namespace {

const std::string kSource = HEARTH_SOURCE_DIR;
const std::string kStories = kSource + "/tests/data/models/stories260K.gguf";
const std::string kSmolLm2 = kSource + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

std::unique_ptr<LlamaModel> LoadModel(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(path);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *std::move(model) : nullptr;
}

int DeviceCount() {
  const absl::StatusOr<int> count = cuda::CudaDeviceCount();
  EXPECT_TRUE(count.ok()) << count.status();
  return count.ok() ? *count : 0;
}

#ifndef HEARTH_CUDA_BACKEND_GPU_TESTS

// Where no device exists: FailedPrecondition saying so, whatever the (non-negative)
// ordinal; where one does: ordinal 0 works and ordinals beyond the count are refused.
// A negative ordinal and a malformed cache shape are refused everywhere.
TEST(CudaBackendCreationTest, NoDeviceIsFailedPreconditionAndBadOrdinalsAreRefused) {
  auto model = LoadModel(kStories);
  ASSERT_NE(model, nullptr);
  const KvCacheShape kv{8, 16};
  const int count = DeviceCount();

  const absl::StatusOr<std::unique_ptr<ForwardBackend>> negative =
      MakeCudaBackend(*model, kv, -1);
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument) << negative.status();
  const absl::StatusOr<std::unique_ptr<ForwardBackend>> bad_shape =
      MakeCudaBackend(*model, KvCacheShape{8, 0}, 0);
  EXPECT_EQ(bad_shape.status().code(), absl::StatusCode::kInvalidArgument)
      << bad_shape.status();

  const absl::StatusOr<std::unique_ptr<ForwardBackend>> beyond =
      MakeCudaBackend(*model, kv, count + 3);
  if (count == 0) {
    for (int ordinal : {0, 3}) {
      const absl::StatusOr<std::unique_ptr<ForwardBackend>> backend =
          MakeCudaBackend(*model, kv, ordinal);
      EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition)
          << backend.status();
      EXPECT_THAT(backend.status().message(), testing::HasSubstr("no CUDA device"));
    }
  } else {
    const absl::StatusOr<std::unique_ptr<ForwardBackend>> backend =
        MakeCudaBackend(*model, kv, 0);
    ASSERT_TRUE(backend.ok()) << backend.status();
    EXPECT_EQ((*backend)->name(), "cuda");
    EXPECT_EQ(beyond.status().code(), absl::StatusCode::kInvalidArgument) << beyond.status();
  }
}

#else  // HEARTH_CUDA_BACKEND_GPU_TESTS

class CudaBackendTest : public testing::Test {
 protected:
  void SetUp() override {
    if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device or driver: GPU test skipped";
  }
};

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

int64_t Argmax(const float* row, int64_t n) { return std::max_element(row, row + n) - row; }

// How two backends' logits (rows, vocab) differ.
struct Comparison {
  int64_t rows = 0;
  int64_t top1_equal = 0;
  double max_abs_diff = 0;
  double mean_abs_diff = 0;
  double top1_fraction() const { return rows == 0 ? 1.0 : double(top1_equal) / rows; }
};

void Accumulate(const std::vector<float>& cpu, const std::vector<float>& gpu, int64_t vocab,
                Comparison* c) {
  ASSERT_EQ(cpu.size(), gpu.size());
  const int64_t rows = static_cast<int64_t>(cpu.size()) / vocab;
  double sum = c->mean_abs_diff * double(c->rows) * double(vocab);
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = &cpu[r * vocab];
    const float* b = &gpu[r * vocab];
    c->top1_equal += Argmax(a, vocab) == Argmax(b, vocab);
    for (int64_t v = 0; v < vocab; ++v) {
      ASSERT_TRUE(std::isfinite(b[v])) << "row " << r << " token " << v;
      const double d = std::abs(double(a[v]) - double(b[v]));
      c->max_abs_diff = std::max(c->max_abs_diff, d);
      sum += d;
    }
  }
  c->rows += rows;
  c->mean_abs_diff = c->rows == 0 ? 0 : sum / (double(c->rows) * double(vocab));
}

// One step: the same batch through both backends; their logits compared.
void Step(ForwardBackend& cpu, ForwardBackend& gpu, absl::Span<const SequenceChunk> batch,
          int64_t vocab, int64_t expected_rows, Comparison* c) {
  std::vector<float> a, b;
  const absl::Status sa = cpu.Forward(batch, &a);
  ASSERT_TRUE(sa.ok()) << sa;
  const absl::Status sb = gpu.Forward(batch, &b);
  ASSERT_TRUE(sb.ok()) << sb;
  ASSERT_EQ(b.size(), static_cast<size_t>(expected_rows * vocab));
  Accumulate(a, b, vocab, c);
}

// A prefill chunk, decode steps, and mixed batches of two sequences with interleaved,
// out-of-order block tables (one chunk of them wanting no logits, one every row's).
Comparison RunScenario(const LlamaModel& model, const std::vector<int32_t>& text) {
  const int64_t vocab = model.config().vocab_size;
  const KvCacheShape kv{16, 8};
  ThreadPool pool(2);
  std::unique_ptr<ForwardBackend> cpu = MakeCpuBackend(model, kv, &pool);
  absl::StatusOr<std::unique_ptr<ForwardBackend>> gpu = MakeCudaBackend(model, kv, 0);
  Comparison c;
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  if (!gpu.ok()) return c;
  EXPECT_EQ((*gpu)->name(), "cuda");
  const std::vector<int32_t> table_a = {7, 0, 3, 9, 12, 5}, table_b = {2, 11, 4};
  const absl::Span<const int32_t> t(text);
  // Sequence a: a 24-token prompt in two chunks, then 16 decode steps.
  const SequenceChunk prompt_head{t.subspan(0, 10), 0, table_a, LogitsMode::kNone};
  Step(*cpu, **gpu, {&prompt_head, 1}, vocab, 0, &c);
  const SequenceChunk prompt_tail{t.subspan(10, 14), 10, table_a, LogitsMode::kAll};
  Step(*cpu, **gpu, {&prompt_tail, 1}, vocab, 14, &c);
  for (int64_t pos = 24; pos < 40; ++pos) {
    const SequenceChunk decode{t.subspan(pos, 1), pos, table_a, LogitsMode::kLast};
    Step(*cpu, **gpu, {&decode, 1}, vocab, 1, &c);
  }
  // Mixed: a's decode step beside b's whole prompt (every row), then both decoding.
  const SequenceChunk mixed[] = {{t.subspan(40, 1), 40, table_a, LogitsMode::kLast},
                                 {t.subspan(100, 12), 0, table_b, LogitsMode::kAll}};
  Step(*cpu, **gpu, mixed, vocab, 13, &c);
  for (int64_t i = 0; i < 6; ++i) {
    const SequenceChunk both[] = {{t.subspan(112 + i, 1), 12 + i, table_b, LogitsMode::kLast},
                                  {t.subspan(41 + i, 1), 41 + i, table_a, LogitsMode::kLast}};
    Step(*cpu, **gpu, both, vocab, 2, &c);
  }
  // A malformed batch fails as on the CPU, and the backend keeps working after it.
  std::vector<float> logits;
  const std::vector<int32_t> outside = {99};
  const SequenceChunk bad{t.subspan(0, 1), 0, outside, LogitsMode::kLast};
  EXPECT_EQ((*gpu)->Forward({&bad, 1}, &logits).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ((*gpu)->Forward({}, &logits).code(), absl::StatusCode::kInvalidArgument);
  const SequenceChunk last{t.subspan(47, 1), 47, table_a, LogitsMode::kLast};
  Step(*cpu, **gpu, {&last, 1}, vocab, 1, &c);
  return c;
}

// F32 weights: both backends keep activations in float32 (the CPU quantises them only
// for quantised weights), so only summation order and libm differ: a few ulps per
// product, grown over 5 layers — far below 1e-2 on logits of magnitude ~10.
TEST_F(CudaBackendTest, TinyF32ModelMatchesCpuBackend) {
  auto model = LoadModel(kStories);
  ASSERT_NE(model, nullptr);
  const Fixture f = LoadFixture("stories260K_teacher_forced.json");
  const Comparison c = RunScenario(*model, f.tokens);
  RecordProperty("max_abs_diff", std::to_string(c.max_abs_diff));
  EXPECT_EQ(c.rows, 14 + 16 + 13 + 12 + 1);
  EXPECT_LT(c.max_abs_diff, 1e-2);
  EXPECT_GE(c.top1_fraction(), 0.99);
}

// Q4_1 weights: the CPU quantises each activation row to 8-bit blocks before the product
// (relative error ~2^-8 per element) while the GPU keeps float32, so logits differ by
// that much times their scale (~10-20): tenths on single logits, ~0.05 on average.
TEST_F(CudaBackendTest, SmolLm2MatchesCpuBackend) {
  if (!std::ifstream(kSmolLm2).good()) GTEST_SKIP() << "models/ lacks SmolLM2 (scripts/setup.sh)";
  auto model = LoadModel(kSmolLm2);
  ASSERT_NE(model, nullptr);
  const Fixture f = LoadFixture("SmolLM2-135M-Instruct.Q4_1_teacher_forced.json");
  const Comparison c = RunScenario(*model, f.tokens);
  RecordProperty("max_abs_diff", std::to_string(c.max_abs_diff));
  RecordProperty("mean_abs_diff", std::to_string(c.mean_abs_diff));
  EXPECT_LT(c.mean_abs_diff, 0.1);
  EXPECT_LT(c.max_abs_diff, 2.0);
  EXPECT_GE(c.top1_fraction(), 0.99);
}

// Teacher-forced over the fixture's 600 tokens of English, in 64-token prefill chunks:
// the GPU's top-1 against the CPU backend's and against the float64 reference.
TEST_F(CudaBackendTest, SmolLm2TeacherForcedAgreesWithCpuAndReference) {
  if (!std::ifstream(kSmolLm2).good()) GTEST_SKIP() << "models/ lacks SmolLM2 (scripts/setup.sh)";
  auto model = LoadModel(kSmolLm2);
  ASSERT_NE(model, nullptr);
  const Fixture f = LoadFixture("SmolLM2-135M-Instruct.Q4_1_teacher_forced.json");
  const int64_t n = static_cast<int64_t>(f.tokens.size());
  ASSERT_GE(n, 513);
  const int64_t vocab = model->config().vocab_size;
  const int block_tokens = 16;
  const KvCacheShape kv{(n + block_tokens - 1) / block_tokens, block_tokens};
  std::vector<int32_t> table(static_cast<size_t>(kv.blocks));
  for (size_t b = 0; b < table.size(); ++b) table[b] = static_cast<int32_t>(table.size() - 1 - b);
  ThreadPool pool(2);
  std::unique_ptr<ForwardBackend> cpu = MakeCpuBackend(*model, kv, &pool);
  absl::StatusOr<std::unique_ptr<ForwardBackend>> gpu = MakeCudaBackend(*model, kv, 0);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  std::vector<float> cpu_logits, gpu_logits;
  Comparison c;
  int64_t gpu_vs_reference = 0;
  const absl::Span<const int32_t> t(f.tokens);
  for (int64_t start = 0; start < n; start += 64) {
    const SequenceChunk chunk{t.subspan(start, std::min<int64_t>(64, n - start)), start, table,
                              LogitsMode::kAll};
    ASSERT_TRUE(cpu->Forward({&chunk, 1}, &cpu_logits).ok());
    ASSERT_TRUE((*gpu)->Forward({&chunk, 1}, &gpu_logits).ok());
    Accumulate(cpu_logits, gpu_logits, vocab, &c);
    for (size_t i = 0; i < chunk.tokens.size(); ++i) {
      const int64_t pos = start + static_cast<int64_t>(i);
      if (pos + 1 < n) gpu_vs_reference += Argmax(&gpu_logits[i * vocab], vocab) == f.argmax[pos];
    }
  }
  const double reference_top1 = double(gpu_vs_reference) / double(n - 1);
  RecordProperty("top1_vs_cpu", std::to_string(c.top1_fraction()));
  RecordProperty("top1_vs_reference", std::to_string(reference_top1));
  RecordProperty("mean_abs_diff", std::to_string(c.mean_abs_diff));
  EXPECT_EQ(c.rows, n);
  EXPECT_GE(c.top1_fraction(), 0.99);
  // The CPU backend's own bar against the reference (llama_model_test) is 0.98.
  EXPECT_GE(reference_top1, 0.98);
}

// Weights and a KV cache beyond the device's memory: ResourceExhausted naming the bytes.
TEST_F(CudaBackendTest, TooLargeKvCacheIsResourceExhausted) {
  auto model = LoadModel(kStories);
  ASSERT_NE(model, nullptr);
  const absl::StatusOr<std::unique_ptr<ForwardBackend>> backend =
      MakeCudaBackend(*model, KvCacheShape{int64_t{1} << 30, 64}, 0);
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kResourceExhausted) << backend.status();
  EXPECT_THAT(backend.status().message(), testing::HasSubstr("bytes"));
}

#endif  // HEARTH_CUDA_BACKEND_GPU_TESTS

}  // namespace
}  // namespace hearth
