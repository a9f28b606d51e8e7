// The Mooncake traces: JSON Lines {"timestamp": ms, "input_length": n, "output_length": n,
// "hash_ids": [...]}, sorted by timestamp, no header.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hearth/trace.h"
#include "lib/sim/trace_file.h"
#include "lib/sim/trace_formats.h"
#include "nlohmann/json.hpp"

namespace hearth {
namespace trace_internal {
namespace {

// A required non-negative integer member of `row`.
absl::StatusOr<int64_t> NonNegativeMember(const nlohmann::json& row, const char* name,
                                          const RowPlace& at) {
  const auto it = row.find(name);
  if (it == row.end()) return at.Error(absl::StrCat("missing field ", name));
  // nlohmann keeps non-negative integers as unsigned, negative ones as signed.
  if (!it->is_number_unsigned() || it->get<uint64_t>() > uint64_t{INT64_MAX}) {
    return at.Error(absl::StrCat(name, " ", it->dump(), " is not an integer >= 0"));
  }
  return static_cast<int64_t>(it->get<uint64_t>());
}

absl::StatusOr<int> TokenMember(const nlohmann::json& row, const char* name,
                                const RowPlace& at) {
  absl::StatusOr<int64_t> value = NonNegativeMember(row, name, at);
  if (!value.ok()) return value.status();
  if (*value > INT32_MAX) return at.Error(absl::StrCat(name, " ", *value, " is too large"));
  return static_cast<int>(*value);
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> ParseMooncake(absl::string_view path,
                                                        absl::string_view text,
                                                        const TraceOptions& options) {
  const std::string model = DefaultModelName(path, options);
  std::vector<TraceRequest> requests;
  LineReader lines(text);
  absl::string_view line;
  int64_t previous_ms = 0;
  while (lines.Next(&line)) {
    const RowPlace at{path, lines.line_number()};
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded() || !row.is_object()) return at.Error("not a JSON object");
    absl::StatusOr<int64_t> ms = NonNegativeMember(row, "timestamp", at);
    if (!ms.ok()) return ms.status();
    absl::StatusOr<int> prompt = TokenMember(row, "input_length", at);
    if (!prompt.ok()) return prompt.status();
    absl::StatusOr<int> output = TokenMember(row, "output_length", at);
    if (!output.ok()) return output.status();
    if (*ms < previous_ms) {
      return at.Error(absl::StrCat("timestamp ", *ms, " is earlier than the previous row's ",
                                   previous_ms, " (rows must be sorted)"));
    }
    previous_ms = *ms;
    TraceRequest request{.arrival_s = static_cast<double>(*ms) / 1000.0,
                         .model = model,
                         .tenant = options.tenant,
                         .prompt_tokens = *prompt,
                         .output_tokens = *output};
    if (const auto ids = row.find("hash_ids"); ids != row.end()) {
      if (!ids->is_array()) return at.Error("hash_ids is not an array");
      request.prefix_blocks.reserve(ids->size());
      for (const nlohmann::json& id : *ids) {
        if (!id.is_number_integer()) {
          return at.Error(absl::StrCat("hash_ids entry ", id.dump(), " is not an integer"));
        }
        request.prefix_blocks.push_back(id.get<int64_t>());
      }
    }
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace trace_internal

absl::StatusOr<std::vector<TraceRequest>> ReadMooncakeTrace(std::string_view path,
                                                            const TraceOptions& options) {
  return trace_internal::ReadWith(trace_internal::ParseMooncake, trace_internal::AbslView(path), options);
}

}  // namespace hearth
