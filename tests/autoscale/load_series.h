// Hand-built load series for the autoscaler tests: samples at whole seconds of a
// ManualClock, fed to a policy or an AutoScaler.
#ifndef HEARTH_TESTS_AUTOSCALE_LOAD_SERIES_H_
#define HEARTH_TESTS_AUTOSCALE_LOAD_SERIES_H_

#include "absl/time/time.h"
#include "hearth/autoscaler.h"

namespace hearth::testing {

inline absl::Time T(double seconds) {
  return absl::UnixEpoch() + absl::Seconds(1000) + absl::Seconds(seconds);
}

// `concurrency` requests in flight (none queued) on `ready` replicas.
inline LoadSample Load(double seconds, int ready, double concurrency, int starting = 0) {
  LoadSample s;
  s.time = T(seconds);
  s.ready_replicas = ready;
  s.starting_replicas = starting;
  s.in_flight = concurrency;
  return s;
}

}  // namespace hearth::testing

#endif  // HEARTH_TESTS_AUTOSCALE_LOAD_SERIES_H_
