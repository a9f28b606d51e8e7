// The registry of live handles (c_api_handles.h): a hash set of (address, kind) under a
// std::mutex (not absl::Mutex: the sanitizer builds' Abseil is not TSan-instrumented).
#include "c_api_handles.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <unordered_set>

namespace hearth_capi {
namespace {

struct Key {
  uintptr_t address;
  HandleKind kind;
  bool operator==(const Key& other) const = default;
};

struct KeyHash {
  size_t operator()(const Key& key) const {
    return std::hash<uintptr_t>()(key.address) ^ static_cast<size_t>(key.kind);
  }
};

struct Registry {
  std::mutex mutex;
  std::unordered_set<Key, KeyHash> live;
};

// Never destroyed: handles may be destroyed (or used) during static destruction, from
// atexit handlers or a garbage collector at interpreter exit.
Registry& TheRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

Key KeyOf(const void* handle, HandleKind kind) {
  return {reinterpret_cast<uintptr_t>(handle), kind};
}

}  // namespace

void RegisterHandles(std::initializer_list<HandleEntry> entries) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto next = entries.begin();
  try {
    for (; next != entries.end(); ++next) r.live.insert(KeyOf(next->handle, next->kind));
  } catch (...) {  // out of memory: none of them, the caller frees the handle
    for (auto e = entries.begin(); e != next; ++e) r.live.erase(KeyOf(e->handle, e->kind));
    throw;
  }
}

bool UnregisterHandle(const void* handle, HandleKind kind) {
  if (handle == nullptr) return false;
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.live.erase(KeyOf(handle, kind)) > 0;
}

bool IsLiveHandle(const void* handle, HandleKind kind) {
  if (handle == nullptr) return false;
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.live.contains(KeyOf(handle, kind));
}

}  // namespace hearth_capi
