#include "kernels/cuda/attention.cuh"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/cuda/cuda_test_util.h"

namespace hearth::cuda {
namespace {

using test::DeviceBuffer;

// Keys and values are written to and read from layer 1 of 3, so a wrong layer offset
// reads other random rows.
constexpr int64_t kLayers = 3;
constexpr int64_t kLayer = 1;

struct Shape {
  int64_t n_heads;
  int64_t n_kv_heads;
  int64_t head_dim;
  int64_t block_tokens;
};

// A sequence of the batch: its context after this step, whose last new_tokens positions
// are the batch's tokens (1 for decode, more for a prefill chunk).
struct Sequence {
  int64_t context;
  int64_t new_tokens;
};

// The batch on the host: chunks and their concatenated block tables.
struct TestBatch {
  std::vector<KvChunk> chunks;
  std::vector<int32_t> tables;
  int64_t n_blocks = 0;
  int64_t shared_blocks = 0;  // leading blocks of sequence 1's table that are sequence 0's
  int64_t n_tokens = 0;
};

// Block ids are a shuffled pool, so every table is non-contiguous and out of order.
// Sequence 1 shares sequence 0's leading full blocks that neither writes to (a common
// prompt prefix). Odd sequences own one block more than they reach (reserved ahead), and
// a spare entry before each table keeps the offsets non-trivial.
TestBatch MakeBatch(const std::vector<Sequence>& seqs, int64_t block_tokens,
                    std::mt19937& rng) {
  TestBatch b;
  if (seqs.size() >= 2) {
    const int64_t start0 = seqs[0].context - seqs[0].new_tokens;
    const int64_t start1 = seqs[1].context - seqs[1].new_tokens;
    b.shared_blocks = std::min(start0, start1) / block_tokens;
  }
  std::vector<int64_t> table_blocks;
  int64_t owned = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    table_blocks.push_back((seqs[s].context + block_tokens - 1) / block_tokens + s % 2);
    owned += table_blocks.back() - (s == 1 ? b.shared_blocks : 0);
  }
  const int64_t spare = 2;
  b.n_blocks = owned + spare;
  std::vector<int32_t> ids(static_cast<size_t>(b.n_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  size_t next = 0;
  std::vector<int32_t> first_table;
  for (size_t s = 0; s < seqs.size(); ++s) {
    b.tables.push_back(ids[ids.size() - 1]);  // the spare entry: never read
    KvChunk chunk;
    chunk.start_pos = seqs[s].context - seqs[s].new_tokens;
    chunk.n_tokens = seqs[s].new_tokens;
    chunk.table_offset = static_cast<int64_t>(b.tables.size());
    chunk.table_blocks = table_blocks[s];
    for (int64_t i = 0; i < table_blocks[s]; ++i) {
      const bool shared = s == 1 && i < b.shared_blocks;
      b.tables.push_back(shared ? first_table[i] : ids[next++]);
      if (s == 0) first_table.push_back(b.tables.back());
    }
    b.chunks.push_back(chunk);
    b.n_tokens += chunk.n_tokens;
  }
  return b;
}

std::vector<float> RandomFloats(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(rng);
  x[0] = 1.0f;  // never all zeros, whatever the draw
  return x;
}

// Element offset of position pos's row of a chunk's sequence in layer kLayer.
int64_t HostRow(const Shape& s, const TestBatch& b, const KvChunk& chunk, int64_t pos) {
  const int64_t kv_dim = s.n_kv_heads * s.head_dim;
  const int64_t block = b.tables[chunk.table_offset + pos / s.block_tokens];
  return ((block * kLayers + kLayer) * s.block_tokens + pos % s.block_tokens) * kv_dim;
}

// What WriteKvCuda should do, on the host copies of the cache.
void WriteOnHost(const Shape& s, const TestBatch& b, const std::vector<float>& k,
                 const std::vector<float>& v, std::vector<float>& keys,
                 std::vector<float>& values) {
  const int64_t kv_dim = s.n_kv_heads * s.head_dim;
  int64_t t = 0;
  for (const KvChunk& chunk : b.chunks) {
    for (int64_t i = 0; i < chunk.n_tokens; ++i, ++t) {
      const int64_t row = HostRow(s, b, chunk, chunk.start_pos + i);
      std::copy_n(&k[t * kv_dim], kv_dim, &keys[row]);
      std::copy_n(&v[t * kv_dim], kv_dim, &values[row]);
    }
  }
}

// Compares out with causal grouped-query attention in float64 over the written cache.
//
// Tolerance: a score dot(q, k) * scale goes through about head_dim / 32 + 8 float32
// roundings (a lane's running sum, five shuffle levels, the scale and its own rounding),
// so it is off by at most that many 2^-24 of S = scale * sum |q_d k_d|; a score error e
// moves the softmax weights by a factor within exp(+-e), so the output by at most
// 2e * M, where M = sum_j p_j |v_j|. The weighted sum of values, the running sum of the
// weights and their rescaling take at most len + 16 roundings (64 fmas a step, one rescale
// a step, expf within 2 ulp), adding (len + 16) 2^-24 M twice. We allow twice the total:
// 8 ((head_dim / 32 + 8) S + len + 16) 2^-24 M, about 1e-4 here. One wrong key or value
// row among len would move outputs by about |v| / len, over 50x that for every context
// tested.
void ExpectMatchesReference(const Shape& s, const TestBatch& b, const std::vector<float>& q,
                            const std::vector<float>& keys, const std::vector<float>& values,
                            const std::vector<float>& out) {
  const int64_t hd = s.head_dim, group = s.n_heads / s.n_kv_heads;
  const int64_t q_dim = s.n_heads * hd;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  int64_t t = 0;
  for (const KvChunk& chunk : b.chunks) {
    for (int64_t i = 0; i < chunk.n_tokens; ++i, ++t) {
      const int64_t len = chunk.start_pos + i + 1;
      std::vector<int64_t> rows(static_cast<size_t>(len));
      for (int64_t p = 0; p < len; ++p) rows[p] = HostRow(s, b, chunk, p);
      for (int64_t h = 0; h < s.n_heads; ++h) {
        const float* qh = &q[t * q_dim + h * hd];
        const int64_t kv_offset = (h / group) * hd;
        std::vector<double> w(static_cast<size_t>(len));
        double largest = -INFINITY, score_magnitude = 0.0, total = 0.0;
        for (int64_t p = 0; p < len; ++p) {
          double dot = 0.0, magnitude = 0.0;
          for (int64_t d = 0; d < hd; ++d) {
            dot += static_cast<double>(qh[d]) * keys[rows[p] + kv_offset + d];
            magnitude += std::fabs(static_cast<double>(qh[d]) * keys[rows[p] + kv_offset + d]);
          }
          w[p] = dot * scale;
          largest = std::max(largest, w[p]);
          score_magnitude = std::max(score_magnitude, magnitude * scale);
        }
        for (double& wp : w) total += (wp = std::exp(wp - largest));
        for (int64_t d = 0; d < hd; ++d) {
          double want = 0.0, magnitude = 0.0;
          for (int64_t p = 0; p < len; ++p) {
            const double vp = values[rows[p] + kv_offset + d];
            want += w[p] / total * vp;
            magnitude += w[p] / total * std::fabs(vp);
          }
          const double tolerance = 8.0 *
                                   ((hd / 32.0 + 8.0) * score_magnitude + len + 16.0) *
                                   0x1p-24 * magnitude;
          const float got = out[t * q_dim + h * hd + d];
          ASSERT_LE(std::fabs(got - want), tolerance)
              << "token " << t << " (position " << len - 1 << "), head " << h << ", element "
              << d << ": got " << got << ", want " << want;
        }
      }
    }
  }
}

class PagedAttentionCudaTest : public test::CudaTest {
 protected:
  // Writes the batch's K and V with WriteKvCuda into a random cache, runs
  // PagedAttentionCuda, and checks both against the host. Returns the batch so that
  // callers can check its sharing.
  TestBatch Check(const Shape& s, const std::vector<Sequence>& seqs, uint32_t seed) {
    SCOPED_TRACE(absl::StrFormat("heads %d/%d of %d, blocks of %d, seed %d", s.n_heads,
                                 s.n_kv_heads, s.head_dim, s.block_tokens, seed));
    std::mt19937 rng(seed);
    const TestBatch b = MakeBatch(seqs, s.block_tokens, rng);
    const int64_t kv_dim = s.n_kv_heads * s.head_dim, q_dim = s.n_heads * s.head_dim;
    std::vector<float> keys = RandomFloats(b.n_blocks * kLayers * s.block_tokens * kv_dim, rng);
    std::vector<float> values = RandomFloats(static_cast<int64_t>(keys.size()), rng);
    const std::vector<float> k = RandomFloats(b.n_tokens * kv_dim, rng);
    const std::vector<float> v = RandomFloats(b.n_tokens * kv_dim, rng);
    const std::vector<float> q = RandomFloats(b.n_tokens * q_dim, rng);

    DeviceBuffer keys_dev(keys.size() * sizeof(float)), values_dev(values.size() * sizeof(float));
    DeviceBuffer k_dev(k.size() * sizeof(float)), v_dev(v.size() * sizeof(float));
    DeviceBuffer q_dev(q.size() * sizeof(float)), out_dev(q.size() * sizeof(float));
    DeviceBuffer tables_dev(b.tables.size() * sizeof(int32_t));
    for (const DeviceBuffer* buf :
         {&keys_dev, &values_dev, &k_dev, &v_dev, &q_dev, &out_dev, &tables_dev}) {
      EXPECT_EQ(buf->error(), cudaSuccess);
    }
    EXPECT_EQ(test::Upload(keys, keys_dev), cudaSuccess);
    EXPECT_EQ(test::Upload(values, values_dev), cudaSuccess);
    EXPECT_EQ(test::Upload(k, k_dev), cudaSuccess);
    EXPECT_EQ(test::Upload(v, v_dev), cudaSuccess);
    EXPECT_EQ(test::Upload(q, q_dev), cudaSuccess);
    EXPECT_EQ(test::Upload(b.tables, tables_dev), cudaSuccess);
    // NaN everywhere, so an output left unwritten fails every comparison.
    EXPECT_EQ(cudaMemset(out_dev.get(), 0xff, q.size() * sizeof(float)), cudaSuccess);

    const DeviceKvCache cache{keys_dev.as<float>(), values_dev.as<float>(), b.n_blocks, kLayers,
                              s.block_tokens,       s.n_kv_heads,           s.head_dim};
    const KvBatch batch{b.chunks, tables_dev.as<int32_t>(),
                        static_cast<int64_t>(b.tables.size())};
    absl::Status status =
        WriteKvCuda(k_dev.as<float>(), v_dev.as<float>(), batch, cache, kLayer, nullptr);
    EXPECT_TRUE(status.ok()) << status;
    status = PagedAttentionCuda(q_dev.as<float>(), s.n_heads, batch, cache, kLayer,
                                out_dev.as<float>(), nullptr);
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);

    std::vector<float> out(q.size()), keys_after(keys.size()), values_after(values.size());
    EXPECT_EQ(test::Download(out_dev, out), cudaSuccess);
    EXPECT_EQ(test::Download(keys_dev, keys_after), cudaSuccess);
    EXPECT_EQ(test::Download(values_dev, values_after), cudaSuccess);
    WriteOnHost(s, b, k, v, keys, values);
    // The new rows where they belong and nothing else touched, bit for bit.
    EXPECT_TRUE(keys_after == keys);
    EXPECT_TRUE(values_after == values);
    ExpectMatchesReference(s, b, q, keys, values, out);
    return b;
  }
};

// GQA ratios 1, 3 (SmolLM2: 9 query heads over 3 kv heads of 64) and 4; head_dim 40 is
// not a multiple of the warp.
constexpr Shape kShapes[] = {{4, 4, 32, 16}, {6, 6, 40, 16}, {9, 3, 64, 16}, {8, 2, 64, 16},
                             {4, 4, 32, 1},  {6, 6, 40, 1},  {9, 3, 64, 1},  {8, 2, 64, 1}};

TEST_F(PagedAttentionCudaTest, DecodeBatches) {
  // Contexts on both sides of the 16-token blocks and of the kernel's 64-key steps.
  const std::vector<Sequence> seqs = {{40, 1}, {130, 1}, {1, 1}, {15, 1},
                                      {16, 1}, {17, 1},  {64, 1}, {65, 1}};
  uint32_t seed = 1;
  for (const Shape& s : kShapes) {
    const TestBatch b = Check(s, seqs, seed++);
    EXPECT_GT(b.shared_blocks, 0);
  }
}

TEST_F(PagedAttentionCudaTest, PrefillChunks) {
  uint32_t seed = 100;
  for (const Shape& s : kShapes) {
    Check(s, {{37, 37}}, seed++);   // a whole prompt from position 0
    Check(s, {{100, 30}}, seed++);  // a later chunk of a prompt, crossing blocks and steps
  }
}

TEST_F(PagedAttentionCudaTest, MixedBatches) {
  // Decodes and prefill chunks together; the first two share their prefix.
  const std::vector<Sequence> seqs = {{50, 1}, {53, 20}, {17, 1}, {5, 5}, {129, 3}};
  uint32_t seed = 200;
  for (const Shape& s : kShapes) {
    const TestBatch b = Check(s, seqs, seed++);
    EXPECT_GT(b.shared_blocks, 0);
  }
}

TEST_F(PagedAttentionCudaTest, MoreChunksThanOneLaunchHolds) {
  // 150 sequences: three launches of at most 64 chunks.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> context(1, 40);
  std::vector<Sequence> seqs;
  for (int i = 0; i < 150; ++i) seqs.push_back({context(rng), i % 5 == 0 ? 2 : 1});
  seqs[0].context = seqs[1].context = 40;  // room for a shared prefix
  Check({9, 3, 64, 16}, seqs, 300);
}

TEST_F(PagedAttentionCudaTest, BlockOutsideTheCacheGivesNaNAndNoWrite) {
  // Block ids live on the device, beyond the host's checks: a bad one must not be read
  // or written through.
  const int64_t hd = 32, kv_dim = 2 * hd, n_blocks = 2, bt = 4;
  std::mt19937 rng(9);
  const std::vector<float> keys = RandomFloats(n_blocks * bt * kv_dim, rng);
  const std::vector<float> q = RandomFloats(2 * 2 * hd, rng), k = RandomFloats(2 * kv_dim, rng);
  const std::vector<int32_t> tables = {1, 0, 1, 2};  // sequence 1's second block is id 2
  const std::vector<KvChunk> chunks = {{5, 1, 0, 2}, {5, 1, 2, 2}};
  constexpr size_t kF = sizeof(float);
  DeviceBuffer keys_dev(keys.size() * kF), values_dev(keys.size() * kF), q_dev(q.size() * kF),
      k_dev(k.size() * kF), out_dev(q.size() * kF), tables_dev(tables.size() * sizeof(int32_t));
  ASSERT_CUDA_OK(test::Upload(keys, keys_dev));
  ASSERT_CUDA_OK(test::Upload(keys, values_dev));
  ASSERT_CUDA_OK(test::Upload(q, q_dev));
  ASSERT_CUDA_OK(test::Upload(k, k_dev));
  ASSERT_CUDA_OK(test::Upload(tables, tables_dev));
  const DeviceKvCache cache{keys_dev.as<float>(), values_dev.as<float>(), n_blocks, 1, bt, 2, hd};
  const KvBatch batch{chunks, tables_dev.as<int32_t>(), 4};
  ASSERT_TRUE(WriteKvCuda(k_dev.as<float>(), k_dev.as<float>(), batch, cache, 0, nullptr).ok());
  ASSERT_TRUE(PagedAttentionCuda(q_dev.as<float>(), 2, batch, cache, 0, out_dev.as<float>(),
                                 nullptr)
                  .ok());
  std::vector<float> out(q.size()), keys_after(keys.size());
  ASSERT_CUDA_OK(test::Download(out_dev, out));
  ASSERT_CUDA_OK(test::Download(keys_dev, keys_after));
  // Only sequence 0's token wrote: position 5 is slot 1 of its second block, id 0.
  std::vector<float> want_keys = keys;
  std::copy_n(k.begin(), kv_dim, want_keys.begin() + kv_dim);
  EXPECT_TRUE(keys_after == want_keys);
  for (int64_t e = 0; e < 2 * hd; ++e) {
    EXPECT_FALSE(std::isnan(out[e])) << e;
    EXPECT_TRUE(std::isnan(out[2 * hd + e])) << e;
  }
}

// Argument checks happen before any CUDA call, so these run without a GPU; the pointers
// are host addresses the functions must never dereference or hand to CUDA.
TEST(PagedAttentionCudaArgsTest, InvalidArgumentsWithoutTouchingTheDevice) {
  static float q[64], out[64], keys[64], values[64];
  static const int32_t tables[4] = {0, 1, 2, 3};
  const DeviceKvCache cache{keys, values, 4, 2, 16, 2, 8};
  const KvChunk chunk{10, 3, 0, 1};  // positions 10..12 of one block of 16
  const KvBatch batch{absl::MakeConstSpan(&chunk, 1), tables, 4};
  const auto attention = [&](const float* q_, int64_t n_heads, const KvBatch& b,
                             const DeviceKvCache& c, int64_t layer, float* out_) {
    return PagedAttentionCuda(q_, n_heads, b, c, layer, out_, nullptr);
  };
  const auto write = [&](const float* k, const KvBatch& b, const DeviceKvCache& c,
                         int64_t layer) { return WriteKvCuda(k, k, b, c, layer, nullptr); };
  const auto invalid = [](const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_FALSE(s.message().empty());
  };
  // Null pointers.
  invalid(attention(nullptr, 4, batch, cache, 0, out));
  invalid(attention(q, 4, batch, cache, 0, nullptr));
  invalid(attention(q, 4, {batch.chunks, nullptr, 4}, cache, 0, out));
  invalid(attention(q, 4, batch, {nullptr, values, 4, 2, 16, 2, 8}, 0, out));
  invalid(attention(q, 4, batch, {keys, nullptr, 4, 2, 16, 2, 8}, 0, out));
  invalid(write(nullptr, batch, cache, 0));
  invalid(write(q, batch, {keys, nullptr, 4, 2, 16, 2, 8}, 0));
  // Head counts: not a multiple of the kv heads, none, a group too large.
  invalid(attention(q, 3, batch, cache, 0, out));
  invalid(attention(q, 0, batch, cache, 0, out));
  invalid(attention(q, 2 * 33, batch, cache, 0, out));
  invalid(attention(q, 2 * 16, batch, {keys, values, 4, 2, 16, 2, 512}, 0, out));
  // Positions beyond the table, a table beyond the entries, empty or negative chunks.
  for (const KvChunk& bad : {KvChunk{14, 3, 0, 1}, KvChunk{16, 1, 0, 1}, KvChunk{0, 1, 3, 2},
                             KvChunk{0, 1, 5, 0}, KvChunk{0, 0, 0, 1}, KvChunk{-1, 1, 0, 1},
                             KvChunk{0, 1, -1, 1}}) {
    const KvBatch b{absl::MakeConstSpan(&bad, 1), tables, 4};
    invalid(attention(q, 4, b, cache, 0, out));
    invalid(write(q, b, cache, 0));
  }
  // Cache shape and layer.
  for (const DeviceKvCache& bad :
       {DeviceKvCache{keys, values, 0, 2, 16, 2, 8}, DeviceKvCache{keys, values, 4, 0, 16, 2, 8},
        DeviceKvCache{keys, values, 4, 2, 0, 2, 8}, DeviceKvCache{keys, values, 4, 2, 16, 0, 8},
        DeviceKvCache{keys, values, 4, 2, 16, 2, 0},
        DeviceKvCache{keys, values, int64_t{1} << 40, 2, 1 << 20, 2, 8}}) {
    invalid(attention(q, 4, batch, bad, 0, out));
    invalid(write(q, batch, bad, 0));
  }
  invalid(attention(q, 4, batch, cache, 2, out));
  invalid(write(q, batch, cache, -1));
  // No chunks: nothing to do, even with null pointers.
  const KvBatch empty{{}, nullptr, 0};
  EXPECT_TRUE(attention(nullptr, 4, empty, cache, 0, nullptr).ok());
  EXPECT_TRUE(write(nullptr, empty, cache, 0).ok());
}

}  // namespace
}  // namespace hearth::cuda
