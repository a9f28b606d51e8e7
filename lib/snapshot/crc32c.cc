#include "lib/snapshot/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hearth {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // Castagnoli, reflected

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t Portable(uint32_t c, const unsigned char* p, size_t n) {
  while (n-- > 0) c = kTable[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
// The crc32 instruction takes 3 cycles but a core starts one per cycle, so one dependent
// chain runs at a third of the core's rate. Three chains over three adjacent stripes are
// independent; their CRCs are then joined: the CRC register of A followed by B is the
// register of A carried over |B| zero bytes, xor the register of B started from zero.
constexpr size_t kStripeBytes = 4096;

__attribute__((target("sse4.2"))) uint64_t Crc64(uint64_t c, const unsigned char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return _mm_crc32_u64(c, word);
}

// Carrying a register over kStripeBytes zero bytes is linear over GF(2): one table per
// register byte, each entry the xor of the carried single-bit registers it is made of.
class StripeShift {
 public:
  __attribute__((target("sse4.2"))) StripeShift() {
    std::array<uint32_t, 32> carried{};
    for (int bit = 0; bit < 32; ++bit) {
      uint64_t c = uint64_t{1} << bit;
      for (size_t i = 0; i < kStripeBytes / 8; ++i) c = _mm_crc32_u64(c, 0);
      carried[bit] = static_cast<uint32_t>(c);
    }
    for (int byte = 0; byte < 4; ++byte) {
      for (uint32_t value = 0; value < 256; ++value) {
        uint32_t x = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if ((value >> bit) & 1) x ^= carried[8 * byte + bit];
        }
        table_[byte][value] = x;
      }
    }
  }

  uint32_t operator()(uint32_t c) const {
    return table_[0][c & 0xff] ^ table_[1][(c >> 8) & 0xff] ^ table_[2][(c >> 16) & 0xff] ^
           table_[3][c >> 24];
  }

 private:
  uint32_t table_[4][256];
};

__attribute__((target("sse4.2"))) uint32_t Hardware(uint32_t c, const unsigned char* p,
                                                    size_t n) {
  static const StripeShift shift;
  uint64_t c0 = c;
  for (; n >= 3 * kStripeBytes; n -= 3 * kStripeBytes, p += 3 * kStripeBytes) {
    uint64_t c1 = 0;
    uint64_t c2 = 0;
    for (size_t i = 0; i < kStripeBytes; i += 8) {
      c0 = Crc64(c0, p + i);
      c1 = Crc64(c1, p + kStripeBytes + i);
      c2 = Crc64(c2, p + 2 * kStripeBytes + i);
    }
    c0 = shift(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1);
    c0 = shift(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c2);
  }
  for (; n >= 8; n -= 8, p += 8) c0 = Crc64(c0, p);
  c = static_cast<uint32_t>(c0);
  for (; n > 0; --n) c = _mm_crc32_u8(c, *p++);
  return c;
}

const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

uint32_t Crc32c(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  if (kHasSse42) return ~Hardware(~crc, static_cast<const unsigned char*>(data), n);
#endif
  return Crc32cPortable(crc, data, n);
}

uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n) {
  return ~Portable(~crc, static_cast<const unsigned char*>(data), n);
}

}  // namespace hearth
