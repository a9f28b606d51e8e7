// The C API's clocks: a manual clock a caller moves by hand, shared by the objects created
// with it, and the real clock that NULL stands for.
#include <cmath>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "c_api_internal.h"
#include "hearth/c_api.h"
#include "hearth/clock.h"

namespace hearth_capi {

absl::StatusOr<std::shared_ptr<hearth::Clock>> ClockOf(const hearth_clock* clock) {
  if (clock != nullptr) {
    if (absl::Status s = CheckHandle(clock, "clock"); !s.ok()) return s;
    return clock->clock;
  }
  // The real clock is process-wide and never destroyed: shared without ownership.
  return std::shared_ptr<hearth::Clock>(hearth::RealClock(), [](hearth::Clock*) {});
}

double ToUnixSeconds(absl::Time time) {
  if (time == absl::InfiniteFuture()) return HUGE_VAL;
  return absl::ToDoubleSeconds(time - absl::UnixEpoch());
}

}  // namespace hearth_capi

using hearth_capi::Fail;
using hearth_capi::Guard;

extern "C" {

int hearth_clock_create_manual(double start_s, hearth_clock** out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(hearth_capi::CheckNotNull(out, "out"));
    *out = nullptr;
    if (!std::isfinite(start_s)) {
      return Fail(HEARTH_INVALID_ARGUMENT, "start_s is not a finite number of seconds");
    }
    *out = hearth_capi::Publish(std::make_unique<hearth_clock>(hearth_clock{
        std::make_shared<hearth::ManualClock>(absl::UnixEpoch() + absl::Seconds(start_s))}));
    return static_cast<int>(HEARTH_OK);
  });
}

void hearth_clock_destroy(hearth_clock* clock) { hearth_capi::Destroy(clock); }

int hearth_clock_advance(hearth_clock* clock, double seconds) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(hearth_capi::CheckHandle(clock, "clock"));
    absl::StatusOr<absl::Duration> d = hearth_capi::ToDuration(seconds, "seconds");
    if (!d.ok()) return Fail(d.status());
    clock->clock->Advance(*d);
    return static_cast<int>(HEARTH_OK);
  });
}

double hearth_clock_now(const hearth_clock* clock) {
  absl::StatusOr<std::shared_ptr<hearth::Clock>> c = hearth_capi::ClockOf(clock);
  return c.ok() ? hearth_capi::ToUnixSeconds((*c)->Now()) : std::nan("");
}

}  // extern "C"
