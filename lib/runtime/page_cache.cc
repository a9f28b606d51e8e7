#include "lib/runtime/page_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace hearth {
namespace {

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::StatusOr<size_t> FileSize(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return absl::InternalError(absl::StrFormat("cannot stat '%s': %s", path, std::strerror(errno)));
  }
  return static_cast<size_t>(st.st_size);
}

absl::StatusOr<int> OpenForReading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrFormat("cannot open '%s': %s", path, std::strerror(errno)));
  }
  return fd;
}

}  // namespace

absl::StatusOr<double> ResidentFraction(const std::string& path) {
  absl::StatusOr<int> fd = OpenForReading(path);
  if (!fd.ok()) return fd.status();
  Fd owner(*fd);
  absl::StatusOr<size_t> size = FileSize(*fd, path);
  if (!size.ok()) return size.status();
  if (*size == 0) return 1.0;
  void* base = ::mmap(nullptr, *size, PROT_READ, MAP_SHARED, *fd, 0);
  if (base == MAP_FAILED) {
    return absl::InternalError(absl::StrFormat("cannot map '%s': %s", path, std::strerror(errno)));
  }
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((*size + page - 1) / page);
  const int rc = ::mincore(base, *size, resident.data());
  const int saved_errno = errno;
  ::munmap(base, *size);
  if (rc != 0) {
    return absl::InternalError(absl::StrFormat("mincore on '%s': %s", path, std::strerror(saved_errno)));
  }
  size_t in_cache = 0;
  for (unsigned char r : resident) in_cache += r & 1;
  return static_cast<double>(in_cache) / static_cast<double>(resident.size());
}

absl::Status EvictFromPageCache(const std::string& path) {
  absl::StatusOr<int> fd = OpenForReading(path);
  if (!fd.ok()) return fd.status();
  Fd owner(*fd);
  if (const int rc = ::posix_fadvise(*fd, 0, 0, POSIX_FADV_DONTNEED); rc != 0) {
    return absl::InternalError(
        absl::StrFormat("posix_fadvise(DONTNEED) on '%s': %s", path, std::strerror(rc)));
  }
  return absl::OkStatus();
}

void AdviseWillNeed(const std::byte* base, size_t size) {
  if (size == 0) return;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<uintptr_t>(base) / page * page;
  const auto end = reinterpret_cast<uintptr_t>(base) + size;
  ::madvise(reinterpret_cast<void*>(first), end - first, MADV_WILLNEED);
}

void PageIn(const std::byte* base, size_t size, ThreadPool& pool) {
  if (size == 0) return;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<uintptr_t>(base) / page * page;
  const size_t n_pages = (reinterpret_cast<uintptr_t>(base) + size - first + page - 1) / page;
  pool.ParallelFor(static_cast<int64_t>(n_pages), 1, [&](int64_t begin, int64_t end) {
    auto* start = reinterpret_cast<std::byte*>(first + static_cast<size_t>(begin) * page);
    const size_t length = static_cast<size_t>(end - begin) * page;
    AdviseWillNeed(start, length);
    unsigned sink = 0;
    for (size_t offset = 0; offset < length; offset += page) {
      sink += static_cast<unsigned>(*reinterpret_cast<const volatile unsigned char*>(start + offset));
    }
    asm volatile("" : : "r"(sink));  // the reads must happen
  });
}

}  // namespace hearth
