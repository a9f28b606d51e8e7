// Sampler: picks the next token from a row of logits.
//
// Order of operations (llama.cpp's default chain): repetition penalty over the recent
// window, top-k, top-p, min-p (each on the temperature-scaled distribution), then a draw
// with the seeded generator. temperature == 0 is greedy. The same seed and inputs give the
// same tokens.
//
// Thread-safety: a Sampler holds a random generator; one per request.
#ifndef HEARTH_LIB_SAMPLER_SAMPLER_H_
#define HEARTH_LIB_SAMPLER_SAMPLER_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "hearth/engine.h"

namespace hearth {

// InvalidArgument naming the first bad value.
absl::Status ValidateSamplingParams(const SamplingParams& params);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

  // logits: (vocab,). history: tokens so far (prompt and generated), for the penalty.
  int32_t Sample(absl::Span<const float> logits, absl::Span<const int32_t> history);

 private:
  struct Candidate {
    int32_t id;
    float logit;
  };

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<Candidate> candidates_;
  std::vector<float> probs_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_SAMPLER_SAMPLER_H_
