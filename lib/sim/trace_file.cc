#include "lib/sim/trace_file.h"

#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hearth::trace_internal {
namespace {

constexpr size_t kReadChunk = size_t{1} << 20;

// RAII over zlib's file handle so every error path closes it.
class GzFile {
 public:
  explicit GzFile(gzFile file) : file_(file) {}
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  ~GzFile() {
    if (file_ != nullptr) gzclose_r(file_);
  }
  gzFile get() const { return file_; }
  // Closes now, reporting what gzclose_r says (Z_BUF_ERROR: the stream ended mid-member).
  int Close() {
    int rc = gzclose_r(file_);
    file_ = nullptr;
    return rc;
  }

 private:
  gzFile file_;
};

}  // namespace

absl::StatusOr<std::string> ReadTraceFile(absl::string_view path) {
  const std::string name(path);
  errno = 0;
  // zlib reads plain files through unchanged, so one path serves .gz and plain text.
  GzFile file(gzopen(name.c_str(), "rb"));
  if (file.get() == nullptr) {
    return absl::ErrnoToStatus(errno != 0 ? errno : ENOMEM,
                               absl::StrCat("cannot open trace ", path));
  }
  gzbuffer(file.get(), static_cast<unsigned>(kReadChunk));
  std::string text;
  for (;;) {
    const size_t old_size = text.size();
    text.resize(old_size + kReadChunk);
    const int n = gzread(file.get(), text.data() + old_size, static_cast<unsigned>(kReadChunk));
    if (n < 0) {
      int code = Z_OK;
      const char* message = gzerror(file.get(), &code);
      if (code == Z_ERRNO) {
        return absl::ErrnoToStatus(errno, absl::StrCat("cannot read trace ", path));
      }
      return absl::DataLossError(absl::StrCat(path, ": corrupt gzip stream: ", message));
    }
    text.resize(old_size + static_cast<size_t>(n));
    if (n == 0) break;
  }
  if (file.Close() != Z_OK) {
    return absl::DataLossError(absl::StrCat(path, ": truncated gzip stream"));
  }
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  return text;
}

std::string FileStem(absl::string_view path) {
  const size_t slash = path.find_last_of('/');
  absl::string_view name = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find('.');
  return std::string(dot == absl::string_view::npos ? name : name.substr(0, dot));
}

absl::Status RowPlace::Error(absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", message));
}

bool LineReader::Next(absl::string_view* line) {
  if (rest_.empty()) return false;
  const size_t end = rest_.find('\n');
  absl::string_view found = rest_.substr(0, end);
  rest_ = end == absl::string_view::npos ? absl::string_view() : rest_.substr(end + 1);
  if (!found.empty() && found.back() == '\r') found.remove_suffix(1);
  *line = found;
  ++line_number_;
  return true;
}

void SplitCsv(absl::string_view line, std::vector<absl::string_view>* fields) {
  fields->clear();
  for (;;) {
    const size_t comma = line.find(',');
    fields->push_back(line.substr(0, comma));
    if (comma == absl::string_view::npos) return;
    line.remove_prefix(comma + 1);
  }
}

absl::Status CheckColumnCount(const std::vector<absl::string_view>& fields, size_t expected,
                              const RowPlace& at) {
  if (fields.size() == expected) return absl::OkStatus();
  return at.Error(absl::StrCat("expected ", expected, " columns, found ", fields.size()));
}

absl::StatusOr<int64_t> ParseInt64(absl::string_view text, absl::string_view field,
                                   const RowPlace& at) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return at.Error(absl::StrCat(field, " '", text, "' is not an integer"));
  }
  return value;
}

absl::StatusOr<int> ParseCount(absl::string_view text, absl::string_view field,
                               const RowPlace& at) {
  absl::StatusOr<int64_t> value = ParseInt64(text, field, at);
  if (!value.ok()) return value.status();
  if (*value < 0 || *value > INT_MAX) {
    return at.Error(absl::StrCat(field, " ", *value, " is out of range [0, ", INT_MAX, "]"));
  }
  return static_cast<int>(*value);
}

absl::StatusOr<double> ParseNonNegative(absl::string_view text, absl::string_view field,
                                        const RowPlace& at) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return at.Error(absl::StrCat(field, " '", text, "' is not a number"));
  }
  if (!std::isfinite(value) || value < 0) {
    return at.Error(absl::StrCat(field, " ", text, " is not a finite number >= 0"));
  }
  return value;
}

}  // namespace hearth::trace_internal
