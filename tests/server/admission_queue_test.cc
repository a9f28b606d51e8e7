#include "examples/server/admission_queue.h"

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace hearth_server {
namespace {

TEST(AdmissionQueueTest, BoundsWaitersNotRunners) {
  AdmissionQueue queue(2);
  std::optional<RequestSlot> a = queue.TryEnter();
  std::optional<RequestSlot> b = queue.TryEnter();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(queue.TryEnter());
  a->Start();
  EXPECT_EQ(queue.queued(), 1);
  EXPECT_EQ(queue.in_flight(), 1);
  std::optional<RequestSlot> c = queue.TryEnter();
  ASSERT_TRUE(c);
  EXPECT_FALSE(queue.TryEnter());
  b.reset();
  EXPECT_EQ(queue.queued(), 1);
  RequestSlot moved = *std::move(c);
  c.reset();  // the moved-from slot frees nothing
  EXPECT_EQ(queue.queued(), 1);
}

TEST(AdmissionQueueTest, ManyThreadsNeverExceedTheBoundAndDrainToEmpty) {
  constexpr int kMaxQueue = 3;
  AdmissionQueue queue(kMaxQueue);
  std::atomic<int> admitted{0}, refused{0}, over_bound{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 300; ++i) {
        std::optional<RequestSlot> slot = queue.TryEnter();
        if (!slot) {
          ++refused;
          continue;
        }
        ++admitted;
        if (queue.queued() > kMaxQueue) ++over_bound;
        if (rng() % 2) slot->Start();
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50));
      }
    });
  }
  std::thread drainer([&] { queue.WaitUntilEmpty(); });
  for (std::thread& t : threads) t.join();
  queue.WaitUntilEmpty();
  drainer.join();
  EXPECT_EQ(over_bound, 0);
  EXPECT_EQ(admitted + refused, 8 * 300);
  EXPECT_GT(admitted, 0);
  EXPECT_EQ(queue.queued(), 0);
  EXPECT_EQ(queue.in_flight(), 0);
}

}  // namespace
}  // namespace hearth_server
