#include "kernels/cpu/quant_types.h"

#include <cpuid.h>
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "gtest/gtest.h"

namespace hearth::cpu {
namespace {

TEST(Fp16Test, KnownValues) {
  EXPECT_EQ(Fp32ToFp16(1.0f), 0x3c00);
  EXPECT_EQ(Fp32ToFp16(-2.0f), 0xc000);
  EXPECT_EQ(Fp32ToFp16(0.1f), 0x2e66);
  EXPECT_EQ(Fp32ToFp16(65504.0f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(65519.0f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7c00);  // halfway to 65536: rounds to even = inf
  EXPECT_EQ(Fp32ToFp16(1e10f), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(0.0f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(Fp32ToFp16(1.0f + 0x1p-11f), 0x3c00);  // tie: to even
  EXPECT_EQ(Fp32ToFp16(1.0f + 3 * 0x1p-11f), 0x3c02);  // tie: to even (up)

  EXPECT_EQ(Fp16ToFp32(0x3c00), 1.0f);
  EXPECT_EQ(Fp16ToFp32(0xc000), -2.0f);
  EXPECT_EQ(Fp16ToFp32(0x7bff), 65504.0f);
  EXPECT_EQ(Fp16ToFp32(0x0400), 0x1p-14f);
  EXPECT_TRUE(std::isinf(Fp16ToFp32(0x7c00)));
  EXPECT_TRUE(std::signbit(Fp16ToFp32(0x8000)));
  EXPECT_TRUE(std::isnan(Fp16ToFp32(0x7e00)));
}

TEST(Fp16Test, Subnormals) {
  EXPECT_EQ(Fp16ToFp32(0x0001), 0x1p-24f);
  EXPECT_EQ(Fp16ToFp32(0x03ff), 1023 * 0x1p-24f);
  EXPECT_EQ(Fp16ToFp32(0x8001), -0x1p-24f);
  EXPECT_EQ(Fp32ToFp16(0x1p-24f), 0x0001);
  EXPECT_EQ(Fp32ToFp16(1023 * 0x1p-24f), 0x03ff);
  EXPECT_EQ(Fp32ToFp16(0x1p-25f), 0x0000);         // tie between 0 and 2^-24: even
  EXPECT_EQ(Fp32ToFp16(1.5f * 0x1p-25f), 0x0001);  // above the tie
  EXPECT_EQ(Fp32ToFp16(3 * 0x1p-25f), 0x0002);     // tie between 1 and 2: even
  EXPECT_EQ(Fp32ToFp16(1e-10f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(-1e-10f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(1023.5f * 0x1p-24f), 0x0400);  // rounds up into the normals
}

TEST(Fp16Test, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const float f = Fp16ToFp32(half);
    if ((half & 0x7c00) == 0x7c00 && (half & 0x3ff) != 0) {
      ASSERT_TRUE(std::isnan(f)) << h;
      // NaNs come back quiet, with sign and payload.
      ASSERT_EQ(Fp32ToFp16(f), half | 0x200) << h;
    } else {
      ASSERT_EQ(Fp32ToFp16(f), half) << h;
    }
  }
}

__attribute__((target("f16c"))) uint16_t HardwareFp32ToFp16(float f) {
  return static_cast<uint16_t>(
      _mm_cvtsi128_si32(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT)));
}

bool CpuHasF16c() {
  // clang 14's __builtin_cpu_supports does not know "f16c".
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

TEST(Fp16Test, RoundingMatchesF16cOnRandomFloats) {
  if (!CpuHasF16c()) GTEST_SKIP() << "CPU lacks F16C";
  std::mt19937 rng(7);
  // Exponents around the half range, where every rounding case lives.
  std::uniform_int_distribution<uint32_t> mantissa(0, 0x7fffff);
  std::uniform_int_distribution<uint32_t> exponent(127 - 30, 127 + 17);
  for (int i = 0; i < 1'000'000; ++i) {
    const uint32_t bits = (rng() & 0x80000000u) | (exponent(rng) << 23) | mantissa(rng);
    const float f = std::bit_cast<float>(bits);
    ASSERT_EQ(Fp32ToFp16(f), HardwareFp32ToFp16(f)) << f;
  }
}

TEST(QuantTypesTest, BlockGeometry) {
  EXPECT_EQ(BlockElements(GgmlType::kF32), 1);
  EXPECT_EQ(BlockElements(GgmlType::kF16), 1);
  EXPECT_EQ(BlockElements(GgmlType::kQ4_0), 32);
  EXPECT_EQ(BlockElements(GgmlType::kQ4_1), 32);
  EXPECT_EQ(BlockElements(GgmlType::kQ8_0), 32);
  EXPECT_EQ(BlockBytes(GgmlType::kF32), 4u);
  EXPECT_EQ(BlockBytes(GgmlType::kF16), 2u);
  EXPECT_EQ(BlockBytes(GgmlType::kQ4_0), 18u);
  EXPECT_EQ(BlockBytes(GgmlType::kQ4_1), 20u);
  EXPECT_EQ(BlockBytes(GgmlType::kQ8_0), 34u);
}

TEST(QuantTypesTest, RowBytes) {
  EXPECT_EQ(RowBytes(GgmlType::kF32, 576), 2304u);
  EXPECT_EQ(RowBytes(GgmlType::kF16, 576), 1152u);
  EXPECT_EQ(RowBytes(GgmlType::kQ4_0, 576), 324u);
  EXPECT_EQ(RowBytes(GgmlType::kQ4_1, 576), 360u);
  EXPECT_EQ(RowBytes(GgmlType::kQ8_0, 576), 612u);
  EXPECT_EQ(RowBytes(GgmlType::kQ4_1, 1536), 960u);
  EXPECT_EQ(RowBytes(GgmlType::kF32, 7), 28u);
  EXPECT_EQ(RowBytes(GgmlType::kQ8_0, 0), 0u);
}

TEST(QuantTypesTest, TypeNamesAndSupport) {
  EXPECT_EQ(TypeName(0), "f32");
  EXPECT_EQ(TypeName(1), "f16");
  EXPECT_EQ(TypeName(2), "q4_0");
  EXPECT_EQ(TypeName(3), "q4_1");
  EXPECT_EQ(TypeName(8), "q8_0");
  EXPECT_EQ(TypeName(6), "unknown");  // q5_0
  EXPECT_EQ(TypeName(12), "unknown");  // q4_K
  EXPECT_EQ(TypeName(0xffffffffu), "unknown");
  for (uint32_t id : {0u, 1u, 2u, 3u, 8u}) EXPECT_TRUE(IsSupportedType(id)) << id;
  for (uint32_t id : {4u, 5u, 6u, 7u, 9u, 10u, 12u, 30u, 1000u}) {
    EXPECT_FALSE(IsSupportedType(id)) << id;
  }
}

}  // namespace
}  // namespace hearth::cpu
