#include "lib/sim/sim_events.h"

#include "gtest/gtest.h"

namespace hearth {
namespace {

TEST(EventQueueTest, PopsByTimeThenPushOrder) {
  EventQueue q;
  q.Push(20, EventKind::kArrival, 1);
  q.Push(10, EventKind::kScalerTick, 2);
  q.Push(20, EventKind::kPoolWakeup, 3);
  q.Push(10, EventKind::kInstanceReady, 4);
  EXPECT_EQ(q.PeekTime(), 10);
  const int64_t want[] = {2, 4, 1, 3};
  for (int64_t id : want) {
    std::optional<SimEvent> e = q.Pop();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->id, id);
  }
  EXPECT_FALSE(q.Pop().has_value());
  EXPECT_EQ(q.popped(), 4u);
}

}  // namespace
}  // namespace hearth
