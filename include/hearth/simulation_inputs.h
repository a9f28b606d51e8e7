// hearth::SimulationInputs — what a replay is made of, as `hearth simulate` takes it:
// trace files and the settings that turn them into the merged trace and the base
// SimulationConfig every policy preset starts from. The CLI, the C API and the Python
// package all fill this one struct, so that the same inputs give the same replay.
//
// Usage:
//   hearth::SimulationInputs inputs;
//   inputs.traces = {"data/traces/azure_llm_2023/AzureLLMInferenceTrace_conv.csv.gz"};
//   inputs.end_s = 600;
//   absl::StatusOr<hearth::PreparedSimulation> prepared = hearth::PrepareSimulation(inputs);
//   absl::StatusOr<hearth::SimulationResult> result = hearth::SimulatePreset(*prepared, "hearth");
#ifndef HEARTH_SIMULATION_INPUTS_H_
#define HEARTH_SIMULATION_INPUTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hearth/policy_presets.h"
#include "hearth/simulator.h"
#include "hearth/trace.h"

namespace hearth {

struct SimulationInputs {
  // Trace files, overlaid; each is PATH or PATH=MODEL (the model its requests go to;
  // default: the file's name). At least one.
  std::vector<std::string> traces;
  std::string profile_path = "data/profiles/smollm2-135m-q4_1-cpu.json";
  double speedup = 1;  // replica speed relative to the profile, > 0
  std::string catalog_path = "data/prices/catalog-2026.json";
  std::string offering = "gcp-cloud-run-2vcpu-instance";  // serverless, per second
  std::string always_on_offering = "aws-ec2-m7g.large";   // static presets, hourly
  // ServeGen traces: whose clients to replay, and a factor on each window's count.
  std::vector<std::string> servegen_models = {"deepseek-r1"};
  double servegen_rate_scale = 0.1;
  int top = 0;  // ServeGen / Azure Functions: the N busiest clients / functions; 0 = all
  bool functions_as_models = false;  // Azure Functions: each function its own model
  double start_s = 0;     // replay requests at or after this trace time...
  double end_s = 0;       // ...and before this one; 0 = to the end
  double sample = 1;      // keep each request with this probability (seeded)
  double time_scale = 1;  // multiply every arrival time
  absl::Duration provisioning_overhead = absl::ZeroDuration();  // added to each cold start
  absl::Duration slo_ttft = absl::Seconds(2);        // + the request's own prefill
  absl::Duration max_queue_wait = absl::Seconds(60);
  int max_instances = 256;  // WarmPool limit
  int max_replicas = 256;   // AutoScaler upper bound per model
  uint64_t seed = 0;        // generated arrivals, sampling, failures
};

// The merged trace, the base configuration and each model's replica sizing: everything
// a preset needs, computed once for however many presets are compared.
struct PreparedSimulation {
  std::vector<TraceRequest> trace;
  SimulationConfig base;
  ModelSizings sizings;
};

// Reads, overlays, windows, samples and scales the traces, loads the profile (scaled by
// `speedup`) and sizes every model's replicas. InvalidArgument for no trace or a window
// that holds no request; the readers' errors name the file and line.
absl::StatusOr<PreparedSimulation> PrepareSimulation(const SimulationInputs& inputs);

// The preset applied to the base configuration, then simulated; wall_s is stamped.
absl::StatusOr<SimulationResult> SimulatePreset(const PreparedSimulation& prepared,
                                                std::string_view preset);

}  // namespace hearth

#endif  // HEARTH_SIMULATION_INPUTS_H_
