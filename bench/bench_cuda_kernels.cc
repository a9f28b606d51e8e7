// bench_cuda_kernels: the CUDA kernels on the device, timed with CUDA events (manual time).
//
//   build/bench/bench_cuda_kernels [--benchmark_out=k.json --benchmark_out_format=json]
//
// Without a CUDA device or driver it prints why and exits 0, running nothing.
//
// What it measures (counters, per benchmark):
//  - BM_CopyD2D: cudaMemcpyAsync of a 1 GiB device buffer into another, the bandwidth
//    reference. copy_GBps counts bytes read plus bytes written (2 x 1 GiB per copy),
//    read_GBps the bytes read alone.
//  - BM_MatMul/<type>/<rows>x<cols>: MatMulCuda at batch 1 (one token) on each weight
//    shape of SmolLM2-135M (576x576 q/o, 192x576 k/v, 1536x576 gate/up, 576x1536 down,
//    49152x576 output head), Q4_1 and Q8_0 weights from random blocks. GBps is weight
//    bytes read over kernel time. The weights are copied into a pool of >= 256 MiB
//    (several times the H200's 60 MB L2) and each launch reads the next copy, so the
//    figure is device memory's, not the cache's. One timed iteration is a run of
//    back-to-back launches on one stream (launch gaps included, as in a forward pass
//    without graphs); us_per_call is the mean time per launch.
//  - BM_RmsNorm/<rows>: RmsNormCuda over (rows, 576); us_per_call and GBps (x read, out
//    written, weight read).
//  - BM_AttentionDecode/<batch>/<context>: PagedAttentionCuda for one decode token per
//    sequence at position context-1, SmolLM2's geometry (9 query heads, 3 kv heads of 64,
//    blocks of 16 tokens), one layer; GBps counts the K and V bytes the batch reads.
// Every CUDA call is checked; a failure ends the program with its error (exit 1).
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "kernels/cpu/quant_types.h"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/matmul_q.cuh"
#include "kernels/cuda/ops.cuh"
#include "tests/cuda/random_tensors.h"

namespace {

using hearth::cpu::GgmlType;

void Check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    std::fprintf(stderr, "bench_cuda_kernels: %s: %s\n", what, cudaGetErrorString(err));
    std::exit(1);
  }
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "bench_cuda_kernels: %s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// A device allocation freed at scope exit.
struct DeviceBuffer {
  explicit DeviceBuffer(size_t bytes) : size(bytes) {
    Check(cudaMalloc(&ptr, std::max<size_t>(bytes, 1)), "cudaMalloc");
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept : ptr(other.ptr), size(other.size) {
    other.ptr = nullptr;
    other.size = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
  void* ptr = nullptr;
  size_t size = 0;
};

// Events and a stream for one benchmark; Time(f) runs f (which enqueues on stream) between
// two events and returns the milliseconds between them.
struct Timer {
  Timer() {
    Check(cudaStreamCreate(&stream), "cudaStreamCreate");
    Check(cudaEventCreate(&start), "cudaEventCreate");
    Check(cudaEventCreate(&stop), "cudaEventCreate");
  }
  ~Timer() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaStreamDestroy(stream);
  }
  template <typename F>
  double Time(F&& f) {
    Check(cudaEventRecord(start, stream), "cudaEventRecord");
    f();
    Check(cudaGetLastError(), "kernel launch");
    Check(cudaEventRecord(stop, stream), "cudaEventRecord");
    Check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    Check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    return ms;
  }
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
};

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

DeviceBuffer Upload(const std::vector<float>& v) {
  DeviceBuffer d(v.size() * sizeof(float));
  Check(cudaMemcpy(d.ptr, v.data(), d.size, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
  return d;
}

// Sets the manual time and the counters from the totals over all timed iterations.
void Report(benchmark::State& state, double total_ms, double total_bytes, int64_t calls) {
  state.counters["GBps"] = total_ms > 0 ? total_bytes / (total_ms * 1e6) : 0.0;
  state.counters["us_per_call"] = calls > 0 ? 1e3 * total_ms / static_cast<double>(calls) : 0.0;
}

void BM_CopyD2D(benchmark::State& state) {
  const size_t bytes = size_t{1} << 30;
  DeviceBuffer src(bytes), dst(bytes);
  // Random-ish contents, not zeros (a pattern written once by a memset of each 16 MiB).
  for (size_t off = 0; off < bytes; off += size_t{1} << 24) {
    Check(cudaMemset(src.as<char>() + off, static_cast<int>((off >> 24) * 37 + 11), size_t{1} << 24),
          "cudaMemset");
  }
  Timer timer;
  auto copy = [&] {
    Check(cudaMemcpyAsync(dst.ptr, src.ptr, bytes, cudaMemcpyDeviceToDevice, timer.stream),
          "cudaMemcpyAsync D2D");
  };
  timer.Time(copy);  // warm-up
  double total_ms = 0;
  int64_t calls = 0;
  for (auto _ : state) {
    const double ms = timer.Time(copy);
    state.SetIterationTime(ms * 1e-3);
    total_ms += ms;
    ++calls;
  }
  const double read = static_cast<double>(bytes) * static_cast<double>(calls);
  Report(state, total_ms, 2 * read, calls);
  state.counters["copy_GBps"] = state.counters["GBps"];
  state.counters["read_GBps"] = total_ms > 0 ? read / (total_ms * 1e6) : 0.0;
}

void BM_MatMul(benchmark::State& state, GgmlType type, int64_t rows, int64_t cols) {
  std::mt19937 rng(static_cast<uint32_t>(rows * 131 + cols * 7 + static_cast<int64_t>(type)));
  const std::vector<std::byte> w = hearth::cuda::test::RandomTensor(type, rows, cols, rng);
  const size_t stride = (w.size() + 255) / 256 * 256;
  const size_t pool_bytes = size_t{256} << 20;
  const size_t copies = std::max<size_t>(1, (pool_bytes + stride - 1) / stride);
  DeviceBuffer pool(copies * stride);
  for (size_t c = 0; c < copies; ++c) {
    Check(cudaMemcpy(pool.as<char>() + c * stride, w.data(), w.size(), cudaMemcpyHostToDevice),
          "cudaMemcpy H2D");
  }
  const DeviceBuffer x = Upload(RandomFloats(static_cast<size_t>(cols), 7));
  DeviceBuffer y(static_cast<size_t>(rows) * sizeof(float));
  Timer timer;
  // One timed iteration: a pass over the whole pool (at least 16 launches).
  const size_t launches = std::max<size_t>(copies, 16);
  auto run = [&] {
    for (size_t i = 0; i < launches; ++i) {
      Check(hearth::cuda::MatMulCuda(type, pool.as<char>() + (i % copies) * stride, rows, cols,
                                     x.as<float>(), 1, y.as<float>(), timer.stream),
            "MatMulCuda");
    }
  };
  timer.Time(run);  // warm-up
  double total_ms = 0;
  int64_t calls = 0;
  for (auto _ : state) {
    const double ms = timer.Time(run);
    state.SetIterationTime(ms * 1e-3);
    total_ms += ms;
    calls += static_cast<int64_t>(launches);
  }
  Report(state, total_ms, static_cast<double>(w.size()) * static_cast<double>(calls), calls);
  state.counters["weight_bytes"] = static_cast<double>(w.size());
}

void BM_RmsNorm(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const int64_t n = 576;
  const DeviceBuffer x = Upload(RandomFloats(static_cast<size_t>(rows * n), 3));
  const DeviceBuffer weight = Upload(RandomFloats(static_cast<size_t>(n), 4));
  DeviceBuffer out(static_cast<size_t>(rows * n) * sizeof(float));
  Timer timer;
  const int launches = 64;
  auto run = [&] {
    for (int i = 0; i < launches; ++i) {
      Check(hearth::cuda::RmsNormCuda(x.as<float>(), weight.as<float>(), rows, n, 1e-5f,
                                      out.as<float>(), timer.stream),
            "RmsNormCuda");
    }
  };
  timer.Time(run);
  double total_ms = 0;
  int64_t calls = 0;
  for (auto _ : state) {
    const double ms = timer.Time(run);
    state.SetIterationTime(ms * 1e-3);
    total_ms += ms;
    calls += launches;
  }
  const double bytes_per_call = static_cast<double>((2 * rows * n + n) * 4);
  Report(state, total_ms, bytes_per_call * static_cast<double>(calls), calls);
}

void BM_AttentionDecode(benchmark::State& state) {
  const int64_t batch = state.range(0);
  const int64_t context = state.range(1);
  const int64_t n_heads = 9, n_kv_heads = 3, head_dim = 64, block_tokens = 16;
  const int64_t kv_dim = n_kv_heads * head_dim;
  const int64_t blocks_per_seq = (context + block_tokens - 1) / block_tokens;
  const int64_t n_blocks = batch * blocks_per_seq;
  const size_t cache_floats = static_cast<size_t>(n_blocks * block_tokens * kv_dim);
  const DeviceBuffer keys = Upload(RandomFloats(cache_floats, 11));
  const DeviceBuffer values = Upload(RandomFloats(cache_floats, 12));
  // Each sequence's table: its own blocks, shuffled over the cache.
  std::vector<int32_t> ids(static_cast<size_t>(n_blocks));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  std::mt19937 rng(5);
  std::shuffle(ids.begin(), ids.end(), rng);
  DeviceBuffer tables(ids.size() * sizeof(int32_t));
  Check(cudaMemcpy(tables.ptr, ids.data(), tables.size, cudaMemcpyHostToDevice), "cudaMemcpy");
  std::vector<hearth::cuda::KvChunk> chunks(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    chunks[static_cast<size_t>(b)] = {context - 1, 1, b * blocks_per_seq, blocks_per_seq};
  }
  hearth::cuda::DeviceKvCache cache;
  cache.keys = keys.as<float>();
  cache.values = values.as<float>();
  cache.n_blocks = n_blocks;
  cache.n_layers = 1;
  cache.block_tokens = block_tokens;
  cache.n_kv_heads = n_kv_heads;
  cache.head_dim = head_dim;
  hearth::cuda::KvBatch kv_batch;
  kv_batch.chunks = chunks;
  kv_batch.block_tables = tables.as<int32_t>();
  kv_batch.table_entries = n_blocks;
  const DeviceBuffer q = Upload(RandomFloats(static_cast<size_t>(batch * n_heads * head_dim), 13));
  DeviceBuffer out(static_cast<size_t>(batch * n_heads * head_dim) * sizeof(float));
  Timer timer;
  const int launches = 8;
  auto run = [&] {
    for (int i = 0; i < launches; ++i) {
      Check(hearth::cuda::PagedAttentionCuda(q.as<float>(), n_heads, kv_batch, cache, 0,
                                             out.as<float>(), timer.stream),
            "PagedAttentionCuda");
    }
  };
  timer.Time(run);
  double total_ms = 0;
  int64_t calls = 0;
  for (auto _ : state) {
    const double ms = timer.Time(run);
    state.SetIterationTime(ms * 1e-3);
    total_ms += ms;
    calls += launches;
  }
  const double kv_bytes = static_cast<double>(batch * context * kv_dim * 2 * 4);
  Report(state, total_ms, kv_bytes * static_cast<double>(calls), calls);
}

struct Shape {
  const char* name;
  int64_t rows, cols;
};

void RegisterAll() {
  benchmark::RegisterBenchmark("BM_CopyD2D/1GiB", BM_CopyD2D)
      ->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(20);
  const Shape shapes[] = {{"q_o", 576, 576},       {"k_v", 192, 576},
                          {"gate_up", 1536, 576},  {"down", 576, 1536},
                          {"output", 49152, 576}};
  const std::pair<GgmlType, const char*> types[] = {{GgmlType::kQ4_1, "Q4_1"},
                                                    {GgmlType::kQ8_0, "Q8_0"}};
  for (const auto& [type, type_name] : types) {
    for (const Shape& s : shapes) {
      const std::string name = std::string("BM_MatMul/") + type_name + "/" +
                               std::to_string(s.rows) + "x" + std::to_string(s.cols) + "/" +
                               s.name;
      benchmark::RegisterBenchmark(name.c_str(), BM_MatMul, type, s.rows, s.cols)
          ->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(10);
    }
  }
  benchmark::RegisterBenchmark("BM_RmsNorm", BM_RmsNorm)
      ->Arg(1)->Arg(64)->Arg(256)
      ->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(20);
  benchmark::RegisterBenchmark("BM_AttentionDecode", BM_AttentionDecode)
      ->ArgNames({"batch", "context"})
      ->Args({1, 128})->Args({1, 1024})->Args({1, 4096})
      ->Args({64, 128})->Args({64, 1024})->Args({256, 512})
      ->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(10);
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    std::printf("bench_cuda_kernels: no CUDA device (%s): nothing to measure, skipped\n",
                err != cudaSuccess ? cudaGetErrorString(err) : "device count 0");
    return 0;
  }
  cudaDeviceProp prop{};
  Check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("bench_cuda_kernels: device 0 = %s, sm_%d%d, %d SMs, %.0f MiB L2\n", prop.name,
              prop.major, prop.minor, prop.multiProcessorCount,
              static_cast<double>(prop.l2CacheSize) / (1 << 20));
  benchmark::AddCustomContext("gpu", prop.name);
  RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
