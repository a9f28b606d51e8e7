// The Azure Functions 2019 In-Vitro sample: per function, invocations per minute of one
// day; each minute's invocations are spread inside it (AzureFunctionsOptions).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hearth/trace.h"
#include "lib/sim/trace_file.h"
#include "lib/sim/trace_formats.h"
#include "lib/sim/trace_random.h"

namespace hearth {
namespace trace_internal {
namespace {

constexpr int kLeadingColumns = 3;  // HashFunction, HashOwner, HashApp
constexpr double kMinuteS = 60;
// Functions are named by this many leading hex digits of HashFunction: short enough for
// std::string's inline buffer (a day holds about a million requests), long enough that
// the 1,350 sampled ids stay distinct (checked per file).
constexpr size_t kNameLength = 12;

struct FunctionRow {
  std::string name;
  uint64_t seed = 0;
  std::vector<int> counts;  // per minute
  int64_t line = 0;
};

absl::StatusOr<int> ParseHeader(absl::string_view path, absl::string_view header) {
  std::vector<absl::string_view> fields;
  SplitCsv(header, &fields);
  const RowPlace at{path, 1};
  if (fields.size() <= kLeadingColumns || fields[0] != "HashFunction" ||
      fields[1] != "HashOwner" || fields[2] != "HashApp") {
    return at.Error("header is not 'HashFunction,HashOwner,HashApp,minute_1,...'");
  }
  for (size_t i = kLeadingColumns; i < fields.size(); ++i) {
    const std::string expected = absl::StrCat("minute_", i - kLeadingColumns + 1);
    if (fields[i] != expected) {
      return at.Error(absl::StrCat("header column ", i + 1, " is '", fields[i], "', expected '",
                                   expected, "'"));
    }
  }
  return static_cast<int>(fields.size()) - kLeadingColumns;
}

absl::Status CheckFunctionOptions(const AzureFunctionsOptions& o) {
  if (o.top_functions < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("AzureFunctionsOptions::top_functions ", o.top_functions, " < 0"));
  }
  const auto check = [](const TokenCounts& t, absl::string_view what) {
    if (t.prompt_tokens < 0 || t.output_tokens < 0) {
      return absl::InvalidArgumentError(absl::StrCat("AzureFunctionsOptions::", what, " (",
                                                     t.prompt_tokens, ", ", t.output_tokens,
                                                     ") has a negative token count"));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check(o.fixed_tokens, "fixed_tokens"); !s.ok()) return s;
  for (size_t i = 0; i < o.token_samples.size(); ++i) {
    if (absl::Status s = check(o.token_samples[i], absl::StrCat("token_samples[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> ParseAzureFunctions(absl::string_view path,
                                                              absl::string_view text,
                                                              const TraceOptions& options) {
  const AzureFunctionsOptions& o = options.azure_functions;
  if (absl::Status s = CheckFunctionOptions(o); !s.ok()) return s;
  LineReader lines(text);
  absl::string_view line;
  lines.Next(&line);
  absl::StatusOr<int> minutes = ParseHeader(path, line);
  if (!minutes.ok()) return minutes.status();

  // Only minutes overlapping [start_s, end_s) are generated.
  const int first_minute = static_cast<int>(std::min<double>(
      *minutes, std::floor(options.start_s / kMinuteS)));
  const int end_minute =
      static_cast<int>(std::min<double>(*minutes, std::ceil(options.end_s / kMinuteS)));

  std::vector<FunctionRow> functions;
  absl::flat_hash_map<std::string, int64_t> line_of_name;
  std::vector<absl::string_view> fields;
  while (lines.Next(&line)) {
    const RowPlace at{path, lines.line_number()};
    SplitCsv(line, &fields);
    if (absl::Status s = CheckColumnCount(fields, kLeadingColumns + *minutes, at); !s.ok()) {
      return s;
    }
    if (fields[0].empty()) return at.Error("HashFunction is empty");
    FunctionRow row{.name = std::string(fields[0].substr(0, kNameLength)),
                    .seed = MixSeed(options.seed, HashName(fields[0])),
                    .line = at.line};
    if (const auto [it, added] = line_of_name.emplace(row.name, at.line); !added) {
      return at.Error(absl::StrCat("HashFunction ", fields[0], " starts like line ", it->second,
                                   "'s: the first ", kNameLength,
                                   " characters name a function and must differ"));
    }
    row.counts.reserve(*minutes);
    for (int m = 0; m < *minutes; ++m) {
      absl::StatusOr<int> count =
          ParseCount(fields[kLeadingColumns + m], absl::StrCat("minute_", m + 1), at);
      if (!count.ok()) return count.status();
      row.counts.push_back(*count);
    }
    functions.push_back(std::move(row));
  }

  const auto volume = [&](const FunctionRow& f) {
    int64_t sum = 0;
    for (int m = first_minute; m < end_minute; ++m) sum += f.counts[m];
    return sum;
  };
  if (o.top_functions > 0 && static_cast<size_t>(o.top_functions) < functions.size()) {
    // Most invocations first; ties in file order, so the choice is deterministic.
    std::stable_sort(functions.begin(), functions.end(),
                     [&](const FunctionRow& a, const FunctionRow& b) {
                       return volume(a) > volume(b);
                     });
    functions.resize(o.top_functions);
    std::sort(functions.begin(), functions.end(),
              [](const FunctionRow& a, const FunctionRow& b) { return a.line < b.line; });
  }

  int64_t total = 0;
  for (const FunctionRow& f : functions) total += volume(f);
  if (total > options.max_generated_requests) {
    return TooManyRequests(path, static_cast<double>(total), options);
  }

  const std::string model = DefaultModelName(path, options);
  std::vector<TraceRequest> requests;
  std::vector<double> offsets;
  for (const FunctionRow& f : functions) {
    TraceRng rng(f.seed);
    for (int m = first_minute; m < end_minute; ++m) {
      const int n = f.counts[m];
      offsets.resize(n);
      for (int k = 0; k < n; ++k) {
        offsets[k] = o.uniform_in_minute ? rng.Uniform() * kMinuteS : (k + 0.5) * kMinuteS / n;
      }
      std::sort(offsets.begin(), offsets.end());
      for (double offset : offsets) {
        const TokenCounts tokens = o.token_samples.empty()
                                       ? o.fixed_tokens
                                       : o.token_samples[rng.Below(o.token_samples.size())];
        requests.push_back(TraceRequest{
            .arrival_s = m * kMinuteS + offset,
            .model = o.function_as_model ? f.name : model,
            .tenant = o.function_as_model ? options.tenant : f.name,
            .prompt_tokens = tokens.prompt_tokens,
            .output_tokens = tokens.output_tokens});
      }
    }
  }
  return requests;
}

}  // namespace trace_internal

absl::StatusOr<std::vector<TraceRequest>> ReadAzureFunctionsTrace(
    std::string_view path, const TraceOptions& options) {
  return trace_internal::ReadWith(trace_internal::ParseAzureFunctions, trace_internal::AbslView(path), options);
}

}  // namespace hearth
