// The clock the control-plane objects read, and time as Python sees it.
//
// WarmPool, AutoScaler and CostOptimizer take `clock=None` (the system clock) or a
// hearth.ManualClock (deterministic tests, replays). The C++ objects keep a raw Clock*
// that must outlive them, so each Python wrapper holds the ClockPtr next to the object it
// wraps. Times are seconds since the Unix epoch on that clock (a float), durations
// seconds.
#ifndef HEARTH_PYTHON_CLOCK_H_
#define HEARTH_PYTHON_CLOCK_H_

#include <memory>
#include <optional>

#include "absl/time/time.h"
#include "hearth/clock.h"

namespace hearth::python {

using ClockPtr = std::shared_ptr<Clock>;
using ManualClockPtr = std::shared_ptr<ManualClock>;

// None: the process-wide real clock (never destroyed); else the given ManualClock.
ClockPtr ClockFromPython(const std::optional<ManualClockPtr>& clock);

inline double TimeToSeconds(absl::Time time) {
  return absl::ToDoubleSeconds(time - absl::UnixEpoch());
}
inline absl::Time SecondsToTime(double seconds) { return absl::UnixEpoch() + absl::Seconds(seconds); }

}  // namespace hearth::python

#endif  // HEARTH_PYTHON_CLOCK_H_
