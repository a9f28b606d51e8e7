#include "hearth/price_catalog.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "lib/runtime/json_text.h"

namespace hearth {
namespace {

using Json = nlohmann::json;

// Reads the fields of one JSON object, naming the offering in every error.
class FieldReader {
 public:
  FieldReader(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  absl::Status Error(absl::string_view field, absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ": field '", field, "' ", problem));
  }

  // Every key must be one the format knows: a misspelt price must not read as zero.
  absl::Status OnlyKeys(std::initializer_list<absl::string_view> known) const {
    for (const auto& [key, value] : object_.items()) {
      bool found = false;
      for (absl::string_view k : known) found = found || k == key;
      if (!found) {
        return absl::InvalidArgumentError(absl::StrCat(where_, ": unknown field '", key,
                                                       "' (known: ", absl::StrJoin(known, ", "),
                                                       ")"));
      }
    }
    return absl::OkStatus();
  }

  const Json* Find(absl::string_view field) const {
    auto it = object_.find(std::string(field));
    return it == object_.end() ? nullptr : &*it;
  }

  absl::StatusOr<std::string> String(absl::string_view field, bool required) const {
    const Json* value = Find(field);
    if (value == nullptr) {
      if (required) return Error(field, "is missing");
      return std::string();
    }
    if (!value->is_string()) return Error(field, absl::StrCat("must be a string, not ", value->type_name()));
    return value->get<std::string>();
  }

  // A finite number >= 0 (a missing optional field reads as 0).
  absl::StatusOr<double> NonNegative(absl::string_view field, bool required) const {
    const Json* value = Find(field);
    if (value == nullptr) {
      if (required) return Error(field, "is missing");
      return 0.0;
    }
    if (!value->is_number()) return Error(field, absl::StrCat("must be a number, not ", value->type_name()));
    const double x = value->get<double>();
    if (!std::isfinite(x) || x < 0) return Error(field, absl::StrCat("must be finite and >= 0, got ", x));
    return x;
  }

  absl::StatusOr<int> Count(absl::string_view field) const {
    const Json* value = Find(field);
    if (value == nullptr) return 0;
    if (!value->is_number_integer() || value->get<int64_t>() < 0 || value->get<int64_t>() > 1 << 20) {
      return Error(field, "must be a non-negative integer");
    }
    return static_cast<int>(value->get<int64_t>());
  }

  absl::StatusOr<const Json*> Object(absl::string_view field) const {
    const Json* value = Find(field);
    if (value == nullptr) return Error(field, "is missing");
    if (!value->is_object()) return Error(field, absl::StrCat("must be an object, not ", value->type_name()));
    return value;
  }

  const std::string& where() const { return where_; }

 private:
  const Json& object_;
  std::string where_;
};

absl::StatusOr<OfferingKind> KindFromName(std::string_view name) {
  for (OfferingKind kind : {OfferingKind::kServerless, OfferingKind::kOnDemand,
                            OfferingKind::kReserved, OfferingKind::kSpot}) {
    if (OfferingKindName(kind) == name) return kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("is '", std::string(name), "', not one of serverless, on_demand, reserved, spot"));
}

absl::Status ParsePrice(const FieldReader& reader, const Json& price_json, Offering& o) {
  FieldReader price(price_json, absl::StrCat(reader.where(), " price"));
  auto read = [&](absl::string_view field, bool required, double& out) -> absl::Status {
    absl::StatusOr<double> x = price.NonNegative(field, required);
    if (!x.ok()) return x.status();
    out = *x;
    return absl::OkStatus();
  };
  if (o.kind == OfferingKind::kServerless) {
    if (absl::Status s = price.OnlyKeys({"per_vcpu_second", "per_gib_second", "per_accelerator_second",
                                          "per_request", "billing_granularity_s", "minimum_billed_s"});
        !s.ok()) {
      return s;
    }
    double granularity_s = 0, minimum_s = 0;
    for (absl::Status s : {read("per_vcpu_second", false, o.per_vcpu_second),
                           read("per_gib_second", false, o.per_gib_second),
                           read("per_accelerator_second", false, o.per_accelerator_second),
                           read("per_request", true, o.per_request),
                           read("billing_granularity_s", true, granularity_s),
                           read("minimum_billed_s", false, minimum_s)}) {
      if (!s.ok()) return s;
    }
    o.billing_granularity = absl::Seconds(granularity_s);
    o.minimum_billed = absl::Seconds(minimum_s);
    return absl::OkStatus();
  }
  switch (o.kind) {
    case OfferingKind::kReserved: {
      if (absl::Status s = price.OnlyKeys({"hourly", "term_years"}); !s.ok()) return s;
      double term_years = 0;
      if (absl::Status s = read("term_years", true, term_years); !s.ok()) return s;
      o.term = absl::Hours(24 * 365 * term_years);
      break;
    }
    case OfferingKind::kSpot: {
      if (absl::Status s = price.OnlyKeys({"hourly", "interruption_rate_per_hour",
                                           "interruption_bucket"});
          !s.ok()) {
        return s;
      }
      const Json* rate = price.Find("interruption_rate_per_hour");
      if (rate == nullptr) {
        return price.Error("interruption_rate_per_hour", "is missing (use null where unpublished)");
      }
      if (!rate->is_null()) {
        absl::StatusOr<double> r = price.NonNegative("interruption_rate_per_hour", true);
        if (!r.ok()) return r.status();
        o.interruption_rate_per_hour = *r;
      }
      absl::StatusOr<std::string> bucket = price.String("interruption_bucket", false);
      if (!bucket.ok()) return bucket.status();
      o.interruption_bucket = *std::move(bucket);
      break;
    }
    default:
      if (absl::Status s = price.OnlyKeys({"hourly"}); !s.ok()) return s;
  }
  return read("hourly", true, o.hourly);
}

absl::StatusOr<Offering> ParseOffering(const Json& json, size_t index) {
  std::string where = absl::StrCat("offering #", index);
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object, not ", json.type_name()));
  }
  if (auto it = json.find("name"); it != json.end() && it->is_string()) {
    absl::StrAppend(&where, " '", it->get<std::string>(), "'");
  }
  FieldReader reader(json, where);
  if (absl::Status s = reader.OnlyKeys({"name", "kind", "provider", "region", "resources", "price",
                                        "currency", "price_date", "source", "note"});
      !s.ok()) {
    return s;
  }
  Offering o;
  auto read_string = [&](absl::string_view field, bool required, std::string& out) -> absl::Status {
    absl::StatusOr<std::string> v = reader.String(field, required);
    if (!v.ok()) return v.status();
    out = *std::move(v);
    return absl::OkStatus();
  };
  std::string kind;
  for (absl::Status s : {read_string("name", true, o.name), read_string("kind", true, kind),
                         read_string("provider", true, o.provider),
                         read_string("region", false, o.region),
                         read_string("currency", true, o.currency),
                         read_string("price_date", true, o.price_date),
                         read_string("source", true, o.source),
                         read_string("note", false, o.note)}) {
    if (!s.ok()) return s;
  }
  absl::StatusOr<OfferingKind> k = KindFromName(kind);
  if (!k.ok()) return reader.Error("kind", k.status().message());
  o.kind = *k;

  absl::StatusOr<const Json*> resources_json = reader.Object("resources");
  if (!resources_json.ok()) return resources_json.status();
  FieldReader resources(**resources_json, absl::StrCat(where, " resources"));
  if (absl::Status s = resources.OnlyKeys({"vcpus", "memory_gib", "accelerator", "accelerator_count"});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<double> vcpus = resources.NonNegative("vcpus", true);
  if (!vcpus.ok()) return vcpus.status();
  absl::StatusOr<double> memory = resources.NonNegative("memory_gib", true);
  if (!memory.ok()) return memory.status();
  absl::StatusOr<std::string> accelerator = resources.String("accelerator", false);
  if (!accelerator.ok()) return accelerator.status();
  absl::StatusOr<int> accelerator_count = resources.Count("accelerator_count");
  if (!accelerator_count.ok()) return accelerator_count.status();
  o.resources = {*vcpus, *memory, *std::move(accelerator), *accelerator_count};

  absl::StatusOr<const Json*> price = reader.Object("price");
  if (!price.ok()) return price.status();
  if (absl::Status s = ParsePrice(reader, **price, o); !s.ok()) return s;
  return o;
}

}  // namespace

absl::Status Offering::Validate() const {
  const Offering& o = *this;
  const std::string where = absl::StrCat("offering '", o.name, "'");
  auto bad = [&](absl::string_view field, absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": field '", field, "' ", problem));
  };
  if (o.name.empty()) return bad("name", "is empty");
  for (auto [field, value] :
       {std::pair<absl::string_view, double>{"per_vcpu_second", o.per_vcpu_second},
        {"per_gib_second", o.per_gib_second},
        {"per_accelerator_second", o.per_accelerator_second},
        {"per_request", o.per_request},
        {"hourly", o.hourly},
        {"resources.vcpus", o.resources.vcpus},
        {"resources.memory_gib", o.resources.memory_gib}}) {
    if (!std::isfinite(value) || value < 0) {
      return bad(field, absl::StrCat("must be finite and >= 0, got ", value));
    }
  }
  if (o.resources.accelerator_count < 0) return bad("resources.accelerator_count", "must be >= 0");
  if (o.billing_granularity < absl::ZeroDuration() || o.minimum_billed < absl::ZeroDuration()) {
    return bad("billing_granularity_s", "and minimum_billed_s must be >= 0");
  }
  if (o.interruption_rate_per_hour.has_value() &&
      (!std::isfinite(*o.interruption_rate_per_hour) || *o.interruption_rate_per_hour < 0)) {
    return bad("interruption_rate_per_hour", "must be finite and >= 0");
  }
  if (o.kind == OfferingKind::kServerless) {
    if (o.PricePerSecond() <= 0) {
      return bad("price", "prices nothing: no per-second price applies to the resources");
    }
  } else if (o.hourly <= 0) {
    return bad("hourly", "must be > 0");
  }
  if (o.kind == OfferingKind::kReserved && o.term <= absl::ZeroDuration()) {
    return bad("term_years", "must be > 0 for a reserved offering");
  }
  if (o.currency.size() != 3) return bad("currency", absl::StrCat("must be an ISO 4217 code, got '", o.currency, "'"));
  absl::Time date;
  std::string error;
  if (o.price_date.size() != 10 || !absl::ParseTime("%Y-%m-%d", o.price_date, &date, &error)) {
    return bad("price_date", absl::StrCat("must be YYYY-MM-DD, got '", o.price_date, "'"));
  }
  if (o.source.rfind("https://", 0) != 0 && o.source.rfind("http://", 0) != 0) {
    return bad("source", absl::StrCat("must be a URL, got '", o.source, "'"));
  }
  return absl::OkStatus();
}

std::string_view OfferingKindName(OfferingKind kind) {
  switch (kind) {
    case OfferingKind::kServerless:
      return "serverless";
    case OfferingKind::kOnDemand:
      return "on_demand";
    case OfferingKind::kReserved:
      return "reserved";
    case OfferingKind::kSpot:
      return "spot";
  }
  return "unknown";
}

double Offering::PricePerSecond() const {
  if (kind != OfferingKind::kServerless) return hourly / 3600.0;
  return resources.vcpus * per_vcpu_second + resources.memory_gib * per_gib_second +
         resources.accelerator_count * per_accelerator_second;
}

double Offering::BilledSeconds(absl::Duration run) const {
  if (run <= absl::ZeroDuration()) return 0;
  if (kind != OfferingKind::kServerless) return absl::ToDoubleSeconds(run);
  absl::Duration billed = std::max(run, minimum_billed);
  if (billing_granularity > absl::ZeroDuration()) {
    const int64_t units = absl::IDivDuration(billed, billing_granularity, &billed);
    billed = billing_granularity * (units + (billed > absl::ZeroDuration() ? 1 : 0));
  }
  return absl::ToDoubleSeconds(billed);
}

double Offering::RunCost(absl::Duration run) const { return PricePerSecond() * BilledSeconds(run); }

absl::StatusOr<PriceCatalog> PriceCatalog::FromOfferings(std::vector<Offering> offerings) {
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < offerings.size(); ++i) {
    if (absl::Status s = offerings[i].Validate(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("offering #", i, ": ", s.message()));
    }
    if (!names.insert(offerings[i].name).second) {
      return absl::InvalidArgumentError(absl::StrCat("offering #", i, " '", offerings[i].name,
                                                     "': field 'name' duplicates an earlier offering"));
    }
  }
  return PriceCatalog(std::move(offerings));
}

absl::StatusOr<PriceCatalog> PriceCatalog::Parse(std::string_view json_text) {
  absl::StatusOr<Json> parsed = ParseJsonText(json_text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("price catalog: ", parsed.status().message()));
  }
  const Json& root = *parsed;
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("price catalog: top level must be an object, not ", root.type_name()));
  }
  FieldReader top(root, "price catalog");
  if (absl::Status s = top.OnlyKeys({"offerings", "description"}); !s.ok()) return s;
  const Json* list = top.Find("offerings");
  if (list == nullptr) return top.Error("offerings", "is missing");
  if (!list->is_array()) return top.Error("offerings", absl::StrCat("must be an array, not ", list->type_name()));
  std::vector<Offering> offerings;
  offerings.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    absl::StatusOr<Offering> o = ParseOffering((*list)[i], i);
    if (!o.ok()) return o.status();
    offerings.push_back(*std::move(o));
  }
  return FromOfferings(std::move(offerings));
}

absl::StatusOr<PriceCatalog> PriceCatalog::Load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int err = errno;
    const std::string message = absl::StrCat("price catalog ", path, ": ", std::strerror(err));
    return err == EACCES ? absl::PermissionDeniedError(message) : absl::NotFoundError(message);
  }
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<PriceCatalog> catalog = Parse(text.str());
  if (!catalog.ok()) {
    return absl::Status(catalog.status().code(), absl::StrCat(path, ": ", catalog.status().message()));
  }
  return catalog;
}

absl::StatusOr<const Offering*> PriceCatalog::Find(std::string_view name) const {
  for (const Offering& o : offerings_) {
    if (o.name == name) return &o;
  }
  std::vector<std::string> names;
  for (const Offering& o : offerings_) names.push_back(o.name);
  return absl::NotFoundError(absl::StrCat("no offering named '", std::string(name), "' (known: ",
                                          absl::StrJoin(names, ", "), ")"));
}

}  // namespace hearth
