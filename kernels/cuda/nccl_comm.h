// NcclCommunicator: one process driving N GPUs as the ranks of a tensor-parallel group
// (lib/model/tensor_parallel.h), with one CUDA stream per rank and an in-place float sum
// all-reduce over the ranks' buffers. Plain C++: nccl.h and cuda_runtime_api.h stay in
// the .cc.
//
// Usage (two ranks on devices 0 and 1):
//   absl::StatusOr<std::unique_ptr<NcclCommunicator>> comm = NcclCommunicator::Create(2);
//   float* bufs[2] = {buf_on_dev0, buf_on_dev1};  // n floats each
//   absl::Status s = (*comm)->AllReduceSum(bufs, n);  // enqueued on each rank's stream
//   s = (*comm)->Synchronize();                        // both now hold the sum
//
// One rank (tp_size 1) needs no NCCL: Create(1) makes no communicator and AllReduceSum is
// the identity. Built without NCCL (not found at configure time), Create(n > 1) is
// Unimplemented.
//
// Thread-safety: one thread at a time; the ranks' work is enqueued from that thread.
#ifndef HEARTH_KERNELS_CUDA_NCCL_COMM_H_
#define HEARTH_KERNELS_CUDA_NCCL_COMM_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

struct ncclComm;     // ncclComm_t is ncclComm*
struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace hearth::cuda {

// True when this build links NCCL.
bool NcclAvailable();

class NcclCommunicator {
 public:
  // Ranks 0..n_ranks-1 on devices 0..n_ranks-1.
  static absl::StatusOr<std::unique_ptr<NcclCommunicator>> Create(int n_ranks);
  // Rank r on devices[r]. InvalidArgument for an empty list, a negative or repeated
  // device; FailedPrecondition when a device does not exist (fewer devices than ranks).
  static absl::StatusOr<std::unique_ptr<NcclCommunicator>> Create(absl::Span<const int> devices);

  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int n_ranks() const { return static_cast<int>(devices_.size()); }
  int device(int rank) const { return devices_[static_cast<size_t>(rank)]; }
  // The rank's stream (a cudaStream_t), for the rest of its work.
  void* stream(int rank) const { return streams_[static_cast<size_t>(rank)]; }

  // buffers[r] (count floats on device(r)) becomes, in place, the elementwise sum over
  // all ranks' buffers. Enqueued on each rank's stream, after the work already there.
  absl::Status AllReduceSum(absl::Span<float* const> buffers, int64_t count);

  // Waits for every rank's stream.
  absl::Status Synchronize();

 private:
  NcclCommunicator() = default;
  std::vector<int> devices_;
  std::vector<CUstream_st*> streams_;
  std::vector<ncclComm*> comms_;  // empty for one rank
};

}  // namespace hearth::cuda

#endif  // HEARTH_KERNELS_CUDA_NCCL_COMM_H_
