#include "lib/engine/cuda_backend_memory.h"

#include <string>
#include <utility>

#include "absl/strings/str_format.h"

namespace hearth::cuda_backend {

absl::Status CudaStatus(cudaError_t err, std::string_view what) {
  if (err == cudaSuccess) return absl::OkStatus();
  // Clears a non-sticky error so that a later cudaGetLastError does not report it again.
  (void)cudaGetLastError();
  const std::string message = absl::StrFormat("CUDA backend: %s failed: %s (%s)", what,
                                               cudaGetErrorName(err), cudaGetErrorString(err));
  if (err == cudaErrorMemoryAllocation) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

DeviceMemory::DeviceMemory(DeviceMemory&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceMemory& DeviceMemory::operator=(DeviceMemory&& other) noexcept {
  if (this != &other) {
    Reset();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

absl::StatusOr<DeviceMemory> DeviceMemory::Allocate(size_t bytes, std::string_view what) {
  DeviceMemory m;
  if (bytes == 0) return m;
  if (absl::Status s = CudaStatus(cudaMalloc(&m.ptr_, bytes),
                                  absl::StrFormat("cudaMalloc of %d bytes for %s", bytes, what));
      !s.ok()) {
    m.ptr_ = nullptr;
    return s;
  }
  m.bytes_ = bytes;
  return m;
}

void DeviceMemory::Reset() {
  if (ptr_ != nullptr) (void)cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

PinnedMemory::PinnedMemory(PinnedMemory&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

PinnedMemory& PinnedMemory::operator=(PinnedMemory&& other) noexcept {
  if (this != &other) {
    Reset();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

absl::StatusOr<PinnedMemory> PinnedMemory::Allocate(size_t bytes, std::string_view what) {
  PinnedMemory m;
  if (bytes == 0) return m;
  if (absl::Status s =
          CudaStatus(cudaMallocHost(&m.ptr_, bytes),
                     absl::StrFormat("cudaMallocHost of %d bytes for %s", bytes, what));
      !s.ok()) {
    m.ptr_ = nullptr;
    return s;
  }
  m.bytes_ = bytes;
  return m;
}

void PinnedMemory::Reset() {
  if (ptr_ != nullptr) (void)cudaFreeHost(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

CudaStream::CudaStream(CudaStream&& other) noexcept
    : stream_(std::exchange(other.stream_, nullptr)) {}

CudaStream& CudaStream::operator=(CudaStream&& other) noexcept {
  if (this != &other) {
    Reset();
    stream_ = std::exchange(other.stream_, nullptr);
  }
  return *this;
}

absl::StatusOr<CudaStream> CudaStream::Create() {
  CudaStream s;
  if (absl::Status st = CudaStatus(cudaStreamCreateWithFlags(&s.stream_, cudaStreamNonBlocking),
                                   "cudaStreamCreateWithFlags");
      !st.ok()) {
    s.stream_ = nullptr;
    return st;
  }
  return s;
}

void CudaStream::Reset() {
  if (stream_ != nullptr) {
    (void)cudaStreamSynchronize(stream_);
    (void)cudaStreamDestroy(stream_);
  }
  stream_ = nullptr;
}

ScopedDevice::ScopedDevice(int device) {
  if (cudaGetDevice(&previous_) != cudaSuccess) {
    (void)cudaGetLastError();
    previous_ = -1;
  }
  if (previous_ != device) {
    status_ = CudaStatus(cudaSetDevice(device), absl::StrFormat("cudaSetDevice(%d)", device));
  }
}

ScopedDevice::~ScopedDevice() {
  if (status_.ok() && previous_ >= 0) {
    int current = -1;
    if (cudaGetDevice(&current) == cudaSuccess && current != previous_) {
      (void)cudaSetDevice(previous_);
    }
  }
}

}  // namespace hearth::cuda_backend
