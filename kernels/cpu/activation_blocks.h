// Internal: layouts of prepared (quantised) activation rows.
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

// Activations carry 16 bits of precision as two int8 planes: x ~= d * (256 q + q_lo),
// d = max|x| / (127 * 256), q in [-127, 127] the int8 rounding of x and q_lo in
// [-127, 127] the rounding of what q missed, in units of 1/256. A single int8 plane
// (ggml's q8_0) loses the top-1 token at near-ties: 97% agreement with a float64
// reference on SmolLM2-135M against 100% with 16 bits (bench/NOTES.md). The second plane
// costs one more byte product per weight byte, which decode, bound by memory, mostly hides.
//
// Paired with Q8_0 weights.
struct ActivationBlockQ8 {
  float d;
  int8_t qs[kQuantBlock];
  int8_t qs_lo[kQuantBlock];
};
static_assert(sizeof(ActivationBlockQ8) == 68);

// As ActivationBlockQ8 plus s = d * sum(256 q + q_lo), so that a weight offset m (Q4_1's minimum,
// or Q4_0's -8 d) contributes m * s to the dot product without touching the quants.
// Paired with Q4_0 and Q4_1 weights.
struct ActivationBlockQ8Sum {
  float d;
  float s;  // d * sum(256 q + q_lo)
  int8_t qs[kQuantBlock];
  int8_t qs_lo[kQuantBlock];
};
static_assert(sizeof(ActivationBlockQ8Sum) == 72);

// The prepared block each weight block type is multiplied with.
template <class WeightBlock>
struct ActivationFor;
template <>
struct ActivationFor<BlockQ4_0> {
  using type = ActivationBlockQ8Sum;
};
template <>
struct ActivationFor<BlockQ4_1> {
  using type = ActivationBlockQ8Sum;
};
template <>
struct ActivationFor<BlockQ8_0> {
  using type = ActivationBlockQ8;
};

}  // namespace hearth::cpu

#endif  // HEARTH_KERNELS_CPU_ACTIVATION_BLOCKS_H_
