// Helpers shared by the CUDA backend tests: device buffers, CUDA status assertions, and
// a fixture that skips a test where no GPU (or driver) is present.
#ifndef HEARTH_TESTS_CUDA_CUDA_TEST_UTIL_H_
#define HEARTH_TESTS_CUDA_CUDA_TEST_UTIL_H_

#include <cstddef>
#include <vector>

#include <cuda_runtime_api.h>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "kernels/cuda/dequantize.cuh"

namespace hearth::cuda::test {

#define ASSERT_CUDA_OK(expr)                                                            \
  do {                                                                                  \
    const cudaError_t hearth_err = (expr);                                              \
    ASSERT_EQ(hearth_err, cudaSuccess) << #expr << ": " << cudaGetErrorName(hearth_err) \
                                       << " " << cudaGetErrorString(hearth_err);        \
  } while (0)

// Device buffer freed on scope exit.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) {
    if (bytes > 0) error_ = cudaMalloc(&ptr_, bytes);
  }
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return ptr_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  cudaError_t error() const { return error_; }

 private:
  void* ptr_ = nullptr;
  cudaError_t error_ = cudaSuccess;
};

// Copies a host vector to the device buffer (sized for it) or back.
template <class T>
cudaError_t Upload(const std::vector<T>& host, const DeviceBuffer& device) {
  return cudaMemcpy(device.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
}
template <class T>
cudaError_t Download(const DeviceBuffer& device, std::vector<T>& host) {
  return cudaMemcpy(host.data(), device.get(), host.size() * sizeof(T), cudaMemcpyDeviceToHost);
}

// Base fixture of every test that runs kernels: skips where CudaDeviceCount() is 0.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::StatusOr<int> count = CudaDeviceCount();
    ASSERT_TRUE(count.ok()) << count.status();
    if (*count == 0) GTEST_SKIP() << "no CUDA device or driver: GPU test skipped";
  }
};

}  // namespace hearth::cuda::test

#endif  // HEARTH_TESTS_CUDA_CUDA_TEST_UTIL_H_
