#include "kernels/cpu/ops.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

enum class Impl { kAvx2, kPortable };

std::vector<float> RandomVector(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// Lengths around the 8- and 32-wide vector steps, and the model's widths.
const int64_t kLengths[] = {1, 7, 8, 9, 31, 32, 33, 100, 576, 1536, 4096};

class OpsTest : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (GetParam() == Impl::kAvx2 && Avx2Kernels() == nullptr) GTEST_SKIP() << "no AVX2";
    ForceKernelsForTesting(GetParam() == Impl::kPortable ? &PortableKernels() : Avx2Kernels());
  }
  void TearDown() override { ForceKernelsForTesting(nullptr); }
};

TEST_P(OpsTest, DotF32MatchesFloat64) {
  std::mt19937 rng(1);
  EXPECT_EQ(DotF32(nullptr, nullptr, 0), 0.0f);
  for (int64_t n : kLengths) {
    const std::vector<float> a = RandomVector(n, rng), b = RandomVector(n, rng);
    double exact = 0.0, magnitude = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      exact += static_cast<double>(a[i]) * b[i];
      magnitude += std::fabs(static_cast<double>(a[i]) * b[i]);
    }
    // Each of the n float32 additions rounds by at most an ulp of the running magnitude.
    EXPECT_NEAR(DotF32(a.data(), b.data(), n), exact, (n + 2) * FLT_EPSILON * magnitude) << n;
  }
}

TEST_P(OpsTest, DotF32HandComputed) {
  const std::vector<float> a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const std::vector<float> b = {1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 0.5f};
  EXPECT_EQ(DotF32(a.data(), b.data(), 11), 0.5f);  // 5 pairs of -1, then 9 + 5.5
}

TEST_P(OpsTest, AxpyF32MatchesFloat64) {
  std::mt19937 rng(2);
  for (int64_t n : kLengths) {
    const std::vector<float> x = RandomVector(n, rng);
    std::vector<float> y = RandomVector(n, rng);
    const std::vector<float> y0 = y;
    const float a = -0.7f;
    AxpyF32(a, x.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double exact = y0[i] + static_cast<double>(a) * x[i];
      // One product and one sum, each rounded once (or once in total with FMA).
      const double bound = 2 * FLT_EPSILON * (std::fabs(y0[i]) + std::fabs(a * x[i]));
      ASSERT_NEAR(y[i], exact, bound) << n << " " << i;
    }
  }
}

// The KV cache keeps float16: random rows rounded to it, and their exact float32 values.
struct HalfRows {
  std::vector<uint16_t> halves;
  std::vector<float> widened;
};

HalfRows RandomHalfRows(int64_t n, std::mt19937& rng) {
  HalfRows r;
  for (float x : RandomVector(n, rng)) {
    r.halves.push_back(Fp32ToFp16(x));
    r.widened.push_back(Fp16ToFp32(r.halves.back()));
  }
  return r;
}

TEST_P(OpsTest, ToFp16RowRoundsAsTheScalarConversion) {
  std::mt19937 rng(11);
  for (int64_t n : kLengths) {
    for (float scale : {1.0f, 1e-6f, 3e4f}) {
      std::vector<float> x = RandomVector(n, rng, scale);
      // Ties, the largest half and past it, subnormals, zeros, infinities and a NaN.
      const float specials[] = {1.0f + 1.0f / 2048, 65504.0f, 65520.0f, -70000.0f, 3e-6f,
                                -5.9604645e-8f, 2e-8f, 0.0f, -0.0f, INFINITY, -INFINITY, NAN};
      for (size_t i = 0; i < std::size(specials) && i < x.size(); ++i) {
        x[x.size() - 1 - i] = specials[i];
      }
      std::vector<uint16_t> out(n + 1, 0xabcd);
      ToFp16Row(x.data(), n, out.data());
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], Fp32ToFp16(x[i])) << n << " " << x[i];
      ASSERT_EQ(out[n], 0xabcd);  // nothing written past n
    }
  }
}

// Attention reads keys and values a block of rows at a time, for the query heads of a GQA
// group at once. A result must not depend on the run or the heads it came with (so that a
// block size changes no bits), and must be a dot product to float32 accuracy.
TEST_P(OpsTest, DotRowsF16IsPerRowAndHeadAndMatchesFloat64) {
  std::mt19937 rng(12);
  for (int64_t heads : {1, 2, 3, 4, 7}) {
    for (int64_t n : {1, 7, 64, 72, 130}) {
      for (int64_t count : {0, 1, 5, 8, 16, 19}) {
        const int64_t stride = n + 5, out_stride = count + 2;
        const std::vector<float> q = RandomVector(heads * n, rng);
        const HalfRows rows = RandomHalfRows(std::max<int64_t>(count, 1) * stride, rng);
        std::vector<float> out(heads * out_stride, -1.0f);
        DotRowsF16(q.data(), heads, rows.halves.data(), stride, count, n, out.data(),
                   out_stride);
        for (int64_t h = 0; h < heads; ++h) {
          for (int64_t p = 0; p < count; ++p) {
            const float got = out[h * out_stride + p];
            float alone = 0.0f;
            DotRowsF16(&q[h * n], 1, &rows.halves[p * stride], stride, 1, n, &alone, 1);
            ASSERT_EQ(got, alone) << heads << " " << n << " " << count << " " << h << " " << p;
            double exact = 0.0, magnitude = 0.0;
            for (int64_t i = 0; i < n; ++i) {
              const double product =
                  static_cast<double>(q[h * n + i]) * rows.widened[p * stride + i];
              exact += product;
              magnitude += std::fabs(product);
            }
            ASSERT_NEAR(got, exact, (n + 2) * FLT_EPSILON * magnitude) << n << " " << p;
          }
          ASSERT_EQ(out[h * out_stride + count], -1.0f);  // nothing written past count
        }
      }
    }
  }
}

TEST_P(OpsTest, AxpyRowsF16EqualsOneAxpyPerHeadAndWidenedRowInOrder) {
  std::mt19937 rng(13);
  for (int64_t heads : {1, 2, 3, 4, 7}) {
    for (int64_t n : {1, 7, 64, 72, 130}) {
      for (int64_t count : {0, 1, 5, 16}) {
        const int64_t stride = n + 3, a_stride = count + 1;
        const std::vector<float> a = RandomVector(heads * a_stride, rng);
        const HalfRows rows = RandomHalfRows(std::max<int64_t>(count, 1) * stride, rng);
        std::vector<float> y = RandomVector(heads * n + 1, rng);
        std::vector<float> want = y;
        AxpyRowsF16(a.data(), a_stride, heads, rows.halves.data(), stride, count, y.data(), n);
        for (int64_t h = 0; h < heads; ++h) {
          for (int64_t p = 0; p < count; ++p) {
            AxpyF32(a[h * a_stride + p], &rows.widened[p * stride], &want[h * n], n);
          }
        }
        for (int64_t i = 0; i <= heads * n; ++i) {
          ASSERT_EQ(y[i], want[i]) << heads << " " << n << " " << count << " " << i;
        }
      }
    }
  }
}

TEST_P(OpsTest, RmsNormMatchesFloat64) {
  std::mt19937 rng(3);
  for (int64_t n : kLengths) {
    const std::vector<float> x = RandomVector(n, rng, 3.0f), w = RandomVector(n, rng);
    const float eps = 1e-5f;
    std::vector<float> out(n);
    RmsNorm(x.data(), w.data(), n, eps, out.data());
    double sum_sq = 0.0;
    for (float v : x) sum_sq += static_cast<double>(v) * v;
    const double inv_rms = 1.0 / std::sqrt(sum_sq / n + eps);
    for (int64_t i = 0; i < n; ++i) {
      const double exact = x[i] * inv_rms * w[i];
      // The float32 sum of squares carries up to n ulps; sqrt, divide and two products
      // add a few more.
      ASSERT_NEAR(out[i], exact, (n + 8) * FLT_EPSILON * std::fabs(exact)) << n << " " << i;
    }
    // In place, as the model calls it, gives the same result.
    std::vector<float> in_place = x;
    RmsNorm(in_place.data(), w.data(), n, eps, in_place.data());
    EXPECT_EQ(in_place, out);
  }
}

TEST_P(OpsTest, RmsNormHandComputed) {
  // mean(x^2) = (9 + 16) / 2 = 12.5; with eps 12.5 too, rms = 5.
  const float x[2] = {3.0f, -4.0f}, w[2] = {1.0f, 2.0f};
  float out[2];
  RmsNorm(x, w, 2, 12.5f, out);
  EXPECT_FLOAT_EQ(out[0], 0.6f);
  EXPECT_FLOAT_EQ(out[1], -1.6f);
}

TEST_P(OpsTest, RopeRotatesPairsByPositionAngle) {
  const int64_t n_heads = 3, head_dim = 64;
  const float theta = 10000.0f;
  std::mt19937 rng(4);
  for (int64_t pos : {0, 1, 17, 8191}) {
    std::vector<float> x = RandomVector(n_heads * head_dim, rng);
    const std::vector<float> x0 = x;
    RopeInPlace(x.data(), n_heads, head_dim, pos, theta);
    for (int64_t h = 0; h < n_heads; ++h) {
      for (int64_t i = 0; i < head_dim / 2; ++i) {
        const double angle = pos * std::pow(10000.0, -2.0 * i / head_dim);
        const double a = x0[h * head_dim + 2 * i], b = x0[h * head_dim + 2 * i + 1];
        const double bound = 4 * FLT_EPSILON * (std::fabs(a) + std::fabs(b));
        ASSERT_NEAR(x[h * head_dim + 2 * i], a * std::cos(angle) - b * std::sin(angle), bound);
        ASSERT_NEAR(x[h * head_dim + 2 * i + 1], a * std::sin(angle) + b * std::cos(angle),
                    bound);
      }
    }
  }
}

TEST_P(OpsTest, RopeHandComputed) {
  // head_dim 4: pair 0 turns by pos radians, pair 1 by pos / 100 (theta 10000).
  float x[4] = {1.0f, 0.0f, 0.0f, 2.0f};
  RopeInPlace(x, 1, 4, 2, 10000.0f);
  EXPECT_FLOAT_EQ(x[0], static_cast<float>(std::cos(2.0)));
  EXPECT_FLOAT_EQ(x[1], static_cast<float>(std::sin(2.0)));
  EXPECT_FLOAT_EQ(x[2], static_cast<float>(-2.0 * std::sin(0.02)));
  EXPECT_FLOAT_EQ(x[3], static_cast<float>(2.0 * std::cos(0.02)));
  // Position 0 is the identity.
  float y[4] = {1.0f, -2.0f, 3.0f, -4.0f};
  RopeInPlace(y, 1, 4, 0, 10000.0f);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -2.0f);
  EXPECT_EQ(y[2], 3.0f);
  EXPECT_EQ(y[3], -4.0f);
}

TEST_P(OpsTest, SoftmaxMatchesFloat64) {
  std::mt19937 rng(5);
  for (int64_t n : kLengths) {
    for (float scale : {1.0f, 30.0f}) {
      std::vector<float> x = RandomVector(n, rng, scale);
      // Large logits must not overflow: only differences matter.
      x[0] += 1000.0f;
      const std::vector<float> x0 = x;
      SoftmaxInPlace(x.data(), n);
      double max = x0[0], sum = 0.0;
      for (float v : x0) max = std::max<double>(max, v);
      for (float v : x0) sum += std::exp(v - max);
      for (int64_t i = 0; i < n; ++i) {
        const double exact = std::exp(x0[i] - max) / sum;
        // exp within a few ulps (fast exp: 2), the float32 sum within n ulps.
        ASSERT_NEAR(x[i], exact, (n + 8) * FLT_EPSILON * exact + 1e-37) << n << " " << i;
      }
    }
  }
}

TEST_P(OpsTest, SoftmaxHandComputed) {
  float x[3] = {std::log(1.0f), std::log(3.0f), std::log(4.0f)};
  SoftmaxInPlace(x, 3);
  EXPECT_FLOAT_EQ(x[0], 0.125f);
  EXPECT_FLOAT_EQ(x[1], 0.375f);
  EXPECT_FLOAT_EQ(x[2], 0.5f);
}

TEST_P(OpsTest, SwiGluWithin1e6OfStdExp) {
  // A sweep over every magnitude the exponential sees, including both saturations.
  const int64_t n = 20001;
  std::vector<float> gate(n), up(n);
  for (int64_t i = 0; i < n; ++i) {
    gate[i] = -100.0f + 200.0f * static_cast<float>(i) / (n - 1);
    up[i] = 1.0f + 0.001f * static_cast<float>(i % 7);
  }
  std::vector<float> out = gate;
  SwiGluInPlace(out.data(), up.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const double exact = g / (1.0 + std::exp(-static_cast<double>(g))) * up[i];
    // 1e-6 relative, the bound for the fast exponential. Below g = -88.7, e^-g overflows
    // float32 and silu(g) = g e^g < 3e-37 comes out as zero, in either implementation.
    ASSERT_NEAR(out[i], exact, 1e-6 * std::fabs(exact) + 3e-37 * up[i]) << g;
  }
}

TEST_P(OpsTest, SwiGluHandComputed) {
  float gate[2] = {0.0f, 2.0f};
  const float up[2] = {5.0f, 3.0f};
  SwiGluInPlace(gate, up, 2);
  EXPECT_EQ(gate[0], 0.0f);
  EXPECT_FLOAT_EQ(gate[1], static_cast<float>(6.0 / (1.0 + std::exp(-2.0))));
}

INSTANTIATE_TEST_SUITE_P(BothImplementations, OpsTest,
                         ::testing::Values(Impl::kAvx2, Impl::kPortable),
                         [](const ::testing::TestParamInfo<Impl>& p) {
                           return std::string(p.param == Impl::kAvx2 ? "Avx2" : "Portable");
                         });

}  // namespace
}  // namespace hearth::cpu
