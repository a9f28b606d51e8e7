#include "lib/snapshot/snapshot.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hearth/c_api.h"
#include "lib/runtime/page_cache.h"
#include "lib/snapshot/crc32c.h"

namespace hearth {
namespace {

namespace L = snapshot_layout;

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read little-endian
constexpr std::string_view kAlignmentKey = "general.alignment";
constexpr uint64_t kZeroBytes = 4096;
alignas(64) constexpr std::byte kZeros[kZeroBytes] = {};

uint32_t Crc32(uint32_t crc, const std::byte* data, uint64_t n) {
  return Crc32c(crc, data, static_cast<size_t>(n));
}

// CRC-32C of `n` bytes at `data`, or of `n` zero bytes when data is null.
uint32_t Crc32Piece(uint32_t crc, const std::byte* data, uint64_t n) {
  if (data != nullptr) return Crc32(crc, data, n);
  while (n > 0) {
    const uint64_t take = std::min(n, kZeroBytes);
    crc = Crc32(crc, kZeros, take);
    n -= take;
  }
  return crc;
}

uint32_t Crc32Start() { return 0; }

template <typename T>
T Load(const std::byte* p) {
  T x;
  std::memcpy(&x, p, sizeof(T));
  return x;
}

template <typename T>
void Store(std::byte* p, T x) {
  std::memcpy(p, &x, sizeof(T));
}

uint64_t RoundUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

std::string ErrnoText(int err) { return std::strerror(err); }

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// ---------------------------------------------------------------------------------------
// The GGUF image: a serialised head (header, metadata, tensor infos, padding up to the data
// section) followed by the tensors, each at a multiple of the alignment.

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::byte>* out) : out_(out) {}
  template <typename T>
  void Put(T x) {
    const size_t at = out_->size();
    out_->resize(at + sizeof(T));
    std::memcpy(out_->data() + at, &x, sizeof(T));
  }
  void Bytes(const void* p, size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out_->insert(out_->end(), b, b + n);
  }
  void String(std::string_view s) {
    Put<uint64_t>(s.size());
    Bytes(s.data(), s.size());
  }

 private:
  std::vector<std::byte>* out_;
};

// Writes a value exactly as GgufFile read it: scalars from their widened fields, arrays
// of numbers as their raw bytes, arrays of strings element by element.
void PutValue(ByteWriter& w, const GgufValue& v) {
  switch (v.type) {
    case GgufValueType::kUint8: w.Put(static_cast<uint8_t>(v.u)); return;
    case GgufValueType::kBool: w.Put(static_cast<uint8_t>(v.u)); return;
    case GgufValueType::kInt8: w.Put(static_cast<int8_t>(v.i)); return;
    case GgufValueType::kUint16: w.Put(static_cast<uint16_t>(v.u)); return;
    case GgufValueType::kInt16: w.Put(static_cast<int16_t>(v.i)); return;
    case GgufValueType::kUint32: w.Put(static_cast<uint32_t>(v.u)); return;
    case GgufValueType::kInt32: w.Put(static_cast<int32_t>(v.i)); return;
    case GgufValueType::kUint64: w.Put(static_cast<uint64_t>(v.u)); return;
    case GgufValueType::kInt64: w.Put(static_cast<int64_t>(v.i)); return;
    case GgufValueType::kFloat32: w.Put(static_cast<float>(v.f)); return;
    case GgufValueType::kFloat64: w.Put(static_cast<double>(v.f)); return;
    case GgufValueType::kString: w.String(v.str); return;
    case GgufValueType::kArray: {
      w.Put(static_cast<uint32_t>(v.array_type));
      w.Put(static_cast<uint64_t>(v.array_size));
      if (v.array_type == GgufValueType::kString) {
        for (std::string_view s : v.strings) w.String(s);
      } else {
        w.Bytes(v.array_data, v.array_size * GgufScalarSize(v.array_type));
      }
      return;
    }
  }
}

struct Segment {
  uint64_t offset = 0;  // in the image
  uint64_t size = 0;
  const std::byte* data = nullptr;  // null: zeros
};

struct ImagePlan {
  std::vector<std::byte> head;
  std::vector<Segment> segments;  // head, tensors and the zero padding, in order
  uint64_t size = 0;
};

ImagePlan PlanImage(const GgufFile& file, uint64_t alignment) {
  ImagePlan plan;
  ByteWriter w(&plan.head);
  const bool has_alignment_key = file.Find(kAlignmentKey) != nullptr;
  w.Put<uint32_t>(kGgufMagic);
  w.Put<uint32_t>(file.version());
  w.Put<uint64_t>(file.tensors().size());
  w.Put<uint64_t>(file.keys().size() + (has_alignment_key ? 0 : 1));
  auto put_alignment = [&] {
    w.String(kAlignmentKey);
    w.Put<uint32_t>(static_cast<uint32_t>(GgufValueType::kUint32));
    w.Put<uint32_t>(static_cast<uint32_t>(alignment));
  };
  for (const std::string& key : file.keys()) {
    if (key == kAlignmentKey) {
      put_alignment();
      continue;
    }
    const GgufValue* v = file.Find(key);
    w.String(key);
    w.Put<uint32_t>(static_cast<uint32_t>(v->type));
    PutValue(w, *v);
  }
  if (!has_alignment_key) put_alignment();
  uint64_t data_offset = 0;
  std::vector<uint64_t> offsets;
  offsets.reserve(file.tensors().size());
  for (const GgufTensor& t : file.tensors()) {
    w.String(t.name);
    w.Put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) w.Put<uint64_t>(static_cast<uint64_t>(d));
    w.Put<uint32_t>(t.type);
    w.Put<uint64_t>(data_offset);
    offsets.push_back(data_offset);
    data_offset = RoundUp(data_offset + t.n_bytes, alignment);
  }
  plan.head.resize(RoundUp(plan.head.size(), alignment));
  const uint64_t data_start = plan.head.size();
  plan.segments.push_back({0, plan.head.size(), plan.head.data()});
  uint64_t at = data_start;
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const GgufTensor& t = file.tensors()[i];
    const uint64_t start = data_start + offsets[i];
    if (start > at) plan.segments.push_back({at, start - at, nullptr});
    plan.segments.push_back({start, t.n_bytes, t.data});
    at = start + t.n_bytes;
  }
  plan.size = RoundUp(at, alignment);
  if (plan.size > at) plan.segments.push_back({at, plan.size - at, nullptr});
  return plan;
}

uint64_t ChunkBytesFor(uint64_t image_size) {
  uint64_t chunk = kSnapshotMinChunkBytes;
  while ((image_size + chunk - 1) / chunk > L::kMaxChunks) chunk *= 2;
  return chunk;
}

// ---------------------------------------------------------------------------------------
// Packing.

// Checked, buffered writes to one file descriptor, with the image's chunk checksums
// computed over exactly the bytes written.
class SnapshotSink {
 public:
  SnapshotSink(int fd, std::string path, uint64_t chunk_bytes)
      : fd_(fd), path_(std::move(path)), chunk_bytes_(chunk_bytes), crc_(Crc32Start()) {
    buffer_.reserve(kBufferBytes);
  }

  // Appends image bytes (zeros when data is null).
  absl::Status Image(const std::byte* data, uint64_t n) {
    uint64_t done = 0;
    while (done < n) {
      const uint64_t take = std::min(n - done, chunk_bytes_ - in_chunk_);
      const std::byte* p = data != nullptr ? data + done : nullptr;
      crc_ = Crc32Piece(crc_, p, take);
      in_chunk_ += take;
      if (in_chunk_ == chunk_bytes_) EndChunk();
      if (absl::Status s = Append(p, take); !s.ok()) return s;
      done += take;
    }
    return absl::OkStatus();
  }

  // Ends the image: the last partial chunk's checksum, and the buffer written out.
  absl::Status Finish() {
    if (in_chunk_ > 0) EndChunk();
    return Flush();
  }

  const std::vector<uint32_t>& crcs() const { return crcs_; }

  absl::Status WriteAt(uint64_t offset, const std::byte* p, uint64_t n) {
    while (n > 0) {
      const ssize_t w = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return WriteError(w < 0 ? errno : ENOSPC);
      p += w;
      n -= static_cast<uint64_t>(w);
      offset += static_cast<uint64_t>(w);
    }
    return absl::OkStatus();
  }

  absl::Status Append(const std::byte* p, uint64_t n) {
    if (p != nullptr && n >= kBufferBytes) {
      if (absl::Status s = Flush(); !s.ok()) return s;
      return WriteAll(p, n);
    }
    while (n > 0) {
      const uint64_t take = std::min<uint64_t>(n, kBufferBytes - buffer_.size());
      if (p != nullptr) {
        buffer_.insert(buffer_.end(), p, p + take);
        p += take;
      } else {
        buffer_.resize(buffer_.size() + take);  // value-initialised: zeros
      }
      n -= take;
      if (buffer_.size() == kBufferBytes) {
        if (absl::Status s = Flush(); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Flush() {
    absl::Status s = WriteAll(buffer_.data(), buffer_.size());
    buffer_.clear();
    return s;
  }

  uint64_t written() const { return written_; }

 private:
  static constexpr uint64_t kBufferBytes = uint64_t{1} << 20;

  void EndChunk() {
    crcs_.push_back(crc_);
    crc_ = Crc32Start();
    in_chunk_ = 0;
  }

  absl::Status WriteAll(const std::byte* p, uint64_t n) {
    while (n > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(n, uint64_t{1} << 30));
      const ssize_t w = ::write(fd_, p, take);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return WriteError(w < 0 ? errno : ENOSPC);
      p += w;
      n -= static_cast<uint64_t>(w);
      written_ += static_cast<uint64_t>(w);
    }
    return absl::OkStatus();
  }

  absl::Status WriteError(int err) const {
    if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "cannot write snapshot '%s': %s (no space left for it)", path_, ErrnoText(err)));
    }
    return absl::InternalError(
        absl::StrFormat("cannot write snapshot '%s': %s", path_, ErrnoText(err)));
  }

  int fd_;
  std::string path_;
  uint64_t chunk_bytes_;
  uint32_t crc_;
  uint64_t in_chunk_ = 0;
  uint64_t written_ = 0;
  std::vector<uint32_t> crcs_;
  std::vector<std::byte> buffer_;
};

std::vector<std::byte> EncodeHeader(const SnapshotInfo& info, absl::Span<const uint32_t> crcs) {
  std::vector<std::byte> h(kSnapshotHeaderBytes);
  std::memcpy(h.data() + L::kMagic, kSnapshotMagic, sizeof(kSnapshotMagic));
  Store<uint32_t>(h.data() + L::kFormatVersion, info.format_version);
  Store<uint32_t>(h.data() + L::kHeaderBytes, static_cast<uint32_t>(kSnapshotHeaderBytes));
  Store<uint32_t>(h.data() + L::kWriterVersion, info.writer_version);
  Store<uint64_t>(h.data() + L::kImageOffset, info.image_offset);
  Store<uint64_t>(h.data() + L::kImageSize, info.image_size);
  Store<uint64_t>(h.data() + L::kChunkBytes, info.chunk_bytes);
  Store<uint64_t>(h.data() + L::kChunkCount, info.chunk_count);
  Store<uint64_t>(h.data() + L::kSourceSize, info.source_size);
  const size_t name_len = std::min(info.source_name.size(), L::kMaxSourceName);
  Store<uint32_t>(h.data() + L::kSourceNameLen, static_cast<uint32_t>(name_len));
  std::memcpy(h.data() + L::kSourceName, info.source_name.data(), name_len);
  for (size_t i = 0; i < crcs.size(); ++i) Store<uint32_t>(h.data() + L::kChunkCrcs + 4 * i, crcs[i]);
  Store<uint32_t>(h.data() + L::kHeaderCrc, Crc32(Crc32Start(), h.data(), L::kHeaderCrc));
  return h;
}

absl::Status WriteSnapshot(int fd, const std::string& shown_path, const ImagePlan& plan,
                           SnapshotInfo& info) {
  SnapshotSink sink(fd, shown_path, info.chunk_bytes);
  // A placeholder header first, so that the image streams out sequentially; the real one
  // is written over it once the checksums are known.
  if (absl::Status s = sink.Append(nullptr, kSnapshotHeaderBytes); !s.ok()) return s;
  for (const Segment& seg : plan.segments) {
    if (absl::Status s = sink.Image(seg.data, seg.size); !s.ok()) return s;
  }
  if (absl::Status s = sink.Finish(); !s.ok()) return s;
  if (sink.crcs().size() != info.chunk_count || sink.written() != kSnapshotHeaderBytes + plan.size) {
    return absl::InternalError("snapshot writer produced an unexpected number of chunks");
  }
  const std::vector<std::byte> header = EncodeHeader(info, sink.crcs());
  return sink.WriteAt(0, header.data(), header.size());
}

// ---------------------------------------------------------------------------------------
// Opening.

absl::Status Damaged(const std::string& path, std::string_view what) {
  return absl::DataLossError(
      absl::StrFormat("snapshot '%s' is damaged: %s; re-pack it from its GGUF file", path, what));
}

absl::StatusOr<SnapshotInfo> DecodeHeader(const std::string& path, const std::byte* h,
                                          uint64_t file_size) {
  SnapshotInfo info;
  info.file_size = file_size;
  info.format_version = Load<uint32_t>(h + L::kFormatVersion);
  info.writer_version = Load<uint32_t>(h + L::kWriterVersion);
  const uint32_t stored_crc = Load<uint32_t>(h + L::kHeaderCrc);
  const uint32_t actual_crc = Crc32(Crc32Start(), h, L::kHeaderCrc);
  if (stored_crc != actual_crc) {
    return Damaged(path, absl::StrFormat("its header checksum does not match (stored 0x%08x, "
                                         "computed 0x%08x)",
                                         stored_crc, actual_crc));
  }
  if (info.format_version != kSnapshotFormatVersion) {
    const uint32_t v = info.writer_version;
    return absl::FailedPreconditionError(absl::StrFormat(
        "'%s' is snapshot format %u (written by hearth %u.%u.%u), this hearth reads %u — "
        "re-pack it from its GGUF file with this hearth's `hearth pack`",
        path, info.format_version, v / 10000, v / 100 % 100, v % 100, kSnapshotFormatVersion));
  }
  info.image_offset = Load<uint64_t>(h + L::kImageOffset);
  info.image_size = Load<uint64_t>(h + L::kImageSize);
  info.chunk_bytes = Load<uint64_t>(h + L::kChunkBytes);
  info.chunk_count = Load<uint64_t>(h + L::kChunkCount);
  info.source_size = Load<uint64_t>(h + L::kSourceSize);
  const uint32_t name_len = Load<uint32_t>(h + L::kSourceNameLen);
  const uint32_t header_bytes = Load<uint32_t>(h + L::kHeaderBytes);
  // The checksum matched, so inconsistent fields mean a writer bug or a forged header; they
  // are still refused rather than trusted.
  if (header_bytes != kSnapshotHeaderBytes || info.image_offset != kSnapshotHeaderBytes ||
      name_len > L::kMaxSourceName || info.chunk_bytes < kSnapshotAlignment ||
      info.chunk_bytes > (uint64_t{1} << 40) || info.image_size == 0 ||
      info.image_size > std::numeric_limits<uint64_t>::max() - info.image_offset ||
      info.chunk_count != (info.image_size + info.chunk_bytes - 1) / info.chunk_bytes ||
      info.chunk_count > L::kMaxChunks) {
    return Damaged(path, "its header fields are inconsistent");
  }
  info.source_name.assign(reinterpret_cast<const char*>(h + L::kSourceName), name_len);
  const uint64_t expected = info.image_offset + info.image_size;
  if (file_size < expected) {
    return Damaged(path, absl::StrFormat("the file is truncated: it has %u bytes, the header "
                                         "describes %u",
                                         file_size, expected));
  }
  if (file_size > expected) {
    return Damaged(path, absl::StrFormat("the file has %u bytes, more than the %u its header "
                                         "describes",
                                         file_size, expected));
  }
  return info;
}

struct OpenedFile {
  int fd = -1;
  uint64_t size = 0;
  ~OpenedFile() {
    if (fd >= 0) ::close(fd);
  }
};

absl::Status OpenForRead(const std::string& path, OpenedFile& f) {
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) {
    return absl::NotFoundError(
        absl::StrFormat("cannot open snapshot '%s': %s", path, ErrnoText(errno)));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrFormat("snapshot '%s' is not a regular file", path));
  }
  f.size = static_cast<uint64_t>(st.st_size);
  return absl::OkStatus();
}

absl::Status ReadAt(int fd, const std::string& path, uint64_t offset, std::byte* out, uint64_t n) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return absl::DataLossError(
          absl::StrFormat("cannot read snapshot '%s': %s", path, ErrnoText(errno)));
    }
    if (r == 0) return Damaged(path, "the file ended while reading its header");
    out += r;
    n -= static_cast<uint64_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return absl::OkStatus();
}

absl::StatusOr<SnapshotInfo> ReadHeader(const std::string& path, const OpenedFile& f,
                                        std::vector<std::byte>& h) {
  h.assign(kSnapshotHeaderBytes, std::byte{0});
  const uint64_t n = std::min<uint64_t>(f.size, kSnapshotHeaderBytes);
  if (absl::Status s = ReadAt(f.fd, path, 0, h.data(), n); !s.ok()) return s;
  if (n < sizeof(kSnapshotMagic) || std::memcmp(h.data(), kSnapshotMagic, sizeof(kSnapshotMagic)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is not a hearth snapshot (no \"HEARTHSN\" magic)", path));
  }
  if (n < kSnapshotHeaderBytes) {
    return Damaged(path, absl::StrFormat("the file is truncated: it has %u bytes, less than "
                                         "its %u-byte header",
                                         f.size, kSnapshotHeaderBytes));
  }
  return DecodeHeader(path, h.data(), f.size);
}

int PickThreads(int threads, uint64_t chunks) {
  if (threads <= 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    threads = static_cast<int>(std::min(4u, std::max(1u, hw)));
  }
  return static_cast<int>(std::max<uint64_t>(1, std::min<uint64_t>(static_cast<uint64_t>(threads), chunks)));
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

using Chunks = SnapshotTensorCheck::Chunks;

// Verifies chunks [begin, end): on the calling thread when pool is null, else on all of
// the pool's threads, each advising its contiguous run as needed soon and then computing
// the checksums, which reads the run in. The error names the first chunk that fails.
absl::Status VerifyChunks(const Chunks& chunks, uint64_t begin, uint64_t end, ThreadPool* pool) {
  if (begin >= end) return absl::OkStatus();
  std::atomic<uint64_t> first_bad{end};
  std::vector<uint32_t> actual(end - begin);
  const auto verify = [&](int64_t run_begin, int64_t run_end) {
    const uint64_t from = begin + static_cast<uint64_t>(run_begin);
    const uint64_t to = begin + static_cast<uint64_t>(run_end);
    const uint64_t run_start = from * chunks.chunk_bytes;
    AdviseWillNeed(chunks.image + run_start,
                   std::min(to * chunks.chunk_bytes, chunks.image_size) - run_start);
    for (uint64_t c = from; c < to; ++c) {
      if (c > first_bad.load(std::memory_order_relaxed)) return;
      const uint64_t at = c * chunks.chunk_bytes;
      const uint64_t n = std::min(chunks.chunk_bytes, chunks.image_size - at);
      actual[c - begin] = Crc32(Crc32Start(), chunks.image + at, n);
      if (actual[c - begin] != chunks.crcs[c]) {
        uint64_t seen = first_bad.load();
        while (c < seen && !first_bad.compare_exchange_weak(seen, c)) {
        }
        return;
      }
    }
  };
  const int64_t n = static_cast<int64_t>(end - begin);
  if (pool != nullptr) {
    pool->ParallelFor(n, 1, verify);
  } else {
    verify(0, n);
  }
  const uint64_t bad = first_bad.load();
  if (bad == end) return absl::OkStatus();
  const uint64_t at = bad * chunks.chunk_bytes;
  return Damaged(chunks.path,
                 absl::StrFormat("chunk %u of %u (file bytes %u to %u) fails its checksum "
                                 "(stored 0x%08x, computed 0x%08x)",
                                 bad, chunks.crcs.size(), chunks.image_offset + at,
                                 chunks.image_offset + std::min(at + chunks.chunk_bytes,
                                                                chunks.image_size),
                                 chunks.crcs[bad], actual[bad - begin]));
}

// Chunks [0, result) hold the GGUF head, everything the parse read: the data section,
// where the first tensor lies, starts after it.
uint64_t HeadChunks(const GgufFile& file, const Chunks& chunks) {
  uint64_t head_end = chunks.image_size;
  for (const GgufTensor& t : file.tensors()) {
    head_end = std::min(head_end, static_cast<uint64_t>(t.data - chunks.image));
  }
  return std::min<uint64_t>(chunks.crcs.size(),
                            std::max<uint64_t>(1, (head_end + chunks.chunk_bytes - 1) /
                                                      chunks.chunk_bytes));
}

}  // namespace

bool IsSnapshotFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char magic[sizeof(kSnapshotMagic)] = {};
  ssize_t r;
  do {
    r = ::pread(fd, magic, sizeof(magic), 0);
  } while (r < 0 && errno == EINTR);
  ::close(fd);
  return r == static_cast<ssize_t>(sizeof(magic)) &&
         std::memcmp(magic, kSnapshotMagic, sizeof(magic)) == 0;
}

absl::StatusOr<SnapshotInfo> ReadSnapshotInfo(const std::string& path) {
  OpenedFile f;
  if (absl::Status s = OpenForRead(path, f); !s.ok()) return s;
  std::vector<std::byte> header;
  return ReadHeader(path, f, header);
}

absl::StatusOr<StagedSnapshot> OpenSnapshotStaged(const std::string& path) {
  OpenedFile f;
  if (absl::Status s = OpenForRead(path, f); !s.ok()) return s;
  std::vector<std::byte> header;
  absl::StatusOr<SnapshotInfo> info = ReadHeader(path, f, header);
  if (!info.ok()) return info.status();
  Chunks chunks;
  chunks.path = path;
  chunks.image_offset = info->image_offset;
  chunks.image_size = info->image_size;
  chunks.chunk_bytes = info->chunk_bytes;
  chunks.crcs.resize(info->chunk_count);
  for (uint64_t i = 0; i < info->chunk_count; ++i) {
    chunks.crcs[i] = Load<uint32_t>(header.data() + L::kChunkCrcs + 4 * i);
  }
  const size_t map_size = static_cast<size_t>(f.size);
  void* base = ::mmap(nullptr, map_size, PROT_READ, MAP_SHARED, f.fd, 0);
  if (base == MAP_FAILED) {
    return absl::InternalError(
        absl::StrFormat("cannot map snapshot '%s': %s", path, ErrnoText(errno)));
  }
  chunks.mapping = std::shared_ptr<const void>(base, [map_size](const void* p) {
    ::munmap(const_cast<void*>(p), map_size);
  });
  chunks.image = static_cast<const std::byte*>(base) + info->image_offset;

  // The image is parsed before it is verified (the parser is safe on any bytes), because
  // the parse says where the head ends; its result is used only once the head's chunks
  // have passed. A parse that fails is most likely damage, which the checksums then name.
  // The first chunk, where the head starts, is asked for in one go, not fault by fault.
  AdviseWillNeed(chunks.image, std::min(chunks.chunk_bytes, chunks.image_size));
  absl::StatusOr<std::unique_ptr<GgufFile>> gguf = GgufFile::FromBytes(
      absl::MakeConstSpan(chunks.image, static_cast<size_t>(info->image_size)), chunks.mapping);
  if (!gguf.ok()) {
    if (absl::Status s = VerifyChunks(chunks, 0, info->chunk_count, nullptr); !s.ok()) return s;
    return absl::Status(gguf.status().code(), absl::StrCat("snapshot '", path, "': its GGUF image: ",
                                                           gguf.status().message()));
  }
  const auto start = std::chrono::steady_clock::now();
  const uint64_t head_chunks = HeadChunks(**gguf, chunks);
  if (absl::Status s = VerifyChunks(chunks, 0, head_chunks, nullptr); !s.ok()) return s;
  info->verify_seconds = SecondsSince(start);
  return StagedSnapshot{*std::move(gguf), *std::move(info),
                        SnapshotTensorCheck(std::move(chunks), head_chunks)};
}

absl::Status SnapshotTensorCheck::ReadInAndVerify(ThreadPool& pool) const {
  return VerifyChunks(chunks_, first_chunk_, chunks_.crcs.size(), &pool);
}

absl::StatusOr<std::unique_ptr<GgufFile>> OpenSnapshot(const std::string& path,
                                                       SnapshotInfo* info_out, int threads) {
  absl::StatusOr<StagedSnapshot> staged = OpenSnapshotStaged(path);
  if (!staged.ok()) return staged.status();
  const auto start = std::chrono::steady_clock::now();
  const SnapshotTensorCheck& tensors = staged->tensors;
  ThreadPool pool(PickThreads(threads, tensors.chunk_count() - tensors.first_chunk()));
  if (absl::Status s = tensors.ReadInAndVerify(pool); !s.ok()) return s;
  staged->info.verify_seconds += SecondsSince(start);
  if (info_out != nullptr) *info_out = std::move(staged->info);
  return std::move(staged->file);
}

std::vector<std::byte> BuildGgufImage(const GgufFile& file, uint64_t alignment) {
  const ImagePlan plan = PlanImage(file, alignment);
  std::vector<std::byte> out;
  out.reserve(plan.size);
  for (const Segment& seg : plan.segments) {
    if (seg.data != nullptr) {
      out.insert(out.end(), seg.data, seg.data + seg.size);
    } else {
      out.resize(out.size() + seg.size);
    }
  }
  return out;
}

absl::StatusOr<PackResult> PackSnapshot(const std::string& gguf_path, const std::string& out_path) {
  const auto start = std::chrono::steady_clock::now();
  if (out_path.empty()) return absl::InvalidArgumentError("no output path given for the snapshot");
  struct stat in_st {};
  if (::stat(gguf_path.c_str(), &in_st) != 0) {
    return absl::NotFoundError(
        absl::StrFormat("cannot open model file '%s': %s", gguf_path, ErrnoText(errno)));
  }
  struct stat out_st {};
  bool direct = false;  // write into an existing non-regular file (a device) in place
  if (::stat(out_path.c_str(), &out_st) == 0) {
    if (out_st.st_dev == in_st.st_dev && out_st.st_ino == in_st.st_ino) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "refusing to pack '%s' onto itself: the output must be a different file", gguf_path));
    }
    if (S_ISDIR(out_st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("snapshot output '%s' is a directory", out_path));
    }
    direct = !S_ISREG(out_st.st_mode);
  }
  if (IsSnapshotFile(gguf_path)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is already a hearth snapshot", gguf_path));
  }
  absl::StatusOr<std::unique_ptr<GgufFile>> gguf = GgufFile::Open(gguf_path);
  if (!gguf.ok()) return gguf.status();
  const ImagePlan plan = PlanImage(**gguf, kSnapshotAlignment);

  PackResult result;
  SnapshotInfo& info = result.info;
  info.format_version = kSnapshotFormatVersion;
  info.writer_version = HEARTH_VERSION_NUMBER;
  info.image_offset = kSnapshotHeaderBytes;
  info.image_size = plan.size;
  info.chunk_bytes = ChunkBytesFor(plan.size);
  info.chunk_count = (plan.size + info.chunk_bytes - 1) / info.chunk_bytes;
  info.source_size = static_cast<uint64_t>(in_st.st_size);
  info.source_name = BaseName(gguf_path).substr(0, L::kMaxSourceName);
  info.file_size = kSnapshotHeaderBytes + plan.size;

  const std::string tmp = direct ? out_path : absl::StrCat(out_path, ".tmp.", ::getpid());
  const int flags = direct ? (O_WRONLY | O_CLOEXEC) : (O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
  const int fd = ::open(tmp.c_str(), flags, 0644);
  if (fd < 0) {
    const int err = errno;
    const std::string msg =
        absl::StrFormat("cannot create snapshot '%s': %s", tmp, ErrnoText(err));
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(msg);
    if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(msg);
    if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }
  absl::Status s = WriteSnapshot(fd, direct ? out_path : tmp, plan, info);
  if (s.ok() && !direct && ::fsync(fd) != 0) {
    const int err = errno;
    s = (err == ENOSPC || err == EDQUOT)
            ? absl::ResourceExhaustedError(absl::StrFormat(
                  "cannot write snapshot '%s': %s (no space left for it)", tmp, ErrnoText(err)))
            : absl::InternalError(
                  absl::StrFormat("cannot flush snapshot '%s': %s", tmp, ErrnoText(err)));
  }
  if (::close(fd) != 0 && s.ok()) {
    s = absl::InternalError(
        absl::StrFormat("cannot close snapshot '%s': %s", tmp, ErrnoText(errno)));
  }
  if (s.ok() && !direct && ::rename(tmp.c_str(), out_path.c_str()) != 0) {
    s = absl::InternalError(absl::StrFormat("cannot rename '%s' to '%s': %s", tmp, out_path,
                                            ErrnoText(errno)));
  }
  if (!s.ok()) {
    if (!direct) ::unlink(tmp.c_str());
    return s;
  }
  if (!direct) {
    // Make the rename itself durable.
    const size_t slash = out_path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : out_path.substr(0, slash));
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  result.source_bytes = info.source_size;
  result.snapshot_bytes = info.file_size;
  result.seconds = SecondsSince(start);
  return result;
}

}  // namespace hearth
