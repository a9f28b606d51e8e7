// Float32 kernels of the Llama forward pass, one per cpu:: op (kernels/cpu/ops.h), with
// the CPU's arithmetic where it matters for agreement: RMSNorm sums squares in double,
// RoPE computes its angles in double, SwiGLU and the residual add are element-wise in
// float32 with accurate expf (no fast-math).
#include <cmath>
#include <cstdint>

#include <cuda_runtime.h>

#include "kernels/cpu/quant_types.h"
#include "kernels/cuda/ops_launch.h"
#include "kernels/cuda/quant_decode.h"

namespace hearth::cuda::internal {
namespace {

constexpr int kWarpSize = 32;
constexpr int kThreads = 256;                         // element-wise and RMSNorm
constexpr int kArgmaxThreads = 1024;                  // one CTA scans a whole vocabulary
constexpr int kRopeThreads = 128;
constexpr int64_t kMaxGridBlocks = int64_t{1} << 16;  // then grid-stride

dim3 ElementwiseGrid(int64_t n) {
  const int64_t wanted = (n + kThreads - 1) / kThreads;
  return dim3(static_cast<unsigned>(wanted < kMaxGridBlocks ? wanted : kMaxGridBlocks));
}

// Sum of v over the CTA (blockDim.x a multiple of 32, at most 1024), returned to every
// thread.
__device__ double BlockSum(double v) {
  __shared__ double partial[kWarpSize];
  const int lane = static_cast<int>(threadIdx.x % kWarpSize);
  const int warp = static_cast<int>(threadIdx.x / kWarpSize);
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  }
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x / kWarpSize) ? partial[lane] : 0.0;
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
      v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    if (lane == 0) partial[0] = v;
  }
  __syncthreads();
  return partial[0];
}

// One CTA per row. x and out may alias: every thread reads its elements for the sum
// before BlockSum's barrier and writes only those same elements after it.
__global__ void __launch_bounds__(kThreads)
    RmsNormKernel(const float* x, const float* __restrict__ weight, int64_t n, float eps,
                  float* out) {
  const float* xr = x + blockIdx.x * n;
  float* outr = out + blockIdx.x * n;
  double sum_sq = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kThreads) {
    sum_sq += static_cast<double>(xr[i]) * xr[i];
  }
  sum_sq = BlockSum(sum_sq);
  const auto inv_rms = static_cast<float>(1.0 / sqrt(sum_sq / static_cast<double>(n) + eps));
  for (int64_t i = threadIdx.x; i < n; i += kThreads) outr[i] = xr[i] * inv_rms * weight[i];
}

// One CTA per token: the head_dim / 2 (cos, sin) pairs of its position are computed once
// into shared memory (in double, as cpu::RopeInPlace: float angles at long positions
// would be off by whole percent of a turn), then applied to every q and k head.
__global__ void __launch_bounds__(kRopeThreads)
    RopeKernel(float* __restrict__ q, int64_t n_heads, float* __restrict__ k,
               int64_t n_kv_heads, int64_t head_dim, const int32_t* __restrict__ positions,
               float theta) {
  extern __shared__ float2 cos_sin[];
  const int64_t half = head_dim / 2;
  const int64_t t = blockIdx.x;
  const double pos = positions[t];
  for (int64_t i = threadIdx.x; i < half; i += kRopeThreads) {
    const double angle =
        pos * pow(static_cast<double>(theta),
                  -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    cos_sin[i] = make_float2(static_cast<float>(cos(angle)), static_cast<float>(sin(angle)));
  }
  __syncthreads();
  const int64_t pairs = (n_heads + n_kv_heads) * half;
  for (int64_t p = threadIdx.x; p < pairs; p += kRopeThreads) {
    const int64_t h = p / half, i = p % half;
    float* pair = h < n_heads ? q + (t * n_heads + h) * head_dim + 2 * i
                              : k + (t * n_kv_heads + (h - n_heads)) * head_dim + 2 * i;
    const float x0 = pair[0], x1 = pair[1];
    const float2 cs = cos_sin[i];
    pair[0] = x0 * cs.x - x1 * cs.y;
    pair[1] = x0 * cs.y + x1 * cs.x;
  }
}

__global__ void SwiGluKernel(float* __restrict__ gate, const float* __restrict__ up,
                             int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    const float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
  }
}

__global__ void AddKernel(float* __restrict__ x, const float* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    x[i] += y[i];
  }
}

// out (n_tokens, dim): row t is row ids[t] of the table, bit-identical to
// cpu::DequantizeRow. The ids live on the device (they may come straight from
// ArgmaxKernel), so the host cannot check them: an id outside [0, vocab) gives a row of
// NaN instead of a read outside the table, and shows up in every logit downstream.
template <GgmlType kType>
__global__ void EmbeddingKernel(const uint8_t* __restrict__ table, int64_t vocab, int64_t dim,
                                const int32_t* __restrict__ ids, int64_t n_tokens,
                                float* __restrict__ out) {
  const int64_t row_bytes = dim / kBlockElements<kType> * kBlockBytes<kType>;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n_tokens * dim;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t id = ids[i / dim];
    out[i] = id >= 0 && id < vocab ? DecodeElement<kType>(table + id * row_bytes, i % dim)
                                   : __int_as_float(0x7fc00000);  // quiet NaN
  }
}

// The greedy choice as the CPU sampler makes it: the largest value, the lowest index among
// equals. NaN counts as -infinity so it never wins over a number.
struct ArgmaxCandidate {
  float value;
  int32_t index;
};

__device__ __forceinline__ bool Beats(ArgmaxCandidate a, ArgmaxCandidate b) {
  return a.value > b.value || (a.value == b.value && a.index < b.index);
}

__device__ __forceinline__ ArgmaxCandidate WarpArgmax(ArgmaxCandidate c) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    const ArgmaxCandidate other{__shfl_xor_sync(0xffffffffu, c.value, offset),
                                __shfl_xor_sync(0xffffffffu, c.index, offset)};
    if (Beats(other, c)) c = other;
  }
  return c;
}

// One CTA per row of logits.
__global__ void __launch_bounds__(kArgmaxThreads)
    ArgmaxKernel(const float* __restrict__ logits, int64_t n, int32_t* __restrict__ out) {
  __shared__ ArgmaxCandidate partial[kWarpSize];
  const float* row = logits + blockIdx.x * n;
  // A thread without elements holds a candidate that loses to every real one.
  ArgmaxCandidate best{-INFINITY, INT32_MAX};
  for (int64_t i = threadIdx.x; i < n; i += kArgmaxThreads) {
    const float v = isnan(row[i]) ? -INFINITY : row[i];
    const ArgmaxCandidate c{v, static_cast<int32_t>(i)};
    if (Beats(c, best)) best = c;
  }
  best = WarpArgmax(best);
  const int lane = static_cast<int>(threadIdx.x % kWarpSize);
  const int warp = static_cast<int>(threadIdx.x / kWarpSize);
  if (lane == 0) partial[warp] = best;
  __syncthreads();
  if (warp == 0) {
    best = partial[lane];  // kArgmaxThreads / kWarpSize == kWarpSize: every lane has one
    best = WarpArgmax(best);
    if (lane == 0) out[blockIdx.x] = best.index;
  }
}
static_assert(kArgmaxThreads == kWarpSize * kWarpSize);

}  // namespace

cudaError_t LaunchRmsNorm(const float* x, const float* weight, int64_t n_rows, int64_t n,
                          float eps, float* out, cudaStream_t stream) {
  RmsNormKernel<<<static_cast<unsigned>(n_rows), kThreads, 0, stream>>>(x, weight, n, eps, out);
  return cudaGetLastError();
}

cudaError_t LaunchRope(float* q, int64_t n_heads, float* k, int64_t n_kv_heads,
                       int64_t head_dim, const int32_t* positions, int64_t n_tokens,
                       float theta, cudaStream_t stream) {
  const size_t shared = static_cast<size_t>(head_dim / 2) * sizeof(float2);
  RopeKernel<<<static_cast<unsigned>(n_tokens), kRopeThreads, shared, stream>>>(
      q, n_heads, k, n_kv_heads, head_dim, positions, theta);
  return cudaGetLastError();
}

cudaError_t LaunchSwiGlu(float* gate, const float* up, int64_t n, cudaStream_t stream) {
  SwiGluKernel<<<ElementwiseGrid(n), kThreads, 0, stream>>>(gate, up, n);
  return cudaGetLastError();
}

cudaError_t LaunchAdd(float* x, const float* y, int64_t n, cudaStream_t stream) {
  AddKernel<<<ElementwiseGrid(n), kThreads, 0, stream>>>(x, y, n);
  return cudaGetLastError();
}

cudaError_t LaunchEmbedding(cpu::GgmlType type, const void* table, int64_t vocab, int64_t dim,
                            const int32_t* ids, int64_t n_tokens, float* out,
                            cudaStream_t stream) {
  const auto* bytes = static_cast<const uint8_t*>(table);
  return WithType(type, [&](auto tag) {
    EmbeddingKernel<decltype(tag)::value><<<ElementwiseGrid(n_tokens * dim), kThreads, 0,
                                            stream>>>(bytes, vocab, dim, ids, n_tokens, out);
    return cudaGetLastError();
  });
}

cudaError_t LaunchArgmax(const float* logits, int64_t n_rows, int64_t n, int32_t* out,
                         cudaStream_t stream) {
  ArgmaxKernel<<<static_cast<unsigned>(n_rows), kArgmaxThreads, 0, stream>>>(logits, n, out);
  return cudaGetLastError();
}

}  // namespace hearth::cuda::internal
