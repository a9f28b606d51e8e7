// What the C API's translation units share: the handle types several of them touch, the
// thread-local last error, the exception guard and the checks every entry point applies
// to what a C caller hands in. Internal: not installed, not part of the ABI.
#ifndef HEARTH_CAPI_C_API_INTERNAL_H_
#define HEARTH_CAPI_C_API_INTERNAL_H_

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "c_api_handles.h"
#include "hearth/c_api.h"
#include "hearth/clock.h"
#include "hearth/cost_optimizer.h"
#include "hearth/engine.h"

// An engine the caller owns (hearth_engine_create), or one a pool lease lends: then
// `owned` is empty, the pool's instance owns the Engine and hearth_engine_destroy leaves
// the handle alone (it lives inside its hearth_lease, registered as a kBorrowedEngine).
struct hearth_engine {
  std::unique_ptr<hearth::Engine> owned;
  hearth::Engine* engine = nullptr;
};

// A ManualClock shared by every object created with it, so that destroying the handle
// before them (any order a garbage collector picks) leaves them a valid clock.
struct hearth_clock {
  std::shared_ptr<hearth::ManualClock> clock;
};

// The cost optimizer with what its C views point into; shared by the cost and the
// capacity-planning parts.
struct hearth_cost {
  std::shared_ptr<hearth::Clock> clock;  // first: outlives the optimizer that reads it
  std::unique_ptr<hearth::CostOptimizer> optimizer;
  // OfferingKindName of each offering, NUL-terminated for C, in catalog order.
  std::vector<std::string> kinds;
};

namespace hearth_capi {

// Sets the calling thread's last error and returns the status code as an int.
int Fail(const absl::Status& status);
int Fail(hearth_status code, std::string message);

// Runs `body` (returning a hearth_status), turning any exception into HEARTH_INTERNAL or
// HEARTH_RESOURCE_EXHAUSTED, so that none crosses into a C caller.
template <typename Body>
int Guard(Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(HEARTH_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception& e) {
    return Fail(HEARTH_INTERNAL, absl::StrCat("internal error: ", e.what()));
  } catch (...) {
    return Fail(HEARTH_INTERNAL, "internal error");
  }
}

// A destroy function's body: frees `handle` when it is a live handle of T's own kind and
// unregisters it first; NULL, a handle already destroyed or never created, or one of
// another kind (a lease's borrowed engine) is a no-op.
template <typename T>
void Destroy(T* handle) {
  Guard([&] {
    if (Retire(handle)) delete handle;
    return static_cast<int>(HEARTH_OK);
  });
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s);

// A caller's string: NULL is an error, invalid UTF-8 too; `what` names the field.
absl::Status CheckText(const char* text, absl::string_view what);
// A struct_size that is not this library's: `what` is the struct's type name.
absl::Status CheckSize(uint32_t given, size_t expected, absl::string_view what);
// A pointer the call cannot do without: InvalidArgument "<what> is NULL". Handles are
// checked with CheckHandle (c_api_handles.h), which also refuses one that is not live.
absl::Status CheckNotNull(const void* pointer, absl::string_view what);
// `status` with "<where>: " before its message (a nested struct's field, an array index).
absl::Status Within(absl::string_view where, const absl::Status& status);
// Seconds from a C caller as a Duration: finite and >= 0, or +infinity where
// `infinite_ok`; InvalidArgument naming the field otherwise.
absl::StatusOr<absl::Duration> ToDuration(double seconds, absl::string_view what,
                                          bool infinite_ok = false);

// The C engine parameters as an EngineConfig, every field checked.
absl::StatusOr<hearth::EngineConfig> ToEngineConfig(const hearth_engine_params* params);
// The C request as a GenerateRequest, every string checked.
absl::StatusOr<hearth::GenerateRequest> ToRequest(const hearth_request* request);

// The clock an object created with `clock` reads: its ManualClock, shared, or the real
// clock for NULL; InvalidArgument for a clock that is not live.
absl::StatusOr<std::shared_ptr<hearth::Clock>> ClockOf(const hearth_clock* clock);
// A time on a clock as the C API gives it: seconds since the Unix epoch, +infinity for
// absl::InfiniteFuture().
double ToUnixSeconds(absl::Time time);

}  // namespace hearth_capi

// Returns a failed check's code from an entry point (setting the last error), so that
// each argument check reads as one line.
#define HEARTH_CAPI_CHECK(expr)                                            \
  do {                                                                     \
    if (absl::Status hearth_capi_status = (expr); !hearth_capi_status.ok()) \
      return ::hearth_capi::Fail(hearth_capi_status);                      \
  } while (0)

#endif  // HEARTH_CAPI_C_API_INTERNAL_H_
