// hearth::ReplicaProfile — what one Engine replica can do, as measured on real hardware.
//
// The simulator does not run the Engine: it models a replica by the figures that
// bench/profile_replica measured on the real Engine (load time, time to the first token,
// prefill and decode throughput by size) and by the Engine configuration they were taken
// with (max_sequences, max_batch_tokens, context, KV budget). Profiles live in
// data/profiles/*.json. Other hardware is configured either by a second profile file with
// the same schema, by Scaled(speedup), or by WithOverrides() on a partial JSON object.
//
// Usage:
//   absl::StatusOr<hearth::ReplicaProfile> profile =
//       hearth::ReplicaProfile::Load("data/profiles/smollm2-135m-q4_1-cpu.json");
//   if (!profile.ok()) return profile.status();  // names the field at fault
//   // A step decoding 12 sequences and prefilling a 300-token prompt chunk takes about
//   double step_s = profile->DecodeStepSeconds(12) + profile->PrefillSeconds(300);
//   // The same replica on a machine measured 3x faster, with a faster disk:
//   absl::StatusOr<hearth::ReplicaProfile> fast = profile->Scaled(3.0);
//   if (fast.ok()) fast = fast->WithOverrides(R"({"load_s": {"cold": 0.5, "warm": 0.1}})");
//
// Schema (JSON object; schema_version 1). Every field below is required in a profile file
// and optional in an override:
//   "schema_version": 1,
//   "name": "smollm2-135m-q4_1-cpu",             non-empty string
//   "hardware": "AMD EPYC, 2 cores, 2 threads",   non-empty string
//   "load_s": {"cold": 0.31, "warm": 0.26},       > 0, seconds from Engine::Create to the
//                                                 first token of a short prompt submitted
//                                                 at once (the first forward pass faults
//                                                 the weights in): what a cold start costs.
//                                                 cold = the model file's pages evicted
//                                                 first (read from disk), warm = in page
//                                                 cache (reloaded on the same machine)
//   "first_token_s": 0.07,                        > 0: that short prompt's first token on a
//                                                 replica that has already served (the
//                                                 part of load_s that is the prompt itself)
//   "memory_bytes": {"weights": 98362432,         > 0: model file bytes (mapped)...
//                    "kv_cache": 3019898880},     > 0: ...and the KV cache budget (the
//                                                 Engine reserves it; pages are touched
//                                                 as requests fill them)
//   "kv_bytes_per_token": 46080,                  > 0: keys and values of one token
//   "max_sequences": 64,                          > 0: requests running at once
//   "max_batch_tokens": 256,                      > 0: tokens per scheduler step
//   "context_length": 4096,                       > 0: most tokens per request
//   "prefill": [{"tokens": 64, "tokens_per_s": 310.5}, ...],  tokens strictly increasing
//   "decode": [{"batch": 1, "tokens_per_s": 150.2}, ...],      batch strictly increasing
//                                                 (aggregate tokens/s over all sequences)
//   "measurement": {...}                          optional, any object: machine, date,
//                                                 commit, command, load average. Kept
//                                                 for people; not read.
// Integers must be JSON integers; numbers must be finite. Unknown keys are errors (a
// misspelt override must not be silently ignored).
//
// Errors: Load gives NotFound for a missing file; every problem with the content is
// InvalidArgument with a message naming the field (e.g. "decode[2].batch: 4 is not greater
// than the previous batch 8").
//
// Thread-safety: a plain value; const methods may be called concurrently.
#ifndef HEARTH_REPLICA_PROFILE_H_
#define HEARTH_REPLICA_PROFILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hearth {

// Prefill of one prompt of `tokens` tokens alone on the replica.
struct PrefillPoint {
  int tokens = 0;
  double tokens_per_s = 0;
};

// Decode with `batch` sequences generating at once: tokens/s summed over all of them.
struct DecodePoint {
  int batch = 0;
  double tokens_per_s = 0;
};

struct ReplicaProfile {
  std::string name;
  std::string hardware;        // CPU or accelerator, cores, threads used
  double load_cold_s = 0;      // Create -> first token, model file not in page cache
  double load_warm_s = 0;      // Create -> first token, model file in page cache
  double first_token_s = 0;    // the short prompt's first token on a replica in service
  int64_t weights_bytes = 0;   // model file bytes
  int64_t kv_cache_bytes = 0;  // KV cache budget of the measured configuration
  int64_t kv_bytes_per_token = 0;
  int max_sequences = 0;
  int max_batch_tokens = 0;
  int context_length = 0;
  std::vector<PrefillPoint> prefill;  // tokens strictly increasing
  std::vector<DecodePoint> decode;    // batch strictly increasing

  // Parses a whole profile (every field required) and validates it.
  static absl::StatusOr<ReplicaProfile> Parse(std::string_view json_text);
  // Reads `path` and parses it; messages are prefixed with the path.
  static absl::StatusOr<ReplicaProfile> Load(const std::string& path);

  // A copy with the fields present in `json_text` (an object with any subset of the
  // schema's fields) replaced; a point list replaces the whole list. The result is
  // validated as a whole.
  absl::StatusOr<ReplicaProfile> WithOverrides(std::string_view json_text) const;
  // A copy for hardware `speedup` times as fast: throughputs multiplied, load and
  // first-token times divided by it. Memory and configuration unchanged.
  // InvalidArgument unless speedup is finite and > 0.
  absl::StatusOr<ReplicaProfile> Scaled(double speedup) const;

  // OK when every field satisfies the schema above; else InvalidArgument naming it. For
  // profiles built in code (Parse/Load/WithOverrides/Scaled already validate).
  absl::Status Validate() const;

  // Weights plus the KV cache budget: what a loaded replica holds.
  int64_t memory_bytes() const { return weights_bytes + kv_cache_bytes; }

  // Interpolation (requires a valid profile): piecewise-linear between measured points
  // and flat beyond the last one (no extrapolated gains; the Engine admits at most
  // max_sequences and max_batch_tokens anyway). Below the first point, prefill stays
  // flat at the first point's rate, while decode scales the first point's aggregate
  // proportionally (batch / first batch). Non-positive arguments give 0.
  double DecodeTokensPerS(double batch) const;
  double PrefillTokensPerS(double tokens) const;
  // Seconds for one decode step of `batch` sequences (batch / DecodeTokensPerS(batch)),
  // and for prefilling `tokens` prompt tokens (tokens / PrefillTokensPerS(tokens)).
  // 0 for non-positive arguments.
  double DecodeStepSeconds(double batch) const;
  double PrefillSeconds(double tokens) const;
};

}  // namespace hearth

#endif  // HEARTH_REPLICA_PROFILE_H_
