// The .hearth snapshot: a GGUF model re-laid-out for loading, so that a cold start is one
// sequential read (and, on a GPU, one streaming upload) with nothing to repack.
//
// Layout (all integers little-endian):
//   [0, 4096)      header: magic "HEARTHSN", format version, the hearth version that wrote
//                  it, the image's offset and size, the chunk size and count, the source
//                  file's name and size, one CRC-32C per chunk of the image, and (last four
//                  bytes) a CRC-32C over the rest of the header.
//   [4096, end)    a complete GGUF image whose general.alignment is 4096: every tensor
//                  starts on a page, in the very layout the CPU kernels read in place.
// Nothing follows the image; its size is a multiple of 4096.
//
// Opening checks the header (magic, format version, header checksum, sizes against the
// file) and maps the file, then verifies the chunks in two stages: first those holding
// the GGUF image's head (metadata, tokenizer, tensor table), which is then parsed, and
// then the tensors' chunks, on a thread pool, each thread computing the CRC-32C of its
// chunks as it pages them in, so every byte is read once. OpenSnapshot does both before
// it returns; OpenSnapshotStaged returns after the first, so that a loader can build its
// tokenizer while the tensors are read in and verified. A damaged snapshot is DataLoss
// naming the chunk, one from another format version FailedPrecondition ("re-pack it");
// nothing is half-loaded.
//
// Packing validates the source with GgufFile::Open, writes `<out>.tmp.<pid>` with checked
// writes, fsyncs it and renames it over `<out>`; on any failure the temporary file is
// removed (a full disk is ResourceExhausted naming the path). An existing output that is
// not a regular file (e.g. /dev/null) is written directly, without a temporary name.
#ifndef HEARTH_LIB_SNAPSHOT_SNAPSHOT_H_
#define HEARTH_LIB_SNAPSHOT_SNAPSHOT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lib/gguf/gguf_file.h"
#include "lib/runtime/thread_pool.h"

namespace hearth {

inline constexpr uint32_t kSnapshotFormatVersion = 1;
inline constexpr uint64_t kSnapshotHeaderBytes = 4096;
inline constexpr uint64_t kSnapshotAlignment = 4096;
inline constexpr uint64_t kSnapshotMinChunkBytes = uint64_t{4} << 20;
inline constexpr char kSnapshotMagic[8] = {'H', 'E', 'A', 'R', 'T', 'H', 'S', 'N'};

// Header field offsets, for tools and tests. Every format version keeps the magic, the
// format version, the header size and the writer version where they are, and a 4096-byte
// header whose last four bytes are the CRC-32C of the rest, so that a snapshot from another
// version is told apart from a damaged one.
namespace snapshot_layout {
inline constexpr size_t kMagic = 0;           // char[8]
inline constexpr size_t kFormatVersion = 8;   // u32
inline constexpr size_t kHeaderBytes = 12;    // u32 (4096)
inline constexpr size_t kWriterVersion = 16;  // u32, HEARTH_VERSION_NUMBER of the writer
inline constexpr size_t kImageOffset = 24;    // u64
inline constexpr size_t kImageSize = 32;      // u64
inline constexpr size_t kChunkBytes = 40;     // u64
inline constexpr size_t kChunkCount = 48;     // u64
inline constexpr size_t kSourceSize = 56;     // u64
inline constexpr size_t kSourceNameLen = 64;  // u32
inline constexpr size_t kSourceName = 68;     // char[kMaxSourceName]
inline constexpr size_t kMaxSourceName = 440;
inline constexpr size_t kChunkCrcs = 508;     // u32[chunk count]
inline constexpr size_t kHeaderCrc = 4092;    // u32, CRC-32C of bytes [0, 4092)
inline constexpr size_t kMaxChunks = (kHeaderCrc - kChunkCrcs) / 4;  // 896
}  // namespace snapshot_layout

struct SnapshotInfo {
  uint32_t format_version = 0;
  uint32_t writer_version = 0;  // HEARTH_VERSION_NUMBER
  uint64_t image_offset = 0;
  uint64_t image_size = 0;
  uint64_t chunk_bytes = 0;
  uint64_t chunk_count = 0;
  uint64_t source_size = 0;
  std::string source_name;
  uint64_t file_size = 0;
  double verify_seconds = 0;  // checking chunks in the open (OpenSnapshotStaged: the head's)
};

// The chunks of an opened snapshot that are still to be verified: those after the GGUF
// head, which hold the tensors. Keeps the file's mapping alive.
class SnapshotTensorCheck {
 public:
  // Where a snapshot's chunks are and the CRC-32C each must have (filled by the open).
  struct Chunks {
    std::string path;
    std::shared_ptr<const void> mapping;
    const std::byte* image = nullptr;  // inside the mapping
    uint64_t image_offset = 0;         // of the image in the file
    uint64_t image_size = 0;
    uint64_t chunk_bytes = 0;
    std::vector<uint32_t> crcs;  // stored, one per chunk of the image
  };

  SnapshotTensorCheck() = default;
  // Checks chunks [first_chunk, chunks.crcs.size()).
  SnapshotTensorCheck(Chunks chunks, uint64_t first_chunk)
      : chunks_(std::move(chunks)), first_chunk_(first_chunk) {}

  // Verifies every remaining chunk on all threads of `pool`: each thread advises its
  // contiguous run of chunks as needed soon, then computes their CRC-32C, which is what
  // reads them in. DataLoss naming the first chunk that fails; nothing may read a tensor
  // before this has returned OK.
  absl::Status ReadInAndVerify(ThreadPool& pool) const;

  uint64_t first_chunk() const { return first_chunk_; }
  uint64_t chunk_count() const { return chunks_.crcs.size(); }

 private:
  Chunks chunks_;
  uint64_t first_chunk_ = 0;  // chunks before it were verified by the open
};

// A snapshot whose header and GGUF head are verified and parsed: `file`'s metadata and
// tensor table may be used at once, its tensors' bytes only once `tensors` has verified
// them.
struct StagedSnapshot {
  std::unique_ptr<GgufFile> file;
  SnapshotInfo info;
  SnapshotTensorCheck tensors;
};

struct PackResult {
  SnapshotInfo info;
  uint64_t source_bytes = 0;
  uint64_t snapshot_bytes = 0;
  double seconds = 0;
};

// True when the file starts with the snapshot magic. A file that cannot be opened or is
// shorter than the magic is "not a snapshot" (the GGUF path then reports it).
bool IsSnapshotFile(const std::string& path);

// Reads and checks a snapshot's header only (no chunk verification, no mapping).
absl::StatusOr<SnapshotInfo> ReadSnapshotInfo(const std::string& path);

// Opens a snapshot up to its tensors (see StagedSnapshot and the header comment).
absl::StatusOr<StagedSnapshot> OpenSnapshotStaged(const std::string& path);

// Opens a snapshot fully verified; the GgufFile keeps the mapping alive. `threads` <= 0
// picks min(4, cores).
absl::StatusOr<std::unique_ptr<GgufFile>> OpenSnapshot(const std::string& path,
                                                       SnapshotInfo* info = nullptr,
                                                       int threads = 0);

// Packs a GGUF file into a snapshot at `out_path` (see the header comment).
absl::StatusOr<PackResult> PackSnapshot(const std::string& gguf_path, const std::string& out_path);

// The GGUF image of `file` with every tensor re-placed at `alignment` (general.alignment
// set to it as a uint32, in place if present, else appended; every other key, value and
// tensor unchanged, in the same order), padded to a multiple of `alignment`. In memory:
// for tests (PackSnapshot streams the same bytes).
std::vector<std::byte> BuildGgufImage(const GgufFile& file, uint64_t alignment);

}  // namespace hearth

#endif  // HEARTH_LIB_SNAPSHOT_SNAPSHOT_H_
