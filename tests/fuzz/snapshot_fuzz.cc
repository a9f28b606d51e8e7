// libFuzzer target: any byte string opened as a .hearth snapshot must give a Status, never
// a crash, hang or out-of-bounds read (run under ASan/UBSan). Random bytes would almost
// never get past the checksums, so the harness first makes them right for whatever the
// header claims (chunk CRCs over the image as far as the input reaches, then the header
// CRC): the fuzzer then explores the header's sizes, offsets and counts and the GGUF image
// behind them, the parts a damaged file with valid checksums could reach.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "lib/snapshot/crc32c.h"
#include "lib/snapshot/snapshot.h"

namespace {

namespace L = hearth::snapshot_layout;

template <typename T>
T Load(const std::vector<unsigned char>& b, size_t at) {
  T x;
  std::memcpy(&x, b.data() + at, sizeof(T));
  return x;
}

void FixChecksums(std::vector<unsigned char>& b) {
  if (b.size() < hearth::kSnapshotHeaderBytes) return;
  const uint64_t offset = Load<uint64_t>(b, L::kImageOffset);
  const uint64_t chunk = Load<uint64_t>(b, L::kChunkBytes);
  const uint64_t count = std::min<uint64_t>(Load<uint64_t>(b, L::kChunkCount), L::kMaxChunks);
  for (uint64_t i = 0; chunk > 0 && i < count; ++i) {
    if (offset > b.size() || i > (b.size() - offset) / chunk) break;
    const uint64_t start = offset + i * chunk;
    const uint64_t n = std::min<uint64_t>(chunk, b.size() - start);
    const uint32_t crc = hearth::Crc32c(0, b.data() + start, n);
    std::memcpy(b.data() + L::kChunkCrcs + 4 * i, &crc, 4);
  }
  const uint32_t header = hearth::Crc32c(0, b.data(), L::kHeaderCrc);
  std::memcpy(b.data() + L::kHeaderCrc, &header, 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<unsigned char> bytes(data, data + size);
  FixChecksums(bytes);
  // OpenSnapshot maps a path: an anonymous in-memory file stands in for one.
  const int fd = ::memfd_create("snapshot_fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    (void)hearth::OpenSnapshot(path, nullptr, 1);
  }
  ::close(fd);
  return 0;
}
