#include "kernels/cuda/matmul_q.cuh"

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
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

class MatMulCudaTest : public test::CudaTest {};

std::vector<float> RandomActivations(int64_t n_tokens, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_tokens * cols));
  for (float& v : x) v = normal(rng);
  return x;
}

// Runs MatMulCuda on W (rows, cols) and x (n_tokens, cols) and returns y (n_tokens, rows).
// y starts as NaN so an element left unwritten fails every comparison.
std::vector<float> RunMatMul(GgmlType type, const std::vector<std::byte>& w, int64_t rows,
                             int64_t cols, const std::vector<float>& x, int64_t n_tokens,
                             cudaStream_t stream = nullptr) {
  std::vector<float> y(static_cast<size_t>(n_tokens * rows));
  DeviceBuffer w_dev(w.size());
  DeviceBuffer x_dev(x.size() * sizeof(float));
  DeviceBuffer y_dev(y.size() * sizeof(float));
  EXPECT_EQ(w_dev.error(), cudaSuccess);
  EXPECT_EQ(x_dev.error(), cudaSuccess);
  EXPECT_EQ(y_dev.error(), cudaSuccess);
  EXPECT_EQ(test::Upload(w, w_dev), cudaSuccess);
  EXPECT_EQ(test::Upload(x, x_dev), cudaSuccess);
  EXPECT_EQ(cudaMemset(y_dev.get(), 0xff, y.size() * sizeof(float)), cudaSuccess);
  const absl::Status status = MatMulCuda(type, w_dev.get(), rows, cols, x_dev.as<float>(),
                                         n_tokens, y_dev.as<float>(), stream);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(test::Download(y_dev, y), cudaSuccess);
  return y;
}

// Compares y with the float64 product of the exactly decoded blocks.
//
// Tolerance: each term d q x (and m x for Q4_1) passes through at most cols / 32 + 16
// float32 roundings on the GPU (the product, the sum of a lane's 8 elements, the scale, a
// lane's running sum over its share of the row, five shuffle levels); by the classic
// bound for floating-point sums the error is then at most about k * 2^-24 times the sum
// of the terms' magnitudes. We allow twice that. One wrong element among 4096 would
// already be off by ~1/4096 of that sum, over 10x the tolerance.
void ExpectMatchesReference(GgmlType type, const std::vector<std::byte>& w, int64_t rows,
                            int64_t cols, const std::vector<float>& x, int64_t n_tokens,
                            const std::vector<float>& y) {
  const double k = static_cast<double>(cols) / 32.0 + 16.0;
  const double relative = 2.0 * k * 0x1p-24;
  bool any_nonzero = false;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<test::DecodedElement> wr(static_cast<size_t>(cols));
    for (int64_t c = 0; c < cols; ++c) wr[c] = test::DecodeElement(type, w, cols, r, c);
    for (int64_t t = 0; t < n_tokens; ++t) {
      double want = 0.0, magnitude = 0.0;
      for (int64_t c = 0; c < cols; ++c) {
        const double xc = x[t * cols + c];
        want += wr[c].value * xc;
        magnitude += wr[c].magnitude * std::fabs(xc);
      }
      const float got = y[t * rows + r];
      any_nonzero |= got != 0.0f;
      ASSERT_LE(std::fabs(got - want), relative * magnitude)
          << "y[" << t << ", " << r << "] = " << got << ", want " << want;
    }
  }
  EXPECT_TRUE(any_nonzero);
}

void CheckShape(GgmlType type, int64_t rows, int64_t cols, int64_t n_tokens,
                std::mt19937& rng) {
  SCOPED_TRACE(absl::StrFormat("%s W (%d, %d), %d tokens",
                               std::string(cpu::TypeName(static_cast<uint32_t>(type))), rows,
                               cols, n_tokens));
  const std::vector<std::byte> w = test::RandomTensor(type, rows, cols, rng);
  const std::vector<float> x = RandomActivations(n_tokens, cols, rng);
  const std::vector<float> y = RunMatMul(type, w, rows, cols, x, n_tokens);
  ExpectMatchesReference(type, w, rows, cols, x, n_tokens, y);
}

// n_tokens 1 is the matrix-vector kernel; 8 and 9 sit on the batch tile's edge.
constexpr int64_t kTokenCounts[] = {1, 3, 8, 9, 17};
constexpr int64_t kRowCounts[] = {1, 5, 67};

TEST_F(MatMulCudaTest, QuantisedTypesMatchFloat64Reference) {
  std::mt19937 rng(2024);
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ8_0}) {
    for (int64_t rows : kRowCounts) {
      // 1, 3 and 128 blocks: fewer blocks than a warp step, a partial step, many steps.
      for (int64_t cols : {32, 96, 4096}) {
        for (int64_t n_tokens : kTokenCounts) CheckShape(type, rows, cols, n_tokens, rng);
      }
    }
  }
}

TEST_F(MatMulCudaTest, FloatTypesMatchFloat64Reference) {
  std::mt19937 rng(77);
  for (GgmlType type : {GgmlType::kF16, GgmlType::kF32}) {
    for (int64_t rows : kRowCounts) {
      for (int64_t cols : {1, 7, 33, 4096}) {
        for (int64_t n_tokens : kTokenCounts) CheckShape(type, rows, cols, n_tokens, rng);
      }
    }
  }
}

TEST_F(MatMulCudaTest, BatchInvariant) {
  // Each token's row of y, bit for bit, whether it is computed alone or in a batch.
  std::mt19937 rng(5);
  const int64_t rows = 37, cols = 256, n_tokens = 17;
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ8_0, GgmlType::kF16,
                        GgmlType::kF32}) {
    const std::vector<std::byte> w = test::RandomTensor(type, rows, cols, rng);
    const std::vector<float> x = RandomActivations(n_tokens, cols, rng);
    const std::vector<float> batch = RunMatMul(type, w, rows, cols, x, n_tokens);
    for (int64_t t = 0; t < n_tokens; ++t) {
      const std::vector<float> xt(x.begin() + t * cols, x.begin() + (t + 1) * cols);
      const std::vector<float> alone = RunMatMul(type, w, rows, cols, xt, 1);
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(std::bit_cast<uint32_t>(batch[t * rows + r]), std::bit_cast<uint32_t>(alone[r]))
            << cpu::TypeName(static_cast<uint32_t>(type)) << " y[" << t << ", " << r << "]";
      }
    }
  }
}

TEST_F(MatMulCudaTest, MoreTokenTilesThanOneGridHolds) {
  // The grid's y dimension stops at 65535 tiles of 8 tokens; the rest are looped over.
  std::mt19937 rng(11);
  CheckShape(GgmlType::kQ8_0, 3, 32, 8 * 65535 + 5, rng);
}

TEST_F(MatMulCudaTest, RunsOnAStream) {
  cudaStream_t stream = nullptr;
  ASSERT_CUDA_OK(cudaStreamCreate(&stream));
  std::mt19937 rng(3);
  const std::vector<std::byte> w = test::RandomTensor(GgmlType::kQ4_1, 9, 64, rng);
  const std::vector<float> x = RandomActivations(2, 64, rng);
  const std::vector<float> y = RunMatMul(GgmlType::kQ4_1, w, 9, 64, x, 2, stream);
  ExpectMatchesReference(GgmlType::kQ4_1, w, 9, 64, x, 2, y);
  ASSERT_CUDA_OK(cudaStreamDestroy(stream));
}

TEST_F(MatMulCudaTest, NoColumnsGivesZeros) {
  DeviceBuffer y_dev(6 * sizeof(float));
  ASSERT_CUDA_OK(y_dev.error());
  ASSERT_CUDA_OK(cudaMemset(y_dev.get(), 0xff, 6 * sizeof(float)));
  const absl::Status status =
      MatMulCuda(GgmlType::kQ4_0, nullptr, 3, 0, nullptr, 2, y_dev.as<float>(), nullptr);
  ASSERT_TRUE(status.ok()) << status;
  std::vector<float> y(6);
  ASSERT_CUDA_OK(test::Download(y_dev, y));
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

// Argument checks happen before any CUDA call, so these run without a GPU; the pointers
// are host addresses the function must never dereference or hand to CUDA.
TEST(MatMulCudaArgsTest, InvalidArgumentsWithoutTouchingTheDevice) {
  alignas(16) static std::byte w[64];
  alignas(16) static float x[64];
  alignas(16) static float y[64];
  const auto invalid = [](GgmlType type, const void* w_, int64_t rows, int64_t cols,
                          const float* x_, int64_t n_tokens, float* y_) {
    const absl::Status s = MatMulCuda(type, w_, rows, cols, x_, n_tokens, y_, nullptr);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_FALSE(s.message().empty());
  };
  invalid(static_cast<GgmlType>(7), w, 1, 32, x, 1, y);      // not a type
  invalid(static_cast<GgmlType>(12), w, 1, 256, x, 1, y);    // q4_K: unsupported
  invalid(GgmlType::kQ4_0, w, 1, 48, x, 1, y);               // not whole blocks
  invalid(GgmlType::kQ8_0, w, 2, 16, x, 1, y);
  invalid(GgmlType::kQ4_1, w, -1, 32, x, 1, y);              // negative
  invalid(GgmlType::kF32, w, 1, -4, x, 1, y);
  invalid(GgmlType::kF16, w, 1, 4, x, -2, y);
  invalid(GgmlType::kF32, w, int64_t{1} << 31, 4, x, 1, y);  // grid too large
  invalid(GgmlType::kF16, w, 1 << 30, int64_t{1} << 40, x, 1, y);  // overflow
  invalid(GgmlType::kF32, nullptr, 1, 4, x, 1, y);           // null pointers
  invalid(GgmlType::kQ8_0, w, 1, 32, nullptr, 1, y);
  invalid(GgmlType::kQ4_0, w, 1, 32, x, 1, nullptr);
  invalid(GgmlType::kQ4_0, nullptr, 1, 0, nullptr, 1, nullptr);  // y written even then
  invalid(GgmlType::kQ4_0, w + 2, 1, 32, x, 1, y);           // weights not 4-byte aligned
  // Empty products are fine and launch nothing, even with null pointers.
  EXPECT_TRUE(MatMulCuda(GgmlType::kQ4_0, nullptr, 0, 32, nullptr, 3, nullptr, nullptr).ok());
  EXPECT_TRUE(MatMulCuda(GgmlType::kF32, nullptr, 5, 8, nullptr, 0, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace hearth::cuda
