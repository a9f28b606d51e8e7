// Seeded random draws for the generating trace readers (ServeGen, Azure Functions) and
// Sample. The same seed gives the same trace on every platform: std::mt19937_64 is fully
// specified by the standard, while std's distributions are not, so the few distributions
// needed are written here.
#ifndef HEARTH_LIB_SIM_TRACE_RANDOM_H_
#define HEARTH_LIB_SIM_TRACE_RANDOM_H_

#include <cstdint>
#include <random>

#include "absl/strings/string_view.h"

namespace hearth::trace_internal {

// A seed for one independent stream, e.g. one client's window: SplitMix64 of both, so
// nearby inputs give unrelated streams and selecting fewer clients leaves the others'
// draws unchanged.
uint64_t MixSeed(uint64_t seed, uint64_t value);
// A platform-independent hash of a name (FNV-1a, 64 bits), to feed MixSeed.
uint64_t HashName(absl::string_view name);

class TraceRng {
 public:
  explicit TraceRng(uint64_t seed) : engine_(seed) {}

  double Uniform();      // [0, 1)
  double UniformOpen();  // (0, 1)
  double Normal();       // standard normal
  // Logarithms of Gamma(shape, 1) and Weibull(shape, 1) draws, shape > 0. Logs because
  // shapes as low as 0.007 occur (extremely bursty windows): their draws underflow a
  // double, their logarithms do not.
  double LogGamma(double shape);
  double LogWeibull(double shape);
  // An index in [0, n), n > 0.
  uint64_t Below(uint64_t n);

 private:
  std::mt19937_64 engine_;
};

}  // namespace hearth::trace_internal

#endif  // HEARTH_LIB_SIM_TRACE_RANDOM_H_
