// The Azure LLM inference traces: "TIMESTAMP,ContextTokens,GeneratedTokens", one request a
// row, sorted; 2023 timestamps carry no zone (UTC), 2024 ones end in "+00:00".
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hearth/trace.h"
#include "lib/sim/trace_file.h"
#include "lib/sim/trace_formats.h"

namespace hearth {
namespace trace_internal {
namespace {

constexpr absl::string_view kHeader = "TIMESTAMP,ContextTokens,GeneratedTokens";

bool HasUtcOffset(absl::string_view text) {
  return text.size() > 6 && (text[text.size() - 6] == '+' || text[text.size() - 6] == '-') &&
         text[text.size() - 3] == ':';
}

absl::StatusOr<absl::Time> ParseTimestamp(absl::string_view text, const RowPlace& at) {
  absl::Time time;
  std::string error;
  const char* format = HasUtcOffset(text) ? "%Y-%m-%d %H:%M:%E*S%Ez" : "%Y-%m-%d %H:%M:%E*S";
  if (!absl::ParseTime(format, text, absl::UTCTimeZone(), &time, &error)) {
    return at.Error(absl::StrCat("TIMESTAMP '", text,
                                 "' is not YYYY-MM-DD HH:MM:SS[.fraction][+HH:MM]: ", error));
  }
  return time;
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> ParseAzureLlm(absl::string_view path,
                                                        absl::string_view text,
                                                        const TraceOptions& options) {
  LineReader lines(text);
  absl::string_view line;
  lines.Next(&line);
  if (line != kHeader) {
    return RowPlace{path, 1}.Error(
        absl::StrCat("header '", line, "' is not '", kHeader, "'"));
  }
  const std::string model = DefaultModelName(path, options);
  std::vector<TraceRequest> requests;
  absl::Time origin;
  absl::Time previous;
  std::vector<absl::string_view> fields;
  while (lines.Next(&line)) {
    const RowPlace at{path, lines.line_number()};
    SplitCsv(line, &fields);
    if (absl::Status s = CheckColumnCount(fields, 3, at); !s.ok()) return s;
    absl::StatusOr<absl::Time> time = ParseTimestamp(fields[0], at);
    if (!time.ok()) return time.status();
    absl::StatusOr<int> prompt = ParseCount(fields[1], "ContextTokens", at);
    if (!prompt.ok()) return prompt.status();
    absl::StatusOr<int> output = ParseCount(fields[2], "GeneratedTokens", at);
    if (!output.ok()) return output.status();
    if (requests.empty()) {
      origin = *time;
    } else if (*time < previous) {
      return at.Error(absl::StrCat("TIMESTAMP ", fields[0],
                                   " is earlier than the previous row's (rows must be sorted)"));
    }
    previous = *time;
    requests.push_back(TraceRequest{.arrival_s = absl::ToDoubleSeconds(*time - origin),
                                    .model = model,
                                    .tenant = options.tenant,
                                    .prompt_tokens = *prompt,
                                    .output_tokens = *output});
  }
  return requests;
}

}  // namespace trace_internal

absl::StatusOr<std::vector<TraceRequest>> ReadAzureLlmTrace(std::string_view path,
                                                            const TraceOptions& options) {
  return trace_internal::ReadWith(trace_internal::ParseAzureLlm, trace_internal::AbslView(path), options);
}

}  // namespace hearth
