#include "hearth/response_cache.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace hearth {
namespace {

// A new SamplingParams field changes outputs, so it must join the key: this fails to
// compile until Key() below is updated with it.
static_assert(sizeof(SamplingParams) == 32, "SamplingParams changed: add the new field to the cache key");

std::string CollapseWhitespace(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Length-prefixed, so no choice of field contents can make two requests collide.
void AppendField(std::string& key, absl::string_view field) {
  absl::StrAppend(&key, field.size(), ":", field, ";");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ResponseCache>> ResponseCache::Create(ResponseCacheConfig config,
                                                                     Clock* clock) {
  if (clock == nullptr) return absl::InvalidArgumentError("ResponseCache: clock is null");
  if (config.capacity_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResponseCache: capacity_bytes must be > 0, got ", config.capacity_bytes));
  }
  if (config.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResponseCache: ttl must be > 0, got ", absl::FormatDuration(config.ttl)));
  }
  return std::unique_ptr<ResponseCache>(new ResponseCache(config, clock));
}

bool ResponseCache::IsDeterministic(const GenerateRequest& request, bool seed_explicit) {
  return request.sampling.temperature == 0.0f || seed_explicit;
}

std::string ResponseCache::Key(std::string_view model, const GenerateRequest& request) {
  std::string key;
  AppendField(key, absl::string_view(model.data(), model.size()));
  AppendField(key, CollapseWhitespace(request.prompt));
  AppendField(key, absl::StrCat(request.messages.size()));
  for (const ChatMessage& m : request.messages) {
    AppendField(key, m.role);
    AppendField(key, CollapseWhitespace(m.content));
  }
  const SamplingParams& s = request.sampling;
  // Greedy decoding ignores the seed and the filters, but they stay in the key: equal
  // keys must mean equal requests, not merely equal outputs.
  AppendField(key, absl::StrCat(request.max_tokens, ",", s.temperature, ",", s.top_k, ",", s.top_p,
                                ",", s.min_p, ",", s.repetition_penalty, ",", s.repetition_window,
                                ",", s.seed, ",", request.ignore_eos ? 1 : 0));
  AppendField(key, absl::StrCat(request.stop.size()));
  for (const std::string& stop : request.stop) AppendField(key, stop);
  return key;
}

void ResponseCache::EraseLocked(Lru::iterator it) {
  stats_.bytes -= static_cast<int64_t>(it->key.size() + it->response.size());
  --stats_.entries;
  index_.erase(it->key);
  lru_.erase(it);
}

std::optional<std::string> ResponseCache::Lookup(std::string_view model, const GenerateRequest& request,
                                                 bool seed_explicit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!IsDeterministic(request, seed_explicit)) {
    ++stats_.uncacheable;
    return std::nullopt;
  }
  const std::string key = Key(model, request);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  if (clock_->Now() >= it->second->expires_at) {
    EraseLocked(it->second);
    ++stats_.expirations;
    ++stats_.misses;
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.hits;
  return it->second->response;
}

absl::Status ResponseCache::Insert(std::string_view model, const GenerateRequest& request,
                                   bool seed_explicit, std::string response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!IsDeterministic(request, seed_explicit)) {
    ++stats_.uncacheable;
    return absl::FailedPreconditionError(absl::StrCat(
        "ResponseCache: request is not deterministic (temperature ", request.sampling.temperature,
        ", no explicit seed); not cached"));
  }
  std::string key = Key(model, request);
  const int64_t bytes = static_cast<int64_t>(key.size() + response.size());
  if (bytes > config_.capacity_bytes) {
    ++stats_.refused;
    return absl::ResourceExhaustedError(absl::StrCat("ResponseCache: entry of ", bytes,
                                                     " bytes exceeds the capacity of ",
                                                     config_.capacity_bytes, " bytes"));
  }
  const absl::Time now = clock_->Now();
  if (auto it = index_.find(key); it != index_.end()) EraseLocked(it->second);
  // Expired entries go before live ones are evicted: they hold room for nothing.
  for (auto it = lru_.begin(); it != lru_.end() && stats_.bytes + bytes > config_.capacity_bytes;) {
    if (now >= it->expires_at) {
      auto expired = it++;
      EraseLocked(expired);
      ++stats_.expirations;
    } else {
      ++it;
    }
  }
  while (stats_.bytes + bytes > config_.capacity_bytes) {
    EraseLocked(std::prev(lru_.end()));
    ++stats_.evictions;
  }
  const absl::Time expires_at =
      config_.ttl == absl::InfiniteDuration() ? absl::InfiniteFuture() : now + config_.ttl;
  lru_.push_front({std::move(key), std::move(response), expires_at});
  index_.emplace(lru_.front().key, lru_.begin());
  stats_.bytes += bytes;
  ++stats_.entries;
  ++stats_.insertions;
  return absl::OkStatus();
}

ResponseCacheStats ResponseCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace hearth
