// Tensor element types of GGUF files and the block layouts of the quantised ones.
//
// The numeric values of GgmlType are the on-disk type ids of the GGUF format and must
// never change. The block structs mirror the byte layout in the file, so a mapped tensor
// is read in place as an array of blocks.
#ifndef HEARTH_KERNELS_CPU_QUANT_TYPES_H_
#define HEARTH_KERNELS_CPU_QUANT_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hearth::cpu {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 8,
};

inline constexpr int kQuantBlock = 32;  // elements per block of every type below

// x = d * (q - 8), q in [0, 15]; qs[j] holds element j in its low nibble and element
// j + 16 in its high nibble.
struct BlockQ4_0 {
  uint16_t d;  // fp16 scale
  uint8_t qs[kQuantBlock / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x = d * q + m, q in [0, 15]; nibble order as BlockQ4_0.
struct BlockQ4_1 {
  uint16_t d;  // fp16 scale
  uint16_t m;  // fp16 minimum
  uint8_t qs[kQuantBlock / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x = d * q, q in [-127, 127].
struct BlockQ8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[kQuantBlock];
};
static_assert(sizeof(BlockQ8_0) == 34);

// True for the types hearth can compute with.
bool IsSupportedType(uint32_t type_id);

// "q4_1", "f32", ...; "unknown" for ids hearth does not support.
std::string_view TypeName(uint32_t type_id);

// Elements per block (1 for F32/F16, kQuantBlock for the quantised types).
int64_t BlockElements(GgmlType type);

// Bytes of one block.
size_t BlockBytes(GgmlType type);

// Bytes of a row of n elements; n must be a multiple of BlockElements(type).
size_t RowBytes(GgmlType type, int64_t n);

float Fp16ToFp32(uint16_t h);
uint16_t Fp32ToFp16(float f);

}  // namespace hearth::cpu

#endif  // HEARTH_KERNELS_CPU_QUANT_TYPES_H_
