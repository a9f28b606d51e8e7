#include "kernels/cuda/dequantize.cuh"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_types.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/testing/reference_quantizers.h"

namespace hearth::cuda {
namespace {

using ::hearth::testing::EncodeBlocks;
using test::DeviceBuffer;

using cpu::BlockQ4_0;
using cpu::BlockQ4_1;
using cpu::BlockQ8_0;
using cpu::GgmlType;
using cpu::kQuantBlock;

// W (rows, cols) of `type` in its GGUF layout, from random non-zero data: rows of
// different magnitudes (some tiny, so fp16 scales go subnormal), negatives and outliers.
std::vector<std::byte> MakeWeights(GgmlType type, int64_t rows, int64_t cols,
                                   std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> log_scale(-9.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float scale = std::pow(10.0f, log_scale(rng));
    for (int64_t c = 0; c < cols; ++c) {
      float v = normal(rng) * scale;
      if (rng() % 97 == 0) v *= 20.0f;
      x[r * cols + c] = v;
    }
  }
  x[0] = 1.5f;  // never all zeros
  switch (type) {
    case GgmlType::kQ4_0:
      return EncodeBlocks<BlockQ4_0>(x);
    case GgmlType::kQ4_1:
      return EncodeBlocks<BlockQ4_1>(x);
    case GgmlType::kQ8_0:
      return EncodeBlocks<BlockQ8_0>(x);
    case GgmlType::kF16: {
      std::vector<std::byte> data(x.size() * sizeof(uint16_t));
      for (size_t i = 0; i < x.size(); ++i) {
        const uint16_t h = cpu::Fp32ToFp16(x[i]);
        std::memcpy(&data[i * sizeof(uint16_t)], &h, sizeof(h));
      }
      return data;
    }
    case GgmlType::kF32: {
      std::vector<std::byte> data(x.size() * sizeof(float));
      std::memcpy(data.data(), x.data(), data.size());
      return data;
    }
  }
  return {};
}

class DequantizeCudaTest : public test::CudaTest {};

TEST(CudaDeviceCountTest, NeverFailsForMissingGpu) {
  const absl::StatusOr<int> count = CudaDeviceCount();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_GE(*count, 0);
}

// Compares the GPU dequantisation of a random W (rows, cols) bit for bit with
// cpu::DequantizeRow, row by row.
void CheckMatchesCpu(GgmlType type, int64_t rows, int64_t cols, std::mt19937& rng,
                     cudaStream_t stream) {
  SCOPED_TRACE(absl::StrFormat(
      "%s (%d, %d)", std::string(cpu::TypeName(static_cast<uint32_t>(type))), rows, cols));
  const std::vector<std::byte> w = MakeWeights(type, rows, cols, rng);
  ASSERT_EQ(w.size(), cpu::RowBytes(type, cols) * static_cast<size_t>(rows));
  const size_t n = static_cast<size_t>(rows * cols);

  DeviceBuffer w_dev(w.size());
  DeviceBuffer out_dev(n * sizeof(float));
  ASSERT_CUDA_OK(w_dev.error());
  ASSERT_CUDA_OK(out_dev.error());
  ASSERT_CUDA_OK(cudaMemcpy(w_dev.get(), w.data(), w.size(), cudaMemcpyHostToDevice));
  // Poison the output so elements left unwritten show up.
  ASSERT_CUDA_OK(cudaMemset(out_dev.get(), 0xff, n * sizeof(float)));

  const absl::Status status = DequantizeRowsCuda(type, w_dev.get(), rows, cols,
                                                 static_cast<float*>(out_dev.get()), stream);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_CUDA_OK(cudaStreamSynchronize(stream));

  std::vector<float> got(n);
  ASSERT_CUDA_OK(cudaMemcpy(got.data(), out_dev.get(), n * sizeof(float), cudaMemcpyDeviceToHost));

  std::vector<float> want(static_cast<size_t>(cols));
  bool any_nonzero = false;
  for (int64_t r = 0; r < rows; ++r) {
    cpu::DequantizeRow(type, w.data(), cols, r, want.data());
    for (int64_t c = 0; c < cols; ++c) {
      const float g = got[r * cols + c];
      any_nonzero |= want[c] != 0.0f;
      ASSERT_EQ(std::bit_cast<uint32_t>(g), std::bit_cast<uint32_t>(want[c]))
          << "element (" << r << ", " << c << "): gpu " << g << " cpu " << want[c];
    }
  }
  EXPECT_TRUE(any_nonzero);
}

TEST_F(DequantizeCudaTest, QuantisedTypesMatchCpuExactly) {
  std::mt19937 rng(1234);
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ8_0}) {
    for (int64_t rows : {1, 3, 17}) {
      for (int64_t cols : {32, 96, 4096}) CheckMatchesCpu(type, rows, cols, rng, nullptr);
    }
  }
  // More elements than one grid covers (grid-stride loop): 1 << 16 blocks * 256 threads.
  CheckMatchesCpu(GgmlType::kQ4_0, 520, 32768, rng, nullptr);
}

TEST_F(DequantizeCudaTest, FloatTypesMatchCpuExactly) {
  std::mt19937 rng(99);
  for (GgmlType type : {GgmlType::kF16, GgmlType::kF32}) {
    for (int64_t rows : {1, 3, 17}) {
      for (int64_t cols : {1, 7, 33, 4096}) CheckMatchesCpu(type, rows, cols, rng, nullptr);
    }
  }
}

TEST_F(DequantizeCudaTest, RunsOnAStream) {
  cudaStream_t stream = nullptr;
  ASSERT_CUDA_OK(cudaStreamCreate(&stream));
  std::mt19937 rng(7);
  CheckMatchesCpu(GgmlType::kQ8_0, 5, 256, rng, stream);
  ASSERT_CUDA_OK(cudaStreamDestroy(stream));
}

TEST_F(DequantizeCudaTest, AllHalfBitPatterns) {
  // Every fp16 value, subnormals, infinities and NaN payloads included.
  std::vector<uint16_t> h(65536);
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i);
  DeviceBuffer w_dev(h.size() * sizeof(uint16_t));
  DeviceBuffer out_dev(h.size() * sizeof(float));
  ASSERT_CUDA_OK(w_dev.error());
  ASSERT_CUDA_OK(out_dev.error());
  ASSERT_CUDA_OK(cudaMemcpy(w_dev.get(), h.data(), h.size() * 2, cudaMemcpyHostToDevice));
  ASSERT_TRUE(DequantizeRowsCuda(GgmlType::kF16, w_dev.get(), 256, 256,
                                 static_cast<float*>(out_dev.get()), nullptr)
                  .ok());
  std::vector<float> got(h.size());
  ASSERT_CUDA_OK(cudaMemcpy(got.data(), out_dev.get(), got.size() * 4, cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < h.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(cpu::Fp16ToFp32(h[i])))
        << "half 0x" << std::hex << i;
  }
}

// Argument checks happen before any CUDA call, so these run without a GPU; the pointers
// are host addresses the function must never dereference or hand to CUDA.
TEST(DequantizeCudaArgsTest, InvalidArgumentsWithoutTouchingTheDevice) {
  alignas(16) static std::byte dummy_w[64];
  alignas(16) static float dummy_out[16];
  const auto invalid = [&](GgmlType type, int64_t rows, int64_t cols, const void* w,
                           float* out) {
    const absl::Status s = DequantizeRowsCuda(type, w, rows, cols, out, nullptr);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_FALSE(s.message().empty());
  };
  invalid(static_cast<GgmlType>(7), 1, 32, dummy_w, dummy_out);     // not a type
  invalid(static_cast<GgmlType>(12), 1, 256, dummy_w, dummy_out);   // q4_K: unsupported
  invalid(GgmlType::kQ4_0, 1, 33, dummy_w, dummy_out);              // not whole blocks
  invalid(GgmlType::kQ8_0, 2, 16, dummy_w, dummy_out);
  invalid(GgmlType::kQ4_1, -1, 32, dummy_w, dummy_out);             // negative
  invalid(GgmlType::kF32, 1, -4, dummy_w, dummy_out);
  invalid(GgmlType::kF16, int64_t{1} << 40, int64_t{1} << 40, dummy_w, dummy_out);  // overflow
  invalid(GgmlType::kF32, 1, 4, nullptr, dummy_out);                // null pointers
  invalid(GgmlType::kQ8_0, 1, 32, dummy_w, nullptr);
  // Empty shapes are fine and launch nothing, even with null pointers.
  EXPECT_TRUE(DequantizeRowsCuda(GgmlType::kQ4_0, nullptr, 0, 32, nullptr, nullptr).ok());
  EXPECT_TRUE(DequantizeRowsCuda(GgmlType::kF32, nullptr, 5, 0, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace hearth::cuda
