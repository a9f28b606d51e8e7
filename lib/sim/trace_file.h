// Reading trace files: whole-file reads (gzip or plain), numbered lines, CSV fields and
// strict number parsing whose errors name "file:line" and the field. Internal to the
// trace readers.
#ifndef HEARTH_LIB_SIM_TRACE_FILE_H_
#define HEARTH_LIB_SIM_TRACE_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hearth::trace_internal {

// The public API takes std::string_view; Abseil's string_view is a distinct type in some
// builds (Debian's), so internal code, which feeds Abseil, converts once at the entry.
inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

// The bytes of `path`, decompressed when they start with the gzip magic. NotFound (or the
// errno's code) when it cannot be opened, DataLoss on a corrupt or truncated gzip stream,
// InvalidArgument "path: empty file" when it holds no bytes.
absl::StatusOr<std::string> ReadTraceFile(absl::string_view path);

// The file's name without folder and extensions ("a/b/x_2023.csv.gz" -> "x_2023").
std::string FileStem(absl::string_view path);

// Where a value came from, for error messages.
struct RowPlace {
  absl::string_view path;
  int64_t line = 0;  // 1-based

  // InvalidArgument "path:line: message".
  absl::Status Error(absl::string_view message) const;
};

// Walks text line by line ("\n" or "\r\n"); a final line break is optional.
class LineReader {
 public:
  explicit LineReader(absl::string_view text) : rest_(text) {}
  // The next line (without its break) and its 1-based number; false after the last.
  bool Next(absl::string_view* line);
  int64_t line_number() const { return line_number_; }

 private:
  absl::string_view rest_;
  int64_t line_number_ = 0;
};

// Replaces *fields with the comma-separated fields of a row (the trace formats never
// quote). Reusing one vector across rows saves an allocation per row.
void SplitCsv(absl::string_view line, std::vector<absl::string_view>* fields);

// InvalidArgument naming the place unless `fields` has `expected` entries.
absl::Status CheckColumnCount(const std::vector<absl::string_view>& fields, size_t expected,
                              const RowPlace& at);

// A whole-field decimal integer (no sign, spaces or fraction) in [0, INT_MAX]: a token
// count or an invocation count.
absl::StatusOr<int> ParseCount(absl::string_view text, absl::string_view field,
                               const RowPlace& at);
// A whole-field decimal integer, sign allowed.
absl::StatusOr<int64_t> ParseInt64(absl::string_view text, absl::string_view field,
                                   const RowPlace& at);
// A whole-field finite decimal number >= 0.
absl::StatusOr<double> ParseNonNegative(absl::string_view text, absl::string_view field,
                                        const RowPlace& at);

}  // namespace hearth::trace_internal

#endif  // HEARTH_LIB_SIM_TRACE_FILE_H_
