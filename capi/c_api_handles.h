// The registry of live handles: every handle the C API hands out (create, acquire, a
// lease's borrowed engine) is registered with its kind until its destroy or release, and
// every entry point checks the handles it is given against it before touching them, so
// that a destroyed handle, one of another kind or a pointer that never was a handle is
// HEARTH_INVALID_ARGUMENT instead of undefined behaviour. The registry only compares
// addresses: it never reads through a handle that is not live.
//
// Its limits (c_api.h says them to callers): a destroy racing with a call in progress on
// the same handle is still the caller's bug, and a freed address reused by a new handle
// of the same kind is that new handle. Internal: not installed, not part of the ABI.
#ifndef HEARTH_CAPI_C_API_HANDLES_H_
#define HEARTH_CAPI_C_API_HANDLES_H_

#include <cstdint>
#include <initializer_list>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hearth/c_api.h"

namespace hearth_capi {

// Every opaque type of c_api.h; an engine is either the caller's (hearth_engine_create)
// or borrowed from a lease (hearth_lease_engine), which its destroy leaves alone.
enum class HandleKind : uint8_t {
  kEngine,
  kBorrowedEngine,
  kResult,
  kClock,
  kPool,
  kLease,
  kAutoscaler,
  kCost,
  kSimReport,
};

struct HandleEntry {
  const void* handle;
  HandleKind kind;
};

// Registers every entry, all or none (an exception leaves none registered).
void RegisterHandles(std::initializer_list<HandleEntry> entries);
// Unregisters `handle` as `kind`: true when it was live as that kind.
bool UnregisterHandle(const void* handle, HandleKind kind);
// Whether `handle` is live as `kind`; false for NULL.
bool IsLiveHandle(const void* handle, HandleKind kind);

// The C type behind each kind: its name in messages, the kind its create registers (and
// its destroy unregisters) and the kinds that count as live for its entry points.
template <typename T>
struct HandleTraits;

#define HEARTH_CAPI_HANDLE_TRAITS(type, owned, ...)            \
  template <>                                                  \
  struct HandleTraits<type> {                                  \
    static constexpr const char* kName = #type;                \
    static constexpr HandleKind kOwned = HandleKind::owned;    \
    static constexpr HandleKind kLive[] = {HandleKind::owned, __VA_ARGS__}; \
  }
// Every hearth_engine_* call but destroy takes a lease's borrowed engine too.
HEARTH_CAPI_HANDLE_TRAITS(hearth_engine, kEngine, HandleKind::kBorrowedEngine);
HEARTH_CAPI_HANDLE_TRAITS(hearth_result, kResult);
HEARTH_CAPI_HANDLE_TRAITS(hearth_clock, kClock);
HEARTH_CAPI_HANDLE_TRAITS(hearth_pool, kPool);
HEARTH_CAPI_HANDLE_TRAITS(hearth_lease, kLease);
HEARTH_CAPI_HANDLE_TRAITS(hearth_autoscaler, kAutoscaler);
HEARTH_CAPI_HANDLE_TRAITS(hearth_cost, kCost);
HEARTH_CAPI_HANDLE_TRAITS(hearth_sim_report, kSimReport);
#undef HEARTH_CAPI_HANDLE_TRAITS

// Whether `handle` may be used as a T now; false for NULL. For the entry points that
// return a value instead of a status: they return their neutral value when it is not.
template <typename T>
bool IsLive(const T* handle) {
  for (HandleKind kind : HandleTraits<T>::kLive) {
    if (IsLiveHandle(handle, kind)) return true;
  }
  return false;
}

// A handle argument: InvalidArgument "<what> is NULL", or "<what> is not a live
// hearth_<kind> (destroyed, or never created)".
template <typename T>
absl::Status CheckHandle(const T* handle, absl::string_view what) {
  if (handle == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, " is NULL"));
  if (!IsLive(handle)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a live ",
                                                   HandleTraits<T>::kName,
                                                   " (destroyed, or never created)"));
  }
  return absl::OkStatus();
}

// Hands a new handle out: registered, then released to the caller.
template <typename T>
T* Publish(std::unique_ptr<T> handle) {
  RegisterHandles({{handle.get(), HandleTraits<T>::kOwned}});
  return handle.release();
}

// Unregisters the handle and reports whether the caller may free it: false for NULL, a
// handle already destroyed or never created (a double destroy is then a no-op) and one
// of another kind (a borrowed engine given to hearth_engine_destroy).
template <typename T>
bool Retire(const T* handle) {
  return UnregisterHandle(handle, HandleTraits<T>::kOwned);
}

}  // namespace hearth_capi

#endif  // HEARTH_CAPI_C_API_HANDLES_H_
