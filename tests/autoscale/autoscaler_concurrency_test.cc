#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "hearth/autoscaler.h"
#include "hearth/clock.h"

namespace hearth {
namespace {

// Observers, deciders and cold-start updates on several threads: every decision stays
// in bounds, and samples that lost the race to a later one are refused, not mixed in.
TEST(AutoScalerConcurrencyTest, ObserveDecideAndSetColdStartFromManyThreads) {
  ManualClock clock(absl::FromUnixSeconds(1000));
  std::vector<std::unique_ptr<ScalingPolicy>> policies;
  for (const char* name : {"hpa", "kpa", "queue_depth", "load_score", "predictive"}) {
    policies.push_back(MakeScalingPolicy(name).value());
  }
  auto scaler =
      AutoScaler::Create({.min_replicas = 1, .max_replicas = 8}, std::move(policies), &clock)
          .value();
  std::atomic<int> accepted = 0;
  std::atomic<int> refused = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 500; ++n) {
        clock.Advance(absl::Milliseconds(100));
        LoadSample s;
        s.time = clock.Now();
        s.ready_replicas = 2;
        s.in_flight = 50 + 10 * i + n % 40;
        s.queue_depth = n % 7;
        s.arrival_rate = 5;
        if (scaler->Observe(s).ok()) {
          ++accepted;
        } else {
          ++refused;
        }
      }
    });
  }
  std::atomic<bool> out_of_bounds = false;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 500; ++n) {
        const int d = scaler->Decide().desired_replicas;
        if (d < 1 || d > 8) out_of_bounds = true;
        if (n % 50 == 0) scaler->SetColdStart(absl::Seconds(n % 30));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(out_of_bounds.load());
  EXPECT_EQ(accepted + refused, 1000);
  EXPECT_GT(accepted.load(), 0);
}

}  // namespace
}  // namespace hearth
