#include "kernels/cuda/ops.cuh"

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "kernels/cpu/quant_types.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/random_tensors.h"

namespace hearth::cuda {
namespace {

using cpu::GgmlType;
using test::DeviceBuffer;

// u, float32's unit roundoff: one round-to-nearest errs by at most u relative.
constexpr double kU = 0x1p-24;

class OpsCudaTest : public test::CudaTest {};

// Random floats whose magnitudes span 10^-3..10^3 across rows, never all zero.
std::vector<float> RandomRows(int64_t n_rows, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> log_scale(-3.0f, 3.0f);
  std::vector<float> x(static_cast<size_t>(n_rows * n));
  for (int64_t r = 0; r < n_rows; ++r) {
    const float scale = std::pow(10.0f, log_scale(rng));
    for (int64_t i = 0; i < n; ++i) x[r * n + i] = normal(rng) * scale;
  }
  if (!x.empty()) x[0] = 1.25f;
  return x;
}

// ------------------------------------------------------------------------------- RMSNorm

// Tolerance: the sum of squares is taken in double (error ~n * 2^-53, negligible), then
// three float32 roundings (1 / rms, x * that, * weight) of u each: 3u relative, 4u
// allowed.
void CheckRmsNorm(int64_t n_rows, int64_t n, bool in_place, std::mt19937& rng) {
  SCOPED_TRACE(absl::StrFormat("(%d, %d)%s", n_rows, n, in_place ? " in place" : ""));
  const float eps = 1e-5f;
  const std::vector<float> x = RandomRows(n_rows, n, rng);
  const std::vector<float> weight = RandomRows(1, n, rng);
  DeviceBuffer x_dev(x.size() * sizeof(float));
  DeviceBuffer w_dev(weight.size() * sizeof(float));
  DeviceBuffer out_dev(x.size() * sizeof(float));
  ASSERT_CUDA_OK(x_dev.error());
  ASSERT_CUDA_OK(w_dev.error());
  ASSERT_CUDA_OK(out_dev.error());
  ASSERT_CUDA_OK(test::Upload(x, x_dev));
  ASSERT_CUDA_OK(test::Upload(weight, w_dev));
  ASSERT_CUDA_OK(cudaMemset(out_dev.get(), 0xff, x.size() * sizeof(float)));
  float* out = in_place ? x_dev.as<float>() : out_dev.as<float>();
  const absl::Status status =
      RmsNormCuda(x_dev.as<float>(), w_dev.as<float>(), n_rows, n, eps, out, nullptr);
  ASSERT_TRUE(status.ok()) << status;
  std::vector<float> got(x.size());
  ASSERT_CUDA_OK(test::Download(in_place ? x_dev : out_dev, got));
  for (int64_t r = 0; r < n_rows; ++r) {
    double sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[r * n + i]) * x[r * n + i];
    const double inv_rms = 1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) {
      const double want = x[r * n + i] * inv_rms * weight[i];
      ASSERT_LE(std::fabs(got[r * n + i] - want), 4 * kU * std::fabs(want))
          << "(" << r << ", " << i << "): " << got[r * n + i] << " want " << want;
    }
  }
}

TEST_F(OpsCudaTest, RmsNormMatchesFloat64Reference) {
  std::mt19937 rng(1);
  for (int64_t n_rows : {1, 3, 17}) {
    for (int64_t n : {1, 7, 4096, 5003}) {
      CheckRmsNorm(n_rows, n, /*in_place=*/false, rng);
      CheckRmsNorm(n_rows, n, /*in_place=*/true, rng);
    }
  }
}

// ---------------------------------------------------------------------------------- RoPE

// Tolerance: the angle is exact to ~1e-11 rad even at position 10^5 (double pow); cos and
// sin are rounded to float (u relative each), then the products and their sum or
// difference round by u each: at most 3u (|x0| + |x1|), 4u allowed.
void CheckRope(int64_t n_tokens, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
               float theta, std::mt19937& rng) {
  SCOPED_TRACE(absl::StrFormat("%d tokens, %d/%d heads of %d, theta %g", n_tokens, n_heads,
                               n_kv_heads, head_dim, theta));
  const std::vector<float> q = RandomRows(n_tokens, n_heads * head_dim, rng);
  const std::vector<float> k = RandomRows(n_tokens, n_kv_heads * head_dim, rng);
  std::vector<int32_t> positions(static_cast<size_t>(n_tokens));
  std::uniform_int_distribution<int32_t> pos(0, 100000);
  for (int32_t& p : positions) p = pos(rng);
  positions[0] = 0;
  if (n_tokens > 1) positions[1] = 1;

  DeviceBuffer q_dev(q.size() * sizeof(float));
  DeviceBuffer k_dev(k.size() * sizeof(float));
  DeviceBuffer pos_dev(positions.size() * sizeof(int32_t));
  ASSERT_CUDA_OK(q_dev.error());
  ASSERT_CUDA_OK(k_dev.error());
  ASSERT_CUDA_OK(pos_dev.error());
  ASSERT_CUDA_OK(test::Upload(q, q_dev));
  ASSERT_CUDA_OK(test::Upload(k, k_dev));
  ASSERT_CUDA_OK(test::Upload(positions, pos_dev));
  const absl::Status status =
      RopeCuda(q_dev.as<float>(), n_heads, k_dev.as<float>(), n_kv_heads, head_dim,
               pos_dev.as<int32_t>(), n_tokens, theta, nullptr);
  ASSERT_TRUE(status.ok()) << status;
  std::vector<float> got_q(q.size()), got_k(k.size());
  ASSERT_CUDA_OK(test::Download(q_dev, got_q));
  ASSERT_CUDA_OK(test::Download(k_dev, got_k));

  const auto check = [&](const std::vector<float>& x, const std::vector<float>& got,
                         int64_t heads, const char* name) {
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t h = 0; h < heads; ++h) {
        for (int64_t i = 0; i < head_dim / 2; ++i) {
          const double exponent =
              -2.0 * static_cast<double>(i) / static_cast<double>(head_dim);
          const double angle = positions[t] * std::pow(static_cast<double>(theta), exponent);
          const int64_t at = (t * heads + h) * head_dim + 2 * i;
          const double x0 = x[at], x1 = x[at + 1];
          const double want0 = x0 * std::cos(angle) - x1 * std::sin(angle);
          const double want1 = x0 * std::sin(angle) + x1 * std::cos(angle);
          const double tol = 4 * kU * (std::fabs(x0) + std::fabs(x1));
          ASSERT_LE(std::fabs(got[at] - want0), tol) << name << " token " << t << " head " << h
                                                     << " pair " << i;
          ASSERT_LE(std::fabs(got[at + 1] - want1), tol)
              << name << " token " << t << " head " << h << " pair " << i;
        }
      }
    }
  };
  check(q, got_q, n_heads, "q");
  check(k, got_k, n_kv_heads, "k");
}

TEST_F(OpsCudaTest, RopeMatchesFloat64Reference) {
  std::mt19937 rng(2);
  for (int64_t n_tokens : {1, 3, 17}) {
    for (int64_t head_dim : {2, 64, 128}) {
      CheckRope(n_tokens, 4, 2, head_dim, 10000.0f, rng);  // grouped-query attention
      CheckRope(n_tokens, 3, 3, head_dim, 500000.0f, rng);
    }
  }
  CheckRope(5, 32, 8, 4096, 10000.0f, rng);  // the largest head_dim: more pairs than threads
}

TEST_F(OpsCudaTest, RopeWithoutKeys) {
  std::mt19937 rng(3);
  const std::vector<float> q = RandomRows(2, 64, rng);
  const std::vector<int32_t> positions = {0, 7};
  DeviceBuffer q_dev(q.size() * sizeof(float));
  DeviceBuffer pos_dev(positions.size() * sizeof(int32_t));
  ASSERT_CUDA_OK(test::Upload(q, q_dev));
  ASSERT_CUDA_OK(test::Upload(positions, pos_dev));
  ASSERT_TRUE(RopeCuda(q_dev.as<float>(), 1, nullptr, 0, 64, pos_dev.as<int32_t>(), 2,
                       10000.0f, nullptr)
                  .ok());
  std::vector<float> got(q.size());
  ASSERT_CUDA_OK(test::Download(q_dev, got));
  for (int64_t i = 0; i < 64; ++i) EXPECT_EQ(got[i], q[i]) << i;  // position 0: unchanged
  EXPECT_NE(got[64], q[64]);
}

// ------------------------------------------------------------------ SwiGLU, residual add

TEST_F(OpsCudaTest, SwiGluMatchesFloat64Reference) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (int64_t n : {1, 1000, 100003}) {
    std::vector<float> gate(static_cast<size_t>(n)), up(static_cast<size_t>(n));
    for (float& g : gate) g = normal(rng);
    for (float& u : up) u = normal(rng) / 4.0f;
    gate[0] = 1.5f;
    if (n > 3) gate[1] = -100.0f, gate[2] = 100.0f, gate[3] = -87.5f;  // exp's far ends
    DeviceBuffer gate_dev(gate.size() * sizeof(float));
    DeviceBuffer up_dev(up.size() * sizeof(float));
    ASSERT_CUDA_OK(test::Upload(gate, gate_dev));
    ASSERT_CUDA_OK(test::Upload(up, up_dev));
    ASSERT_TRUE(SwiGluCuda(gate_dev.as<float>(), up_dev.as<float>(), n, nullptr).ok());
    std::vector<float> got(gate.size());
    ASSERT_CUDA_OK(test::Download(gate_dev, got));
    for (int64_t i = 0; i < n; ++i) {
      const double g = gate[i];
      const double want = g / (1.0 + std::exp(-g)) * up[i];
      // expf is within 2 ulp (4u), and its error reaches the result at most once (the
      // relative derivative of g / (1 + e) in e is below 1); 1 + e, the division and the
      // product add u each: 7u, 16u allowed. Where exp(-g) overflows float (g < -88.7)
      // the GPU gives -0 for a true value below 1e-36: the absolute slack.
      ASSERT_LE(std::fabs(got[i] - want), 16 * kU * std::fabs(want) + 1e-35)
          << "gate " << gate[i] << " up " << up[i];
    }
  }
}

TEST_F(OpsCudaTest, AddInPlaceIsExact) {
  std::mt19937 rng(5);
  for (int64_t n : {1, 1000, 100003}) {
    const std::vector<float> x = RandomRows(1, n, rng);
    const std::vector<float> y = RandomRows(1, n, rng);
    DeviceBuffer x_dev(x.size() * sizeof(float));
    DeviceBuffer y_dev(y.size() * sizeof(float));
    ASSERT_CUDA_OK(test::Upload(x, x_dev));
    ASSERT_CUDA_OK(test::Upload(y, y_dev));
    ASSERT_TRUE(AddInPlaceCuda(x_dev.as<float>(), y_dev.as<float>(), n, nullptr).ok());
    std::vector<float> got(x.size());
    ASSERT_CUDA_OK(test::Download(x_dev, got));
    // One IEEE round-to-nearest addition on both sides: identical bits.
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(x[i] + y[i])) << i;
    }
  }
}

// ----------------------------------------------------------------------------- Embedding

// Looks ids up in a random table placed `offset` bytes into its buffer (any alignment
// must work) and returns out (ids.size(), dim).
std::vector<float> RunEmbedding(GgmlType type, const std::vector<std::byte>& table,
                                int64_t vocab, int64_t dim, const std::vector<int32_t>& ids,
                                size_t offset) {
  const auto n_tokens = static_cast<int64_t>(ids.size());
  std::vector<float> out(static_cast<size_t>(n_tokens * dim));
  DeviceBuffer table_dev(table.size() + offset);
  DeviceBuffer ids_dev(ids.size() * sizeof(int32_t));
  DeviceBuffer out_dev(out.size() * sizeof(float));
  EXPECT_EQ(cudaMemcpy(table_dev.as<std::byte>() + offset, table.data(), table.size(),
                       cudaMemcpyHostToDevice),
            cudaSuccess);
  EXPECT_EQ(test::Upload(ids, ids_dev), cudaSuccess);
  EXPECT_EQ(cudaMemset(out_dev.get(), 0xff, out.size() * sizeof(float)), cudaSuccess);
  const absl::Status status =
      EmbeddingLookupCuda(type, table_dev.as<std::byte>() + offset, vocab, dim,
                          ids_dev.as<int32_t>(), n_tokens, out_dev.as<float>(), nullptr);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(test::Download(out_dev, out), cudaSuccess);
  return out;
}

TEST_F(OpsCudaTest, EmbeddingRowsAreExact) {
  // Exact, not within a tolerance: a decoded element (d (q - 8), d q + m, d q, a half) is
  // exact in double, and rounding it to float once is what the kernel's round-to-nearest
  // arithmetic does (d q itself is exact in float: 11 by at most 8 significant bits).
  std::mt19937 rng(6);
  const int64_t vocab = 50;
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ8_0, GgmlType::kF16,
                        GgmlType::kF32}) {
    const bool quantised = cpu::BlockElements(type) > 1;
    for (int64_t dim : {quantised ? 32 : 7, 96, 4096}) {
      const std::vector<std::byte> table = test::RandomTensor(type, vocab, dim, rng);
      for (int64_t n_tokens : {1, 3, 17}) {
        SCOPED_TRACE(absl::StrFormat("%s dim %d, %d tokens",
                                     std::string(cpu::TypeName(static_cast<uint32_t>(type))),
                                     dim, n_tokens));
        std::vector<int32_t> ids(static_cast<size_t>(n_tokens));
        for (int32_t& id : ids) id = static_cast<int32_t>(rng() % vocab);
        ids[0] = vocab - 1;  // the last row
        const std::vector<float> got = RunEmbedding(type, table, vocab, dim, ids, n_tokens % 4);
        for (int64_t t = 0; t < n_tokens; ++t) {
          for (int64_t c = 0; c < dim; ++c) {
            const auto want =
                static_cast<float>(test::DecodeElement(type, table, dim, ids[t], c).value);
            ASSERT_EQ(std::bit_cast<uint32_t>(got[t * dim + c]), std::bit_cast<uint32_t>(want))
                << "token " << t << " (id " << ids[t] << "), element " << c;
          }
        }
      }
    }
  }
}

TEST_F(OpsCudaTest, EmbeddingOfAnIdOutsideTheTableIsNaN) {
  std::mt19937 rng(7);
  const int64_t vocab = 10, dim = 64;
  const std::vector<std::byte> table = test::RandomTensor(GgmlType::kQ8_0, vocab, dim, rng);
  const std::vector<int32_t> ids = {-1, 3, 10, std::numeric_limits<int32_t>::max()};
  const std::vector<float> got = RunEmbedding(GgmlType::kQ8_0, table, vocab, dim, ids, 0);
  for (size_t t = 0; t < ids.size(); ++t) {
    for (int64_t c = 0; c < dim; ++c) {
      EXPECT_EQ(std::isnan(got[t * dim + c]), t != 1) << "token " << t << " element " << c;
    }
  }
}

// -------------------------------------------------------------------------------- Argmax

// Index of the largest value, lowest among equals, NaN as -infinity: the CPU sampler's
// greedy choice.
int32_t ReferenceArgmax(const float* row, int64_t n) {
  const auto key = [](float v) { return std::isnan(v) ? -INFINITY : v; };
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (key(row[i]) > key(row[best])) best = i;
  }
  return static_cast<int32_t>(best);
}

std::vector<int32_t> RunArgmax(const std::vector<float>& logits, int64_t n_rows, int64_t n) {
  std::vector<int32_t> out(static_cast<size_t>(n_rows), -7);
  DeviceBuffer logits_dev(logits.size() * sizeof(float));
  DeviceBuffer out_dev(out.size() * sizeof(int32_t));
  EXPECT_EQ(test::Upload(logits, logits_dev), cudaSuccess);
  EXPECT_EQ(test::Upload(out, out_dev), cudaSuccess);
  const absl::Status status =
      ArgmaxCuda(logits_dev.as<float>(), n_rows, n, out_dev.as<int32_t>(), nullptr);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(test::Download(out_dev, out), cudaSuccess);
  return out;
}

TEST_F(OpsCudaTest, ArgmaxMatchesGreedyChoice) {
  std::mt19937 rng(8);
  for (int64_t n_rows : {1, 3, 17}) {
    for (int64_t n : {1, 31, 1000, 128256}) {
      SCOPED_TRACE(absl::StrFormat("(%d, %d)", n_rows, n));
      std::vector<float> logits = RandomRows(n_rows, n, rng);
      for (int64_t r = 0; r < n_rows; ++r) {
        float* row = &logits[r * n];
        if (r % 3 == 1 && n > 1) {
          // A tie for the maximum at two random places.
          const int64_t a = rng() % n, b = rng() % n;
          row[a] = row[b] = 1e30f;
        } else if (r % 3 == 2) {
          row[rng() % n] = std::numeric_limits<float>::quiet_NaN();
        }
      }
      const std::vector<int32_t> got = RunArgmax(logits, n_rows, n);
      for (int64_t r = 0; r < n_rows; ++r) {
        EXPECT_EQ(got[r], ReferenceArgmax(&logits[r * n], n)) << "row " << r;
      }
    }
  }
}

TEST_F(OpsCudaTest, ArgmaxEdgeRows) {
  const float inf = INFINITY, nan = std::numeric_limits<float>::quiet_NaN();
  const int64_t n = 2000;
  std::vector<float> logits(4 * n, -inf);  // row 0: all -inf -> 0
  for (int64_t i = 0; i < n; ++i) logits[n + i] = nan;  // row 1: all NaN -> 0
  logits[n + 1500] = -inf;                              // NaN ties with -inf
  for (int64_t i = 0; i < n; ++i) logits[2 * n + i] = 3.0f;  // row 2: all equal -> 0
  logits[3 * n + 1999] = inf;                                // row 3: +inf wins
  logits[3 * n + 5] = nan;
  const std::vector<int32_t> got = RunArgmax(logits, 4, n);
  EXPECT_EQ(got[0], 0);
  EXPECT_EQ(got[1], 0);
  EXPECT_EQ(got[2], 0);
  EXPECT_EQ(got[3], 1999);
}

// ------------------------------------------------------------------------ Argument checks

// Argument checks happen before any CUDA call, so these run without a GPU; the pointers
// are host addresses the functions must never dereference or hand to CUDA.
void ExpectInvalid(const absl::Status& s) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(s.message().empty());
}

TEST(OpsCudaArgsTest, InvalidArgumentsWithoutTouchingTheDevice) {
  alignas(16) static float a[64];
  alignas(16) static float b[64];
  alignas(16) static int32_t ids[8];
  alignas(16) static std::byte table[256];
  const float nan = std::numeric_limits<float>::quiet_NaN();

  ExpectInvalid(RmsNormCuda(a, b, 1, 0, 1e-5f, a, nullptr));      // empty rows
  ExpectInvalid(RmsNormCuda(a, b, -1, 8, 1e-5f, a, nullptr));
  ExpectInvalid(RmsNormCuda(a, b, int64_t{1} << 31, 8, 1e-5f, a, nullptr));
  ExpectInvalid(RmsNormCuda(a, b, 1, 8, -1.0f, a, nullptr));      // eps
  ExpectInvalid(RmsNormCuda(a, b, 1, 8, nan, a, nullptr));
  ExpectInvalid(RmsNormCuda(nullptr, b, 1, 8, 1e-5f, a, nullptr));
  ExpectInvalid(RmsNormCuda(a, nullptr, 1, 8, 1e-5f, a, nullptr));
  ExpectInvalid(RmsNormCuda(a, b, 1, 8, 1e-5f, nullptr, nullptr));

  ExpectInvalid(RopeCuda(a, 1, b, 1, 7, ids, 1, 1e4f, nullptr));  // odd head_dim
  ExpectInvalid(RopeCuda(a, 1, b, 1, 0, ids, 1, 1e4f, nullptr));
  ExpectInvalid(RopeCuda(a, 1, b, 1, 8192, ids, 1, 1e4f, nullptr));
  ExpectInvalid(RopeCuda(a, -1, b, 1, 8, ids, 1, 1e4f, nullptr));
  ExpectInvalid(RopeCuda(a, 1, b, 1, 8, ids, -1, 1e4f, nullptr));
  ExpectInvalid(RopeCuda(a, 1, b, 1, 8, ids, 1, 0.0f, nullptr));  // theta
  ExpectInvalid(RopeCuda(a, 1, b, 1, 8, ids, 1, INFINITY, nullptr));
  ExpectInvalid(RopeCuda(a, 1, b, 1, 8, nullptr, 1, 1e4f, nullptr));
  ExpectInvalid(RopeCuda(nullptr, 1, b, 1, 8, ids, 1, 1e4f, nullptr));
  ExpectInvalid(RopeCuda(a, 1, nullptr, 1, 8, ids, 1, 1e4f, nullptr));

  ExpectInvalid(SwiGluCuda(a, b, -1, nullptr));
  ExpectInvalid(SwiGluCuda(nullptr, b, 4, nullptr));
  ExpectInvalid(SwiGluCuda(a, nullptr, 4, nullptr));
  ExpectInvalid(AddInPlaceCuda(a, b, -1, nullptr));
  ExpectInvalid(AddInPlaceCuda(nullptr, b, 4, nullptr));
  ExpectInvalid(AddInPlaceCuda(a, nullptr, 4, nullptr));

  ExpectInvalid(EmbeddingLookupCuda(static_cast<GgmlType>(12), table, 4, 256, ids, 1, a,
                                    nullptr));                                 // q4_K
  ExpectInvalid(EmbeddingLookupCuda(GgmlType::kQ4_0, table, 4, 48, ids, 1, a, nullptr));
  ExpectInvalid(EmbeddingLookupCuda(GgmlType::kF32, table, 0, 4, ids, 1, a, nullptr));
  ExpectInvalid(EmbeddingLookupCuda(GgmlType::kF32, table, 4, 0, ids, 1, a, nullptr));
  ExpectInvalid(EmbeddingLookupCuda(GgmlType::kF32, table, 4, 4, ids, -1, a, nullptr));
  ExpectInvalid(EmbeddingLookupCuda(GgmlType::kF32, table, int64_t{1} << 31, 4, ids, 1, a,
                                    nullptr));
  ExpectInvalid(EmbeddingLookupCuda(GgmlType::kF32, nullptr, 4, 4, ids, 1, a, nullptr));
  ExpectInvalid(EmbeddingLookupCuda(GgmlType::kF32, table, 4, 4, nullptr, 1, a, nullptr));
  ExpectInvalid(EmbeddingLookupCuda(GgmlType::kF32, table, 4, 4, ids, 1, nullptr, nullptr));

  ExpectInvalid(ArgmaxCuda(a, 1, 0, ids, nullptr));  // empty rows
  ExpectInvalid(ArgmaxCuda(a, -1, 4, ids, nullptr));
  ExpectInvalid(ArgmaxCuda(a, 1, int64_t{1} << 31, ids, nullptr));
  ExpectInvalid(ArgmaxCuda(nullptr, 1, 4, ids, nullptr));
  ExpectInvalid(ArgmaxCuda(a, 1, 4, nullptr, nullptr));

  // Nothing to do is fine and launches nothing, even with null pointers.
  EXPECT_TRUE(RmsNormCuda(nullptr, nullptr, 0, 8, 1e-5f, nullptr, nullptr).ok());
  EXPECT_TRUE(RopeCuda(nullptr, 4, nullptr, 4, 8, nullptr, 0, 1e4f, nullptr).ok());
  EXPECT_TRUE(SwiGluCuda(nullptr, nullptr, 0, nullptr).ok());
  EXPECT_TRUE(AddInPlaceCuda(nullptr, nullptr, 0, nullptr).ok());
  EXPECT_TRUE(
      EmbeddingLookupCuda(GgmlType::kQ8_0, nullptr, 4, 32, nullptr, 0, nullptr, nullptr).ok());
  EXPECT_TRUE(ArgmaxCuda(nullptr, 0, 4, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace hearth::cuda
