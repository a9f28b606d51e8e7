#include "hearth/simulation_inputs.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "hearth/replica_profile.h"

namespace hearth {
namespace {

absl::StatusOr<std::vector<TraceRequest>> LoadTrace(const SimulationInputs& inputs) {
  if (inputs.traces.empty()) return absl::InvalidArgumentError("no trace file given");
  std::vector<std::vector<TraceRequest>> traces;
  std::vector<OverlayInput> overlay;
  traces.reserve(inputs.traces.size());  // overlay points into it
  for (const std::string& spec : inputs.traces) {
    std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits('=', 1));
    TraceOptions options;
    options.seed = inputs.seed;
    if (parts.size() == 2) options.model = parts[1];
    options.servegen.models = inputs.servegen_models;
    options.servegen.rate_scale = inputs.servegen_rate_scale;
    options.servegen.top_clients = inputs.top;
    options.azure_functions.top_functions = inputs.top;
    options.azure_functions.function_as_model = inputs.functions_as_models;
    absl::StatusOr<std::vector<TraceRequest>> trace = ReadTrace(parts[0], options);
    if (!trace.ok()) return trace.status();
    traces.push_back(*std::move(trace));
    overlay.push_back({traces.back(), "", ""});
  }
  absl::StatusOr<std::vector<TraceRequest>> merged = Overlay(overlay);
  if (merged.ok() && (inputs.start_s != 0 || inputs.end_s != 0)) {
    merged = SelectWindow(*merged, inputs.start_s,
                          inputs.end_s > 0 ? inputs.end_s : std::numeric_limits<double>::infinity());
  }
  if (merged.ok() && inputs.sample != 1.0) merged = Sample(*merged, inputs.sample, inputs.seed);
  if (merged.ok() && inputs.time_scale != 1.0) merged = ScaleTime(*merged, inputs.time_scale);
  if (merged.ok() && merged->empty()) {
    return absl::InvalidArgumentError("the traces hold no request in the window replayed");
  }
  return merged;
}

absl::StatusOr<SimulationConfig> BaseConfig(const SimulationInputs& inputs,
                                            const std::vector<TraceRequest>& trace) {
  absl::StatusOr<ReplicaProfile> profile = ReplicaProfile::Load(inputs.profile_path);
  if (profile.ok() && inputs.speedup != 1.0) profile = profile->Scaled(inputs.speedup);
  if (!profile.ok()) return profile.status();
  SimulationConfig config;
  std::vector<std::string> models;  // in order of first appearance
  for (const TraceRequest& r : trace) {
    if (std::find(models.begin(), models.end(), r.model) == models.end()) {
      models.push_back(r.model);
    }
  }
  for (const std::string& model : models) config.models.push_back({model, *profile});
  config.max_instances = inputs.max_instances;
  config.max_replicas = inputs.max_replicas;
  config.price_catalog_path = inputs.catalog_path;
  config.offering = inputs.offering;
  config.always_on_offering = inputs.always_on_offering;
  config.provisioning_overhead = inputs.provisioning_overhead;
  config.slo_ttft = inputs.slo_ttft;
  config.max_queue_wait = inputs.max_queue_wait;
  config.seed = inputs.seed;
  return config;
}

}  // namespace

absl::StatusOr<PreparedSimulation> PrepareSimulation(const SimulationInputs& inputs) {
  PreparedSimulation prepared;
  absl::StatusOr<std::vector<TraceRequest>> trace = LoadTrace(inputs);
  if (!trace.ok()) return trace.status();
  prepared.trace = *std::move(trace);
  absl::StatusOr<SimulationConfig> base = BaseConfig(inputs, prepared.trace);
  if (!base.ok()) return base.status();
  prepared.base = *std::move(base);
  absl::StatusOr<ModelSizings> sizings = SizeModels(prepared.base, prepared.trace);
  if (!sizings.ok()) return sizings.status();
  prepared.sizings = *std::move(sizings);
  return prepared;
}

absl::StatusOr<SimulationResult> SimulatePreset(const PreparedSimulation& prepared,
                                                std::string_view preset) {
  SimulationConfig config = prepared.base;
  if (absl::Status s = ApplyPolicyPreset(preset, prepared.sizings, &config); !s.ok()) return s;
  const absl::Time start = absl::Now();
  absl::StatusOr<SimulationResult> result = Simulate(config, prepared.trace);
  if (result.ok()) result->wall_s = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace hearth
