// hearth::Router — send each request to the cheapest model tier that can answer it.
//
// Tiers are models with a price per 1,000 tokens and the hardest request they are
// trusted with (max_difficulty in [0, 1]). A request's difficulty is a documented
// heuristic of what it says, not a learned model:
//
//   difficulty = 0.35 * min(1, prompt_tokens / 4096)
//              + 0.25 * min(1, max_tokens / 1024)
//              + 0.20 * [the prompt asks for reasoning: "step by step", "prove", "derive",
//                        "explain why", "analyze"/"analyse", "compare", "why "]
//              + 0.10 * [the prompt holds code: "```", "def ", "#include", "function ",
//                        "class ", "SELECT "]
//              + 0.10 * min(1, (question marks - 1) / 4)   (several questions at once)
//
// Long prompts and long answers cost a small model most accuracy; reasoning and code are
// where small models fail first; the weights sum to 1 so the estimate stays in [0, 1].
// Route() picks, among tiers sorted by price, the first whose max_difficulty covers the
// estimate (the most capable tier when none does).
//
// Cascade: after a tier answers, Escalate() takes the answer's mean token
// log-probability; below the threshold (default -1.0, i.e. a geometric-mean token
// probability under e^-1 ≈ 0.37) the request goes to the next tier up, if any.
//
// Usage:
//   auto router = hearth::Router::Create({.tiers = {{"small", "smollm2-135m", 0.0002, 0.3},
//                                                  {"large", "llama-8b", 0.004, 1.0}}}).value();
//   hearth::RouteDecision d = router->Route({.prompt = text, .prompt_tokens = 120,
//                                            .max_tokens = 64});
//   ... answer on d.model; then, with the answer's mean log-prob:
//   hearth::RouteDecision next = router->Escalate(d.tier, -1.7).value();  // "large"
//
// Thread-safety: every method may be called from any thread.
#ifndef HEARTH_ROUTER_H_
#define HEARTH_ROUTER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace hearth {

struct ModelTier {
  std::string name;               // unique
  std::string model;              // what the WarmPool loads
  double price_per_1k_tokens = 0; // finite, >= 0: orders the tiers
  double max_difficulty = 1;      // in [0, 1]
};

struct RouterConfig {
  std::vector<ModelTier> tiers;          // at least one
  double escalate_below_logprob = -1.0;  // finite, <= 0
};

struct RoutingRequest {
  std::string_view prompt;  // the text the features are read from (all messages joined)
  int64_t prompt_tokens = 0;  // >= 0
  int64_t max_tokens = 0;     // >= 0
};

struct RouteDecision {
  int tier = 0;             // index into tiers(), cheapest first
  std::string tier_name;
  std::string model;
  double difficulty = 0;
  bool escalated = false;
  std::string reason;
};

struct TierStats {
  std::string name;
  int64_t routed = 0;          // first choice by Route()
  int64_t escalated_in = 0;    // arrived by Escalate()
  int64_t escalated_out = 0;   // left by Escalate()
};

class Router {
 public:
  // InvalidArgument: no tiers, duplicate or empty names, a price or max_difficulty out of
  // range, or a bad threshold.
  static absl::StatusOr<std::unique_ptr<Router>> Create(RouterConfig config);

  // The heuristic above, in [0, 1]. Negative token counts count as 0.
  static double EstimateDifficulty(const RoutingRequest& request);

  RouteDecision Route(const RoutingRequest& request);
  // With the mean token log-probability of tier `from`'s answer: the next tier up when
  // it is below the threshold and a tier above exists, else `from` again (escalated =
  // false). InvalidArgument for an out-of-range tier or a log-prob that is NaN or > 0.
  absl::StatusOr<RouteDecision> Escalate(int from, double mean_logprob);

  const std::vector<ModelTier>& tiers() const { return tiers_; }  // cheapest first
  std::vector<TierStats> stats() const;

 private:
  Router(std::vector<ModelTier> tiers, double threshold);

  const std::vector<ModelTier> tiers_;
  const double threshold_;
  mutable std::mutex mu_;
  std::vector<TierStats> stats_;
};

}  // namespace hearth

#endif  // HEARTH_ROUTER_H_
