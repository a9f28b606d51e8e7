// hearth::Clock — the one source of time for the control plane.
//
// WarmPool, AutoScaler, CostOptimizer and the simulator never read the system clock
// themselves: they are handed a Clock. Production code passes RealClock(); tests and the
// simulator pass a ManualClock and move time by hand, so every decision is
// deterministic and a day of trace replays in seconds.
//
// Usage:
//   hearth::ManualClock clock(absl::FromUnixSeconds(0));
//   auto scaler = hearth::AutoScaler::Create(config, &clock);
//   clock.Advance(absl::Seconds(15));
//
// Thread-safety: both clocks may be read and (ManualClock) moved from any thread.
#ifndef HEARTH_CLOCK_H_
#define HEARTH_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace hearth {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system's wall clock (absl::Now()). Process-wide, never destroyed.
Clock* RealClock();

// Time that moves only when told to. Never moves backwards: Set() to an earlier time and
// Advance() by a negative duration are ignored (time stays where it is).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::UnixEpoch());
  absl::Time Now() const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  std::atomic<int64_t> now_ns_;  // nanoseconds since the Unix epoch
};

}  // namespace hearth

#endif  // HEARTH_CLOCK_H_
