#include "lib/snapshot/model_file.h"

#include <utility>

#include "lib/runtime/page_cache.h"

namespace hearth {

absl::StatusOr<OpenedModelFile> OpenModelFile(const std::string& path) {
  OpenedModelFile opened;
  if (IsSnapshotFile(path)) {
    absl::StatusOr<StagedSnapshot> staged = OpenSnapshotStaged(path);
    if (!staged.ok()) return staged.status();
    opened.file = std::move(staged->file);
    opened.snapshot_tensors = std::move(staged->tensors);
    return opened;
  }
  absl::StatusOr<std::unique_ptr<GgufFile>> gguf = GgufFile::Open(path);
  if (!gguf.ok()) return gguf.status();
  opened.file = *std::move(gguf);
  opened.gguf_bytes = opened.file->mapping();
  opened.gguf_size = opened.file->file_size();
  return opened;
}

absl::Status OpenedModelFile::ReadIn(ThreadPool& pool) const {
  if (snapshot_tensors.has_value()) return snapshot_tensors->ReadInAndVerify(pool);
  PageIn(gguf_bytes, gguf_size, pool);
  return absl::OkStatus();
}

}  // namespace hearth
