#include "lib/sampler/sampler.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"

namespace hearth {

absl::Status ValidateSamplingParams(const SamplingParams& p) {
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("temperature must be a finite number >= 0 (got %g)", p.temperature));
  }
  if (p.top_k < 0) {
    return absl::InvalidArgumentError(absl::StrFormat("top_k must be >= 0 (got %d)", p.top_k));
  }
  if (!(p.top_p > 0 && p.top_p <= 1)) {
    return absl::InvalidArgumentError(absl::StrFormat("top_p must be in (0, 1] (got %g)", p.top_p));
  }
  if (!(p.min_p >= 0 && p.min_p < 1)) {
    return absl::InvalidArgumentError(absl::StrFormat("min_p must be in [0, 1) (got %g)", p.min_p));
  }
  if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "repetition_penalty must be a finite number > 0 (got %g)", p.repetition_penalty));
  }
  if (p.repetition_window < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("repetition_window must be >= 0 (got %d)", p.repetition_window));
  }
  return absl::OkStatus();
}

int32_t Sampler::Sample(absl::Span<const float> logits, absl::Span<const int32_t> history) {
  const int32_t n_vocab = static_cast<int32_t>(logits.size());
  const bool penalised = params_.repetition_penalty != 1.0f && params_.repetition_window > 0;
  if (params_.temperature == 0.0f && !penalised) {
    // Greedy on the logits as they are: the first of the largest, as below, without
    // copying the vocabulary (a step of many sequences samples each one).
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab; ++i) {
      if (logits[i] > logits[best]) best = i;
    }
    return best;
  }
  candidates_.resize(n_vocab);
  for (int32_t i = 0; i < n_vocab; ++i) candidates_[i] = {i, logits[i]};

  if (penalised) {
    const size_t window = std::min<size_t>(history.size(), params_.repetition_window);
    absl::flat_hash_set<int32_t> seen(history.end() - window, history.end());
    // As in llama.cpp (and CTRL): shrink positive logits, grow negative ones.
    for (int32_t id : seen) {
      if (id < 0 || id >= n_vocab) continue;
      float& l = candidates_[id].logit;
      l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    }
  }

  const auto by_logit = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  if (params_.temperature == 0.0f) {
    return std::min_element(candidates_.begin(), candidates_.end(), by_logit)->id;
  }

  size_t n = candidates_.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) {
    n = params_.top_k;
    std::partial_sort(candidates_.begin(), candidates_.begin() + n, candidates_.end(), by_logit);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }

  // Softmax of the temperature-scaled logits over the n best (sorted, so [0] is the max).
  probs_.resize(n);
  const float max_logit = candidates_[0].logit;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    probs_[i] = std::exp((candidates_[i].logit - max_logit) / params_.temperature);
    sum += probs_[i];
  }
  for (size_t i = 0; i < n; ++i) probs_[i] = static_cast<float>(probs_[i] / sum);

  if (params_.top_p < 1.0f) {
    // Keep the smallest prefix whose mass reaches top_p (at least one token).
    double mass = 0;
    size_t keep = 0;
    while (keep < n && mass < params_.top_p) mass += probs_[keep++];
    n = std::max<size_t>(1, keep);
  }
  if (params_.min_p > 0.0f) {
    const float floor = params_.min_p * probs_[0];
    size_t keep = 1;
    while (keep < n && probs_[keep] >= floor) ++keep;
    n = keep;
  }

  double kept = 0;
  for (size_t i = 0; i < n; ++i) kept += probs_[i];
  std::uniform_real_distribution<double> uniform(0.0, kept);
  const double r = uniform(rng_);
  double acc = 0;
  for (size_t i = 0; i < n; ++i) {
    acc += probs_[i];
    if (r < acc) return candidates_[i].id;
  }
  return candidates_[n - 1].id;
}

}  // namespace hearth
