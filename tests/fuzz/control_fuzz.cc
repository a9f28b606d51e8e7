// libFuzzer target: any byte string given to the control plane's text inputs — a price
// catalog, a replica profile (whole and as an override), and a trace in each format whose
// parser reads text alone — must give a Status, never a crash, hang or out-of-memory
// (run under ASan/UBSan). The first byte picks the parser, so one corpus covers them all.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hearth/price_catalog.h"
#include "hearth/replica_profile.h"
#include "lib/sim/trace_formats.h"

namespace {

// A valid profile to apply overrides to (the schema of include/hearth/replica_profile.h).
constexpr char kProfile[] = R"({"schema_version": 1, "name": "fuzz", "hardware": "none",
  "load_s": {"cold": 0.1, "warm": 0.05}, "first_token_s": 0.01,
  "memory_bytes": {"weights": 1000, "kv_cache": 1000}, "kv_bytes_per_token": 10,
  "max_sequences": 4, "max_batch_tokens": 64, "context_length": 256,
  "prefill": [{"tokens": 16, "tokens_per_s": 100}],
  "decode": [{"batch": 1, "tokens_per_s": 10}, {"batch": 4, "tokens_per_s": 30}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const absl::string_view absl_text(text.data(), text.size());
  hearth::TraceOptions options;
  options.max_generated_requests = 100'000;  // within libFuzzer's memory limit
  namespace ti = hearth::trace_internal;
  switch (data[0] % 6) {
    case 0:
      (void)hearth::PriceCatalog::Parse(text);
      break;
    case 1:
      (void)hearth::ReplicaProfile::Parse(text);
      (void)hearth::ReplicaProfile::Parse(kProfile).value().WithOverrides(text);
      break;
    case 2:
      (void)ti::ParseAzureLlm("fuzz.csv", absl_text, options);
      break;
    case 3:
      (void)ti::ParseMooncake("fuzz.jsonl", absl_text, options);
      break;
    case 4:
      (void)ti::ParseAzureFunctions("fuzz.csv", absl_text, options);
      break;
    case 5:
      (void)ti::ParseHearthCsv("fuzz.csv", absl_text, options);
      break;
  }
  return 0;
}
