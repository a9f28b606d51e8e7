// ReadTrace: the format from the first line, then the format's parser; and what every
// reader shares (option checks, sorting, the window).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hearth/trace.h"
#include "lib/sim/trace_file.h"
#include "lib/sim/trace_formats.h"

namespace hearth {
namespace trace_internal {
namespace {

absl::StatusOr<TraceParser> ParserFor(TraceFormat format, absl::string_view path,
                                      absl::string_view text) {
  switch (format) {
    case TraceFormat::kAzureLlm:
      return ParseAzureLlm;
    case TraceFormat::kMooncake:
      return ParseMooncake;
    case TraceFormat::kServeGen:
      return ParseServeGen;
    case TraceFormat::kAzureFunctions:
      return ParseAzureFunctions;
    case TraceFormat::kHearthCsv:
      return ParseHearthCsv;
    case TraceFormat::kAuto:
      break;
  }
  const absl::string_view first_line = text.substr(0, text.find_first_of("\r\n"));
  if (absl::StartsWith(first_line, "TIMESTAMP,")) return ParseAzureLlm;
  if (absl::StartsWith(first_line, "{")) return ParseMooncake;
  if (absl::StartsWith(first_line, "category,model,client_id,window_start_s,rate_rps")) {
    return ParseServeGen;
  }
  if (absl::StartsWith(first_line, "category,model,client_id,window_start_s,window_len_s")) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is ServeGen's token summary; read the rates table (servegen.tokens_path "
              "names this file)"));
  }
  if (absl::StartsWith(first_line, "HashFunction,")) return ParseAzureFunctions;
  if (absl::StartsWith(first_line, "arrival_s,")) return ParseHearthCsv;
  return absl::InvalidArgumentError(absl::StrCat(
      path, ":1: unknown trace format, header '", first_line.substr(0, 80), "'"));
}

}  // namespace

absl::Status TooManyRequests(absl::string_view path, double expected,
                             const TraceOptions& options) {
  return absl::ResourceExhaustedError(absl::StrCat(
      path, ": would generate ", absl::SixDigits(expected), " requests, more than "
      "TraceOptions::max_generated_requests = ", options.max_generated_requests,
      "; select fewer clients or functions, a time window, or a lower rate scale"));
}

absl::Status CheckTraceOptions(const TraceOptions& options) {
  if (!std::isfinite(options.start_s) || options.start_s < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("TraceOptions::start_s ", options.start_s, " is not a finite number >= 0"));
  }
  if (!(options.end_s > options.start_s)) {
    return absl::InvalidArgumentError(absl::StrCat("TraceOptions::end_s ", options.end_s,
                                                   " is not after start_s ", options.start_s));
  }
  if (options.tenant.empty()) return absl::InvalidArgumentError("TraceOptions::tenant is empty");
  if (options.max_generated_requests <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("TraceOptions::max_generated_requests ",
                                                   options.max_generated_requests, " is not > 0"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TraceRequest>> FinishTrace(std::vector<TraceRequest> requests,
                                                      const TraceOptions& options) {
  std::stable_sort(requests.begin(), requests.end(),
                   [](const TraceRequest& a, const TraceRequest& b) {
                     return a.arrival_s < b.arrival_s;
                   });
  if (options.start_s == 0 && options.end_s == std::numeric_limits<double>::infinity()) {
    return requests;  // the whole trace: no copy
  }
  return SelectWindow(requests, options.start_s, options.end_s);
}

absl::StatusOr<std::vector<TraceRequest>> ReadWith(TraceParser parse, absl::string_view path,
                                                   const TraceOptions& options) {
  if (absl::Status s = CheckTraceOptions(options); !s.ok()) return s;
  absl::StatusOr<std::string> text = ReadTraceFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<TraceRequest>> requests = parse(path, *text, options);
  if (!requests.ok()) return requests.status();
  return FinishTrace(*std::move(requests), options);
}

std::string DefaultModelName(absl::string_view path, const TraceOptions& options) {
  return options.model.empty() ? FileStem(path) : options.model;
}

}  // namespace trace_internal

absl::StatusOr<std::vector<TraceRequest>> ReadTrace(std::string_view path_in,
                                                    const TraceOptions& options) {
  const absl::string_view path = trace_internal::AbslView(path_in);
  if (absl::Status s = trace_internal::CheckTraceOptions(options); !s.ok()) return s;
  absl::StatusOr<std::string> text = trace_internal::ReadTraceFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<trace_internal::TraceParser> parse =
      trace_internal::ParserFor(options.format, path, *text);
  if (!parse.ok()) return parse.status();
  absl::StatusOr<std::vector<TraceRequest>> requests = (*parse)(path, *text, options);
  if (!requests.ok()) return requests.status();
  return trace_internal::FinishTrace(*std::move(requests), options);
}

}  // namespace hearth
