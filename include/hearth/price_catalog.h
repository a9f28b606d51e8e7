// hearth::PriceCatalog — dated public prices of the places a model can run.
//
// A catalog is a list of Offerings, each one way to pay for one instance shape:
//   serverless  billed per second of what runs (per vCPU-, GiB- and accelerator-second),
//               rounded up to a billing granularity with a minimum, plus a fee per request
//               (AWS Lambda, Google Cloud Run, Modal);
//   on_demand   an hourly price, no commitment (an EC2 or CoreWeave instance);
//   reserved    the hourly effective price after the commitment discount, for a term;
//   spot        an hourly price that may be interrupted, with the published interruption
//               rate (or null where the provider publishes none).
// Every offering carries its resources, currency, the date the price applies and the
// source URL, so a cost figure can always be traced to a public price list.
//
// The JSON format (data/prices/catalog-2026.json is the example; data/prices/README.md
// documents every field):
//   {"offerings": [
//     {"name": "aws-lambda-x86-10gb", "kind": "serverless", "provider": "AWS",
//      "region": "us-east-1",
//      "resources": {"vcpus": 6, "memory_gib": 10, "accelerator": "", "accelerator_count": 0},
//      "price": {"per_gib_second": 0.0000166667, "per_request": 0.0000002,
//                "billing_granularity_s": 0.001, "minimum_billed_s": 0.001},
//      "currency": "USD", "price_date": "2026-11-29",
//      "source": "https://aws.amazon.com/lambda/pricing/"}]}
//
// Usage:
//   absl::StatusOr<hearth::PriceCatalog> catalog =
//       hearth::PriceCatalog::Load("data/prices/catalog-2026.json");
//   if (!catalog.ok()) return catalog.status();  // InvalidArgument naming offering + field
//   absl::StatusOr<const hearth::Offering*> h100 = catalog->Find("modal-h100");
//   double dollars = (*h100)->RunCost(absl::Seconds(2.5));
//
// Thread-safety: a PriceCatalog is an immutable value once built; const methods may run
// from any thread.
#ifndef HEARTH_PRICE_CATALOG_H_
#define HEARTH_PRICE_CATALOG_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace hearth {

enum class OfferingKind { kServerless, kOnDemand, kReserved, kSpot };

// "serverless", "on_demand", "reserved", "spot" (the JSON spelling).
std::string_view OfferingKindName(OfferingKind kind);

struct InstanceResources {
  double vcpus = 0;             // >= 0; physical cores where the provider bills cores
  double memory_gib = 0;        // >= 0
  std::string accelerator;      // e.g. "NVIDIA H100 80GB"; empty for CPU-only shapes
  int accelerator_count = 0;    // >= 0
};

struct Offering {
  std::string name;             // unique in its catalog
  OfferingKind kind = OfferingKind::kOnDemand;
  std::string provider;         // "AWS", "Google Cloud", "Modal", ...
  std::string region;           // may be empty where the price is global
  InstanceResources resources;

  // kServerless: the price of one second of the shape is
  //   vcpus * per_vcpu_second + memory_gib * per_gib_second
  //   + accelerator_count * per_accelerator_second.
  double per_vcpu_second = 0;
  double per_gib_second = 0;
  double per_accelerator_second = 0;
  double per_request = 0;       // fee per request (serverless only)
  absl::Duration billing_granularity = absl::ZeroDuration();  // 0 = exact
  absl::Duration minimum_billed = absl::ZeroDuration();

  // kOnDemand, kReserved, kSpot: the price of one hour of the whole shape. For kReserved
  // it is the effective hourly price after the discount, paid for every hour of the term
  // whether used or not.
  double hourly = 0;
  absl::Duration term = absl::ZeroDuration();  // kReserved: the commitment, > 0
  // kSpot: the expected interruptions per instance-hour; nullopt where unpublished.
  std::optional<double> interruption_rate_per_hour;
  std::string interruption_bucket;  // kSpot: as published, e.g. "<5%" (per month); may be empty

  std::string currency;         // ISO 4217, e.g. "USD"
  std::string price_date;       // YYYY-MM-DD: the day the cited source showed this price
  std::string source;           // URL of the public price list
  std::string note;             // what the price leaves out, how it was derived

  // Price of one second of the whole shape: the serverless sum above, or hourly / 3600.
  double PricePerSecond() const;
  // The seconds one run of `run` is billed for: serverless rounds up to the granularity
  // and to the minimum; the hourly kinds bill exactly (per-second billing). Negative
  // durations bill 0.
  double BilledSeconds(absl::Duration run) const;
  // PricePerSecond() * BilledSeconds(run); excludes per-request fees.
  double RunCost(absl::Duration run) const;
  // The rules every catalog applies (finite non-negative prices, a price that applies,
  // a reserved term, a currency, a YYYY-MM-DD date, a URL): InvalidArgument naming the
  // offering and the field.
  absl::Status Validate() const;
};

class PriceCatalog {
 public:
  // Parses the JSON text. InvalidArgument on malformed JSON (with the parser's byte
  // position), a missing or ill-typed field, a negative or non-finite price, an unknown
  // kind or key, a bad date, or a duplicate name; the message names the offering's index
  // and name and the field.
  static absl::StatusOr<PriceCatalog> Parse(std::string_view json_text);
  // Reads and parses a file. NotFound / PermissionDenied if it cannot be opened; then as
  // Parse, with the path in the message.
  static absl::StatusOr<PriceCatalog> Load(const std::string& path);
  // Validates hand-built offerings (tests, the simulator's hardware overrides) by the
  // same rules as Parse.
  static absl::StatusOr<PriceCatalog> FromOfferings(std::vector<Offering> offerings);

  // The offering with this name (a pointer into the catalog, valid while it lives), or
  // NotFound listing the known names.
  absl::StatusOr<const Offering*> Find(std::string_view name) const;
  absl::Span<const Offering> offerings() const { return offerings_; }

 private:
  explicit PriceCatalog(std::vector<Offering> offerings) : offerings_(std::move(offerings)) {}
  std::vector<Offering> offerings_;
};

}  // namespace hearth

#endif  // HEARTH_PRICE_CATALOG_H_
