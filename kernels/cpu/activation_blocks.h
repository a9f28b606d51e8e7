// Internal: layouts of prepared (quantised) activation rows, one int16 plane per block
// in the 16-bit activation mode (the default), one int8 plane in the 8-bit mode.
//
// Unlike ggml's q8_0/q8_1, the scale and sum stay float32: activations are requantised
// every step, so their precision is free, while an fp16 scale would add error on top of
// the int8 rounding. Rows are arrays of these blocks, so a prepared buffer needs the
// alignment of float (any heap allocation has it).
#ifndef HEARTH_KERNELS_CPU_ACTIVATION_BLOCKS_H_
#define HEARTH_KERNELS_CPU_ACTIVATION_BLOCKS_H_

#include <cstdint>

#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {

// Activations carry 16 bits of precision in one int16 plane: x ~= d * v, v = 256 q + q_lo,
// d = max|x| / (127 * 256), q in [-127, 127] the int8 rounding of x and q_lo in
// [-127, 127] the rounding of what q missed, in units of 1/256 (|v| <= 32639). A single
// int8 plane (ggml's q8_0) loses the top-1 token at near-ties: 97% agreement with a
// float64 reference on SmolLM2-135M against 100% with 16 bits (bench/NOTES.md). One
// int16 plane rather than two int8 ones lets the kernels take int16 pair products
// (vpdpwssd, madd) with no shift to combine planes (bench/NOTES.md).
//
// Paired with Q8_0 weights.
struct ActivationBlockQ8 {
  float d;
  int16_t qs[kQuantBlock];
};
static_assert(sizeof(ActivationBlockQ8) == 68);

// As ActivationBlockQ8 plus s = d * sum(v), so that a weight offset m (Q4_1's minimum,
// or Q4_0's -8 d) contributes m * s to the dot product without touching the quants.
// Paired with Q4_0 and Q4_1 weights.
struct ActivationBlockQ8Sum {
  float d;
  float s;  // d * sum(v)
  int16_t qs[kQuantBlock];
};
static_assert(sizeof(ActivationBlockQ8Sum) == 72);

// One int8 plane, as ggml's q8_0 / q8_1: x ~= d q, d = max|x| / 127. Byte products
// instead of the 16-bit blocks' int16 ones for 97 % top-1 agreement on SmolLM2-135M (the
// 8-bit activation mode, bench/NOTES.md). Paired with Q8_0 weights.
struct ActivationBlock8Bit {
  float d;
  int8_t qs[kQuantBlock];
};
static_assert(sizeof(ActivationBlock8Bit) == 36);

// As ActivationBlock8Bit plus s = d * sum(q). Paired with Q4_0 and Q4_1 weights.
struct ActivationBlock8BitSum {
  float d;
  float s;  // d * sum(q)
  int8_t qs[kQuantBlock];
};
static_assert(sizeof(ActivationBlock8BitSum) == 40);

// True for the 16-bit (int16 plane) layouts.
template <class Activation>
inline constexpr bool kInt16Quants = sizeof(Activation::qs[0]) == 2;

// True for the layouts that carry s for the Q4 offsets.
template <class Activation>
inline constexpr bool kHasSum = requires(Activation a) { a.s; };

// The prepared block each weight block type is multiplied with, in 16-bit (int16 plane)
// or 8-bit (int8 plane) precision.
template <class WeightBlock, bool kSixteenBit>
struct ActivationFor;
template <>
struct ActivationFor<BlockQ4_0, true> {
  using type = ActivationBlockQ8Sum;
};
template <>
struct ActivationFor<BlockQ4_1, true> {
  using type = ActivationBlockQ8Sum;
};
template <>
struct ActivationFor<BlockQ8_0, true> {
  using type = ActivationBlockQ8;
};
template <>
struct ActivationFor<BlockQ4_0, false> {
  using type = ActivationBlock8BitSum;
};
template <>
struct ActivationFor<BlockQ4_1, false> {
  using type = ActivationBlock8BitSum;
};
template <>
struct ActivationFor<BlockQ8_0, false> {
  using type = ActivationBlock8Bit;
};

}  // namespace hearth::cpu

#endif  // HEARTH_KERNELS_CPU_ACTIVATION_BLOCKS_H_
