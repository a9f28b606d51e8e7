#include "kernels/cpu/quant_types.h"

#include <bit>
#include <cstdint>

namespace hearth::cpu {

bool IsSupportedType(uint32_t type_id) {
  switch (static_cast<GgmlType>(type_id)) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ8_0:
      return true;
  }
  return false;
}

std::string_view TypeName(uint32_t type_id) {
  switch (static_cast<GgmlType>(type_id)) {
    case GgmlType::kF32:
      return "f32";
    case GgmlType::kF16:
      return "f16";
    case GgmlType::kQ4_0:
      return "q4_0";
    case GgmlType::kQ4_1:
      return "q4_1";
    case GgmlType::kQ8_0:
      return "q8_0";
  }
  return "unknown";
}

int64_t BlockElements(GgmlType type) {
  return type == GgmlType::kF32 || type == GgmlType::kF16 ? 1 : kQuantBlock;
}

size_t BlockBytes(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return sizeof(float);
    case GgmlType::kF16:
      return sizeof(uint16_t);
    case GgmlType::kQ4_0:
      return sizeof(BlockQ4_0);
    case GgmlType::kQ4_1:
      return sizeof(BlockQ4_1);
    case GgmlType::kQ8_0:
      return sizeof(BlockQ8_0);
  }
  return 0;
}

size_t RowBytes(GgmlType type, int64_t n) {
  return static_cast<size_t>(n / BlockElements(type)) * BlockBytes(type);
}

float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24 is exact in float32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(magnitude) | sign);
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t Fp32ToFp16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) {
    // NaN: keep the top payload bits and force it quiet so it cannot become infinity.
    return static_cast<uint16_t>(sign | 0x7e00 | ((magnitude >> 13) & 0x3ff));
  }
  // 65520 and above round (to nearest even) past the largest half, 65504.
  if (magnitude >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);
  if (magnitude >= 0x38800000) {
    // Normal half: rebias the exponent, then round the mantissa to 10 bits to nearest
    // even; a carry out of the mantissa correctly bumps the exponent.
    const uint32_t rebased = magnitude - 0x38000000;
    const uint32_t rounded = rebased + 0xfff + ((rebased >> 13) & 1);
    return static_cast<uint16_t>(sign | (rounded >> 13));
  }
  const uint32_t exponent = magnitude >> 23;
  // Below 2^-25 (exponent 102) everything rounds to zero, and the shift below would
  // exceed the width of the type.
  if (exponent < 102) return sign;
  // Subnormal half: value = significand * 2^(exponent - 150) = result * 2^-24.
  const uint32_t significand = (magnitude & 0x7fffff) | 0x800000;
  const uint32_t shift = 126 - exponent;  // 14..24
  const uint32_t result = significand >> shift;
  const uint32_t remainder = significand & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  const uint32_t round_up = remainder > half || (remainder == half && (result & 1));
  return static_cast<uint16_t>(sign | (result + round_up));
}

}  // namespace hearth::cpu
