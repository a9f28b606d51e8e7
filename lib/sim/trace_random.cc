#include "lib/sim/trace_random.h"

#include <cmath>
#include <numbers>

namespace hearth::trace_internal {

uint64_t MixSeed(uint64_t seed, uint64_t value) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (value + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t HashName(absl::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

double TraceRng::Uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double TraceRng::UniformOpen() {
  return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53;
}

double TraceRng::Normal() {
  // Box-Muller, one of the pair: simpler than caching and the cost does not matter here.
  return std::sqrt(-2.0 * std::log(UniformOpen())) *
         std::cos(2.0 * std::numbers::pi * Uniform());
}

double TraceRng::LogGamma(double shape) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia and Tsang), in logs.
    return LogGamma(shape + 1.0) + std::log(UniformOpen()) / shape;
  }
  // Marsaglia and Tsang (2000), "A simple method for generating gamma variables".
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = Normal();
    double v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    if (std::log(UniformOpen()) < 0.5 * x * x + d - d * v + d * std::log(v)) {
      return std::log(d * v);
    }
  }
}

double TraceRng::LogWeibull(double shape) {
  // Inverse CDF: x = (-ln U)^(1/k).
  return std::log(-std::log(UniformOpen())) / shape;
}

uint64_t TraceRng::Below(uint64_t n) {
  // Rejection keeps every index equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    const uint64_t x = engine_();
    if (x < limit) return x % n;
  }
}

}  // namespace hearth::trace_internal
