// NcclCommunicator: argument checks and the device-count precondition run on any machine;
// the all-reduce runs where there are devices (one: the identity; two or more: the sum of
// random buffers, compared with a host reference).
#include "kernels/cuda/nccl_comm.h"

#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cuda/cuda_test_util.h"

namespace hearth::cuda {
namespace {

using ::testing::HasSubstr;

int DeviceCount() {
  const absl::StatusOr<int> count = CudaDeviceCount();
  EXPECT_TRUE(count.ok()) << count.status();
  return count.ok() ? *count : 0;
}

TEST(NcclCommunicatorTest, RefusesBadRankLists) {
  EXPECT_EQ(NcclCommunicator::Create(0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NcclCommunicator::Create(std::vector<int>{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NcclCommunicator::Create(std::vector<int>{0, -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const auto twice = NcclCommunicator::Create(std::vector<int>{0, 0});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(twice.status().message(), HasSubstr("device 0 appears twice"));
}

TEST(NcclCommunicatorTest, MoreRanksThanDevicesIsFailedPrecondition) {
  const int devices = DeviceCount();
  const auto comm = NcclCommunicator::Create(devices + 1);
  ASSERT_FALSE(comm.ok());
  EXPECT_EQ(comm.status().code(), absl::StatusCode::kFailedPrecondition) << comm.status();
  EXPECT_THAT(comm.status().message(), HasSubstr("CUDA device"));
}

// Values k/4 for integers |k| <= 4096: every partial sum of up to 2^12 ranks is exact in
// float, so NCCL's summation order (ring or tree) cannot change the result.
std::vector<float> ExactRandom(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> k(-4096, 4096);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(k(rng)) / 4.0f;
  return v;
}

class NcclAllReduceTest : public test::CudaTest {};

TEST_F(NcclAllReduceTest, OneRankIsTheIdentity) {
  absl::StatusOr<std::unique_ptr<NcclCommunicator>> comm = NcclCommunicator::Create(1);
  ASSERT_TRUE(comm.ok()) << comm.status();
  ASSERT_EQ((*comm)->n_ranks(), 1);
  constexpr size_t kN = 1000;
  const std::vector<float> host = ExactRandom(kN, 7);
  ASSERT_CUDA_OK(cudaSetDevice(0));
  test::DeviceBuffer buf(kN * sizeof(float));
  ASSERT_CUDA_OK(buf.error());
  ASSERT_CUDA_OK(test::Upload(host, buf));
  float* bufs[] = {buf.as<float>()};
  ASSERT_TRUE((*comm)->AllReduceSum(bufs, kN).ok());
  ASSERT_TRUE((*comm)->Synchronize().ok());
  std::vector<float> back(kN);
  ASSERT_CUDA_OK(test::Download(buf, back));
  EXPECT_EQ(back, host);
  EXPECT_EQ((*comm)->AllReduceSum(bufs, -1).code(), absl::StatusCode::kInvalidArgument);
  float* two[] = {bufs[0], bufs[0]};
  EXPECT_EQ((*comm)->AllReduceSum(two, kN).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NcclAllReduceTest, SumsAcrossAllDevices) {
  const int ranks = DeviceCount();
  if (ranks < 2) GTEST_SKIP() << "one CUDA device: the multi-rank all-reduce needs two";
  if (!NcclAvailable()) GTEST_SKIP() << "built without NCCL";
  absl::StatusOr<std::unique_ptr<NcclCommunicator>> comm = NcclCommunicator::Create(ranks);
  ASSERT_TRUE(comm.ok()) << comm.status();
  constexpr size_t kN = (1 << 20) + 3;  // not a multiple of any chunk size
  std::vector<std::vector<float>> host;
  std::vector<float> expected(kN, 0.0f);
  std::vector<std::unique_ptr<test::DeviceBuffer>> bufs;
  std::vector<float*> ptrs;
  for (int r = 0; r < ranks; ++r) {
    host.push_back(ExactRandom(kN, 100 + static_cast<uint32_t>(r)));
    for (size_t i = 0; i < kN; ++i) expected[i] += host.back()[i];
    ASSERT_CUDA_OK(cudaSetDevice((*comm)->device(r)));
    bufs.push_back(std::make_unique<test::DeviceBuffer>(kN * sizeof(float)));
    ASSERT_CUDA_OK(bufs.back()->error());
    ASSERT_CUDA_OK(test::Upload(host.back(), *bufs.back()));
    ptrs.push_back(bufs.back()->as<float>());
  }
  const absl::Status s = (*comm)->AllReduceSum(ptrs, static_cast<int64_t>(kN));
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE((*comm)->Synchronize().ok());
  for (int r = 0; r < ranks; ++r) {
    ASSERT_CUDA_OK(cudaSetDevice((*comm)->device(r)));
    std::vector<float> back(kN);
    ASSERT_CUDA_OK(test::Download(*bufs[static_cast<size_t>(r)], back));
    EXPECT_EQ(back, expected) << "rank " << r;
  }
  // Buffers are freed on their own device.
  for (int r = ranks - 1; r >= 0; --r) {
    ASSERT_CUDA_OK(cudaSetDevice((*comm)->device(r)));
    bufs.pop_back();
  }
  ASSERT_CUDA_OK(cudaSetDevice(0));
}

}  // namespace
}  // namespace hearth::cuda
