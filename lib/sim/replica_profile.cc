#include "hearth/replica_profile.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "lib/runtime/json_text.h"

namespace hearth {
namespace {

using Json = nlohmann::json;

constexpr int kSchemaVersion = 1;

// absl::string_view is not std::string_view in every Abseil build, so messages are built
// from std::string.
absl::Status FieldError(const std::string& field, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status CheckKeys(const Json& object, const std::string& where,
                       const std::vector<std::string_view>& known) {
  for (const auto& item : object.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || item.key() == k;
    if (!found) {
      return FieldError(absl::StrCat(where, item.key()), "unknown field");
    }
  }
  return absl::OkStatus();
}

// Reads object[key] into *out when present. With `required`, a missing key is an error.
// `path` is how the field is named in messages.
absl::Status ReadString(const Json& object, const char* key, const std::string& path,
                        bool required, std::string* out) {
  const auto it = object.find(key);
  if (it == object.end()) return required ? FieldError(path, "missing") : absl::OkStatus();
  if (!it->is_string()) return FieldError(path, "must be a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadNumber(const Json& object, const char* key, const std::string& path,
                        bool required, double* out) {
  const auto it = object.find(key);
  if (it == object.end()) return required ? FieldError(path, "missing") : absl::OkStatus();
  if (!it->is_number()) return FieldError(path, "must be a number");
  *out = it->get<double>();
  return absl::OkStatus();
}

template <typename Int>
absl::Status ReadInteger(const Json& object, const char* key, const std::string& path,
                         bool required, Int* out) {
  const auto it = object.find(key);
  if (it == object.end()) return required ? FieldError(path, "missing") : absl::OkStatus();
  if (!it->is_number_integer()) return FieldError(path, "must be an integer");
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<Int>::max())) {
      return FieldError(path, absl::StrCat(it->get<uint64_t>(), " is too large"));
    }
  } else {
    const int64_t v = it->get<int64_t>();
    if (v > static_cast<int64_t>(std::numeric_limits<Int>::max()) ||
        v < static_cast<int64_t>(std::numeric_limits<Int>::min())) {
      return FieldError(path, absl::StrCat(v, " is out of range"));
    }
  }
  *out = it->get<Int>();
  return absl::OkStatus();
}

// `object[key]` must be an object when present; *sub points at it (nullptr if absent).
absl::Status ReadObject(const Json& object, const char* key, const std::string& path,
                        bool required, const Json** sub) {
  *sub = nullptr;
  const auto it = object.find(key);
  if (it == object.end()) return required ? FieldError(path, "missing") : absl::OkStatus();
  if (!it->is_object()) return FieldError(path, "must be an object");
  *sub = &*it;
  return absl::OkStatus();
}

// A point list: [{"<size_key>": int, "tokens_per_s": number}, ...]. Replaces *points.
template <typename Point>
absl::Status ReadPoints(const Json& object, const char* key, const char* size_key,
                        int Point::*size, bool required, std::vector<Point>* points) {
  const auto it = object.find(key);
  if (it == object.end()) return required ? FieldError(key, "missing") : absl::OkStatus();
  if (!it->is_array()) return FieldError(key, "must be an array");
  std::vector<Point> read;
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string path = absl::StrCat(key, "[", i, "]");
    const Json& entry = (*it)[i];
    if (!entry.is_object()) return FieldError(path, "must be an object");
    if (absl::Status s = CheckKeys(entry, path + ".", {size_key, "tokens_per_s"}); !s.ok()) {
      return s;
    }
    Point p;
    if (absl::Status s = ReadInteger(entry, size_key, path + "." + size_key, true, &(p.*size));
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            ReadNumber(entry, "tokens_per_s", path + ".tokens_per_s", true, &p.tokens_per_s);
        !s.ok()) {
      return s;
    }
    read.push_back(p);
  }
  *points = std::move(read);
  return absl::OkStatus();
}

// Sets the fields of `j` present in it on *p; with `required`, every field must be there.
// Validation of the values is left to Validate(), which sees the merged result.
absl::Status ApplyFields(const Json& j, bool required, ReplicaProfile* p) {
  if (!j.is_object()) return absl::InvalidArgumentError("a profile must be a JSON object");
  if (absl::Status s = CheckKeys(j, "",
                                 {"schema_version", "name", "hardware", "load_s",
                                  "first_token_s", "memory_bytes", "kv_bytes_per_token",
                                  "max_sequences", "max_batch_tokens", "context_length",
                                  "prefill", "decode", "measurement"});
      !s.ok()) {
    return s;
  }
  int version = kSchemaVersion;
  if (absl::Status s = ReadInteger(j, "schema_version", "schema_version", required, &version);
      !s.ok()) {
    return s;
  }
  if (version != kSchemaVersion) {
    return FieldError("schema_version",
                      absl::StrCat(version, " is not supported (expected ", kSchemaVersion, ")"));
  }
  const Json* load = nullptr;
  const Json* memory = nullptr;
  const Json* measurement = nullptr;
  absl::Status s;
  if (s = ReadString(j, "name", "name", required, &p->name); !s.ok()) return s;
  if (s = ReadString(j, "hardware", "hardware", required, &p->hardware); !s.ok()) return s;
  if (s = ReadObject(j, "load_s", "load_s", required, &load); !s.ok()) return s;
  if (load != nullptr) {
    if (s = CheckKeys(*load, "load_s.", {"cold", "warm"}); !s.ok()) return s;
    if (s = ReadNumber(*load, "cold", "load_s.cold", required, &p->load_cold_s); !s.ok()) {
      return s;
    }
    if (s = ReadNumber(*load, "warm", "load_s.warm", required, &p->load_warm_s); !s.ok()) {
      return s;
    }
  }
  if (s = ReadNumber(j, "first_token_s", "first_token_s", required, &p->first_token_s);
      !s.ok()) {
    return s;
  }
  if (s = ReadObject(j, "memory_bytes", "memory_bytes", required, &memory); !s.ok()) return s;
  if (memory != nullptr) {
    if (s = CheckKeys(*memory, "memory_bytes.", {"weights", "kv_cache"}); !s.ok()) return s;
    if (s = ReadInteger(*memory, "weights", "memory_bytes.weights", required, &p->weights_bytes);
        !s.ok()) {
      return s;
    }
    if (s = ReadInteger(*memory, "kv_cache", "memory_bytes.kv_cache", required,
                        &p->kv_cache_bytes);
        !s.ok()) {
      return s;
    }
  }
  if (s = ReadInteger(j, "kv_bytes_per_token", "kv_bytes_per_token", required,
                      &p->kv_bytes_per_token);
      !s.ok()) {
    return s;
  }
  if (s = ReadInteger(j, "max_sequences", "max_sequences", required, &p->max_sequences);
      !s.ok()) {
    return s;
  }
  if (s = ReadInteger(j, "max_batch_tokens", "max_batch_tokens", required,
                      &p->max_batch_tokens);
      !s.ok()) {
    return s;
  }
  if (s = ReadInteger(j, "context_length", "context_length", required, &p->context_length);
      !s.ok()) {
    return s;
  }
  if (s = ReadPoints(j, "prefill", "tokens", &PrefillPoint::tokens, required, &p->prefill);
      !s.ok()) {
    return s;
  }
  if (s = ReadPoints(j, "decode", "batch", &DecodePoint::batch, required, &p->decode);
      !s.ok()) {
    return s;
  }
  return ReadObject(j, "measurement", "measurement", /*required=*/false, &measurement);
}

absl::Status CheckPositive(const std::string& field, double v) {
  if (!std::isfinite(v)) return FieldError(field, absl::StrCat(v, " is not finite"));
  if (v <= 0) return FieldError(field, absl::StrCat(v, " must be > 0"));
  return absl::OkStatus();
}

template <typename Point>
absl::Status CheckPoints(const char* list, const char* size_key, int Point::*size,
                         const std::vector<Point>& points) {
  if (points.empty()) return FieldError(list, "needs at least one point");
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string path = absl::StrCat(list, "[", i, "]");
    const int n = points[i].*size;
    if (n <= 0) return FieldError(path + "." + size_key, absl::StrCat(n, " must be > 0"));
    if (i > 0 && n <= points[i - 1].*size) {
      return FieldError(path + "." + size_key,
                        absl::StrCat(n, " is not greater than the previous ", size_key, " ",
                                     points[i - 1].*size));
    }
    if (absl::Status s = CheckPositive(path + ".tokens_per_s", points[i].tokens_per_s);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Piecewise-linear in x between points, flat beyond the last, and below the first either
// flat or proportional to x (see the header).
template <typename Point>
double Interpolate(const std::vector<Point>& points, int Point::*size, double x,
                   bool proportional_below) {
  if (!(x > 0) || points.empty()) return 0;
  const Point& first = points.front();
  if (x <= first.*size) {
    return proportional_below ? first.tokens_per_s * x / first.*size : first.tokens_per_s;
  }
  for (size_t i = 1; i < points.size(); ++i) {
    const Point& hi = points[i];
    if (x == hi.*size) return hi.tokens_per_s;  // exact at the points, not lo + 1 * (hi - lo)
    if (x < hi.*size) {
      const Point& lo = points[i - 1];
      const double t = (x - lo.*size) / (hi.*size - lo.*size);
      return lo.tokens_per_s + t * (hi.tokens_per_s - lo.tokens_per_s);
    }
  }
  return points.back().tokens_per_s;
}

}  // namespace

absl::StatusOr<ReplicaProfile> ReplicaProfile::Parse(std::string_view json_text) {
  absl::StatusOr<Json> j = ParseJsonText(json_text);
  if (!j.ok()) return j.status();
  ReplicaProfile p;
  if (absl::Status s = ApplyFields(*j, /*required=*/true, &p); !s.ok()) return s;
  if (absl::Status s = p.Validate(); !s.ok()) return s;
  return p;
}

absl::StatusOr<ReplicaProfile> ReplicaProfile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string why = absl::StrCat(path, ": cannot open: ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(why) : absl::PermissionDeniedError(why);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  absl::StatusOr<ReplicaProfile> p = Parse(text.str());
  if (!p.ok()) {
    return absl::Status(p.status().code(), absl::StrCat(path, ": ", p.status().message()));
  }
  return p;
}

absl::StatusOr<ReplicaProfile> ReplicaProfile::WithOverrides(std::string_view json_text) const {
  absl::StatusOr<Json> j = ParseJsonText(json_text);
  if (!j.ok()) return j.status();
  ReplicaProfile p = *this;
  if (absl::Status s = ApplyFields(*j, /*required=*/false, &p); !s.ok()) return s;
  if (absl::Status s = p.Validate(); !s.ok()) return s;
  return p;
}

absl::StatusOr<ReplicaProfile> ReplicaProfile::Scaled(double speedup) const {
  if (absl::Status s = CheckPositive("speedup", speedup); !s.ok()) return s;
  ReplicaProfile p = *this;
  p.load_cold_s /= speedup;
  p.load_warm_s /= speedup;
  p.first_token_s /= speedup;
  for (PrefillPoint& point : p.prefill) point.tokens_per_s *= speedup;
  for (DecodePoint& point : p.decode) point.tokens_per_s *= speedup;
  // Extreme factors can overflow or underflow a figure; say so rather than return one.
  if (absl::Status s = p.Validate(); !s.ok()) return s;
  return p;
}

absl::Status ReplicaProfile::Validate() const {
  if (name.empty()) return FieldError("name", "must not be empty");
  if (hardware.empty()) return FieldError("hardware", "must not be empty");
  absl::Status s;
  if (s = CheckPositive("load_s.cold", load_cold_s); !s.ok()) return s;
  if (s = CheckPositive("load_s.warm", load_warm_s); !s.ok()) return s;
  if (s = CheckPositive("first_token_s", first_token_s); !s.ok()) return s;
  const struct {
    const char* field;
    int64_t value;
  } counts[] = {{"memory_bytes.weights", weights_bytes},
                {"memory_bytes.kv_cache", kv_cache_bytes},
                {"kv_bytes_per_token", kv_bytes_per_token},
                {"max_sequences", max_sequences},
                {"max_batch_tokens", max_batch_tokens},
                {"context_length", context_length}};
  for (const auto& c : counts) {
    if (c.value <= 0) return FieldError(c.field, absl::StrCat(c.value, " must be > 0"));
  }
  if (weights_bytes > std::numeric_limits<int64_t>::max() - kv_cache_bytes) {
    return FieldError("memory_bytes", "weights + kv_cache overflows 64 bits");
  }
  if (s = CheckPoints("prefill", "tokens", &PrefillPoint::tokens, prefill); !s.ok()) return s;
  return CheckPoints("decode", "batch", &DecodePoint::batch, decode);
}

double ReplicaProfile::DecodeTokensPerS(double batch) const {
  return Interpolate(decode, &DecodePoint::batch, batch, /*proportional_below=*/true);
}

double ReplicaProfile::PrefillTokensPerS(double tokens) const {
  return Interpolate(prefill, &PrefillPoint::tokens, tokens, /*proportional_below=*/false);
}

double ReplicaProfile::DecodeStepSeconds(double batch) const {
  if (!(batch > 0)) return 0;
  // Below the first point the rate is proportional to the batch, so the step time is
  // the first point's, as it should be: a step's cost does not shrink with fewer rows.
  return batch / DecodeTokensPerS(batch);
}

double ReplicaProfile::PrefillSeconds(double tokens) const {
  if (!(tokens > 0)) return 0;
  return tokens / PrefillTokensPerS(tokens);
}

}  // namespace hearth
