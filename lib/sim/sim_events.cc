#include "lib/sim/sim_events.h"

namespace hearth {

void EventQueue::Push(int64_t time_ns, EventKind kind, int64_t id) {
  heap_.push(SimEvent{time_ns, pushed_++, kind, id});
}

std::optional<SimEvent> EventQueue::Pop() {
  if (heap_.empty()) return std::nullopt;
  SimEvent e = heap_.top();
  heap_.pop();
  ++popped_;
  return e;
}

}  // namespace hearth
