// Kernel benchmarks: matrix-vector (decode) and matrix-matrix (prefill) products for each
// weight type at SmolLM2-135M's shapes, and a plain memory read as the bandwidth ceiling
// the decode figures should approach. Single-threaded: the caller splits rows.
//
// Decode is bound by memory bandwidth, so BM_MatVec reads its weights "cold": it cycles
// through enough copies of the matrix (more than the last-level cache holds) that every
// iteration streams its weights from DRAM, as a forward pass over a whole model does.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "benchmark/benchmark.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_types.h"

namespace hearth::cpu {
namespace {

// Larger than any last-level cache the benchmarks run on.
constexpr size_t kColdBytes = size_t{512} << 20;

const GgmlType kTypes[] = {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ8_0, GgmlType::kF16,
                           GgmlType::kF32};

// Weight bytes that decode to moderate values for every type: random bytes, with each
// block's fp16 scale (and minimum) replaced by a small number. Speed does not depend on
// the values, only on them being finite.
std::vector<std::byte> RandomWeights(GgmlType type, int64_t rows, int64_t cols,
                                     std::mt19937& rng) {
  std::vector<std::byte> data(RowBytes(type, cols) * rows);
  for (std::byte& b : data) b = static_cast<std::byte>(rng());
  const uint16_t small = Fp32ToFp16(0.01f);
  const size_t stride = BlockBytes(type);
  switch (type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ8_0:
      for (size_t off = 0; off < data.size(); off += stride) std::memcpy(&data[off], &small, 2);
      break;
    case GgmlType::kQ4_1:
      for (size_t off = 0; off < data.size(); off += stride) {
        std::memcpy(&data[off], &small, 2);
        std::memcpy(&data[off + 2], &small, 2);
      }
      break;
    case GgmlType::kF16:
      for (size_t off = 0; off < data.size(); off += 2) {
        const uint16_t h = Fp32ToFp16(static_cast<float>(rng() % 2001) * 1e-4f - 0.1f);
        std::memcpy(&data[off], &h, 2);
      }
      break;
    case GgmlType::kF32:
      for (size_t off = 0; off < data.size(); off += 4) {
        const float f = static_cast<float>(rng() % 2001) * 1e-4f - 0.1f;
        std::memcpy(&data[off], &f, 4);
      }
      break;
  }
  return data;
}

// The "bits" argument of the benchmarks: 16 or 8, the activation precision.
ActivationPrecision PrecisionArg(int64_t bits) {
  return bits == 8 ? ActivationPrecision::k8Bit : ActivationPrecision::k16Bit;
}

std::vector<std::byte> Prepared(GgmlType type, int64_t n_tokens, int64_t cols,
                                std::mt19937& rng,
                                ActivationPrecision precision = ActivationPrecision::k16Bit) {
  std::normal_distribution<float> normal;
  std::vector<float> x(n_tokens * cols);
  for (float& v : x) v = normal(rng);
  std::vector<std::byte> prepared(ActivationRowBytes(type, cols, precision) * n_tokens);
  PrepareActivations(type, x.data(), n_tokens, cols, prepared.data(), precision);
  return prepared;
}

// Args: type id, rows, cols, cold (0: the same copy every time, in cache if it fits, to
// show the arithmetic ceiling).
void BM_MatVec(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2);
  std::mt19937 rng(1);
  const std::vector<std::byte> one = RandomWeights(type, rows, cols, rng);
  const size_t copies = state.range(3) ? std::max<size_t>(2, kColdBytes / one.size()) : 1;
  std::vector<std::byte> weights(one.size() * copies);
  for (size_t c = 0; c < copies; ++c) std::copy(one.begin(), one.end(), &weights[c * one.size()]);
  const std::vector<std::byte> x = Prepared(type, 1, cols, rng);
  std::vector<float> y(rows);
  size_t c = 0;
  for (auto _ : state) {
    MatMulRows(type, &weights[c * one.size()], cols, 0, rows, x.data(), 1, y.data(), rows);
    benchmark::DoNotOptimize(y.data());
    c = c + 1 == copies ? 0 : c + 1;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * one.size()));
  state.SetLabel(TypeName(static_cast<uint32_t>(type)).data());
}

void MatVecArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"type", "rows", "cols", "cold"});
  for (int64_t cold : {1, 0}) {
    for (GgmlType type : kTypes) {
      for (auto [rows, cols] : {std::pair{576, 576}, {1536, 576}, {576, 1536}, {49152, 576}}) {
        b->Args({static_cast<int64_t>(type), rows, cols, cold});
      }
    }
  }
}
BENCHMARK(BM_MatVec)->Apply(MatVecArgs);

// Args: type id, rows, cols, n_tokens, activation bits. Weights stay in cache: prefill
// reuses each weight block across all tokens, so it is bound by arithmetic, not memory.
void BM_MatMul(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n_tokens = state.range(3);
  const ActivationPrecision precision = PrecisionArg(state.range(4));
  std::mt19937 rng(2);
  const std::vector<std::byte> weights = RandomWeights(type, rows, cols, rng);
  const std::vector<std::byte> x = Prepared(type, n_tokens, cols, rng, precision);
  std::vector<float> y(rows * n_tokens);
  for (auto _ : state) {
    MatMulRows(type, weights.data(), cols, 0, rows, x.data(), n_tokens, y.data(), rows,
               precision);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * n_tokens);
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(rows * cols * n_tokens) * 1e-9 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.SetLabel(TypeName(static_cast<uint32_t>(type)).data());
}

void MatMulArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"type", "rows", "cols", "tokens", "bits"});
  for (GgmlType type : kTypes) {
    for (int64_t n : {16, 64}) {
      for (auto [rows, cols] : {std::pair{576, 576}, {1536, 576}, {576, 1536}}) {
        // The precision matters only for the quantised types.
        for (int64_t bits : {16, 8}) {
          if (bits == 8 && BlockElements(type) == 1) continue;
          b->Args({static_cast<int64_t>(type), rows, cols, n, bits});
        }
      }
    }
  }
}
BENCHMARK(BM_MatMul)->Apply(MatMulArgs);

// The matrices of one SmolLM2-135M forward step, in order, with the layout of the Q4_1
// GGUF (Q4_1 layers, Q8_0 output head): 96.4 MB of weights.
struct StepMatrix {
  GgmlType type;
  int64_t rows, cols;
  std::vector<std::byte> data;
};

std::vector<StepMatrix> StepMatrices(std::mt19937& rng) {
  std::vector<StepMatrix> matrices;
  for (int layer = 0; layer < 30; ++layer) {
    for (auto [rows, cols] : {std::pair{576, 576}, {192, 576}, {192, 576}, {576, 576},
                              {1536, 576}, {1536, 576}, {576, 1536}}) {
      matrices.push_back(
          {GgmlType::kQ4_1, rows, cols, RandomWeights(GgmlType::kQ4_1, rows, cols, rng)});
    }
  }
  matrices.push_back(
      {GgmlType::kQ8_0, 49152, 576, RandomWeights(GgmlType::kQ8_0, 49152, 576, rng)});
  return matrices;
}

// Every matrix product of one step over n_tokens activation rows.
void StepMatMuls(benchmark::State& state, int64_t n_tokens, ActivationPrecision precision) {
  std::mt19937 rng(3);
  const std::vector<StepMatrix> matrices = StepMatrices(rng);
  size_t bytes = 0;
  int64_t macs = 0;
  for (const StepMatrix& m : matrices) {
    bytes += m.data.size();
    macs += m.rows * m.cols * n_tokens;
  }
  const std::vector<std::byte> x576 = Prepared(GgmlType::kQ4_1, n_tokens, 576, rng, precision);
  const std::vector<std::byte> x1536 = Prepared(GgmlType::kQ4_1, n_tokens, 1536, rng, precision);
  const std::vector<std::byte> x_head = Prepared(GgmlType::kQ8_0, n_tokens, 576, rng, precision);
  std::vector<float> y(49152 * n_tokens);
  for (auto _ : state) {
    for (const StepMatrix& m : matrices) {
      const void* x = m.type == GgmlType::kQ8_0 ? x_head.data()
                      : m.cols == 576           ? x576.data()
                                                : x1536.data();
      MatMulRows(m.type, m.data.data(), m.cols, 0, m.rows, x, n_tokens, y.data(), m.rows,
                 precision);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(state.iterations() * n_tokens);  // tokens
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(macs) * 1e-9 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

// A decode step: one token, bound by memory. Arg: activation bits.
void BM_DecodeStepMatVecs(benchmark::State& state) {
  StepMatMuls(state, 1, PrecisionArg(state.range(0)));
}
BENCHMARK(BM_DecodeStepMatVecs)->ArgName("bits")->Arg(16)->Arg(8)->Unit(benchmark::kMillisecond);

// A continuous-batching step over n sequences, one decode token each: every weight block
// is reused n times, so this is bound by arithmetic. Args: tokens, activation bits.
void BM_BatchStepMatMuls(benchmark::State& state) {
  StepMatMuls(state, state.range(0), PrecisionArg(state.range(1)));
}
BENCHMARK(BM_BatchStepMatMuls)
    ->ArgNames({"tokens", "bits"})
    ->ArgsProduct({{4, 8, 16, 32}, {16, 8}})
    ->Unit(benchmark::kMillisecond);

// The ceiling: sum a buffer far larger than the caches, 4 independent sums so that the
// loop is limited by loads alone.
void BM_MemoryRead(benchmark::State& state) {
  const size_t n = kColdBytes / sizeof(uint64_t);
  std::vector<uint64_t> buffer(n);
  for (size_t i = 0; i < n; ++i) buffer[i] = i;
  for (auto _ : state) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < n; i += 4) {
      s0 += buffer[i];
      s1 += buffer[i + 1];
      s2 += buffer[i + 2];
      s3 += buffer[i + 3];
    }
    benchmark::DoNotOptimize(s0 + s1 + s2 + s3);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(uint64_t)));
}
BENCHMARK(BM_MemoryRead)->Unit(benchmark::kMillisecond);

#if defined(__x86_64__)
// The arithmetic ceiling: independent vpdpwssd (int16 pairs, the 16-bit activations) or
// vpdpbusd (bytes, the 8-bit ones) on 512-bit registers, 12 chains deep so that latency
// never limits. MACs/s is the most a quantised product can reach on one core.
template <bool kBytes>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void BM_VnniCeiling(
    benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw")) {
    state.SkipWithError("needs AVX512_VNNI");
    return;
  }
  constexpr int kChains = 12;
  constexpr int64_t kSteps = 1 << 16;
  __m512i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_epi32(i);
  __m512i a = _mm512_set1_epi16(3), b = _mm512_set1_epi16(5);
  // Opaque operands: the compiler cannot hoist the products out of the loop.
  asm volatile("" : "+v"(a), "+v"(b));
  for (auto _ : state) {
    for (int64_t step = 0; step < kSteps; ++step) {
      for (int i = 0; i < kChains; ++i) {
        if constexpr (kBytes) {
          acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
        } else {
          acc[i] = _mm512_dpwssd_epi32(acc[i], a, b);
        }
      }
    }
  }
  for (const __m512i& v : acc) benchmark::DoNotOptimize(v);
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kSteps * kChains * (kBytes ? 64 : 32) / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_VnniCeiling<false>)->Name("BM_VnniCeiling/bits:16");
BENCHMARK(BM_VnniCeiling<true>)->Name("BM_VnniCeiling/bits:8");
#endif

}  // namespace
}  // namespace hearth::cpu

BENCHMARK_MAIN();
