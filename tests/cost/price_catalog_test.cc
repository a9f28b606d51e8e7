#include "hearth/price_catalog.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

constexpr char kExample[] = HEARTH_SOURCE_DIR "/data/prices/catalog-2026.json";

// One valid offering of each kind; tests break one field at a time.
std::string Catalog(const std::string& offerings) {
  return absl::StrCat(R"({"offerings": [)", offerings, "]}");
}

constexpr char kServerless[] = R"({"name": "fn", "kind": "serverless", "provider": "P",
  "resources": {"vcpus": 2, "memory_gib": 4, "accelerator": "", "accelerator_count": 0},
  "price": {"per_vcpu_second": 0.00002, "per_gib_second": 0.000002, "per_request": 0.0000004,
            "billing_granularity_s": 0.1, "minimum_billed_s": 0.1},
  "currency": "USD", "price_date": "2026-01-02", "source": "https://example.com/p"})";
constexpr char kReserved[] = R"({"name": "vm-1y", "kind": "reserved", "provider": "P",
  "resources": {"vcpus": 4, "memory_gib": 16, "accelerator": "GPU", "accelerator_count": 1},
  "price": {"hourly": 0.6, "term_years": 1},
  "currency": "USD", "price_date": "2026-01-02", "source": "https://example.com/p"})";
constexpr char kSpot[] = R"({"name": "vm-spot", "kind": "spot", "provider": "P",
  "resources": {"vcpus": 4, "memory_gib": 16},
  "price": {"hourly": 0.3, "interruption_rate_per_hour": 0.01, "interruption_bucket": "<5%"},
  "currency": "USD", "price_date": "2026-01-02", "source": "https://example.com/p"})";

absl::Status ParseOne(const std::string& offering) {
  return PriceCatalog::Parse(Catalog(offering)).status();
}

TEST(PriceCatalogTest, ExampleCatalogLoads) {
  absl::StatusOr<PriceCatalog> catalog = PriceCatalog::Load(kExample);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_GE(catalog->offerings().size(), 8u);
  for (const Offering& o : catalog->offerings()) {
    EXPECT_GT(o.PricePerSecond(), 0) << o.name;
    EXPECT_THAT(o.source, ::testing::StartsWith("https://")) << o.name;
  }
  absl::StatusOr<const Offering*> lambda = catalog->Find("aws-lambda-x86-10gb");
  ASSERT_TRUE(lambda.ok());
  EXPECT_EQ((*lambda)->kind, OfferingKind::kServerless);
  EXPECT_DOUBLE_EQ((*lambda)->per_request, 0.0000002);
  // 10 GiB x $0.0000166667 per GiB-second.
  EXPECT_NEAR((*lambda)->PricePerSecond(), 0.000166667, 1e-12);
  absl::StatusOr<const Offering*> p5 = catalog->Find("aws-ec2-p5.48xlarge");
  ASSERT_TRUE(p5.ok());
  EXPECT_NEAR((*p5)->PricePerSecond(), 55.04 / 3600, 1e-12);
  absl::StatusOr<const Offering*> spot = catalog->Find("coreweave-hgx-h100-spot");
  ASSERT_TRUE(spot.ok());
  EXPECT_FALSE((*spot)->interruption_rate_per_hour.has_value());
}

TEST(PriceCatalogTest, ParsesEveryKind) {
  absl::StatusOr<PriceCatalog> catalog =
      PriceCatalog::Parse(Catalog(absl::StrCat(kServerless, ",", kReserved, ",", kSpot)));
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  const Offering& fn = *catalog->Find("fn").value();
  EXPECT_NEAR(fn.PricePerSecond(), 2 * 0.00002 + 4 * 0.000002, 1e-15);
  EXPECT_EQ(fn.billing_granularity, absl::Milliseconds(100));
  const Offering& reserved = *catalog->Find("vm-1y").value();
  EXPECT_EQ(reserved.term, absl::Hours(24 * 365));
  EXPECT_EQ(reserved.resources.accelerator_count, 1);
  const Offering& spot = *catalog->Find("vm-spot").value();
  EXPECT_DOUBLE_EQ(spot.interruption_rate_per_hour.value(), 0.01);
  EXPECT_EQ(spot.interruption_bucket, "<5%");
}

TEST(PriceCatalogTest, ServerlessRoundsUpToGranularityAndMinimum) {
  const PriceCatalog catalog = PriceCatalog::Parse(Catalog(kServerless)).value();
  const Offering& fn = *catalog.Find("fn").value();
  EXPECT_DOUBLE_EQ(fn.BilledSeconds(absl::Milliseconds(30)), 0.1);   // the minimum
  EXPECT_DOUBLE_EQ(fn.BilledSeconds(absl::Milliseconds(100)), 0.1);  // exact multiple
  EXPECT_DOUBLE_EQ(fn.BilledSeconds(absl::Milliseconds(101)), 0.2);
  EXPECT_DOUBLE_EQ(fn.BilledSeconds(absl::Seconds(-1)), 0);
  EXPECT_DOUBLE_EQ(fn.RunCost(absl::Milliseconds(250)), 0.3 * fn.PricePerSecond());
}

TEST(PriceCatalogTest, HourlyKindsBillExactly) {
  const PriceCatalog catalog = PriceCatalog::Parse(Catalog(kReserved)).value();
  const Offering& vm = *catalog.Find("vm-1y").value();
  EXPECT_DOUBLE_EQ(vm.BilledSeconds(absl::Milliseconds(1500)), 1.5);
  EXPECT_DOUBLE_EQ(vm.RunCost(absl::Hours(2)), 1.2);
}

TEST(PriceCatalogTest, MalformedJsonNamesThePosition) {
  absl::Status s = PriceCatalog::Parse(R"({"offerings": [ {"name": "x",, }]})").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("malformed JSON at byte 30"));
}

TEST(PriceCatalogTest, MissingFileIsNotFound) {
  absl::Status s = PriceCatalog::Load("/nonexistent/catalog.json").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/catalog.json"));
}

struct BadCase {
  std::string label;
  std::string from;  // replaced in kServerless (or kSpot / kReserved by prefix)
  std::string to;
  std::string expected;  // in the message
};

class PriceCatalogBadFieldTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(PriceCatalogBadFieldTest, IsInvalidArgumentNamingOfferingAndField) {
  const BadCase& c = GetParam();
  std::string base = kServerless;
  if (c.label.rfind("Spot", 0) == 0) base = kSpot;
  if (c.label.rfind("Reserved", 0) == 0) base = kReserved;
  const std::string broken = absl::StrReplaceAll(base, {{c.from, c.to}});
  ASSERT_NE(broken, base) << "the case must change the offering";
  absl::Status s = ParseOne(broken);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr("offering #0")) << s;
  EXPECT_THAT(s.message(), HasSubstr(c.expected)) << s;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PriceCatalogBadFieldTest,
    ::testing::Values(
        BadCase{"MissingName", R"("name": "fn", )", "", "'name' is missing"},
        BadCase{"NameNotString", R"("name": "fn")", R"("name": 7)", "'name' must be a string"},
        BadCase{"UnknownKind", R"("kind": "serverless")", R"("kind": "lease")", "'kind' is 'lease'"},
        BadCase{"NegativePrice", R"("per_vcpu_second": 0.00002)", R"("per_vcpu_second": -1)",
                "'per_vcpu_second' must be finite and >= 0"},
        BadCase{"PriceNotNumber", R"("per_request": 0.0000004)", R"("per_request": "0.4")",
                "'per_request' must be a number"},
        BadCase{"MissingPerRequest", R"("per_request": 0.0000004,)", "", "'per_request' is missing"},
        BadCase{"MisspeltKey", R"("per_gib_second")", R"("per_gb_second")", "unknown field 'per_gb_second'"},
        BadCase{"UnknownTopField", R"("currency": "USD")", R"("currency": "USD", "discount": 3)",
                "unknown field 'discount'"},
        BadCase{"MissingResources",
                R"("resources": {"vcpus": 2, "memory_gib": 4, "accelerator": "", "accelerator_count": 0},)",
                "", "'resources' is missing"},
        BadCase{"NegativeMemory", R"("memory_gib": 4)", R"("memory_gib": -4)", "'memory_gib' must be finite"},
        BadCase{"FractionalAccelerators", R"("accelerator_count": 0)", R"("accelerator_count": 0.5)",
                "'accelerator_count' must be a non-negative integer"},
        BadCase{"BadDate", R"("2026-01-02")", R"("02/01/2026")", "'price_date' must be YYYY-MM-DD"},
        BadCase{"BadCurrency", R"("USD")", R"("dollars")", "'currency' must be an ISO 4217 code"},
        BadCase{"SourceNotUrl", R"("https://example.com/p")", R"("the web")", "'source' must be a URL"},
        BadCase{"PricesNothing", R"("per_vcpu_second": 0.00002, "per_gib_second": 0.000002)",
                R"("per_vcpu_second": 0, "per_gib_second": 0)", "prices nothing"},
        BadCase{"SpotMissingInterruption", R"("interruption_rate_per_hour": 0.01, )", "",
                "'interruption_rate_per_hour' is missing"},
        BadCase{"SpotZeroHourly", R"("hourly": 0.3)", R"("hourly": 0)", "'hourly' must be > 0"},
        BadCase{"ReservedMissingTerm", R"(, "term_years": 1)", "", "'term_years' is missing"},
        BadCase{"ReservedZeroTerm", R"("term_years": 1)", R"("term_years": 0)", "'term_years' must be > 0"}),
    [](const ::testing::TestParamInfo<BadCase>& param) { return param.param.label; });

TEST(PriceCatalogTest, HugeNumberIsRejectedAsMalformed) {
  // nlohmann rejects numbers beyond double's range at parse time.
  absl::Status s = ParseOne(absl::StrReplaceAll(kServerless, {{"0.0000004", "1e999"}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(PriceCatalogTest, DuplicateNameNamesTheSecond) {
  absl::Status s = PriceCatalog::Parse(Catalog(absl::StrCat(kServerless, ",", kServerless))).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("offering #1 'fn'"));
  EXPECT_THAT(s.message(), HasSubstr("duplicates"));
}

TEST(PriceCatalogTest, TopLevelShapeErrors) {
  EXPECT_EQ(PriceCatalog::Parse("[]").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PriceCatalog::Parse("{}").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PriceCatalog::Parse(R"({"offerings": {}})").status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status s = PriceCatalog::Parse(R"({"offerings": [3]})").status();
  EXPECT_THAT(s.message(), HasSubstr("offering #0: must be an object"));
}

TEST(PriceCatalogTest, FromOfferingsRejectsNaN) {
  Offering o;
  o.name = "nan";
  o.kind = OfferingKind::kOnDemand;
  o.hourly = std::numeric_limits<double>::quiet_NaN();
  o.currency = "USD";
  o.price_date = "2026-01-01";
  o.source = "https://example.com";
  absl::Status s = PriceCatalog::FromOfferings({o}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("'hourly'"));
}

TEST(PriceCatalogTest, FindUnknownIsNotFoundListingNames) {
  PriceCatalog catalog = PriceCatalog::Parse(Catalog(kServerless)).value();
  absl::Status s = catalog.Find("gpu").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("fn"));
}

}  // namespace
}  // namespace hearth
