// TensorParallelPlan on the CPU: R ranks are simulated for one transformer layer, each
// computing with only its own weight slices, and the summed partial outputs are compared
// with the unsplit computation.
//
// Two arithmetics are checked:
//  - the CPU kernels (kernels/cpu/matmul.h) on the sliced GGUF bytes, as a GPU rank would
//    run them: this proves the slices are valid matrices in their own right and that a
//    block-aligned column split leaves the quantised activation blocks unchanged;
//  - float64 on the dequantised weights, where only the summation order changes.
// Row splits (Wq/Wk/Wv, W_gate/W_up) and the head-local attention must be bit-exact: the
// kernels' results depend only on the weight row and the activation row. Column splits
// (Wo, W_down) change the order of a sum of `cols` products, so the split and unsplit
// results may differ by rounding: for a sum of n terms in precision eps each result is
// within (n - 1) * eps * sum|terms| of the exact sum (Higham's bound), so the two differ by
// at most 2 * (cols + R) * eps * sum|w * x|, with the R - 1 additions of the partials.
#include "lib/model/tensor_parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_types.h"
#include "lib/gguf/gguf_file.h"
#include "lib/model/llama_config.h"
#include "lib/model/llama_weights.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

const std::string kSource = HEARTH_SOURCE_DIR;
const std::string kStories = kSource + "/tests/data/models/stories260K.gguf";
const std::string kSmolLm2 = kSource + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

constexpr LayerMatrix kAllMatrices[] = {LayerMatrix::kWq,    LayerMatrix::kWk,
                                        LayerMatrix::kWv,    LayerMatrix::kWo,
                                        LayerMatrix::kWGate, LayerMatrix::kWUp,
                                        LayerMatrix::kWDown};

struct Model {
  std::unique_ptr<GgufFile> file;
  LlamaConfig config;
  LlamaWeights weights;
};

std::unique_ptr<Model> LoadModel(const std::string& path) {
  auto model = std::make_unique<Model>();
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(path);
  if (!file.ok()) return nullptr;
  model->file = *std::move(file);
  absl::StatusOr<LlamaConfig> config = ReadLlamaConfig(*model->file);
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return nullptr;
  model->config = *config;
  absl::StatusOr<LlamaWeights> weights = BindLlamaWeights(*model->file, &model->config);
  EXPECT_TRUE(weights.ok()) << weights.status();
  if (!weights.ok()) return nullptr;
  model->weights = *std::move(weights);
  return model;
}

// ---------------------------------------------------------------------------------------
// Matrix products, by kernel and in float64.

// y (T, w.rows) = x (T, w.cols) @ w^T with the CPU kernels.
std::vector<float> KernelMatMul(const WeightMatrix& w, const std::vector<float>& x, int64_t t) {
  std::vector<std::byte> xq(cpu::ActivationRowBytes(w.type, w.cols) * static_cast<size_t>(t) +
                            sizeof(float));
  cpu::PrepareActivations(w.type, x.data(), t, w.cols, xq.data());
  std::vector<float> y(static_cast<size_t>(t * w.rows));
  cpu::MatMulRows(w.type, w.data, w.cols, 0, w.rows, xq.data(), t, y.data(), w.rows);
  return y;
}

std::vector<double> Dequantize(const WeightMatrix& w) {
  std::vector<double> out(static_cast<size_t>(w.rows * w.cols));
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    cpu::DequantizeRow(w.type, w.data, w.cols, r, row.data());
    std::copy(row.begin(), row.end(), out.begin() + r * w.cols);
  }
  return out;
}

// Columns [c.begin, c.end) of x (t, cols).
std::vector<float> Columns(const std::vector<float>& x, int64_t t, int64_t cols, IndexRange c) {
  std::vector<float> out;
  for (int64_t i = 0; i < t; ++i) {
    out.insert(out.end(), x.begin() + i * cols + c.begin, x.begin() + i * cols + c.end);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// One rank's view of a row split: its output columns must equal the unsplit ones bit for bit.
std::vector<float> CheckRowSplit(const TensorParallelPlan& plan, LayerMatrix m,
                                 const WeightMatrix& w, const std::vector<float>& x,
                                 int64_t t) {
  SCOPED_TRACE(LayerMatrixName(m));
  const std::vector<float> full = KernelMatMul(w, x, t);
  std::vector<float> concat(full.size());
  for (int r = 0; r < plan.tp_size(); ++r) {
    absl::StatusOr<WeightShard> shard = ShardWeight(plan, m, w, r);
    EXPECT_TRUE(shard.ok()) << shard.status();
    if (!shard.ok()) return full;
    const IndexRange rows = plan.Split(m, r).range;
    EXPECT_EQ(shard->rows, rows.size());
    const std::vector<float> part = KernelMatMul(shard->view(), x, t);
    for (int64_t i = 0; i < t; ++i) {
      std::copy(part.begin() + i * rows.size(), part.begin() + (i + 1) * rows.size(),
                concat.begin() + i * w.rows + rows.begin);
    }
  }
  EXPECT_EQ(std::memcmp(concat.data(), full.data(), full.size() * sizeof(float)), 0)
      << "rank outputs of a row split differ from the unsplit product";
  return full;
}

struct SumError {
  double kernel = 0;  // max over outputs of |sum of partials - unsplit| / sum|w x|
  double f64 = 0;
};

// A column split: every rank multiplies its columns of w by its columns of x; the partial
// (t, w.rows) outputs are summed (the all-reduce) and compared with the unsplit product.
SumError CheckColumnSplitSum(const TensorParallelPlan& plan, LayerMatrix m,
                             const WeightMatrix& w, const std::vector<float>& x, int64_t t) {
  SCOPED_TRACE(LayerMatrixName(m));
  const int ranks = plan.tp_size();
  const size_t out_n = static_cast<size_t>(t * w.rows);

  // The kernels, as each rank would run them.
  const std::vector<float> full = KernelMatMul(w, x, t);
  std::vector<std::byte> full_prepared(cpu::ActivationRowBytes(w.type, w.cols) *
                                       static_cast<size_t>(t) + sizeof(float));
  cpu::PrepareActivations(w.type, x.data(), t, w.cols, full_prepared.data());
  std::vector<float> sum(out_n, 0.0f);
  std::vector<double> sum64(out_n, 0.0);
  const std::vector<double> wd = Dequantize(w);
  for (int r = 0; r < ranks; ++r) {
    absl::StatusOr<WeightShard> shard = ShardWeight(plan, m, w, r);
    EXPECT_TRUE(shard.ok()) << shard.status();
    if (!shard.ok()) return {};
    const IndexRange cols = plan.Split(m, r).range;
    EXPECT_EQ(shard->cols, cols.size());
    const std::vector<float> xr = Columns(x, t, w.cols, cols);
    // The block-aligned column split leaves the prepared (quantised) activation blocks as
    // they are in the unsplit product: a rank's prepared input is a byte slice of it.
    std::vector<std::byte> xr_prepared(cpu::ActivationRowBytes(w.type, cols.size()) *
                                       static_cast<size_t>(t) + sizeof(float));
    cpu::PrepareActivations(w.type, xr.data(), t, cols.size(), xr_prepared.data());
    const size_t full_row = cpu::ActivationRowBytes(w.type, w.cols);
    const size_t part_row = cpu::ActivationRowBytes(w.type, cols.size());
    const size_t offset = cpu::ActivationRowBytes(w.type, cols.begin);
    for (int64_t i = 0; i < t; ++i) {
      EXPECT_EQ(std::memcmp(xr_prepared.data() + i * part_row,
                            full_prepared.data() + i * full_row + offset, part_row),
                0)
          << "rank " << r << " token " << i;
    }
    const std::vector<float> part = KernelMatMul(shard->view(), xr, t);
    for (size_t j = 0; j < out_n; ++j) sum[j] += part[j];  // the all-reduce, in rank order

    // float64 on the dequantised slice.
    const std::vector<double> wr = Dequantize(shard->view());
    for (int64_t i = 0; i < t; ++i) {
      for (int64_t o = 0; o < w.rows; ++o) {
        double acc = 0;
        for (int64_t k = 0; k < cols.size(); ++k) {
          acc += wr[o * cols.size() + k] * static_cast<double>(xr[i * cols.size() + k]);
        }
        sum64[i * w.rows + o] += acc;
      }
    }
  }

  SumError err;
  const double eps32 = std::numeric_limits<float>::epsilon();
  const double eps64 = std::numeric_limits<double>::epsilon();
  const double n_terms = static_cast<double>(w.cols + ranks);
  for (int64_t i = 0; i < t; ++i) {
    for (int64_t o = 0; o < w.rows; ++o) {
      double full64 = 0;
      double abs_sum = 0;
      for (int64_t k = 0; k < w.cols; ++k) {
        const double term = wd[o * w.cols + k] * static_cast<double>(x[i * w.cols + k]);
        full64 += term;
        abs_sum += std::fabs(term);
      }
      const size_t j = static_cast<size_t>(i * w.rows + o);
      // The kernels quantise activations to 8 bits: |x_q| <= |x| * (1 + 1/127) per element
      // at most, hence the factor 1.01 on sum|w x|.
      const double kernel_tol = 2 * n_terms * eps32 * abs_sum * 1.01 + 1e-30;
      const double f64_tol = 2 * n_terms * eps64 * abs_sum + 1e-300;
      const double dk = std::fabs(static_cast<double>(sum[j]) - full[j]);
      const double dd = std::fabs(sum64[j] - full64);
      EXPECT_LE(dk, kernel_tol) << "token " << i << " output " << o;
      EXPECT_LE(dd, f64_tol) << "token " << i << " output " << o;
      if (abs_sum > 0) {
        err.kernel = std::max(err.kernel, dk / abs_sum);
        err.f64 = std::max(err.f64, dd / abs_sum);
      }
    }
  }
  if (ranks == 1) {
    EXPECT_EQ(std::memcmp(sum.data(), full.data(), out_n * sizeof(float)), 0)
        << "tp_size 1 must be the identity";
  }
  return err;
}

// Causal multi-head attention over t positions (no RoPE: it rotates within one head and
// position, so it is as head-local as the rest), GQA with n_heads / n_kv_heads queries per
// KV head. q (t, n_heads*hd), k and v (t, n_kv_heads*hd) -> (t, n_heads*hd).
std::vector<float> Attention(const std::vector<float>& q, const std::vector<float>& k,
                             const std::vector<float>& v, int64_t t, int64_t n_heads,
                             int64_t n_kv_heads, int64_t hd) {
  std::vector<float> out(static_cast<size_t>(t * n_heads * hd));
  const int64_t group = n_heads / n_kv_heads;
  for (int64_t h = 0; h < n_heads; ++h) {
    const int64_t kh = h / group;
    for (int64_t i = 0; i < t; ++i) {
      std::vector<double> score(static_cast<size_t>(i + 1));
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j <= i; ++j) {
        double s = 0;
        for (int64_t d = 0; d < hd; ++d) {
          s += static_cast<double>(q[(i * n_heads + h) * hd + d]) *
               k[(j * n_kv_heads + kh) * hd + d];
        }
        score[j] = s / std::sqrt(static_cast<double>(hd));
        max = std::max(max, score[j]);
      }
      double z = 0;
      for (double& s : score) z += (s = std::exp(s - max));
      for (int64_t d = 0; d < hd; ++d) {
        double acc = 0;
        for (int64_t j = 0; j <= i; ++j) acc += score[j] / z * v[(j * n_kv_heads + kh) * hd + d];
        out[(i * n_heads + h) * hd + d] = static_cast<float>(acc);
      }
    }
  }
  return out;
}

std::vector<float> RandomActivations(int64_t t, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(t * n));
  for (float& v : x) v = dist(rng);
  return x;
}

// One layer on R simulated ranks: the attention block up to the all-reduce after Wo and
// the FFN block up to the all-reduce after W_down.
void SimulateLayer(const LlamaConfig& config, const LayerWeights& layer, int tp_size) {
  SCOPED_TRACE(testing::Message() << "tp_size " << tp_size);
  absl::StatusOr<TensorParallelPlan> plan = TensorParallelPlan::Create(config, tp_size);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (const LayerMatrix m : {LayerMatrix::kWo, LayerMatrix::kWDown}) {
    ASSERT_TRUE(plan->CheckColumnSplit(m, GetLayerMatrix(layer, m).type).ok());
  }
  constexpr int64_t t = 4;
  const int64_t hd = config.head_dim;

  // Attention: Q/K/V row splits (bit-exact), head-local attention (bit-exact), Wo summed.
  const std::vector<float> x = RandomActivations(t, config.dim, 1234);
  const std::vector<float> q = CheckRowSplit(*plan, LayerMatrix::kWq, layer.wq, x, t);
  const std::vector<float> k = CheckRowSplit(*plan, LayerMatrix::kWk, layer.wk, x, t);
  const std::vector<float> v = CheckRowSplit(*plan, LayerMatrix::kWv, layer.wv, x, t);
  const std::vector<float> attn =
      Attention(q, k, v, t, config.n_heads, config.n_kv_heads, hd);
  const LlamaConfig rank_config = plan->RankConfig();
  for (int r = 0; r < tp_size; ++r) {
    const RankShard& s = plan->shard(r);
    const std::vector<float> rank_attn =
        Attention(Columns(q, t, config.q_dim(), s.q_dims), Columns(k, t, config.kv_dim(), s.kv_dims),
                  Columns(v, t, config.kv_dim(), s.kv_dims), t, rank_config.n_heads,
                  rank_config.n_kv_heads, hd);
    EXPECT_EQ(rank_attn, Columns(attn, t, config.q_dim(), s.q_dims)) << "rank " << r;
  }
  const SumError wo = CheckColumnSplitSum(*plan, LayerMatrix::kWo, layer.wo, attn, t);

  // FFN: gate/up row splits (bit-exact), SiLU(gate) * up local, W_down summed.
  const std::vector<float> xf = RandomActivations(t, config.dim, 5678);
  const std::vector<float> gate = CheckRowSplit(*plan, LayerMatrix::kWGate, layer.w_gate, xf, t);
  const std::vector<float> up = CheckRowSplit(*plan, LayerMatrix::kWUp, layer.w_up, xf, t);
  std::vector<float> h(gate.size());
  for (size_t i = 0; i < h.size(); ++i) h[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  const SumError down = CheckColumnSplitSum(*plan, LayerMatrix::kWDown, layer.w_down, h, t);

  std::printf("  tp %d, %s: max |sum of partials - unsplit| / sum|w x|: attn_output kernel "
              "%.2e float64 %.2e; ffn_down kernel %.2e float64 %.2e\n",
              tp_size, std::string(cpu::TypeName(static_cast<uint32_t>(layer.wo.type))).c_str(),
              wo.kernel, wo.f64, down.kernel, down.f64);
}

// Concatenating every rank's slice gives back the matrix, byte for byte.
void CheckSlicesReassemble(const TensorParallelPlan& plan, const WeightMatrix& w,
                           LayerMatrix m) {
  SCOPED_TRACE(LayerMatrixName(m));
  const size_t row_bytes = cpu::RowBytes(w.type, w.cols);
  std::vector<std::byte> whole(static_cast<size_t>(w.rows) * row_bytes);
  const MatrixSplit first = plan.Split(m, 0);
  if (first.axis == SplitAxis::kRows) {
    size_t at = 0;
    for (int r = 0; r < plan.tp_size(); ++r) {
      absl::StatusOr<WeightShard> s = ShardWeight(plan, m, w, r);
      ASSERT_TRUE(s.ok()) << s.status();
      ASSERT_EQ(s->bytes.size(), static_cast<size_t>(s->rows) * row_bytes);
      std::memcpy(whole.data() + at, s->bytes.data(), s->bytes.size());
      at += s->bytes.size();
    }
    ASSERT_EQ(at, whole.size());
  } else {
    size_t col_offset = 0;
    for (int r = 0; r < plan.tp_size(); ++r) {
      absl::StatusOr<WeightShard> s = ShardWeight(plan, m, w, r);
      ASSERT_TRUE(s.ok()) << s.status();
      ASSERT_EQ(s->rows, w.rows);
      const size_t slice_row = cpu::RowBytes(w.type, s->cols);
      ASSERT_EQ(s->bytes.size(), static_cast<size_t>(w.rows) * slice_row);
      for (int64_t row = 0; row < w.rows; ++row) {
        std::memcpy(whole.data() + row * row_bytes + col_offset,
                    s->bytes.data() + row * slice_row, slice_row);
      }
      col_offset += slice_row;
    }
    ASSERT_EQ(col_offset, row_bytes);
  }
  EXPECT_EQ(std::memcmp(whole.data(), w.data, whole.size()), 0);
}

void CheckAllSlices(const LlamaConfig& config, const LlamaWeights& weights, int tp_size) {
  SCOPED_TRACE(testing::Message() << "tp_size " << tp_size);
  absl::StatusOr<TensorParallelPlan> plan = TensorParallelPlan::Create(config, weights, tp_size);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (size_t l = 0; l < weights.layers.size(); ++l) {
    SCOPED_TRACE(testing::Message() << "layer " << l);
    for (const LayerMatrix m : kAllMatrices) {
      CheckSlicesReassemble(*plan, GetLayerMatrix(weights.layers[l], m), m);
    }
  }
}

void ExpectRefused(const LlamaConfig& config, int tp_size, const std::string& message) {
  const absl::StatusOr<TensorParallelPlan> plan = TensorParallelPlan::Create(config, tp_size);
  ASSERT_FALSE(plan.ok()) << "tp_size " << tp_size << " accepted";
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr(message)) << plan.status();
}

// ---------------------------------------------------------------------------------------

TEST(TensorParallelPlanTest, ShardsOfSmolLm2Shape) {
  LlamaConfig c;
  c.dim = 576;
  c.n_heads = 9;
  c.n_kv_heads = 3;
  c.head_dim = 64;
  c.ffn_dim = 1536;
  c.n_layers = 30;
  absl::StatusOr<TensorParallelPlan> plan = TensorParallelPlan::Create(c, 3);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->tp_size(), 3);
  const RankShard& s = plan->shard(1);
  EXPECT_EQ(s.q_heads, (IndexRange{3, 6}));
  EXPECT_EQ(s.kv_heads, (IndexRange{1, 2}));
  EXPECT_EQ(s.q_dims, (IndexRange{192, 384}));
  EXPECT_EQ(s.kv_dims, (IndexRange{64, 128}));
  EXPECT_EQ(s.ffn, (IndexRange{512, 1024}));
  EXPECT_EQ(plan->Split(LayerMatrix::kWo, 2).axis, SplitAxis::kColumns);
  EXPECT_EQ(plan->Split(LayerMatrix::kWo, 2).range, (IndexRange{384, 576}));
  EXPECT_EQ(plan->Split(LayerMatrix::kWDown, 0).range, (IndexRange{0, 512}));
  EXPECT_EQ(plan->Split(LayerMatrix::kWUp, 0).axis, SplitAxis::kRows);
  const LlamaConfig rc = plan->RankConfig();
  EXPECT_EQ(rc.n_heads, 3);
  EXPECT_EQ(rc.n_kv_heads, 1);
  EXPECT_EQ(rc.ffn_dim, 512);
  EXPECT_EQ(rc.dim, 576);
  EXPECT_TRUE(plan->CheckColumnSplit(LayerMatrix::kWo, cpu::GgmlType::kQ4_1).ok());

  ExpectRefused(c, 0, "tp_size must be at least 1 (got 0)");
  ExpectRefused(c, -2, "tp_size must be at least 1");
  ExpectRefused(c, 2, "9 query heads do not split evenly across tp_size 2");
  ExpectRefused(c, 9, "3 KV heads do not split evenly across tp_size 9");
}

TEST(TensorParallelPlanTest, RefusesUnevenFfnAndCutBlocks) {
  LlamaConfig c;
  c.dim = 64;
  c.n_heads = 8;
  c.n_kv_heads = 4;
  c.head_dim = 8;
  c.ffn_dim = 172;
  ExpectRefused(c, 3, "8 query heads do not split evenly across tp_size 3");
  ExpectRefused(c, 8, "4 KV heads do not split evenly across tp_size 8");
  c.ffn_dim = 170;
  ExpectRefused(c, 4, "feed-forward width 170 does not split evenly across tp_size 4");

  // stories260K's shape with quantised weights: 16 columns of Wo per rank cut a block.
  c.ffn_dim = 256;
  absl::StatusOr<TensorParallelPlan> plan = TensorParallelPlan::Create(c, 4);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->CheckColumnSplit(LayerMatrix::kWo, cpu::GgmlType::kF32).ok());
  EXPECT_TRUE(plan->CheckColumnSplit(LayerMatrix::kWq, cpu::GgmlType::kQ4_0).ok());  // rows
  EXPECT_TRUE(plan->CheckColumnSplit(LayerMatrix::kWDown, cpu::GgmlType::kQ8_0).ok());  // 64
  const absl::Status s = plan->CheckColumnSplit(LayerMatrix::kWo, cpu::GgmlType::kQ4_1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tp_size 4 gives each rank 16 input columns of "
                                     "attn_output, not a multiple of the q4_1 block of 32"));

  // The weights overload finds it per layer.
  LlamaWeights w;
  w.layers.resize(2);
  w.layers[1].wo.type = cpu::GgmlType::kQ8_0;
  const absl::StatusOr<TensorParallelPlan> with_weights = TensorParallelPlan::Create(c, w, 4);
  ASSERT_FALSE(with_weights.ok());
  EXPECT_THAT(with_weights.status().message(), HasSubstr("layer 1: "));
  EXPECT_THAT(with_weights.status().message(), HasSubstr("q8_0 block of 32"));
}

TEST(TensorParallelSliceTest, ChecksRanges) {
  std::vector<std::byte> bytes(4 * cpu::RowBytes(cpu::GgmlType::kQ4_0, 64));
  const WeightMatrix w{cpu::GgmlType::kQ4_0, bytes.data(), 4, 64};
  EXPECT_FALSE(SliceRows(w, {2, 5}).ok());
  EXPECT_FALSE(SliceColumns(w, {0, 65}).ok());
  const absl::StatusOr<std::vector<std::byte>> cut = SliceColumns(w, {16, 48});
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(), HasSubstr("not aligned to its block of 32"));
  ASSERT_TRUE(SliceColumns(w, {32, 64}).ok());
  EXPECT_EQ(SliceColumns(w, {32, 64})->size(), 4 * sizeof(cpu::BlockQ4_0));
  ASSERT_TRUE(SliceRows(w, {1, 3}).ok());
  EXPECT_EQ(SliceRows(w, {1, 3})->data(), bytes.data() + sizeof(cpu::BlockQ4_0) * 2);
}

// Random quantised weights with SmolLM2's shapes, so the quantised path runs without the
// model file. Scales are fp16 0.01..0.02 (and Q4_1 minimums -0.1..0), the quants random.
struct SyntheticLayer {
  std::vector<std::vector<std::byte>> storage;
  LayerWeights layer;

  WeightMatrix Make(cpu::GgmlType type, int64_t rows, int64_t cols, std::mt19937& rng) {
    std::vector<std::byte>& b = storage.emplace_back(static_cast<size_t>(rows) *
                                                     cpu::RowBytes(type, cols));
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(0.01f, 0.02f);
    std::uniform_real_distribution<float> minimum(-0.1f, 0.0f);
    for (auto& x : b) x = static_cast<std::byte>(byte(rng));
    const size_t block = cpu::BlockBytes(type);
    for (size_t off = 0; off < b.size(); off += block) {
      const uint16_t d = cpu::Fp32ToFp16(scale(rng));
      std::memcpy(b.data() + off, &d, 2);
      if (type == cpu::GgmlType::kQ4_1) {
        const uint16_t m = cpu::Fp32ToFp16(minimum(rng));
        std::memcpy(b.data() + off + 2, &m, 2);
      }
    }
    return {type, b.data(), rows, cols};
  }
};

LlamaConfig SmolLm2Shape() {
  LlamaConfig c;
  c.n_layers = 1;
  c.dim = 576;
  c.n_heads = 9;
  c.n_kv_heads = 3;
  c.head_dim = 64;
  c.ffn_dim = 1536;
  return c;
}

class SyntheticTypeTest : public ::testing::TestWithParam<cpu::GgmlType> {};

TEST_P(SyntheticTypeTest, RandomWeightsOfSmolLm2Shape) {
  const LlamaConfig c = SmolLm2Shape();
  std::mt19937 rng(42);
  SyntheticLayer s;
  s.storage.reserve(7);
  const cpu::GgmlType type = GetParam();
  s.layer.wq = s.Make(type, c.q_dim(), c.dim, rng);
  s.layer.wk = s.Make(type, c.kv_dim(), c.dim, rng);
  s.layer.wv = s.Make(type, c.kv_dim(), c.dim, rng);
  s.layer.wo = s.Make(type, c.dim, c.q_dim(), rng);
  s.layer.w_gate = s.Make(type, c.ffn_dim, c.dim, rng);
  s.layer.w_up = s.Make(type, c.ffn_dim, c.dim, rng);
  s.layer.w_down = s.Make(type, c.dim, c.ffn_dim, rng);
  LlamaWeights w;
  w.layers.push_back(s.layer);
  for (const int tp : {1, 3}) {
    SimulateLayer(c, s.layer, tp);
    CheckAllSlices(c, w, tp);
  }
}

INSTANTIATE_TEST_SUITE_P(Types, SyntheticTypeTest,
                         ::testing::Values(cpu::GgmlType::kQ4_0, cpu::GgmlType::kQ4_1,
                                           cpu::GgmlType::kQ8_0, cpu::GgmlType::kF16),
                         [](const auto& param_info) {
                           const auto id = static_cast<uint32_t>(param_info.param);
                           return std::string(cpu::TypeName(id));
                         });

TEST(TensorParallelModelTest, Stories260K) {
  const std::unique_ptr<Model> model = LoadModel(kStories);
  ASSERT_NE(model, nullptr) << "cannot open " << kStories;
  const LlamaConfig& c = model->config;
  ASSERT_EQ(c.n_heads, 8);
  ASSERT_EQ(c.n_kv_heads, 4);
  ASSERT_EQ(c.ffn_dim, 172);
  // Valid: every R dividing 8 heads, 4 KV heads and 172 FFN columns (F32: block 1).
  for (const int tp : {1, 2, 4}) {
    for (const int64_t l : {int64_t{0}, c.n_layers - 1}) {
      SCOPED_TRACE(testing::Message() << "layer " << l);
      SimulateLayer(c, model->weights.layers[static_cast<size_t>(l)], tp);
    }
    CheckAllSlices(c, model->weights, tp);
  }
  ExpectRefused(c, 0, "tp_size must be at least 1");
  ExpectRefused(c, 3, "8 query heads do not split evenly across tp_size 3");
  ExpectRefused(c, 8, "4 KV heads do not split evenly across tp_size 8");
}

TEST(TensorParallelModelTest, SmolLm2) {
  if (!std::filesystem::exists(kSmolLm2)) {
    GTEST_SKIP() << kSmolLm2 << " not present (scripts/setup.sh extracts it)";
  }
  const std::unique_ptr<Model> model = LoadModel(kSmolLm2);
  ASSERT_NE(model, nullptr);
  const LlamaConfig& c = model->config;
  ASSERT_EQ(c.n_heads, 9);
  ASSERT_EQ(c.n_kv_heads, 3);
  ASSERT_EQ(c.ffn_dim, 1536);
  // Valid: 1 and 3 (the only divisors of 9 heads and 3 KV heads); 192 and 512 columns per
  // rank are whole Q4_1 blocks.
  for (const int tp : {1, 3}) {
    SimulateLayer(c, model->weights.layers[0], tp);
    SimulateLayer(c, model->weights.layers[static_cast<size_t>(c.n_layers - 1)], tp);
    CheckAllSlices(c, model->weights, tp);
  }
  ExpectRefused(c, 2, "9 query heads do not split evenly across tp_size 2");
  ExpectRefused(c, 9, "3 KV heads do not split evenly across tp_size 9");
  ExpectRefused(c, 0, "tp_size must be at least 1");
}

}  // namespace
}  // namespace hearth
