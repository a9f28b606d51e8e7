// RAII owners of the CUDA resources the CUDA backend holds (device memory, pinned host
// memory, a stream), and CUDA errors as absl::Status. Internal to lib/engine/cuda_backend*.
// Every owner frees what it holds on destruction, so a failure half-way through building
// the backend leaks nothing.
#ifndef HEARTH_LIB_ENGINE_CUDA_BACKEND_MEMORY_H_
#define HEARTH_LIB_ENGINE_CUDA_BACKEND_MEMORY_H_

#include <cstddef>
#include <string_view>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hearth::cuda_backend {

// cudaSuccess -> OK; an allocation failure -> ResourceExhausted; anything else ->
// Internal. The message names `what` and the CUDA error.
absl::Status CudaStatus(cudaError_t err, std::string_view what);

// cudaMalloc'd device memory.
class DeviceMemory {
 public:
  DeviceMemory() = default;
  ~DeviceMemory() { Reset(); }
  DeviceMemory(DeviceMemory&& other) noexcept;
  DeviceMemory& operator=(DeviceMemory&& other) noexcept;
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;

  // `bytes` of device memory (nothing, a null pointer, for 0); `what` names it in errors.
  static absl::StatusOr<DeviceMemory> Allocate(size_t bytes, std::string_view what);

  void* get() const { return ptr_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }
  void Reset();

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// cudaMallocHost'd (page-locked) host memory, for asynchronous copies.
class PinnedMemory {
 public:
  PinnedMemory() = default;
  ~PinnedMemory() { Reset(); }
  PinnedMemory(PinnedMemory&& other) noexcept;
  PinnedMemory& operator=(PinnedMemory&& other) noexcept;
  PinnedMemory(const PinnedMemory&) = delete;
  PinnedMemory& operator=(const PinnedMemory&) = delete;

  static absl::StatusOr<PinnedMemory> Allocate(size_t bytes, std::string_view what);

  void* get() const { return ptr_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }
  void Reset();

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// A non-blocking CUDA stream of the current device.
class CudaStream {
 public:
  CudaStream() = default;
  ~CudaStream() { Reset(); }
  CudaStream(CudaStream&& other) noexcept;
  CudaStream& operator=(CudaStream&& other) noexcept;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  static absl::StatusOr<CudaStream> Create();

  cudaStream_t get() const { return stream_; }
  void Reset();

 private:
  cudaStream_t stream_ = nullptr;
};

// Makes `device` current for the guard's lifetime and restores the previous one after.
class ScopedDevice {
 public:
  explicit ScopedDevice(int device);
  ~ScopedDevice();
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;
  // The result of making `device` current.
  const absl::Status& status() const { return status_; }

 private:
  int previous_ = -1;
  absl::Status status_;
};

}  // namespace hearth::cuda_backend

#endif  // HEARTH_LIB_ENGINE_CUDA_BACKEND_MEMORY_H_
