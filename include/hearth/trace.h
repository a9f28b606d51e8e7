// hearth traces — real request streams to replay through the control plane.
//
// A trace is a std::vector<TraceRequest> sorted by arrival time. Readers turn each public
// trace format in data/traces (see its README.md for origin, license and columns) into
// that one shape; pure functions then rescale, window, overlay and sample traces.
//
//   Format (TraceFormat)  What one input row becomes
//   kAzureLlm             one request (Azure LLM inference trace 2023, and the 2024 variant
//                         whose timestamps end in "+00:00")
//   kMooncake             one request, with its 512-token prefix block hashes
//   kServeGen             per client and 10-minute window: exactly rate x 600 requests with
//                         inter-arrival gaps from the window's fitted Gamma/Weibull law and
//                         token counts from the client's 6-hour summary (generated, seeded)
//   kAzureFunctions       per function and minute: that many requests spread in the minute
//                         (generated, seeded); token counts from AzureFunctionsOptions
//   kHearthCsv            one request; hearth's own format, below
//
// hearth's own CSV format (written by WriteHearthCsv, read by ReadHearthCsv):
//   arrival_s,model,tenant,prompt_tokens,output_tokens[,prefix_blocks]
//   0.25,llama-8b,acme,812,97
//   0.25,llama-8b,globex,1020,129
// A header row exactly as above (the last column optional), then one row per request,
// sorted by arrival_s (non-decreasing, seconds, finite, >= 0). model and tenant are
// non-empty and hold no comma, quote or line break; token counts are integers >= 0;
// prefix_blocks, when the header has it, is a space-separated list of integer block
// hashes (may be empty). The final line break is optional.
//
// Usage:
//   hearth::TraceOptions options;
//   options.model = "llama-8b";
//   absl::StatusOr<std::vector<hearth::TraceRequest>> code =
//       hearth::ReadTrace("data/traces/AzureLLMInferenceTrace_code_2023.csv", options);
//   if (!code.ok()) return code.status();  // e.g. InvalidArgument "...csv:17: ContextTokens ..."
//   auto faster = hearth::ScaleTime(*code, 0.5);   // the same hour replayed in 30 minutes
//   auto both = hearth::Overlay({{*code, "small", "coder"}, {*conv, "large", "chat"}});
//
// Errors: every reader fails on the first bad row with InvalidArgument naming
// "file:line" and the field (malformed timestamp, non-integer or negative tokens, wrong
// column count, rows out of order where the format promises order, empty file), NotFound
// for a missing file, DataLoss for a corrupt gzip stream. Nothing is skipped silently.
// Files ending in .gz (any format) are decompressed with zlib.
//
// Thread-safety: all functions are pure (no shared state); call them from any thread.
#ifndef HEARTH_TRACE_H_
#define HEARTH_TRACE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hearth {

struct TraceRequest {
  // Seconds from the trace's origin. Traces with an explicit origin keep the first
  // request at its offset from it (Mooncake: trace start; ServeGen: midnight of day 1;
  // Azure Functions: start of minute 1); the Azure LLM trace, which has wall-clock
  // timestamps only, starts at its first request (0).
  double arrival_s = 0;
  std::string model;
  std::string tenant;
  int prompt_tokens = 0;
  int output_tokens = 0;
  // Mooncake only: remapped hashes of the prompt's 512-token blocks, in prompt order;
  // two requests sharing a leading run of ids share that KV-cache prefix. Else empty.
  std::vector<int64_t> prefix_blocks;

  friend bool operator==(const TraceRequest&, const TraceRequest&) = default;
};

enum class TraceFormat { kAuto, kAzureLlm, kMooncake, kServeGen, kAzureFunctions, kHearthCsv };

// Token counts given to requests of traces that carry none (Azure Functions).
struct TokenCounts {
  int prompt_tokens = 0;
  int output_tokens = 0;
};

// The ServeGen rate table is aggregated (10-minute windows of 422 clients over up to 14
// days: billions of requests), so a replay picks a subset. The default — deepseek-r1,
// its whole day, all 73 clients, thinned to 10 % (about 138,000 requests, 1.6 req/s mean,
// close to the Azure LLM traces' rates) — keeps the real daily cycle and the per-client
// idle periods at a size a simulation replays in seconds. rate_scale = 1 reproduces the
// exact per-window counts.
struct ServeGenOptions {
  // Any of "m-large", "m-mid", "m-small" (14 days), "deepseek-r1", "mm-image" (1 day);
  // data/traces keeps the rows of the last two only (see its README).
  std::vector<std::string> models = {"deepseek-r1"};
  std::vector<int64_t> client_ids;  // empty: every client of the selected models
  // > 0: keep the top_clients clients of each model with the most requests inside
  // [TraceOptions::start_s, end_s) (after the client_ids filter); 0: keep all.
  int top_clients = 0;
  // Multiplies each window's count n: the window gets floor(n x s) requests plus one more
  // with probability frac(n x s) (seeded). Finite and >= 0.
  double rate_scale = 0.1;
  // The 6-hour token summary. Empty: the rates file's name with "rates_10min" replaced by
  // "tokens_6h", in the same folder.
  std::string tokens_path;
};

// Token counts are not in ServeGen's rate table: each request draws its prompt and output
// lengths from a log-normal fitted to its client's 6-hour window summary (median = p50,
// 90th percentile = p90; a constant when p90 <= p50), rounded and clamped to [1, 2 x p99]
// because the summary says nothing of how far the top 1 % reaches. Where the summary has
// no row for that client and window, the request first draws a (client, window) row of
// the same model weighted by its expected_requests — the model's mixture — and then draws
// from that row's log-normal.

// The Azure Functions sample counts invocations per function and minute; each minute's
// invocations are spread in it and each function becomes a tenant (or a model).
struct AzureFunctionsOptions {
  // false: one tenant per function and every request for TraceOptions::model (default
  // the file's name); true: one model per function (each function keeps its own warm
  // instances, as in the keep-alive study), tenant TraceOptions::tenant.
  bool function_as_model = false;
  // > 0: keep the top_functions functions with the most invocations inside
  // [TraceOptions::start_s, end_s); 0: keep all.
  int top_functions = 0;
  // true: arrivals uniform at random in the minute (seeded); false: evenly spaced, the
  // k-th of n at (k + 0.5) x 60 / n seconds into the minute.
  bool uniform_in_minute = true;
  // The data has no token counts. Empty: every request gets fixed_tokens. Else each
  // request draws one entry (seeded, with replacement), e.g. TokenCountsOf an LLM trace.
  std::vector<TokenCounts> token_samples;
  // Default: the medians of the Azure LLM conv trace (1,020 prompt, 129 output tokens).
  TokenCounts fixed_tokens = {1020, 129};
};

struct TraceOptions {
  TraceFormat format = TraceFormat::kAuto;  // kAuto: from the file's header (see ReadTrace)
  // Names for formats that carry none: the model of Azure LLM, Mooncake and Azure
  // Functions (per-tenant mode) requests, empty meaning the file's name without folder and
  // extensions; the tenant of Azure LLM, Mooncake and Azure Functions (per-model mode)
  // requests. Formats that carry names (ServeGen, hearth CSV) keep theirs; rename with
  // Overlay.
  std::string model;
  std::string tenant = "default";
  // Keeps requests with start_s <= arrival_s < end_s and shifts them by -start_s, as
  // SelectWindow. The generating readers only generate the windows that overlap.
  double start_s = 0;
  double end_s = std::numeric_limits<double>::infinity();
  uint64_t seed = 1;  // for the generating readers; same seed, same trace
  // The generating readers (ServeGen, Azure Functions) fail with ResourceExhausted,
  // before allocating, when the trace would hold more requests than this (> 0): about
  // 130 bytes each, so the default is ~2.6 GB; full-volume ServeGen is billions.
  int64_t max_generated_requests = 20'000'000;
  ServeGenOptions servegen;
  AzureFunctionsOptions azure_functions;
};

// Reads the trace at `path`. With options.format == kAuto the format comes from the first
// line (after gzip decompression): "TIMESTAMP,ContextTokens,GeneratedTokens" (Azure LLM),
// a JSON object (Mooncake), "category,model,client_id,window_start_s,rate_rps,..."
// (ServeGen rates), "HashFunction,HashOwner,HashApp,minute_1,..." (Azure Functions),
// "arrival_s,model,tenant,..." (hearth CSV); anything else is InvalidArgument naming the
// file and the header. Returns the requests sorted by arrival_s (ties keep file order).
absl::StatusOr<std::vector<TraceRequest>> ReadTrace(std::string_view path,
                                                    const TraceOptions& options = {});

// The per-format readers ReadTrace dispatches to; same contract, format not sniffed.
absl::StatusOr<std::vector<TraceRequest>> ReadAzureLlmTrace(std::string_view path,
                                                            const TraceOptions& options = {});
absl::StatusOr<std::vector<TraceRequest>> ReadMooncakeTrace(std::string_view path,
                                                            const TraceOptions& options = {});
// `path` is the rates table; the token summary is options.servegen.tokens_path.
absl::StatusOr<std::vector<TraceRequest>> ReadServeGenTrace(std::string_view path,
                                                            const TraceOptions& options = {});
absl::StatusOr<std::vector<TraceRequest>> ReadAzureFunctionsTrace(
    std::string_view path, const TraceOptions& options = {});
absl::StatusOr<std::vector<TraceRequest>> ReadHearthCsv(std::string_view path,
                                                        const TraceOptions& options = {});

// Writes `trace` in hearth's CSV format (the prefix_blocks column only when a request has
// blocks), arrival_s in the shortest text that reads back to the same double. Fails with
// InvalidArgument (naming the request's index and field) on unsorted, negative or
// non-finite arrivals, negative tokens, or an empty name or one holding a comma, quote or
// line break — before writing anything; with the I/O error's code if the file cannot be
// written.
absl::Status WriteHearthCsv(std::string_view path, absl::Span<const TraceRequest> trace);

// The (prompt, output) token counts of every request, e.g. to give an LLM trace's length
// distribution to AzureFunctionsOptions::token_samples.
std::vector<TokenCounts> TokenCountsOf(absl::Span<const TraceRequest> trace);

// Transformations: pure, input untouched, every input request sorted by arrival_s (else
// InvalidArgument naming the first out-of-order index).

// Multiplies every arrival by `factor` (> 0, finite): 2 stretches the trace to twice its
// length (half the rate), 0.5 replays it twice as fast.
absl::StatusOr<std::vector<TraceRequest>> ScaleTime(absl::Span<const TraceRequest> trace,
                                                    double factor);

// The requests with start_s <= arrival_s < end_s, shifted by -start_s so the window
// starts at 0. start_s finite and >= 0, end_s > start_s (may be infinite).
absl::StatusOr<std::vector<TraceRequest>> SelectWindow(absl::Span<const TraceRequest> trace,
                                                       double start_s, double end_s);

// One input of Overlay: a trace and the names its requests take (empty: keep theirs).
struct OverlayInput {
  absl::Span<const TraceRequest> trace;
  std::string model;
  std::string tenant;
};

// Merges several traces into one, e.g. two Azure traces as two models: every request of
// every input, renamed as its input says, sorted by arrival (ties: inputs in order given,
// then each input's own order).
absl::StatusOr<std::vector<TraceRequest>> Overlay(absl::Span<const OverlayInput> inputs);

// Keeps each request independently with probability `fraction` in [0, 1], order kept;
// the same seed keeps the same requests.
absl::StatusOr<std::vector<TraceRequest>> Sample(absl::Span<const TraceRequest> trace,
                                                 double fraction, uint64_t seed);

}  // namespace hearth

#endif  // HEARTH_TRACE_H_
