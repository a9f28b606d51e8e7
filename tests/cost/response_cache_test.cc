#include "hearth/response_cache.h"

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hearth {
namespace {

GenerateRequest Greedy(std::string content) {
  GenerateRequest r;
  r.messages = {{"user", std::move(content)}};
  r.max_tokens = 32;
  r.sampling.temperature = 0;
  return r;
}

class ResponseCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<ResponseCache> Cache(int64_t capacity, absl::Duration ttl = absl::Minutes(10)) {
    return ResponseCache::Create({.capacity_bytes = capacity, .ttl = ttl}, &clock_).value();
  }
  ManualClock clock_{absl::FromUnixSeconds(100)};
};

TEST_F(ResponseCacheTest, HitAfterInsertAndWhitespaceNormalised) {
  auto cache = Cache(1 << 20);
  EXPECT_FALSE(cache->Lookup("m", Greedy("What is 2+2?"), false).has_value());
  ASSERT_TRUE(cache->Insert("m", Greedy("What is 2+2?"), false, "4").ok());
  EXPECT_EQ(cache->Lookup("m", Greedy("  What   is\n2+2? "), false).value_or(""), "4");
  ResponseCacheStats s = cache->stats();
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 1);
  EXPECT_EQ(s.entries, 1);
}

TEST_F(ResponseCacheTest, EveryParameterIsInTheKey) {
  const GenerateRequest base = Greedy("q");
  std::vector<GenerateRequest> variants(10, base);
  variants[0].max_tokens = 33;
  variants[1].sampling.top_k = 7;
  variants[2].sampling.top_p = 0.5f;
  variants[3].sampling.min_p = 0.2f;
  variants[4].sampling.repetition_penalty = 1.1f;
  variants[5].sampling.repetition_window = 8;
  variants[6].sampling.seed = 9;
  variants[7].stop = {"\n"};
  variants[8].ignore_eos = true;
  variants[9].messages[0].role = "system";
  const std::string key = ResponseCache::Key("m", base);
  EXPECT_NE(ResponseCache::Key("n", base), key);
  for (size_t i = 0; i < variants.size(); ++i) EXPECT_NE(ResponseCache::Key("m", variants[i]), key) << i;
  GenerateRequest raw = base;
  raw.messages.clear();
  raw.prompt = "q";
  EXPECT_NE(ResponseCache::Key("m", raw), key);
  // Priority and deadline do not change the output.
  GenerateRequest urgent = base;
  urgent.priority = 5;
  urgent.deadline = absl::FromUnixSeconds(1);
  EXPECT_EQ(ResponseCache::Key("m", urgent), key);
}

TEST_F(ResponseCacheTest, FieldBoundariesCannotCollide) {
  GenerateRequest a = Greedy("x");
  a.stop = {"ab", "c"};
  GenerateRequest b = Greedy("x");
  b.stop = {"a", "bc"};
  EXPECT_NE(ResponseCache::Key("m", a), ResponseCache::Key("m", b));
}

TEST_F(ResponseCacheTest, NonDeterministicNeverCached) {
  auto cache = Cache(1 << 20);
  GenerateRequest sampled = Greedy("q");
  sampled.sampling.temperature = 0.7f;
  absl::Status s = cache->Insert("m", sampled, false, "answer");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(cache->Lookup("m", sampled, false).has_value());
  EXPECT_EQ(cache->stats().entries, 0);
  EXPECT_EQ(cache->stats().uncacheable, 2);
  // With an explicit seed the same request is deterministic.
  ASSERT_TRUE(cache->Insert("m", sampled, true, "answer").ok());
  EXPECT_EQ(cache->Lookup("m", sampled, true).value_or(""), "answer");
  // ... but the same request without the promise is not looked up.
  EXPECT_FALSE(cache->Lookup("m", sampled, false).has_value());
}

TEST_F(ResponseCacheTest, ExpiresExactlyAtTtl) {
  auto cache = Cache(1 << 20, absl::Seconds(30));
  ASSERT_TRUE(cache->Insert("m", Greedy("q"), false, "a").ok());
  clock_.Advance(absl::Seconds(30) - absl::Nanoseconds(1));
  EXPECT_TRUE(cache->Lookup("m", Greedy("q"), false).has_value());
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_FALSE(cache->Lookup("m", Greedy("q"), false).has_value());
  ResponseCacheStats s = cache->stats();
  EXPECT_EQ(s.expirations, 1);
  EXPECT_EQ(s.entries, 0);
  EXPECT_EQ(s.bytes, 0);
}

TEST_F(ResponseCacheTest, LruEvictionByBytes) {
  const std::string ka = ResponseCache::Key("m", Greedy("a"));
  const int64_t entry = static_cast<int64_t>(ka.size()) + 100;  // keys "a", "b", "c" are the same size
  auto cache = Cache(3 * entry - 1);  // room for two
  ASSERT_TRUE(cache->Insert("m", Greedy("a"), false, std::string(100, 'A')).ok());
  ASSERT_TRUE(cache->Insert("m", Greedy("b"), false, std::string(100, 'B')).ok());
  ASSERT_TRUE(cache->Lookup("m", Greedy("a"), false).has_value());  // a is now most recent
  ASSERT_TRUE(cache->Insert("m", Greedy("c"), false, std::string(100, 'C')).ok());
  EXPECT_TRUE(cache->Lookup("m", Greedy("a"), false).has_value());
  EXPECT_FALSE(cache->Lookup("m", Greedy("b"), false).has_value());
  EXPECT_TRUE(cache->Lookup("m", Greedy("c"), false).has_value());
  ResponseCacheStats s = cache->stats();
  EXPECT_EQ(s.evictions, 1);
  EXPECT_EQ(s.bytes, 2 * entry);
}

TEST_F(ResponseCacheTest, ExpiredEntriesGoBeforeLiveOnes) {
  const int64_t entry = static_cast<int64_t>(ResponseCache::Key("m", Greedy("a")).size()) + 10;
  auto cache = Cache(2 * entry, absl::Seconds(10));
  ASSERT_TRUE(cache->Insert("m", Greedy("a"), false, std::string(10, 'A')).ok());
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(cache->Insert("m", Greedy("b"), false, std::string(10, 'B')).ok());
  ASSERT_TRUE(cache->Lookup("m", Greedy("a"), false).has_value());  // a most recent, b least
  clock_.Advance(absl::Seconds(6));                                  // a expired, b live
  ASSERT_TRUE(cache->Insert("m", Greedy("c"), false, std::string(10, 'C')).ok());
  EXPECT_TRUE(cache->Lookup("m", Greedy("b"), false).has_value());
  EXPECT_EQ(cache->stats().evictions, 0);
  EXPECT_EQ(cache->stats().expirations, 1);
}

TEST_F(ResponseCacheTest, OversizeRefusedWithoutEvicting) {
  auto cache = Cache(200);
  ASSERT_TRUE(cache->Insert("m", Greedy("a"), false, "small").ok());
  absl::Status s = cache->Insert("m", Greedy("b"), false, std::string(300, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("exceeds the capacity of 200 bytes"));
  EXPECT_TRUE(cache->Lookup("m", Greedy("a"), false).has_value());
  EXPECT_EQ(cache->stats().refused, 1);
}

TEST_F(ResponseCacheTest, ReplaceKeepsBytesExact) {
  auto cache = Cache(1 << 20);
  ASSERT_TRUE(cache->Insert("m", Greedy("a"), false, "one").ok());
  ASSERT_TRUE(cache->Insert("m", Greedy("a"), false, "three").ok());
  EXPECT_EQ(cache->Lookup("m", Greedy("a"), false).value_or(""), "three");
  EXPECT_EQ(cache->stats().entries, 1);
  EXPECT_EQ(cache->stats().bytes, static_cast<int64_t>(ResponseCache::Key("m", Greedy("a")).size() + 5));
}

TEST_F(ResponseCacheTest, BadConfig) {
  EXPECT_EQ(ResponseCache::Create({.capacity_bytes = 0}, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResponseCache::Create({.ttl = absl::ZeroDuration()}, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResponseCache::Create({}, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

// Random inserts, lookups and time steps: the byte count never exceeds the capacity and
// every entry held was inserted and not evicted or expired.
TEST_F(ResponseCacheTest, PropertyBytesStayWithinCapacity) {
  std::mt19937 rng(3);
  auto cache = Cache(2000, absl::Seconds(20));
  for (int i = 0; i < 5000; ++i) {
    GenerateRequest r = Greedy(absl::StrCat("q", rng() % 40));
    switch (rng() % 3) {
      case 0:
        (void)cache->Insert("m", r, false, std::string(rng() % 300, 'x'));
        break;
      case 1:
        (void)cache->Lookup("m", r, false);
        break;
      default:
        clock_.Advance(absl::Seconds(rng() % 5));
    }
    ResponseCacheStats s = cache->stats();
    ASSERT_LE(s.bytes, 2000);
    ASSERT_GE(s.bytes, 0);
    ASSERT_LE(s.entries, s.insertions - s.evictions - s.expirations);
    ASSERT_EQ(s.bytes == 0, s.entries == 0);
  }
  ResponseCacheStats s = cache->stats();
  EXPECT_GT(s.evictions, 0);
  EXPECT_GT(s.expirations, 0);
  EXPECT_GT(s.hits, 0);
}

TEST_F(ResponseCacheTest, ConcurrentUse) {
  auto cache = Cache(4096);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        GenerateRequest r = Greedy(absl::StrCat("q", (i * 7 + t) % 50));
        if (i % 2) {
          (void)cache->Insert("m", r, false, std::string(i % 64, 'x'));
        } else {
          (void)cache->Lookup("m", r, false);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ResponseCacheStats s = cache->stats();
  EXPECT_LE(s.bytes, 4096);
  EXPECT_EQ(s.hits + s.misses, 2000);
}

}  // namespace
}  // namespace hearth
