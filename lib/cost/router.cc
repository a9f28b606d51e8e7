#include "hearth/router.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hearth {
namespace {

bool ContainsAny(std::string_view text, std::initializer_list<std::string_view> needles) {
  for (std::string_view n : needles) {
    if (text.find(n) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Router>> Router::Create(RouterConfig config) {
  if (config.tiers.empty()) return absl::InvalidArgumentError("Router: no tiers");
  if (!std::isfinite(config.escalate_below_logprob) || config.escalate_below_logprob > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Router: escalate_below_logprob must be finite and <= 0, got ", config.escalate_below_logprob));
  }
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < config.tiers.size(); ++i) {
    const ModelTier& t = config.tiers[i];
    const std::string where = absl::StrCat("Router: tier #", i, " '", t.name, "'");
    if (t.name.empty() || t.model.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": name and model must be non-empty"));
    }
    if (!names.insert(t.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate name"));
    }
    if (!std::isfinite(t.price_per_1k_tokens) || t.price_per_1k_tokens < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": price_per_1k_tokens must be finite and >= 0, got ", t.price_per_1k_tokens));
    }
    if (!(t.max_difficulty >= 0 && t.max_difficulty <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": max_difficulty must be in [0, 1], got ", t.max_difficulty));
    }
  }
  // Cheapest first; at equal price the more capable tier first, so it is never skipped.
  std::stable_sort(config.tiers.begin(), config.tiers.end(), [](const ModelTier& a, const ModelTier& b) {
    if (a.price_per_1k_tokens != b.price_per_1k_tokens) return a.price_per_1k_tokens < b.price_per_1k_tokens;
    return a.max_difficulty > b.max_difficulty;
  });
  return std::unique_ptr<Router>(new Router(std::move(config.tiers), config.escalate_below_logprob));
}

Router::Router(std::vector<ModelTier> tiers, double threshold)
    : tiers_(std::move(tiers)), threshold_(threshold) {
  for (const ModelTier& t : tiers_) stats_.push_back({t.name, 0, 0, 0});
}

double Router::EstimateDifficulty(const RoutingRequest& request) {
  const std::string lower = absl::AsciiStrToLower(std::string(request.prompt));
  const double length = std::min(1.0, std::max<int64_t>(0, request.prompt_tokens) / 4096.0);
  const double answer = std::min(1.0, std::max<int64_t>(0, request.max_tokens) / 1024.0);
  const double reasoning =
      ContainsAny(lower, {"step by step", "prove", "derive", "explain why", "analyze", "analyse",
                          "compare", "why "})
          ? 1.0
          : 0.0;
  const double code =
      ContainsAny(request.prompt, {"```", "def ", "#include", "function ", "class ", "SELECT "}) ? 1.0 : 0.0;
  const double questions = static_cast<double>(std::count(lower.begin(), lower.end(), '?'));
  const double several = std::clamp((questions - 1) / 4.0, 0.0, 1.0);
  return 0.35 * length + 0.25 * answer + 0.20 * reasoning + 0.10 * code + 0.10 * several;
}

RouteDecision Router::Route(const RoutingRequest& request) {
  const double d = EstimateDifficulty(request);
  int chosen = -1;
  for (size_t i = 0; i < tiers_.size() && chosen < 0; ++i) {
    if (tiers_[i].max_difficulty >= d) chosen = static_cast<int>(i);
  }
  std::string reason;
  if (chosen >= 0) {
    reason = absl::StrFormat("difficulty %.3f <= %.3f: cheapest tier that covers it", d,
                             tiers_[chosen].max_difficulty);
  } else {
    chosen = static_cast<int>(std::max_element(tiers_.begin(), tiers_.end(),
                                               [](const ModelTier& a, const ModelTier& b) {
                                                 return a.max_difficulty < b.max_difficulty;
                                               }) -
                              tiers_.begin());
    reason = absl::StrFormat("difficulty %.3f above every tier: the most capable one", d);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_[chosen].routed;
  }
  return {chosen, tiers_[chosen].name, tiers_[chosen].model, d, false, std::move(reason)};
}

absl::StatusOr<RouteDecision> Router::Escalate(int from, double mean_logprob) {
  if (from < 0 || from >= static_cast<int>(tiers_.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("Escalate: tier ", from, " out of range [0, ", tiers_.size(), ")"));
  }
  if (!(mean_logprob <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Escalate: mean_logprob must be <= 0 and not NaN, got ", mean_logprob));
  }
  // The next tier up is the next dearer one that is trusted with harder requests.
  int next = -1;
  for (size_t i = from + 1; i < tiers_.size() && next < 0; ++i) {
    if (tiers_[i].max_difficulty > tiers_[from].max_difficulty) next = static_cast<int>(i);
  }
  if (mean_logprob >= threshold_ || next < 0) {
    return RouteDecision{from, tiers_[from].name, tiers_[from].model, 0, false,
                         mean_logprob >= threshold_
                             ? absl::StrFormat("mean log-prob %.3f >= %.3f: keep", mean_logprob, threshold_)
                             : absl::StrFormat("mean log-prob %.3f < %.3f but no tier above", mean_logprob,
                                               threshold_)};
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_[from].escalated_out;
    ++stats_[next].escalated_in;
  }
  return RouteDecision{next, tiers_[next].name, tiers_[next].model, 0, true,
                       absl::StrFormat("mean log-prob %.3f < %.3f: escalate", mean_logprob, threshold_)};
}

std::vector<TierStats> Router::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace hearth
