// Public entry points of the matrix products: pick the prepared-activation layout and the
// kernel for a weight type, then call the implementation chosen at run time.
#include "kernels/cpu/matmul.h"

#include <cassert>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/activation_blocks.h"
#include "kernels/cpu/dispatch.h"

namespace hearth::cpu {
namespace {

MatMulFn MatMulFor(const KernelTable& table, GgmlType type, ActivationPrecision precision) {
  switch (type) {
    case GgmlType::kQ4_0:
      return QuantFor(table, precision).matmul_q4_0;
    case GgmlType::kQ4_1:
      return QuantFor(table, precision).matmul_q4_1;
    case GgmlType::kQ8_0:
      return QuantFor(table, precision).matmul_q8_0;
    case GgmlType::kF16:
      return table.matmul_f16;
    case GgmlType::kF32:
      return table.matmul_f32;
  }
  return nullptr;
}

}  // namespace

size_t ActivationRowBytes(GgmlType weight_type, int64_t cols, ActivationPrecision precision) {
  const auto n_blocks = static_cast<size_t>(cols / kQuantBlock);
  const bool sixteen_bit = precision == ActivationPrecision::k16Bit;
  switch (weight_type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
      return n_blocks *
             (sixteen_bit ? sizeof(ActivationBlockQ8Sum) : sizeof(ActivationBlock8BitSum));
    case GgmlType::kQ8_0:
      return n_blocks * (sixteen_bit ? sizeof(ActivationBlockQ8) : sizeof(ActivationBlock8Bit));
    case GgmlType::kF16:
    case GgmlType::kF32:
      return static_cast<size_t>(cols) * sizeof(float);
  }
  return 0;
}

void PrepareActivations(GgmlType weight_type, const float* x, int64_t n_rows, int64_t cols,
                        void* out, ActivationPrecision precision) {
  assert(reinterpret_cast<uintptr_t>(out) % alignof(float) == 0);
  const size_t row_bytes = ActivationRowBytes(weight_type, cols, precision);
  auto* out_bytes = static_cast<std::byte*>(out);
  const QuantKernels& kernels = QuantFor(ActiveKernels(), precision);
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* row = x + r * cols;
    void* prepared = out_bytes + static_cast<size_t>(r) * row_bytes;
    switch (weight_type) {
      case GgmlType::kQ4_0:
      case GgmlType::kQ4_1:
        kernels.quantize_sum(row, cols, prepared);
        break;
      case GgmlType::kQ8_0:
        kernels.quantize(row, cols, prepared);
        break;
      case GgmlType::kF16:
      case GgmlType::kF32:
        std::memcpy(prepared, row, row_bytes);
        break;
    }
  }
}

void MatMulRows(GgmlType weight_type, const void* w, int64_t cols, int64_t row_begin,
                int64_t row_end, const void* x_prepared, int64_t n_tokens, float* y,
                int64_t y_stride, ActivationPrecision precision) {
  assert(reinterpret_cast<uintptr_t>(x_prepared) % alignof(float) == 0);
  if (row_begin >= row_end || n_tokens <= 0) return;
  MatMulFor(ActiveKernels(), weight_type, precision)(w, cols, row_begin, row_end, x_prepared, n_tokens,
                                          y, y_stride);
}

const char* MatMulImplementation() { return ActiveKernels().name; }

}  // namespace hearth::cpu
