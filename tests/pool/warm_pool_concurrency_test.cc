// Many threads acquiring and releasing against the real clock, with a provisioner that
// answers inside Start, while another thread ticks and reads metrics. Run under TSan.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "hearth/clock.h"
#include "hearth/keep_alive.h"
#include "hearth/warm_pool.h"

namespace hearth {
namespace {

class Handle final : public InstanceHandle {
 public:
  int64_t memory_bytes() const override { return 0; }
};

class ImmediateProvisioner final : public Provisioner {
 public:
  void Start(const InstanceSpec& spec, Done done) override {
    if (spec.on_loading) spec.on_loading();
    done(std::make_unique<Handle>());
  }
};

TEST(WarmPoolConcurrencyTest, ThreadsAcquireAndRelease) {
  WarmPoolConfig config;
  config.models = {{"a", 10, 2, 1}, {"b", 10, 1, 0}};
  config.memory_budget_bytes = 40;
  config.max_instances = 4;
  absl::StatusOr<std::unique_ptr<WarmPool>> pool =
      WarmPool::Create(config, std::make_unique<ImmediateProvisioner>(),
                       MakeKeepAlivePolicy("fixed:0.001").value(), RealClock());
  ASSERT_TRUE(pool.ok()) << pool.status();

  constexpr int kThreads = 8, kRounds = 1000;
  std::atomic<int> ok{0}, deadline{0};
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    while (!stop.load()) {
      (*pool)->Tick();
      WarmPoolMetrics m = (*pool)->metrics();
      EXPECT_LE(m.instances, 4);
      EXPECT_LE(m.memory_bytes, 40);
      (void)(*pool)->NextWakeup();
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const char* model = (t + i) % 3 == 0 ? "b" : "a";
        if (i % 2 == 0) {
          absl::StatusOr<Lease> lease =
              (*pool)->Acquire(model, absl::Now() + absl::Milliseconds(200));
          if (lease.ok()) {
            ++ok;
          } else {
            EXPECT_EQ(lease.status().code(), absl::StatusCode::kDeadlineExceeded);
            ++deadline;
          }
        } else {
          std::atomic<bool> answered{false};
          (*pool)->AcquireAsync(model, absl::Now() + absl::Milliseconds(200),
                                [&](absl::StatusOr<Lease> lease) {
                                  lease.ok() ? ++ok : ++deadline;
                                  answered.store(true);
                                });
          while (!answered.load()) {
            (*pool)->Tick();
            std::this_thread::yield();
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  stop.store(true);
  ticker.join();
  EXPECT_EQ(ok.load() + deadline.load(), kThreads * kRounds);
  EXPECT_GT(ok.load(), kThreads * kRounds / 2);
  WarmPoolMetrics m = (*pool)->metrics();
  for (const auto& [name, model] : m.models) {
    EXPECT_EQ(model.leases, 0) << name;
    EXPECT_EQ(model.waiting, 0) << name;
  }
  EXPECT_EQ(m.warm_hits + m.cold_starts, static_cast<uint64_t>(kThreads * kRounds));
}

// Never finishes a start: the blocking Acquire must end at the real deadline by itself.
class StuckProvisioner final : public Provisioner {
 public:
  void Start(const InstanceSpec&, Done done) override { held_.push_back(std::move(done)); }

 private:
  std::vector<Done> held_;  // dropped unanswered when the pool destroys the provisioner
};

TEST(WarmPoolConcurrencyTest, BlockingAcquireEndsAtTheRealDeadline) {
  WarmPoolConfig config;
  config.models = {{"a", 10, 1, 0}};
  config.memory_budget_bytes = 10;
  config.max_instances = 1;
  absl::StatusOr<std::unique_ptr<WarmPool>> pool =
      WarmPool::Create(config, std::make_unique<StuckProvisioner>(),
                       MakeKeepAlivePolicy("fixed").value(), RealClock());
  ASSERT_TRUE(pool.ok()) << pool.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<Lease> lease = (*pool)->Acquire("a", start + absl::Milliseconds(50));
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_EQ((*pool)->metrics().failed_deadline, 1u);
}

}  // namespace
}  // namespace hearth
