#include "kernels/cpu/matmul.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/activation_blocks.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"
#include "tests/testing/reference_quantizers.h"

namespace hearth::cpu {
namespace {

using ::hearth::testing::QuantizeBlock;

// The implementations dispatch can choose, by KernelTable::name; on a CPU without one,
// its tests skip.
enum class Impl { kAvx2, kAvx512Vnni, kPortable };

const char* ImplName(Impl impl) {
  switch (impl) {
    case Impl::kAvx2:
      return "avx2";
    case Impl::kAvx512Vnni:
      return "avx512vnni";
    case Impl::kPortable:
      return "portable";
  }
  return "";
}

const KernelTable* TableFor(Impl impl) {
  switch (impl) {
    case Impl::kAvx2:
      return Avx2Kernels();
    case Impl::kAvx512Vnni:
      return Avx512VnniKernels();
    case Impl::kPortable:
      return &PortableKernels();
  }
  return nullptr;
}

// A weight matrix in its GGUF layout plus, in double, exactly the values it encodes.
struct Weights {
  GgmlType type;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<std::byte> data;
  std::vector<double> values;   // (rows, cols) dequantised
  std::vector<double> offsets;  // (rows, cols / 32) per-block offset m (Q4_0: -8 d)
};

// Element j of a block as double, and the block's offset m.
double BlockValue(const BlockQ4_0& b, int j, double* m) {
  const double d = Fp16ToFp32(b.d);
  *m = -8.0 * d;
  const int q = j < 16 ? b.qs[j] & 0x0f : b.qs[j - 16] >> 4;
  return d * (q - 8);
}
double BlockValue(const BlockQ4_1& b, int j, double* m) {
  *m = Fp16ToFp32(b.m);
  const int q = j < 16 ? b.qs[j] & 0x0f : b.qs[j - 16] >> 4;
  return Fp16ToFp32(b.d) * q + *m;
}
double BlockValue(const BlockQ8_0& b, int j, double* m) {
  *m = 0.0;
  return static_cast<double>(Fp16ToFp32(b.d)) * b.qs[j];
}

template <class Block>
void EncodeQuant(const std::vector<float>& x, Weights& w) {
  const int64_t n_blocks = w.rows * w.cols / kQuantBlock;
  w.data.resize(n_blocks * sizeof(Block));
  w.offsets.resize(n_blocks);
  for (int64_t b = 0; b < n_blocks; ++b) {
    Block block;
    QuantizeBlock(&x[b * kQuantBlock], block);
    std::memcpy(&w.data[b * sizeof(Block)], &block, sizeof(Block));
    for (int j = 0; j < kQuantBlock; ++j) {
      w.values[b * kQuantBlock + j] = BlockValue(block, j, &w.offsets[b]);
    }
  }
}

Weights MakeWeights(GgmlType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  // Rows of different magnitudes, and a few outliers, as in real checkpoints.
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> row_scale(0.01f, 2.0f);
  std::vector<float> x(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float s = row_scale(rng);
    for (int64_t c = 0; c < cols; ++c) x[r * cols + c] = s * normal(rng) * (rng() % 97 == 0 ? 8 : 1);
  }
  Weights w{type, rows, cols, {}, std::vector<double>(rows * cols), {}};
  switch (type) {
    case GgmlType::kQ4_0:
      EncodeQuant<BlockQ4_0>(x, w);
      break;
    case GgmlType::kQ4_1:
      EncodeQuant<BlockQ4_1>(x, w);
      break;
    case GgmlType::kQ8_0:
      EncodeQuant<BlockQ8_0>(x, w);
      break;
    case GgmlType::kF16: {
      std::vector<uint16_t> h(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        h[i] = Fp32ToFp16(x[i]);
        w.values[i] = Fp16ToFp32(h[i]);
      }
      w.data.resize(h.size() * 2);
      std::memcpy(w.data.data(), h.data(), w.data.size());
      break;
    }
    case GgmlType::kF32:
      w.data.resize(x.size() * 4);
      std::memcpy(w.data.data(), x.data(), w.data.size());
      std::copy(x.begin(), x.end(), w.values.begin());
      break;
  }
  return w;
}

std::vector<float> MakeActivations(int64_t n, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n * cols);
  for (float& v : x) v = normal(rng) * (rng() % 53 == 0 ? 10 : 1);
  return x;
}

bool IsQuantised(GgmlType type) { return BlockElements(type) == kQuantBlock; }

const char* PrecisionLabel(ActivationPrecision precision) {
  return precision == ActivationPrecision::k16Bit ? "16Bit" : "8Bit";
}

// The prepared activations as the values they encode: (n, cols) x_hat and the per-block
// scale d. For float types x_hat = x and d = 0.
struct Decoded {
  std::vector<double> x_hat;
  std::vector<double> scale;
};

Decoded DecodePrepared(GgmlType type, ActivationPrecision precision,
                       const std::vector<std::byte>& prepared, int64_t n, int64_t cols) {
  Decoded out{std::vector<double>(n * cols), std::vector<double>(n * cols / kQuantBlock)};
  const size_t row_bytes = ActivationRowBytes(type, cols, precision);
  const bool sixteen_bit = precision == ActivationPrecision::k16Bit;
  for (int64_t t = 0; t < n; ++t) {
    const std::byte* row = prepared.data() + t * row_bytes;
    if (!IsQuantised(type)) {
      for (int64_t c = 0; c < cols; ++c) {
        float v;
        std::memcpy(&v, row + 4 * c, 4);
        out.x_hat[t * cols + c] = v;
      }
      continue;
    }
    const size_t block_bytes = row_bytes / (cols / kQuantBlock);
    for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
      // Every block ends with its quants: 32 int16 (16-bit) or 32 int8 (8-bit).
      float d;
      std::memcpy(&d, row + b * block_bytes, 4);
      out.scale[t * cols / kQuantBlock + b] = d;
      for (int j = 0; j < kQuantBlock; ++j) {
        double v;
        if (sixteen_bit) {
          int16_t q;
          std::memcpy(&q, row + (b + 1) * block_bytes - 2 * kQuantBlock + 2 * j, 2);
          v = q;
        } else {
          int8_t q;
          std::memcpy(&q, row + (b + 1) * block_bytes - kQuantBlock + j, 1);
          v = q;
        }
        out.x_hat[t * cols + b * kQuantBlock + j] = static_cast<double>(d) * v;
      }
    }
  }
  return out;
}

using Params = std::tuple<Impl, GgmlType, ActivationPrecision>;

class MatMulTest : public ::testing::TestWithParam<Params> {
 protected:
  void SetUp() override {
    if (TableFor(impl()) == nullptr) GTEST_SKIP() << "this CPU or build lacks " << ImplName(impl());
    ForceKernelsForTesting(TableFor(impl()));
  }
  void TearDown() override { ForceKernelsForTesting(nullptr); }
  Impl impl() const { return std::get<0>(GetParam()); }
  GgmlType type() const { return std::get<1>(GetParam()); }
  ActivationPrecision precision() const { return std::get<2>(GetParam()); }

  std::vector<std::byte> Prepare(const std::vector<float>& x, int64_t n, int64_t cols) {
    std::vector<std::byte> out(ActivationRowBytes(type(), cols, precision()) * n);
    PrepareActivations(type(), x.data(), n, cols, out.data(), precision());
    return out;
  }
  Decoded Decode(const std::vector<std::byte>& prepared, int64_t n, int64_t cols) {
    return DecodePrepared(type(), precision(), prepared, n, cols);
  }
  void MatMul(const void* w, int64_t cols, int64_t row_begin, int64_t row_end,
              const std::vector<std::byte>& prepared, int64_t n, float* y, int64_t y_stride) {
    MatMulRows(type(), w, cols, row_begin, row_end, prepared.data(), n, y, y_stride,
               precision());
  }
};

TEST_P(MatMulTest, ImplementationName) {
  EXPECT_STREQ(MatMulImplementation(), ImplName(impl()));
}

TEST_P(MatMulTest, PreparedActivationsAreWithinHalfAStep) {
  std::mt19937 rng(11);
  for (int64_t cols : {32, 96, 576, 4096}) {
    const std::vector<float> x = MakeActivations(3, cols, rng);
    const std::vector<std::byte> prepared = Prepare(x, 3, cols);
    const Decoded dec = Decode(prepared, 3, cols);
    const bool sixteen_bit = precision() == ActivationPrecision::k16Bit;
    for (int64_t i = 0; i < 3 * cols; ++i) {
      if (!IsQuantised(type())) {
        ASSERT_EQ(dec.x_hat[i], x[i]);
        continue;
      }
      const int64_t block = i / kQuantBlock;
      float amax = 0.0f;
      for (int j = 0; j < kQuantBlock; ++j) {
        amax = std::max(amax, std::fabs(x[block * kQuantBlock + j]));
      }
      ASSERT_EQ(dec.scale[block], sixteen_bit ? amax / 127.0f / 256.0f : amax / 127.0f);
      // One plane rounds to half a step of d. Two: the low plane rounds to half a step,
      // except where its clamp to 127 of a residual of 128 adds one more step.
      ASSERT_LE(std::fabs(dec.x_hat[i] - x[i]), dec.scale[block] * (sixteen_bit ? 1.0 + 1e-3 : 0.5 + 1e-3)) << i;
    }
    if (type() == GgmlType::kQ4_0 || type() == GgmlType::kQ4_1) {
      // s = d * sum(q) follows d in every block.
      const size_t block_bytes = ActivationRowBytes(type(), kQuantBlock, precision());
      for (int64_t b = 0; b < 3 * cols / kQuantBlock; ++b) {
        float s;
        std::memcpy(&s, prepared.data() + b * block_bytes + 4, 4);
        double sum = 0.0;
        for (int j = 0; j < kQuantBlock; ++j) sum += dec.x_hat[b * kQuantBlock + j];
        ASSERT_NEAR(s, sum, 1e-6 * std::fabs(sum) + 1e-30) << b;
      }
    }
  }
}

TEST_P(MatMulTest, PreparedActivationsOfZerosAreZero) {
  const std::vector<float> x(64, 0.0f);
  const Decoded dec = Decode(Prepare(x, 1, 64), 1, 64);
  for (double v : dec.x_hat) ASSERT_EQ(v, 0.0);
}

TEST_P(MatMulTest, MatchesFloat64ReferenceOverShapes) {
  std::mt19937 rng(static_cast<uint32_t>(type()) * 31 + static_cast<uint32_t>(impl()) +
                   static_cast<uint32_t>(precision()) * 7);
  std::vector<int64_t> col_set = {32, 64, 96, 576, 1536, 4096};
  // Float types accept any width; odd ones exercise the vector tails.
  if (!IsQuantised(type())) col_set.insert(col_set.end(), {1, 7, 13, 100});
  for (int64_t cols : col_set) {
    for (int64_t rows : {1, 2, 3, 5, 8, 13}) {
      const Weights w = MakeWeights(type(), rows, cols, rng);
      for (int64_t n : {1, 2, 3, 4, 5, 7, 16}) {
        const std::vector<float> x = MakeActivations(n, cols, rng);
        const std::vector<std::byte> prepared = Prepare(x, n, cols);
        const Decoded dec = Decode(prepared, n, cols);
        // Padding past `rows` in each output row must stay untouched.
        const int64_t y_stride = rows + 3;
        constexpr float kSentinel = -12345.0f;
        std::vector<float> y(n * y_stride, kSentinel);
        // A sub-range too, as callers split rows across threads.
        const int64_t row_begin = rows > 2 ? 1 : 0;
        MatMul(w.data.data(), cols, row_begin, rows, prepared, n, y.data(), y_stride);
        MatMul(w.data.data(), cols, 0, row_begin, prepared, n, y.data(), y_stride);
        for (int64_t t = 0; t < n; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            // exact: W . x_hat, the product with the activations as prepared, where only
            // float32 rounding separates the kernel from the truth; magnitude bounds every
            // partial sum the kernels form (Q4 kernels carry the offset m separately).
            double exact = 0.0, truth = 0.0, magnitude = 0.0, quant_bound = 0.0;
            for (int64_t c = 0; c < cols; ++c) {
              const double wv = w.values[r * cols + c];
              const double xh = dec.x_hat[t * cols + c];
              exact += wv * xh;
              truth += wv * x[t * cols + c];
              const double m = IsQuantised(type()) ? w.offsets[(r * cols + c) / kQuantBlock] : 0;
              magnitude += (std::fabs(wv) + std::fabs(m)) * std::fabs(xh);
              // Rounding x to the grid of step d moves it by at most d (see above).
              if (IsQuantised(type())) {
                quant_bound += std::fabs(wv) * dec.scale[(t * cols + c) / kQuantBlock];
              }
            }
            // float32 accumulation: each block (or element) adds one rounded term to a
            // running sum, so the error is below (terms + a few) ulps of the magnitude.
            const double terms = IsQuantised(type()) ? cols / kQuantBlock : cols;
            const double float_bound = (terms + 8) * FLT_EPSILON * magnitude;
            const float got = y[t * y_stride + r];
            ASSERT_NEAR(got, exact, float_bound)
                << "cols=" << cols << " rows=" << rows << " n=" << n << " r=" << r << " t=" << t;
            ASSERT_NEAR(got, truth, quant_bound * (1 + 1e-6) + float_bound)
                << "cols=" << cols << " rows=" << rows << " n=" << n << " r=" << r << " t=" << t;
          }
          for (int64_t r = rows; r < y_stride; ++r) ASSERT_EQ(y[t * y_stride + r], kSentinel);
        }
      }
    }
  }
}

TEST_P(MatMulTest, DequantizeRowMatchesEncodedValues) {
  std::mt19937 rng(5);
  const int64_t rows = 3, cols = 128;
  const Weights w = MakeWeights(type(), rows, cols, rng);
  std::vector<float> out(cols);
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(type(), w.data.data(), cols, r, out.data());
    for (int64_t c = 0; c < cols; ++c) {
      ASSERT_FLOAT_EQ(out[c], static_cast<float>(w.values[r * cols + c])) << r << "," << c;
    }
  }
}

// One block of each type with hand-picked values where every step is exact.
// x = 0, 1, ..., 30, 127: amax 127 gives activation scale 1, so quantising x is exact and
// sum(x) = 465 + 127 = 592.
TEST_P(MatMulTest, HandComputedBlock) {
  std::vector<float> x(32);
  for (int j = 0; j < 31; ++j) x[j] = static_cast<float>(j);
  x[31] = 127.0f;
  std::vector<std::byte> w;
  float expected = 0.0f;
  switch (type()) {
    case GgmlType::kQ4_0: {  // all q = 9, d = 0.5: w = 0.5 * (9 - 8) = 0.5
      BlockQ4_0 b{Fp32ToFp16(0.5f), {}};
      std::fill(std::begin(b.qs), std::end(b.qs), uint8_t{0x99});
      w.resize(sizeof(b));
      std::memcpy(w.data(), &b, sizeof(b));
      expected = 296.0f;
      break;
    }
    case GgmlType::kQ4_1: {  // all q = 9, d = 0.5, m = -1: w = 3.5
      BlockQ4_1 b{Fp32ToFp16(0.5f), Fp32ToFp16(-1.0f), {}};
      std::fill(std::begin(b.qs), std::end(b.qs), uint8_t{0x99});
      w.resize(sizeof(b));
      std::memcpy(w.data(), &b, sizeof(b));
      expected = 2072.0f;
      break;
    }
    case GgmlType::kQ8_0: {  // q = -4 for even j, 4 for odd, d = 0.25: w = -1, 1, -1, ...
      BlockQ8_0 b{Fp32ToFp16(0.25f), {}};
      for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j % 2 ? 4 : -4);
      w.resize(sizeof(b));
      std::memcpy(w.data(), &b, sizeof(b));
      expected = 15.0f - 30.0f + 127.0f;  // pairs (0,1)..(28,29) give +1 each
      break;
    }
    case GgmlType::kF16: {  // w = 0.5
      std::vector<uint16_t> h(32, Fp32ToFp16(0.5f));
      w.resize(64);
      std::memcpy(w.data(), h.data(), 64);
      expected = 296.0f;
      break;
    }
    case GgmlType::kF32: {  // w = -0.25
      std::vector<float> f(32, -0.25f);
      w.resize(128);
      std::memcpy(w.data(), f.data(), 128);
      expected = -148.0f;
      break;
    }
  }
  const std::vector<std::byte> prepared = Prepare(x, 1, 32);
  float y = 0.0f;
  MatMul(w.data(), 32, 0, 1, prepared, 1, &y, 1);
  EXPECT_EQ(y, expected);
}

// Test-name label of a type (no underscores).
const char* TypeLabel(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
      return "Q40";
    case GgmlType::kQ4_1:
      return "Q41";
    case GgmlType::kQ8_0:
      return "Q80";
    case GgmlType::kF16:
      return "F16";
    case GgmlType::kF32:
      return "F32";
  }
  return "Unknown";
}

std::string ParamName(const ::testing::TestParamInfo<Params>& info) {
  std::string name = ImplName(std::get<0>(info.param));
  name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name + TypeLabel(std::get<1>(info.param)) + PrecisionLabel(std::get<2>(info.param));
}

const auto kAllTypes = ::testing::Values(GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ8_0,
                                         GgmlType::kF16, GgmlType::kF32);
const auto kBothPrecisions =
    ::testing::Values(ActivationPrecision::k16Bit, ActivationPrecision::k8Bit);

INSTANTIATE_TEST_SUITE_P(AllTypes, MatMulTest,
                         ::testing::Combine(::testing::Values(Impl::kAvx2, Impl::kAvx512Vnni,
                                                              Impl::kPortable),
                                            kAllTypes, kBothPrecisions),
                         ParamName);

// Each vectorised implementation and the portable one side by side on the same inputs:
// identical prepared rows (same arithmetic), products equal up to float32 summation order.
class VectorVsPortableTest : public ::testing::TestWithParam<Params> {};

TEST_P(VectorVsPortableTest, AgreeClosely) {
  const auto [impl, type, precision] = GetParam();
  if (TableFor(impl) == nullptr) GTEST_SKIP() << "this CPU or build lacks " << ImplName(impl);
  const QuantKernels& fast = QuantFor(*TableFor(impl), precision);
  const QuantKernels& portable = QuantFor(PortableKernels(), precision);
  std::mt19937 rng(99);
  for (int64_t cols : {32, 160, 576, 1536}) {
    const int64_t rows = 37, n = 9;
    const Weights w = MakeWeights(type, rows, cols, rng);
    const std::vector<float> x = MakeActivations(n, cols, rng);
    const size_t row_bytes = ActivationRowBytes(type, cols, precision);
    std::vector<std::byte> xa(row_bytes * n), xp(row_bytes * n);
    for (int64_t t = 0; t < n; ++t) {
      switch (type) {
        case GgmlType::kQ4_0:
        case GgmlType::kQ4_1:
          fast.quantize_sum(&x[t * cols], cols, &xa[t * row_bytes]);
          portable.quantize_sum(&x[t * cols], cols, &xp[t * row_bytes]);
          break;
        case GgmlType::kQ8_0:
          fast.quantize(&x[t * cols], cols, &xa[t * row_bytes]);
          portable.quantize(&x[t * cols], cols, &xp[t * row_bytes]);
          break;
        case GgmlType::kF16:
        case GgmlType::kF32:
          std::memcpy(&xa[t * row_bytes], &x[t * cols], row_bytes);
          std::memcpy(&xp[t * row_bytes], &x[t * cols], row_bytes);
          break;
      }
    }
    ASSERT_EQ(std::memcmp(xa.data(), xp.data(), xa.size()), 0) << "cols=" << cols;
    const Decoded dec = DecodePrepared(type, precision, xa, n, cols);
    for (int64_t tokens : {int64_t{1}, n}) {
      std::vector<float> ya(tokens * rows), yp(tokens * rows);
      // Copies: clang 14 cannot capture structured bindings.
      const auto pick = [type = type, precision = precision](const KernelTable& k) {
        switch (type) {
          case GgmlType::kQ4_0: return QuantFor(k, precision).matmul_q4_0;
          case GgmlType::kQ4_1: return QuantFor(k, precision).matmul_q4_1;
          case GgmlType::kQ8_0: return QuantFor(k, precision).matmul_q8_0;
          case GgmlType::kF16: return k.matmul_f16;
          case GgmlType::kF32: return k.matmul_f32;
        }
        return k.matmul_f32;
      };
      pick(*TableFor(impl))(w.data.data(), cols, 0, rows, xa.data(), tokens, ya.data(), rows);
      pick(PortableKernels())(w.data.data(), cols, 0, rows, xp.data(), tokens, yp.data(), rows);
      for (int64_t t = 0; t < tokens; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          double magnitude = 0.0;
          for (int64_t c = 0; c < cols; ++c) {
            const double m =
                IsQuantised(type) ? w.offsets[(r * cols + c) / kQuantBlock] : 0.0;
            magnitude += (std::fabs(w.values[r * cols + c]) + std::fabs(m)) *
                         std::fabs(dec.x_hat[t * cols + c]);
          }
          const double terms = IsQuantised(type) ? cols / kQuantBlock : cols;
          // Both sides are within the float32 accumulation bound of the same exact value.
          ASSERT_NEAR(ya[t * rows + r], yp[t * rows + r],
                      2 * (terms + 8) * FLT_EPSILON * magnitude)
              << "cols=" << cols << " r=" << r << " t=" << t;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, VectorVsPortableTest,
                         ::testing::Combine(::testing::Values(Impl::kAvx2, Impl::kAvx512Vnni),
                                            kAllTypes, kBothPrecisions),
                         ParamName);

}  // namespace
}  // namespace hearth::cpu
