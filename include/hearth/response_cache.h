// hearth::ResponseCache — answer a repeated deterministic request without running it.
//
// The key is the normalised request: the model name, the raw prompt or every message
// (role and content), with runs of whitespace collapsed to one space and the ends
// trimmed, and every field that changes the output: max_tokens, every SamplingParams
// field, the stop strings (in order) and ignore_eos. Priority and deadline do not change
// the output and are left out. Two requests that differ only in whitespace runs share an
// entry: a deliberate trade (indentation inside code is the exception that may lose).
//
// Only deterministic requests are cached: temperature 0 (greedy), or a seed the client
// chose (the Engine gives the same output for the same seed, but its default seed is not
// a promise the client made, so the caller says whether the seed was explicit). Others
// are never stored or looked up.
//
// Entries live for the TTL (expired at exactly insert time + ttl) and the cache holds at
// most capacity_bytes (key bytes + response bytes per entry), evicting the least recently
// used entries first. An entry larger than the whole capacity is refused.
//
// Usage:
//   auto cache = hearth::ResponseCache::Create({.capacity_bytes = 64 << 20,
//                                               .ttl = absl::Minutes(10)}, &clock).value();
//   if (std::optional<std::string> hit = cache->Lookup("smollm2", request, false)) return *hit;
//   ... run it ...
//   cache->Insert("smollm2", request, false, result.text).IgnoreError();  // may be refused
//
// Thread-safety: every method may be called from any thread.
#ifndef HEARTH_RESPONSE_CACHE_H_
#define HEARTH_RESPONSE_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hearth/clock.h"
#include "hearth/engine.h"

namespace hearth {

struct ResponseCacheConfig {
  int64_t capacity_bytes = 64 << 20;  // > 0
  absl::Duration ttl = absl::Minutes(10);  // > 0; InfiniteDuration() = never expires
};

struct ResponseCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;           // deterministic lookups that found nothing live
  int64_t uncacheable = 0;      // lookups and inserts of non-deterministic requests
  int64_t insertions = 0;
  int64_t evictions = 0;        // entries dropped for room (LRU)
  int64_t expirations = 0;      // entries dropped at their TTL
  int64_t refused = 0;          // entries larger than the capacity
  int64_t entries = 0;
  int64_t bytes = 0;
};

class ResponseCache {
 public:
  // InvalidArgument for a capacity <= 0, a ttl <= 0, or a null clock (not owned).
  static absl::StatusOr<std::unique_ptr<ResponseCache>> Create(ResponseCacheConfig config, Clock* clock);

  // True when the request's output is fixed by its content: temperature 0 or an explicit
  // seed.
  static bool IsDeterministic(const GenerateRequest& request, bool seed_explicit);
  // The normalised key (exposed for tests and for sharing a cache across processes).
  static std::string Key(std::string_view model, const GenerateRequest& request);

  // The stored response, or nullopt on a miss, an expired entry (removed now) or a
  // non-deterministic request. A hit makes the entry the most recently used.
  std::optional<std::string> Lookup(std::string_view model, const GenerateRequest& request,
                                    bool seed_explicit);
  // Stores (or replaces) the response. FailedPrecondition for a non-deterministic request;
  // ResourceExhausted when the entry alone exceeds the capacity (nothing is evicted then).
  absl::Status Insert(std::string_view model, const GenerateRequest& request, bool seed_explicit,
                      std::string response);

  ResponseCacheStats stats() const;

 private:
  struct Entry {
    std::string key;
    std::string response;
    absl::Time expires_at;
  };
  using Lru = std::list<Entry>;  // most recently used first

  ResponseCache(ResponseCacheConfig config, Clock* clock) : config_(config), clock_(clock) {}
  void EraseLocked(Lru::iterator it);

  const ResponseCacheConfig config_;
  Clock* const clock_;
  mutable std::mutex mu_;
  Lru lru_;
  absl::flat_hash_map<absl::string_view, Lru::iterator> index_;  // views into Entry::key
  ResponseCacheStats stats_;
};

}  // namespace hearth

#endif  // HEARTH_RESPONSE_CACHE_H_
