#include "lib/sim/simulator_stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace hearth {

double ExactQuantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (values[above] - values[below]) * (rank - static_cast<double>(below));
}

double UncontendedPrefillS(const ReplicaProfile& profile, int prompt_tokens) {
  const int chunk = profile.max_batch_tokens;
  return (prompt_tokens / chunk) * profile.PrefillSeconds(chunk) +
         profile.PrefillSeconds(prompt_tokens % chunk);
}

namespace {

// Accumulates one SimulationTotals.
struct Accumulator {
  SimulationTotals totals;
  std::vector<double> ttfts, e2es;

  void Add(const RequestOutcome& r, bool slo_met) {
    ++totals.requests;
    if (r.rejected.has_value()) {
      ++totals.rejected[static_cast<int>(*r.rejected)];
      return;
    }
    ++totals.served;
    totals.truncated += r.truncated;
    totals.cold_starts += r.cold_start;
    totals.slo_met += slo_met;
    totals.prompt_tokens += r.prompt_tokens;
    totals.output_tokens += r.output_tokens;
    ttfts.push_back(r.ttft_s);
    e2es.push_back(r.e2e_s);
  }

  void Add(const InstanceOutcome& i) {
    ++totals.instances_started;
    totals.instance_seconds += i.billed_s;
    totals.loaded_instance_seconds += i.loaded_s;
    totals.idle_instance_seconds += i.idle_s;
  }

  SimulationTotals Finish(double cost) {
    SimulationTotals& t = totals;
    t.cold_start_rate = t.served > 0 ? static_cast<double>(t.cold_starts) / t.served : 0;
    t.slo_attainment = t.requests > 0 ? static_cast<double>(t.slo_met) / t.requests : 0;
    t.ttft_p50_s = ExactQuantile(ttfts, 0.50);
    t.ttft_p99_s = ExactQuantile(ttfts, 0.99);
    t.e2e_p50_s = ExactQuantile(e2es, 0.50);
    t.e2e_p95_s = ExactQuantile(e2es, 0.95);
    t.e2e_p99_s = ExactQuantile(e2es, 0.99);
    t.cost = cost;
    t.cost_per_1k_requests = t.requests > 0 ? cost / t.requests * 1000 : 0;
    return t;
  }
};

}  // namespace

absl::Status SummarizeSimulation(const SimulationConfig& config,
                                 const std::vector<std::string>& names,
                                 const std::vector<RequestOutcome>& requests,
                                 const std::vector<InstanceOutcome>& instances,
                                 SimulationResult* result) {
  Accumulator overall;
  std::vector<Accumulator> models(names.size());
  const double slo_s = absl::ToDoubleSeconds(config.slo_ttft);
  for (size_t i = 0; i < requests.size(); ++i) {
    const RequestOutcome& r = requests[i];
    if (r.served == r.rejected.has_value()) {
      return absl::InternalError(
          absl::StrCat("request ", i, " is ",
                       r.served ? "both served and rejected" : "neither served nor rejected"));
    }
    const bool slo_met =
        r.served &&
        r.ttft_s <= slo_s +
                        config.slo_prefill_slack *
                            UncontendedPrefillS(config.models[r.model].profile, r.prompt_tokens) +
                        1e-9;
    overall.Add(r, slo_met);
    models[r.model].Add(r, slo_met);
  }
  for (const InstanceOutcome& i : instances) {
    overall.Add(i);
    models[i.model].Add(i);
  }
  result->overall = overall.Finish(result->cost.total);
  for (size_t m = 0; m < names.size(); ++m) {
    double cost = 0;
    for (const ModelCost& c : result->cost.models) {
      if (c.model == names[m]) cost = c.instance_cost + c.request_fees;
    }
    result->models[names[m]] = models[m].Finish(cost);
  }
  const SimulationTotals& t = result->overall;
  if (t.served + t.rejected_total() != static_cast<int64_t>(requests.size())) {
    return absl::InternalError(absl::StrCat("requests not conserved: ", t.served, " served + ",
                                            t.rejected_total(), " rejected != ", requests.size()));
  }
  return absl::OkStatus();
}

}  // namespace hearth
