// The per-format parsers behind ReadTrace and the Read*Trace functions: each takes the
// file's (decompressed) text so ReadTrace reads a file once to sniff and parse it.
#ifndef HEARTH_LIB_SIM_TRACE_FORMATS_H_
#define HEARTH_LIB_SIM_TRACE_FORMATS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hearth/trace.h"

namespace hearth::trace_internal {

// Each returns the file's requests, not yet sorted nor windowed (FinishTrace does both);
// `path` only names the file in errors (and locates ServeGen's token summary).
using TraceParser = absl::StatusOr<std::vector<TraceRequest>> (*)(
    absl::string_view path, absl::string_view text, const TraceOptions& options);
absl::StatusOr<std::vector<TraceRequest>> ParseAzureLlm(absl::string_view path,
                                                        absl::string_view text,
                                                        const TraceOptions& options);
absl::StatusOr<std::vector<TraceRequest>> ParseMooncake(absl::string_view path,
                                                        absl::string_view text,
                                                        const TraceOptions& options);
absl::StatusOr<std::vector<TraceRequest>> ParseServeGen(absl::string_view path,
                                                        absl::string_view text,
                                                        const TraceOptions& options);
absl::StatusOr<std::vector<TraceRequest>> ParseAzureFunctions(absl::string_view path,
                                                              absl::string_view text,
                                                              const TraceOptions& options);
absl::StatusOr<std::vector<TraceRequest>> ParseHearthCsv(absl::string_view path,
                                                         absl::string_view text,
                                                         const TraceOptions& options);

// InvalidArgument unless the options' window is usable (start_s finite and >= 0,
// end_s > start_s) and tenant is not empty; checked before a file is read.
absl::Status CheckTraceOptions(const TraceOptions& options);

// Reads `path` and runs `parse` on it, then FinishTrace.
absl::StatusOr<std::vector<TraceRequest>> ReadWith(TraceParser parse, absl::string_view path,
                                                   const TraceOptions& options);

// Sorts by arrival (stable: ties keep the parser's order) and applies the options'
// window as SelectWindow does.
absl::StatusOr<std::vector<TraceRequest>> FinishTrace(std::vector<TraceRequest> requests,
                                                      const TraceOptions& options);

// ResourceExhausted naming `path`, the `expected` count, the options' limit and how to
// cut the trace down.
absl::Status TooManyRequests(absl::string_view path, double expected,
                             const TraceOptions& options);

// The name a request of a nameless format gets: options.model, else the file's stem.
std::string DefaultModelName(absl::string_view path, const TraceOptions& options);

}  // namespace hearth::trace_internal

#endif  // HEARTH_LIB_SIM_TRACE_FORMATS_H_
