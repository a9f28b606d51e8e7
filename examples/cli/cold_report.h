// `hearth generate --cold-report`: where the time to the first token went — the page
// cache state the load met, each stage of Engine::Create, the first prefill and the first
// token — printed as a table or added to --json.
#ifndef HEARTH_EXAMPLES_CLI_COLD_REPORT_H_
#define HEARTH_EXAMPLES_CLI_COLD_REPORT_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "hearth/engine.h"
#include "nlohmann/json.hpp"

namespace hearth_cli {

struct ColdStart {
  bool evicted = false;          // the model file's pages were dropped first
  double resident_before = 0;    // fraction of the file in the page cache at load
  uint64_t file_bytes = 0;
  bool snapshot = false;         // a .hearth file: its checksums are computed in the page-in
};

// Before Engine::Create: with `evict`, drops the model file's cached pages (posix_fadvise
// DONTNEED); either way measures how much of it is still resident.
absl::StatusOr<ColdStart> PrepareColdStart(const std::string& model_path, bool evict);

// The breakdown: stages in ms from the command's start (before the load) to the first token.
// `load_start` is when Engine::Create was called. Where the environment names the moment
// the process was spawned (HEARTH_SPAWN_MONOTONIC_NS, CLOCK_MONOTONIC nanoseconds, as
// Python's time.monotonic_ns() gives it), the report adds the process start before it.
nlohmann::ordered_json ColdReportJson(const ColdStart& cold, const hearth::Engine& engine,
                                      const hearth::GenerateResult& result,
                                      std::chrono::steady_clock::time_point load_start,
                                      double load_wall_ms);
void PrintColdReport(const nlohmann::ordered_json& report);

}  // namespace hearth_cli

#endif  // HEARTH_EXAMPLES_CLI_COLD_REPORT_H_
