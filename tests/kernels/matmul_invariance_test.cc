// Batch invariance of MatMulRows: y[t, r] must be a bitwise function of weight row r and
// prepared activation row t alone. Continuous batching runs a request's tokens alone
// (n_tokens == 1, the decode tiles) or inside batches of any size (prefill and leftover
// tiles), with the row range split across threads at arbitrary points; greedy outputs
// must not depend on any of that.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

constexpr int64_t kRows = 37;  // not a multiple of any tile height
constexpr int64_t kMaxTokens = 67;
constexpr int64_t kTokenOffsets[] = {0, 3};  // where the batch starts in the token pool
constexpr int64_t kPoolTokens = kMaxTokens + 3;
// Sentinel for outputs a call must not write.
constexpr uint32_t kUntouched = 0x7fc0dead;

// Random weight bytes with finite, non-zero, mixed-sign scales (and minima) of varied
// magnitude, so that every part of each block contributes.
std::vector<std::byte> RandomWeights(GgmlType type, int64_t cols, std::mt19937& rng) {
  std::vector<std::byte> data(RowBytes(type, cols) * kRows);
  for (std::byte& b : data) b = static_cast<std::byte>(rng());
  std::uniform_real_distribution<float> magnitude(0.001f, 0.5f);
  const auto random_half = [&] {
    return Fp32ToFp16(rng() % 2 ? magnitude(rng) : -magnitude(rng));
  };
  const auto put = [&](size_t offset, uint16_t h) { std::memcpy(&data[offset], &h, 2); };
  switch (type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ8_0:
      for (size_t off = 0; off < data.size(); off += BlockBytes(type)) put(off, random_half());
      break;
    case GgmlType::kQ4_1:
      for (size_t off = 0; off < data.size(); off += BlockBytes(type)) {
        put(off, random_half());
        put(off + 2, random_half());
      }
      break;
    case GgmlType::kF16:
      for (size_t off = 0; off < data.size(); off += 2) put(off, random_half());
      break;
    case GgmlType::kF32: {
      std::normal_distribution<float> normal;
      for (size_t off = 0; off < data.size(); off += 4) {
        const float f = normal(rng);
        std::memcpy(&data[off], &f, 4);
      }
      break;
    }
  }
  return data;
}

uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }

using Split = std::vector<std::pair<int64_t, int64_t>>;  // [row_begin, row_end) per call

using Params = std::tuple<const char*, GgmlType, ActivationPrecision>;

class MatMulInvarianceTest : public ::testing::TestWithParam<Params> {
 protected:
  void SetUp() override {
    for (const KernelTable* table : AvailableKernels()) {
      if (std::string(table->name) == std::get<0>(GetParam())) ForceKernelsForTesting(table);
    }
    if (std::string(MatMulImplementation()) != std::get<0>(GetParam())) {
      GTEST_SKIP() << "this CPU or build lacks " << std::get<0>(GetParam());
    }
  }
  void TearDown() override { ForceKernelsForTesting(nullptr); }
  GgmlType type() const { return std::get<1>(GetParam()); }
  ActivationPrecision precision() const { return std::get<2>(GetParam()); }
};

TEST_P(MatMulInvarianceTest, BatchedEqualsSingleRowSingleToken) {
  std::mt19937 rng(7);
  // Quantised rows of 1 and several blocks; float rows with and without a tail that is
  // not a multiple of the vector width.
  const bool quantised = BlockElements(type()) == kQuantBlock;
  const std::vector<int64_t> col_counts =
      quantised ? std::vector<int64_t>{32, 160, 576} : std::vector<int64_t>{160, 203};
  const std::vector<Split> splits = {
      {{0, kRows}},
      {{0, 5}, {5, kRows}},
      {{3, kRows - 1}},
      {{0, 1}, {1, 6}, {6, 13}, {13, 30}, {30, kRows}},
  };
  for (const int64_t cols : col_counts) {
    const std::vector<std::byte> w = RandomWeights(type(), cols, rng);
    std::normal_distribution<float> normal;
    std::vector<float> x(kPoolTokens * cols);
    for (float& v : x) v = normal(rng) * (rng() % 41 == 0 ? 20.0f : 1.0f);
    const size_t row_bytes = ActivationRowBytes(type(), cols, precision());
    std::vector<std::byte> prepared(row_bytes * kPoolTokens);
    PrepareActivations(type(), x.data(), kPoolTokens, cols, prepared.data(), precision());

    // The reference: every (row, token) on its own, n_tokens == 1, one row per call.
    std::vector<float> single(kPoolTokens * kRows);
    for (int64_t t = 0; t < kPoolTokens; ++t) {
      for (int64_t r = 0; r < kRows; ++r) {
        MatMulRows(type(), w.data(), cols, r, r + 1, &prepared[t * row_bytes], 1,
                   &single[t * kRows], kRows, precision());
      }
    }

    for (const int64_t n_tokens : {1, 2, 3, 4, 5, 7, 8, 13, 64, 67}) {
      for (const int64_t first : kTokenOffsets) {
        for (size_t s = 0; s < splits.size(); ++s) {
          // A wider stride than the rows, to catch writes outside [row_begin, row_end).
          const int64_t y_stride = kRows + 5;
          std::vector<float> y(n_tokens * y_stride, std::bit_cast<float>(kUntouched));
          for (const auto& [begin, end] : splits[s]) {
            MatMulRows(type(), w.data(), cols, begin, end, &prepared[first * row_bytes],
                       n_tokens, y.data(), y_stride, precision());
          }
          std::vector<bool> covered(y_stride, false);
          for (const auto& [begin, end] : splits[s]) {
            for (int64_t r = begin; r < end; ++r) covered[r] = true;
          }
          for (int64_t t = 0; t < n_tokens; ++t) {
            for (int64_t r = 0; r < y_stride; ++r) {
              const uint32_t got = Bits(y[t * y_stride + r]);
              const uint32_t want = covered[r] ? Bits(single[(first + t) * kRows + r]) : kUntouched;
              ASSERT_EQ(got, want) << "cols=" << cols << " n_tokens=" << n_tokens
                                   << " first=" << first << " split=" << s << " t=" << t
                                   << " r=" << r;
            }
          }
        }
      }
    }
  }
}

std::string ParamName(const ::testing::TestParamInfo<Params>& info) {
  std::string type(TypeName(static_cast<uint32_t>(std::get<1>(info.param))));
  std::erase(type, '_');
  const bool sixteen_bit = std::get<2>(info.param) == ActivationPrecision::k16Bit;
  return std::string(std::get<0>(info.param)) + "_" + type + (sixteen_bit ? "_16bit" : "_8bit");
}

// Every implementation dispatch can choose; the ones this CPU lacks skip.
INSTANTIATE_TEST_SUITE_P(AllImplementations, MatMulInvarianceTest,
                         ::testing::Combine(::testing::Values("portable", "avx2", "avx512vnni"),
                                            ::testing::Values(GgmlType::kQ4_0, GgmlType::kQ4_1,
                                                              GgmlType::kQ8_0, GgmlType::kF16,
                                                              GgmlType::kF32),
                                            ::testing::Values(ActivationPrecision::k16Bit,
                                                              ActivationPrecision::k8Bit)),
                         ParamName);

// The AVX-512 products compute each output as the portable kernels do (an exact int32 sum
// per block, then the same float operations in the same order), so the two tables agree
// bit for bit on the quantised types, whichever of its paths (rows or tokens in lanes)
// the AVX-512 table takes.
TEST(Avx512VnniMatMulTest, EqualsPortableBitForBit) {
  const KernelTable* vnni = Avx512VnniKernels();
  if (vnni == nullptr) GTEST_SKIP() << "this CPU or build lacks avx512vnni";
  std::mt19937 rng(11);
  for (const GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ8_0}) {
    for (const ActivationPrecision precision :
         {ActivationPrecision::k16Bit, ActivationPrecision::k8Bit}) {
      for (const int64_t cols : {32, 576, 1536}) {
        const std::vector<std::byte> w = RandomWeights(type, cols, rng);
        std::normal_distribution<float> normal;
        std::vector<float> x(kMaxTokens * cols);
        for (float& v : x) v = normal(rng) * (rng() % 41 == 0 ? 20.0f : 1.0f);
        std::vector<std::byte> prepared(ActivationRowBytes(type, cols, precision) * kMaxTokens);
        PrepareActivations(type, x.data(), kMaxTokens, cols, prepared.data(), precision);
        for (const int64_t n_tokens : {1, 3, 4, 17, 32, 67}) {
          std::vector<float> want(n_tokens * kRows), got(n_tokens * kRows);
          ForceKernelsForTesting(&PortableKernels());
          MatMulRows(type, w.data(), cols, 0, kRows, prepared.data(), n_tokens, want.data(),
                     kRows, precision);
          ForceKernelsForTesting(vnni);
          MatMulRows(type, w.data(), cols, 0, kRows, prepared.data(), n_tokens, got.data(),
                     kRows, precision);
          ForceKernelsForTesting(nullptr);
          for (size_t i = 0; i < want.size(); ++i) {
            ASSERT_EQ(Bits(got[i]), Bits(want[i]))
                << TypeName(static_cast<uint32_t>(type)) << " cols=" << cols
                << " n_tokens=" << n_tokens << " i=" << i;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace hearth::cpu
