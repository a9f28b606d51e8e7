#include "lib/tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace hearth {
namespace {

struct CodepointRun {
  char32_t first;
  uint16_t flags;
};

#include "lib/tokenizer/unicode_tables.inc"

// ASCII is most of real text; a direct table avoids the binary search for it.
constexpr std::array<uint16_t, 128> MakeAsciiFlags() {
  std::array<uint16_t, 128> flags{};
  size_t run = 0;
  for (char32_t cp = 0; cp < 128; ++cp) {
    while (run + 1 < std::size(kCodepointRuns) && kCodepointRuns[run + 1].first <= cp) ++run;
    flags[cp] = kCodepointRuns[run].flags;
  }
  return flags;
}
constexpr std::array<uint16_t, 128> kAsciiFlags = MakeAsciiFlags();

struct ByteMapping {
  std::array<char32_t, 256> to_codepoint{};
  std::array<int16_t, 324> from_codepoint{};  // codepoints <= U+0143 cover the mapping
};

ByteMapping MakeByteMapping() {
  ByteMapping m;
  m.from_codepoint.fill(-1);
  char32_t next_extra = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    const char32_t cp = printable ? static_cast<char32_t>(b) : next_extra++;
    m.to_codepoint[b] = cp;
    m.from_codepoint[cp] = static_cast<int16_t>(b);
  }
  return m;
}

const ByteMapping& GetByteMapping() {
  static const ByteMapping mapping = MakeByteMapping();
  return mapping;
}

}  // namespace

uint16_t CodepointFlags(char32_t cp) {
  if (cp < 128) return kAsciiFlags[cp];
  if (cp > kMaxCodepoint) return kFlagUnassigned;
  const auto* it =
      std::upper_bound(std::begin(kCodepointRuns), std::end(kCodepointRuns), cp,
                       [](char32_t value, const CodepointRun& run) { return value < run.first; });
  return (it - 1)->flags;
}

std::vector<char32_t> DecodeUtf8(std::string_view text) {
  std::vector<char32_t> cps;
  cps.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b0 = s[i];
    if (b0 < 0x80) {
      cps.push_back(b0);
      ++i;
      continue;
    }
    size_t len = 0;
    char32_t cp = 0;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cp = b0 & 0x07;
    }
    bool ok = len != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (s[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (ok && cp <= kMaxCodepoint) {
      cps.push_back(cp);
      i += len;
    } else {
      cps.push_back(kReplacementChar);
      ++i;
    }
  }
  return cps;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

char32_t ByteToCodepoint(uint8_t byte) { return GetByteMapping().to_codepoint[byte]; }

int ByteFromCodepoint(char32_t cp) {
  const auto& from = GetByteMapping().from_codepoint;
  return cp < from.size() ? from[cp] : -1;
}

}  // namespace hearth
