// Host code only (the host compiler, never nvcc): CUDA and NCCL errors -> absl::Status.
#include "kernels/cuda/nccl_comm.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include <cuda_runtime_api.h>
#if HEARTH_HAVE_NCCL
#include <nccl.h>
#endif

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kernels/cuda/dequantize.cuh"

namespace hearth::cuda {
namespace {

absl::Status CudaError(cudaError_t err, const char* what) {
  return absl::InternalError(absl::StrFormat("NcclCommunicator: %s failed: %s (%s)", what,
                                             cudaGetErrorName(err), cudaGetErrorString(err)));
}

#if HEARTH_HAVE_NCCL
absl::Status NcclError(ncclResult_t r, const char* what) {
  return absl::InternalError(absl::StrFormat("NcclCommunicator: %s failed: %s (%d)", what,
                                             ncclGetErrorString(r), static_cast<int>(r)));
}
#endif

// Restores the calling thread's current device on scope exit.
class DeviceGuard {
 public:
  DeviceGuard() { ok_ = cudaGetDevice(&device_) == cudaSuccess; }
  ~DeviceGuard() {
    if (ok_) (void)cudaSetDevice(device_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int device_ = 0;
  bool ok_ = false;
};

}  // namespace

bool NcclAvailable() { return HEARTH_HAVE_NCCL != 0; }

absl::StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(int n_ranks) {
  if (n_ranks < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("NcclCommunicator: need at least one rank (got %d)", n_ranks));
  }
  std::vector<int> devices(static_cast<size_t>(n_ranks));
  for (int r = 0; r < n_ranks; ++r) devices[static_cast<size_t>(r)] = r;
  return Create(devices);
}

absl::StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(
    absl::Span<const int> devices) {
  if (devices.empty()) {
    return absl::InvalidArgumentError("NcclCommunicator: need at least one rank");
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("NcclCommunicator: rank %d has negative device %d", i, devices[i]));
    }
    if (std::find(devices.begin(), devices.begin() + static_cast<std::ptrdiff_t>(i),
                  devices[i]) != devices.begin() + static_cast<std::ptrdiff_t>(i)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "NcclCommunicator: device %d appears twice in [%s]; one rank per device",
          devices[i], absl::StrJoin(devices, ", ")));
    }
  }
  const absl::StatusOr<int> count = CudaDeviceCount();
  if (!count.ok()) return count.status();
  const int max_device = *std::max_element(devices.begin(), devices.end());
  if (max_device >= *count) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "NcclCommunicator: %d ranks on devices [%s] but this machine has %d CUDA device%s",
        devices.size(), absl::StrJoin(devices, ", "), *count, *count == 1 ? "" : "s"));
  }
#if !HEARTH_HAVE_NCCL
  if (devices.size() > 1) {
    return absl::UnimplementedError(absl::StrFormat(
        "NcclCommunicator: %d ranks need NCCL, which this build of hearth does not link",
        devices.size()));
  }
#endif

  std::unique_ptr<NcclCommunicator> comm(new NcclCommunicator());
  comm->devices_.assign(devices.begin(), devices.end());
  DeviceGuard guard;
  for (const int device : devices) {
    cudaError_t err = cudaSetDevice(device);
    if (err != cudaSuccess) return CudaError(err, "cudaSetDevice");
    cudaStream_t stream = nullptr;
    err = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
    if (err != cudaSuccess) return CudaError(err, "cudaStreamCreateWithFlags");
    comm->streams_.push_back(stream);  // owned (and destroyed) by comm from here
  }
#if HEARTH_HAVE_NCCL
  if (devices.size() > 1) {
    std::vector<ncclComm_t> comms(devices.size(), nullptr);
    const ncclResult_t r =
        ncclCommInitAll(comms.data(), static_cast<int>(devices.size()), devices.data());
    if (r != ncclSuccess) return NcclError(r, "ncclCommInitAll");
    comm->comms_.assign(comms.begin(), comms.end());
  }
#endif
  return comm;
}

NcclCommunicator::~NcclCommunicator() {
  DeviceGuard guard;
#if HEARTH_HAVE_NCCL
  for (ncclComm_t c : comms_) (void)ncclCommDestroy(c);
#endif
  for (size_t r = 0; r < streams_.size(); ++r) {
    (void)cudaSetDevice(devices_[r]);
    (void)cudaStreamDestroy(streams_[r]);
  }
}

absl::Status NcclCommunicator::AllReduceSum(absl::Span<float* const> buffers, int64_t count) {
  if (buffers.size() != devices_.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "NcclCommunicator::AllReduceSum: %d buffers for %d ranks", buffers.size(),
        devices_.size()));
  }
  if (count < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("NcclCommunicator::AllReduceSum: negative count %d", count));
  }
  if (count == 0) return absl::OkStatus();
  for (size_t r = 0; r < buffers.size(); ++r) {
    if (buffers[r] == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("NcclCommunicator::AllReduceSum: null buffer for rank %d", r));
    }
  }
  if (devices_.size() == 1) return absl::OkStatus();  // the sum over one rank
#if HEARTH_HAVE_NCCL
  ncclResult_t r = ncclGroupStart();
  if (r != ncclSuccess) return NcclError(r, "ncclGroupStart");
  ncclResult_t first_error = ncclSuccess;
  for (size_t i = 0; i < devices_.size(); ++i) {
    r = ncclAllReduce(buffers[i], buffers[i], static_cast<size_t>(count), ncclFloat, ncclSum,
                      comms_[i], streams_[i]);
    if (r != ncclSuccess && first_error == ncclSuccess) first_error = r;
  }
  r = ncclGroupEnd();  // always closes the group, even after an error inside it
  if (first_error != ncclSuccess) return NcclError(first_error, "ncclAllReduce");
  if (r != ncclSuccess) return NcclError(r, "ncclGroupEnd");
  return absl::OkStatus();
#else
  return absl::UnimplementedError("NcclCommunicator: built without NCCL");
#endif
}

absl::Status NcclCommunicator::Synchronize() {
  DeviceGuard guard;
  for (size_t r = 0; r < streams_.size(); ++r) {
    cudaError_t err = cudaSetDevice(devices_[r]);
    if (err != cudaSuccess) return CudaError(err, "cudaSetDevice");
    err = cudaStreamSynchronize(streams_[r]);
    if (err != cudaSuccess) return CudaError(err, "cudaStreamSynchronize");
  }
  return absl::OkStatus();
}

}  // namespace hearth::cuda
