// EventQueue: the simulator's timeline, a priority queue of timed events.
//
// Times are integer nanoseconds of virtual time since the start of the trace, so that an
// event scheduled for a time read back from a Clock (absl::Time) lands exactly there, with
// no floating-point drift. Events at the same time pop in the order they were pushed, which
// makes every run with the same inputs process the same events in the same order.
//
// Usage:
//   EventQueue q;
//   q.Push(absl::ToInt64Nanoseconds(absl::Seconds(1)), EventKind::kArrival, 7);
//   while (std::optional<SimEvent> e = q.Pop()) { ... }
//
// Thread-safety: none; the simulator's loop owns it.
#ifndef HEARTH_LIB_SIM_SIM_EVENTS_H_
#define HEARTH_LIB_SIM_SIM_EVENTS_H_

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace hearth {

enum class EventKind {
  kArrival,         // id: index of the trace request
  kInstanceReady,   // id: instance whose virtual cold start ends
  kInstanceChange,  // id: instance whose running set changes (first token or completion)
  kScalerTick,      // id: unused; every model is sampled at each tick
  kPoolWakeup,      // id: unused; the WarmPool asked to be ticked now
};

struct SimEvent {
  int64_t time_ns = 0;
  uint64_t order = 0;  // push order: breaks ties between equal times
  EventKind kind = EventKind::kArrival;
  int64_t id = 0;
};

class EventQueue {
 public:
  void Push(int64_t time_ns, EventKind kind, int64_t id);
  // The earliest event (earliest pushed among equal times), or nullopt when empty.
  std::optional<SimEvent> Pop();
  // Time of the earliest event; only when !empty().
  int64_t PeekTime() const { return heap_.top().time_ns; }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  uint64_t popped() const { return popped_; }

 private:
  struct Later {
    bool operator()(const SimEvent& a, const SimEvent& b) const {
      return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.order > b.order;
    }
  };
  std::priority_queue<SimEvent, std::vector<SimEvent>, Later> heap_;
  uint64_t pushed_ = 0;
  uint64_t popped_ = 0;
};

}  // namespace hearth

#endif  // HEARTH_LIB_SIM_SIM_EVENTS_H_
