// hearth's own trace CSV (specified in include/hearth/trace.h): reader and writer.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "hearth/trace.h"
#include "lib/sim/trace_file.h"
#include "lib/sim/trace_formats.h"

namespace hearth {
namespace trace_internal {
namespace {

constexpr absl::string_view kHeader = "arrival_s,model,tenant,prompt_tokens,output_tokens";
constexpr absl::string_view kBlocksColumn = ",prefix_blocks";

// Why `name` cannot be written as a CSV field, or empty.
absl::string_view NameProblem(absl::string_view name) {
  if (name.empty()) return "is empty";
  if (name.find_first_of(",\"\r\n") != absl::string_view::npos) {
    return "holds a comma, quote or line break";
  }
  return {};
}

absl::Status ParseBlocks(absl::string_view text, const RowPlace& at,
                         std::vector<int64_t>* blocks) {
  for (absl::string_view id : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    absl::StatusOr<int64_t> value = ParseInt64(id, "prefix_blocks", at);
    if (!value.ok()) return value.status();
    blocks->push_back(*value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> ParseHearthCsv(absl::string_view path,
                                                         absl::string_view text,
                                                         const TraceOptions& /*options*/) {
  LineReader lines(text);
  absl::string_view line;
  lines.Next(&line);
  const bool with_blocks = line == absl::StrCat(kHeader, kBlocksColumn);
  if (line != kHeader && !with_blocks) {
    return RowPlace{path, 1}.Error(
        absl::StrCat("header '", line, "' is not '", kHeader, "[", kBlocksColumn, "]'"));
  }
  const size_t columns = with_blocks ? 6 : 5;
  std::vector<TraceRequest> requests;
  std::vector<absl::string_view> fields;
  while (lines.Next(&line)) {
    const RowPlace at{path, lines.line_number()};
    SplitCsv(line, &fields);
    if (absl::Status s = CheckColumnCount(fields, columns, at); !s.ok()) return s;
    absl::StatusOr<double> arrival = ParseNonNegative(fields[0], "arrival_s", at);
    if (!arrival.ok()) return arrival.status();
    if (!requests.empty() && *arrival < requests.back().arrival_s) {
      return at.Error(absl::StrCat("arrival_s ", fields[0],
                                   " is earlier than the previous row's (rows must be sorted)"));
    }
    if (fields[1].empty()) return at.Error("model is empty");
    if (fields[2].empty()) return at.Error("tenant is empty");
    absl::StatusOr<int> prompt = ParseCount(fields[3], "prompt_tokens", at);
    if (!prompt.ok()) return prompt.status();
    absl::StatusOr<int> output = ParseCount(fields[4], "output_tokens", at);
    if (!output.ok()) return output.status();
    TraceRequest request{.arrival_s = *arrival,
                         .model = std::string(fields[1]),
                         .tenant = std::string(fields[2]),
                         .prompt_tokens = *prompt,
                         .output_tokens = *output};
    if (with_blocks) {
      if (absl::Status s = ParseBlocks(fields[5], at, &request.prefix_blocks); !s.ok()) return s;
    }
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace trace_internal

absl::StatusOr<std::vector<TraceRequest>> ReadHearthCsv(std::string_view path,
                                                        const TraceOptions& options) {
  return trace_internal::ReadWith(trace_internal::ParseHearthCsv, trace_internal::AbslView(path), options);
}

absl::Status WriteHearthCsv(std::string_view path_in, absl::Span<const TraceRequest> trace) {
  const absl::string_view path = trace_internal::AbslView(path_in);
  bool with_blocks = false;
  for (size_t i = 0; i < trace.size(); ++i) {
    const TraceRequest& r = trace[i];
    const auto bad = [i](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("request ", i, ": ", what));
    };
    if (!std::isfinite(r.arrival_s) || r.arrival_s < 0) {
      return bad(absl::StrCat("arrival_s ", r.arrival_s, " is not a finite number >= 0"));
    }
    if (i > 0 && r.arrival_s < trace[i - 1].arrival_s) {
      return bad(absl::StrCat("arrival_s ", r.arrival_s, " is earlier than request ", i - 1,
                              "'s (the format is sorted)"));
    }
    if (absl::string_view p = trace_internal::NameProblem(r.model); !p.empty()) {
      return bad(absl::StrCat("model '", r.model, "' ", p));
    }
    if (absl::string_view p = trace_internal::NameProblem(r.tenant); !p.empty()) {
      return bad(absl::StrCat("tenant '", r.tenant, "' ", p));
    }
    if (r.prompt_tokens < 0) return bad(absl::StrCat("prompt_tokens ", r.prompt_tokens, " < 0"));
    if (r.output_tokens < 0) return bad(absl::StrCat("output_tokens ", r.output_tokens, " < 0"));
    with_blocks = with_blocks || !r.prefix_blocks.empty();
  }

  std::string out(trace_internal::kHeader);
  if (with_blocks) absl::StrAppend(&out, trace_internal::kBlocksColumn);
  out += '\n';
  for (const TraceRequest& r : trace) {
    char number[32];
    // Shortest text that parses back to the same double: exact round trips.
    const auto result = std::to_chars(number, number + sizeof(number), r.arrival_s);
    absl::StrAppend(&out, absl::string_view(number, result.ptr - number), ",", r.model, ",",
                    r.tenant, ",", r.prompt_tokens, ",", r.output_tokens);
    if (with_blocks) {
      out += ',';
      absl::StrAppend(&out, absl::StrJoin(r.prefix_blocks, " "));
    }
    out += '\n';
  }

  const std::string name(path_in);
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(name.c_str(), "wb"), &std::fclose);
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create trace ", path));
  }
  if (std::fwrite(out.data(), 1, out.size(), file.get()) != out.size()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot write trace ", path));
  }
  if (std::fclose(file.release()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot write trace ", path));
  }
  return absl::OkStatus();
}

}  // namespace hearth
