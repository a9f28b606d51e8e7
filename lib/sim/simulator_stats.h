// The simulator's bookkeeping of outcomes, and the totals built from them.
//
// Thread-safety: plain functions over values.
#ifndef HEARTH_LIB_SIM_SIMULATOR_STATS_H_
#define HEARTH_LIB_SIM_SIMULATOR_STATS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "hearth/replica_profile.h"
#include "hearth/simulator.h"

namespace hearth {

// How one trace request ended.
struct RequestOutcome {
  int model = 0;  // index into config.models
  double arrival_s = 0;
  bool served = false;
  std::optional<RejectReason> rejected;
  bool truncated = false;
  bool cold_start = false;
  double ttft_s = 0;
  double e2e_s = 0;
  int prompt_tokens = 0;  // served requests
  int output_tokens = 0;
};

// One instance's life, in seconds.
struct InstanceOutcome {
  int model = 0;
  double billed_s = 0;  // Start → gone
  double loaded_s = 0;  // ready → gone
  double idle_s = 0;    // loaded with no lease out
};

// The q-quantile (q in [0, 1]) of `values` by linear interpolation between order
// statistics; 0 when empty.
double ExactQuantile(std::vector<double> values, double q);

// Seconds the profile's replica takes to prefill `prompt_tokens` alone, in
// max_batch_tokens chunks as the scheduler cuts them.
double UncontendedPrefillS(const ReplicaProfile& profile, int prompt_tokens);

// Fills result->overall and result->models (costs from result->cost) and checks that
// every request ended exactly once (Internal if not).
absl::Status SummarizeSimulation(const SimulationConfig& config,
                                 const std::vector<std::string>& names,
                                 const std::vector<RequestOutcome>& requests,
                                 const std::vector<InstanceOutcome>& instances,
                                 SimulationResult* result);

}  // namespace hearth

#endif  // HEARTH_LIB_SIM_SIMULATOR_STATS_H_
