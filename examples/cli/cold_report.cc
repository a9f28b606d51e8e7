#include "examples/cli/cold_report.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "lib/runtime/page_cache.h"
#include "lib/snapshot/snapshot.h"

namespace hearth_cli {

absl::StatusOr<ColdStart> PrepareColdStart(const std::string& model_path, bool evict) {
  ColdStart cold;
  struct stat st {};
  if (::stat(model_path.c_str(), &st) == 0) cold.file_bytes = static_cast<uint64_t>(st.st_size);
  cold.snapshot = hearth::IsSnapshotFile(model_path);
  if (evict) {
    if (absl::Status s = hearth::EvictFromPageCache(model_path); !s.ok()) return s;
    cold.evicted = true;
  }
  absl::StatusOr<double> resident = hearth::ResidentFraction(model_path);
  if (!resident.ok()) return resident.status();
  cold.resident_before = *resident;
  return cold;
}

namespace {

// Milliseconds from the spawn the parent recorded to `when`; negative when unknown.
double SinceSpawnMs(std::chrono::steady_clock::time_point when) {
  const char* spawn = std::getenv("HEARTH_SPAWN_MONOTONIC_NS");
  if (spawn == nullptr) return -1;
  char* end = nullptr;
  const long long ns = std::strtoll(spawn, &end, 10);
  if (end == spawn || *end != '\0' || ns <= 0) return -1;
  // steady_clock is CLOCK_MONOTONIC on Linux.
  const auto since_boot = std::chrono::duration_cast<std::chrono::nanoseconds>(
      when.time_since_epoch());
  return static_cast<double>(since_boot.count() - ns) / 1e6;
}

}  // namespace

nlohmann::ordered_json ColdReportJson(const ColdStart& cold, const hearth::Engine& engine,
                                      const hearth::GenerateResult& result,
                                      std::chrono::steady_clock::time_point load_start,
                                      double load_wall_ms) {
  const hearth::LoadTimings& load = engine.load_timings();
  const hearth::GenerateTimings& t = result.timings;
  const double mb = static_cast<double>(cold.file_bytes) / 1e6;
  const double process_start_ms = SinceSpawnMs(load_start);
  return {
      {"process_start_ms", process_start_ms},  // spawn to Engine::Create; -1: unknown
      {"evicted", cold.evicted},
      {"resident_before", cold.resident_before},
      {"file_mb", mb},
      {"snapshot", cold.snapshot},
      {"threads", engine.threads()},
      {"open_ms", load.open_ms},
      {"page_in_ms", load.page_in_ms},
      {"page_in_gb_s", load.page_in_ms > 0 ? mb / load.page_in_ms : 0.0},
      {"tokenizer_ms", load.tokenizer_ms},
      {"backend_ms", load.backend_ms},
      {"load_ms", load.total_ms},
      {"prompt_tokens", result.prompt_tokens},
      {"first_prefill_ms", t.prefill_ms},
      {"first_token_ms", t.first_token_ms},
      // From before Engine::Create to the first token, as a cold caller waits for it.
      {"load_to_first_token_ms", load_wall_ms + t.first_token_ms},
      {"spawn_to_first_token_ms",
       process_start_ms < 0 ? -1.0 : process_start_ms + load_wall_ms + t.first_token_ms},
  };
}

void PrintColdReport(const nlohmann::ordered_json& r) {
  std::fprintf(stderr, "\ncold start: %.0f%% of the %.1f MB file in the page cache at load%s\n",
               100 * r["resident_before"].get<double>(), r["file_mb"].get<double>(),
               r["evicted"].get<bool>() ? " (evicted first)" : "");
  if (r["process_start_ms"].get<double>() >= 0) {
    std::fprintf(stderr, "  process start              %8.1f ms\n",
                 r["process_start_ms"].get<double>());
  }
  const std::string page_in = std::string("page-in") +
                              (r["snapshot"].get<bool>() ? " + CRC" : "") + ", " +
                              std::to_string(r["threads"].get<int>()) + " threads";
  std::fprintf(stderr,
               "  open + map + validate      %8.1f ms\n"
               "  %-27s%8.1f ms  (%.2f GB/s)\n"
               "  tokenizer (beside it)      %8.1f ms\n"
               "  backend set-up             %8.1f ms\n"
               "  = Engine::Create           %8.1f ms\n"
               "  first prefill, %d tokens   %8.1f ms\n"
               "  first token                %8.1f ms  (from submit)\n"
               "  load to first token        %8.1f ms\n",
               r["open_ms"].get<double>(), page_in.c_str(), r["page_in_ms"].get<double>(),
               r["page_in_gb_s"].get<double>(), r["tokenizer_ms"].get<double>(),
               r["backend_ms"].get<double>(), r["load_ms"].get<double>(),
               r["prompt_tokens"].get<int>(), r["first_prefill_ms"].get<double>(),
               r["first_token_ms"].get<double>(), r["load_to_first_token_ms"].get<double>());
}

}  // namespace hearth_cli
