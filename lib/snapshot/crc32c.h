// CRC-32C (Castagnoli), the checksum of .hearth snapshots: the SSE4.2 crc32 instruction
// on three interleaved stripes where the CPU has it (so that verifying a snapshot keeps up
// with reading it from the page cache), a table elsewhere; both give the same values.
#ifndef HEARTH_LIB_SNAPSHOT_CRC32C_H_
#define HEARTH_LIB_SNAPSHOT_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace hearth {

// Extends `crc` (0 to start) over n bytes: Crc32c(Crc32c(0, a), b) == Crc32c(0, a + b).
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);
// The table implementation Crc32c falls back to; exposed so tests check both.
uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n);

}  // namespace hearth

#endif  // HEARTH_LIB_SNAPSHOT_CRC32C_H_
