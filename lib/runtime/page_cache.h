// The operating system's page cache, as cold starts see it: how much of a file is
// resident, evicting a file to measure a cold start honestly, and reading a mapping into
// memory with several threads at once.
#ifndef HEARTH_LIB_RUNTIME_PAGE_CACHE_H_
#define HEARTH_LIB_RUNTIME_PAGE_CACHE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "lib/runtime/thread_pool.h"

namespace hearth {

// Fraction of the file's pages in the page cache, in [0, 1] (mincore over a mapping).
absl::StatusOr<double> ResidentFraction(const std::string& path);

// Asks the kernel to drop the file's cached pages (posix_fadvise DONTNEED). Pages that some
// process still maps stay; check with ResidentFraction.
absl::Status EvictFromPageCache(const std::string& path);

// Advises the kernel that [base, base + size) of a file mapping (every page it touches)
// is needed soon, which starts reading it in the background. Advice only: where it fails,
// the page faults read the pages.
void AdviseWillNeed(const std::byte* base, size_t size);

// Reads [base, base + size) of a file mapping into memory on every thread of `pool`:
// each thread advises its contiguous share as needed soon, then touches one byte per page.
// Several readers keep the device's queue full where the page faults of a forward pass
// would come one at a time, in layer order.
void PageIn(const std::byte* base, size_t size, ThreadPool& pool);

}  // namespace hearth

#endif  // HEARTH_LIB_RUNTIME_PAGE_CACHE_H_
