#include "lib/runtime/page_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/runtime/thread_pool.h"

namespace hearth {
namespace {

// A file of random bytes on the build tree's file system (a disk: tmpfs pages cannot be
// evicted), written back so that its pages are clean and can be dropped.
std::string WriteFile(size_t bytes) {
  const std::string path = ::testing::TempDir() + "/page_cache_test.bin";
  std::vector<unsigned char> data(bytes);
  std::mt19937 rng(7);
  for (unsigned char& b : data) b = static_cast<unsigned char>(rng());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(::fsync(fd), 0);
  ::close(fd);
  return path;
}

TEST(PageCacheTest, EvictThenPageInWithSeveralThreads) {
  constexpr size_t kBytes = 8 << 20;
  const std::string path = WriteFile(kBytes);
  ASSERT_TRUE(EvictFromPageCache(path).ok());
  absl::StatusOr<double> after_evict = ResidentFraction(path);
  ASSERT_TRUE(after_evict.ok()) << after_evict.status();
  if (*after_evict > 0.5) {
    GTEST_SKIP() << "this file system keeps the pages (" << *after_evict << " resident)";
  }

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* base = ::mmap(nullptr, kBytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  ASSERT_NE(base, MAP_FAILED);
  ThreadPool pool(3);
  // A range starting and ending inside pages: the whole first and last page are read.
  PageIn(static_cast<const std::byte*>(base) + 100, kBytes - 110, pool);
  absl::StatusOr<double> after_page_in = ResidentFraction(path);
  ::munmap(base, kBytes);
  ASSERT_TRUE(after_page_in.ok());
  EXPECT_EQ(*after_page_in, 1.0);
  ::unlink(path.c_str());
}

TEST(PageCacheTest, MissingFileIsNotFound) {
  EXPECT_EQ(ResidentFraction("/no/such/file").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(EvictFromPageCache("/no/such/file").message(), ::testing::HasSubstr("/no/such/file"));
}

}  // namespace
}  // namespace hearth
