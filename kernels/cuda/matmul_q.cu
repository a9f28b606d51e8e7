// y = x W^T with W in its GGUF layout, dequantised in registers.
//
// One warp per weight row. For the quantised types four lanes share a block (a quarter
// each, see LoadBlockPart), so one step of the warp reads eight consecutive blocks: the
// warp's loads cover a contiguous stretch of the row and every byte fetched is used.
// (Blocks of 18, 20 and 34 bytes rule out 16-byte loads in place; the 2- and 4-byte loads
// coalesce across the warp instead. A repacked device layout could use wider ones.)
// F16/F32 rows are read one element per lane, consecutive lanes on consecutive elements.
// Each lane decodes its weights once and applies them to a tile of up to kTile tokens
// kept in registers, so a batch reads W once per tile instead of once per token; the
// warp then sums its lanes with shuffles. Decode (n_tokens == 1) uses a tile of one: a
// plain matrix-vector product whose speed is the weight bandwidth.
//
// Batch invariance, as on the CPU: every y[t, r] goes through the same operations in the
// same order whatever the tile, and the explicit _rn intrinsics keep the compiler from
// contracting or reassociating them differently in the two instantiations, so a token's
// result does not depend on which other tokens share its batch.
#include <cstdint>

#include <cuda_runtime.h>

#include "kernels/cpu/quant_types.h"
#include "kernels/cuda/matmul_q_launch.h"
#include "kernels/cuda/quant_decode.h"

namespace hearth::cuda::internal {
namespace {

constexpr int kWarpSize = 32;
constexpr int kWarpsPerCta = 4;
constexpr int kThreads = kWarpsPerCta * kWarpSize;
constexpr int kBatchTile = 8;               // tokens per warp pass when n_tokens > 1
constexpr int64_t kMaxGridY = 65535;        // CUDA's limit; larger batches loop
constexpr int kBlocksPerStep = kWarpSize / kPartsPerBlock;  // 8 blocks per warp step

__device__ __forceinline__ float WarpSum(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    v = __fadd_rn(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

// acc[t] += dot(this lane's share of row `w_row`, x row t) for t < n_here.
template <GgmlType kType, int kTile>
__device__ __forceinline__ void AccumulateRow(const uint8_t* __restrict__ w_row, int64_t cols,
                                              const float* __restrict__ x, int n_here,
                                              int lane, float (&acc)[kTile]) {
  if constexpr (kIsQuantised<kType>) {
    const int part = lane % kPartsPerBlock;
    const int64_t n_blocks = cols / cpu::kQuantBlock;
    for (int64_t b = lane / kPartsPerBlock; b < n_blocks; b += kBlocksPerStep) {
      const BlockPart p = LoadBlockPart<kType>(w_row + b * kBlockBytes<kType>, part);
      const float* xb = x + b * cpu::kQuantBlock;
#pragma unroll
      for (int t = 0; t < kTile; ++t) {
        if (t >= n_here) break;
        const float* xt = xb + t * cols;
        float qx = 0.0f;
        float sx = 0.0f;  // sum of x, for Q4_1's offset m
#pragma unroll
        for (int e = 0; e < kPartElements; ++e) {
          const float xe = xt[PartColumn<kType>(part, e)];
          qx = __fmaf_rn(p.q[e], xe, qx);
          if constexpr (kType == GgmlType::kQ4_1) sx = __fadd_rn(sx, xe);
        }
        acc[t] = __fmaf_rn(p.d, qx, acc[t]);
        if constexpr (kType == GgmlType::kQ4_1) acc[t] = __fmaf_rn(p.m, sx, acc[t]);
      }
    }
  } else {
    for (int64_t c = lane; c < cols; c += kWarpSize) {
      const float wc = LoadFloatElement<kType>(w_row, c);
#pragma unroll
      for (int t = 0; t < kTile; ++t) {
        if (t >= n_here) break;
        acc[t] = __fmaf_rn(wc, x[t * cols + c], acc[t]);
      }
    }
  }
}

// Grid: x = ceil(rows / kWarpsPerCta) (one warp per row), y = token tiles (grid-stride).
template <GgmlType kType, int kTile>
__global__ void __launch_bounds__(kThreads)
    MatMulKernel(const uint8_t* __restrict__ w, int64_t rows, int64_t cols,
                 const float* __restrict__ x, int64_t n_tokens, float* __restrict__ y) {
  const int lane = static_cast<int>(threadIdx.x % kWarpSize);
  const int64_t row = blockIdx.x * int64_t{kWarpsPerCta} + threadIdx.x / kWarpSize;
  if (row >= rows) return;  // the whole warp leaves: no lane misses a shuffle
  const uint8_t* w_row = w + row * (cols / kBlockElements<kType>) * kBlockBytes<kType>;
  for (int64_t t0 = blockIdx.y * int64_t{kTile}; t0 < n_tokens;
       t0 += int64_t{gridDim.y} * kTile) {
    const int n_here = static_cast<int>(n_tokens - t0 < kTile ? n_tokens - t0 : kTile);
    float acc[kTile] = {};
    AccumulateRow<kType, kTile>(w_row, cols, x + t0 * cols, n_here, lane, acc);
#pragma unroll
    for (int t = 0; t < kTile; ++t) {
      if (t >= n_here) break;
      const float sum = WarpSum(acc[t]);
      if (lane == 0) y[(t0 + t) * rows + row] = sum;
    }
  }
}

template <GgmlType kType, int kTile>
cudaError_t Launch(const uint8_t* w, int64_t rows, int64_t cols, const float* x,
                   int64_t n_tokens, float* y, cudaStream_t stream) {
  const int64_t tiles = (n_tokens + kTile - 1) / kTile;
  const dim3 grid(static_cast<unsigned>((rows + kWarpsPerCta - 1) / kWarpsPerCta),
                  static_cast<unsigned>(tiles < kMaxGridY ? tiles : kMaxGridY));
  MatMulKernel<kType, kTile><<<grid, kThreads, 0, stream>>>(w, rows, cols, x, n_tokens, y);
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchMatMul(cpu::GgmlType type, const void* w, int64_t rows, int64_t cols,
                         const float* x, int64_t n_tokens, float* y, cudaStream_t stream) {
  const auto* bytes = static_cast<const uint8_t*>(w);
  return WithType(type, [&](auto tag) {
    constexpr GgmlType kType = decltype(tag)::value;
    return n_tokens == 1 ? Launch<kType, 1>(bytes, rows, cols, x, n_tokens, y, stream)
                         : Launch<kType, kBatchTile>(bytes, rows, cols, x, n_tokens, y, stream);
  });
}

}  // namespace hearth::cuda::internal
