// The C API's shared ground: versions, status names, the thread-local last error and the
// checks applied to what a C caller hands in (c_api_internal.h).
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "c_api_internal.h"
#include "hearth/c_api.h"

namespace hearth_capi {
namespace {

thread_local std::string last_error;

}  // namespace

int Fail(const absl::Status& status) {
  last_error = std::string(status.message());
  return static_cast<int>(status.code());
}

int Fail(hearth_status code, std::string message) {
  last_error = std::move(message);
  return code;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

absl::Status CheckText(const char* text, absl::string_view what) {
  if (text == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, " is NULL"));
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status CheckSize(uint32_t given, size_t expected, absl::string_view what) {
  if (given != expected) {
    return absl::InvalidArgumentError(absl::StrCat(what, ".struct_size is ", given,
                                                   ", this library expects ", expected,
                                                   " (call ", what, "_init)"));
  }
  return absl::OkStatus();
}

absl::Status CheckNotNull(const void* pointer, absl::string_view what) {
  if (pointer == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, " is NULL"));
  return absl::OkStatus();
}

absl::Status Within(absl::string_view where, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
}

absl::StatusOr<absl::Duration> ToDuration(double seconds, absl::string_view what,
                                          bool infinite_ok) {
  if (infinite_ok && std::isinf(seconds) && seconds > 0) return absl::InfiniteDuration();
  if (!std::isfinite(seconds) || seconds < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", seconds, ", not a finite number of seconds >= 0"));
  }
  return absl::Seconds(seconds);
}

}  // namespace hearth_capi

extern "C" {

uint32_t hearth_version(void) { return HEARTH_VERSION_NUMBER; }

const char* hearth_version_string(void) { return "0.1.0"; }

const char* hearth_last_error(void) { return hearth_capi::last_error.c_str(); }

const char* hearth_status_name(int status) {
  static constexpr const char* kNames[] = {
      "ok",        "cancelled",        "unknown",           "invalid_argument",
      "deadline_exceeded", "not_found", "already_exists",   "permission_denied",
      "resource_exhausted", "failed_precondition", "aborted", "out_of_range",
      "unimplemented", "internal",     "unavailable",       "data_loss",
      "unauthenticated"};
  if (status < 0 || status > HEARTH_UNAUTHENTICATED) return "unknown";
  return kNames[status];
}

void hearth_string_free(char* text) { std::free(text); }

}  // extern "C"
