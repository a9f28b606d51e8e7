#include "hearth/clock.h"

#include "absl/time/clock.h"

namespace hearth {
namespace {

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* RealClock() {
  static SystemClock* clock = new SystemClock();  // never destroyed: usable during exit
  return clock;
}

ManualClock::ManualClock(absl::Time start) : now_ns_(absl::ToUnixNanos(start)) {}

absl::Time ManualClock::Now() const { return absl::FromUnixNanos(now_ns_.load()); }

void ManualClock::Advance(absl::Duration d) {
  if (d > absl::ZeroDuration()) now_ns_.fetch_add(absl::ToInt64Nanoseconds(d));
}

void ManualClock::Set(absl::Time t) {
  const int64_t target = absl::ToUnixNanos(t);
  int64_t current = now_ns_.load();
  while (target > current && !now_ns_.compare_exchange_weak(current, target)) {
  }
}

}  // namespace hearth
