// A model file opened for a load that reads its weights in beside other work: a GGUF file,
// or a .hearth snapshot (told apart by the magic, whatever the name) whose header and GGUF
// head are already verified. The metadata and tensor table can be used at once (to bind
// the weights, build the tokenizer); the tensors' bytes once ReadIn has returned OK.
//
// Usage (Engine::Create):
//   absl::StatusOr<OpenedModelFile> opened = OpenModelFile(path);
//   auto model = LlamaModel::FromFile(std::move(opened->file));
//   ... start the tokenizer build on another thread ...
//   if (absl::Status s = opened->ReadIn(pool); !s.ok()) return s;  // nothing half-loaded
#ifndef HEARTH_LIB_SNAPSHOT_MODEL_FILE_H_
#define HEARTH_LIB_SNAPSHOT_MODEL_FILE_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/gguf/gguf_file.h"
#include "lib/runtime/thread_pool.h"
#include "lib/snapshot/snapshot.h"

namespace hearth {

struct OpenedModelFile {
  std::unique_ptr<GgufFile> file;
  // What ReadIn reads: the whole GGUF mapping (owned by `file`), or for a snapshot the
  // chunks left to verify (which own theirs).
  const std::byte* gguf_bytes = nullptr;
  size_t gguf_size = 0;
  std::optional<SnapshotTensorCheck> snapshot_tensors;

  // Reads the weights into memory on every thread of `pool`: a GGUF file with PageIn, a
  // snapshot by computing its remaining chunks' checksums as they are read, so each byte
  // is read once (DataLoss naming the first chunk that fails). A GGUF file's `file` must
  // still be alive, wherever it has been moved.
  absl::Status ReadIn(ThreadPool& pool) const;
};

absl::StatusOr<OpenedModelFile> OpenModelFile(const std::string& path);

}  // namespace hearth

#endif  // HEARTH_LIB_SNAPSHOT_MODEL_FILE_H_
