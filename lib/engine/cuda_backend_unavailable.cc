// MakeCudaBackend in a build without the CUDA sources (HEARTH_CUDA=OFF, or no nvcc): the
// CUDA build compiles lib/engine/cuda_backend.cc instead (kernels/cuda/CMakeLists.txt).
#include "absl/status/status.h"
#include "lib/engine/forward_backend.h"

namespace hearth {

absl::StatusOr<std::unique_ptr<ForwardBackend>> MakeCudaBackend(const LlamaModel&, KvCacheShape,
                                                                int) {
  return absl::UnimplementedError(
      "hearth was built without CUDA (configure with -DHEARTH_CUDA=ON where nvcc exists)");
}

}  // namespace hearth
