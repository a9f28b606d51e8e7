// The C ABI's CostOptimizer part: the catalog's offerings and prices, the ledger's
// figures, the router and the response cache, in plain C structs.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "c_api_internal.h"
#include "hearth/c_api.h"
#include "hearth/cost_optimizer.h"

namespace hearth_capi {
namespace {

absl::StatusOr<hearth::RouterConfig> ToRouter(const hearth_cost_params& p) {
  if (p.n_tiers > 0 && p.tiers == nullptr) {
    return absl::InvalidArgumentError("n_tiers > 0 but tiers is NULL");
  }
  hearth::RouterConfig router;
  router.escalate_below_logprob = p.escalate_below_logprob;
  for (size_t i = 0; i < p.n_tiers; ++i) {
    const std::string at = absl::StrCat("tiers[", i, "]");
    const hearth_model_tier* t = p.tiers[i];
    if (t == nullptr) return absl::InvalidArgumentError(absl::StrCat(at, " is NULL"));
    if (absl::Status s = CheckSize(t->struct_size, sizeof(hearth_model_tier), "hearth_model_tier");
        !s.ok()) {
      return Within(at, s);
    }
    if (absl::Status s = CheckText(t->name, at + ".name"); !s.ok()) return s;
    if (absl::Status s = CheckText(t->model, at + ".model"); !s.ok()) return s;
    router.tiers.push_back({t->name, t->model, t->price_per_1k_tokens, t->max_difficulty});
  }
  return router;
}

void CopyOffering(const hearth_cost& cost, size_t index, hearth_offering* out) {
  const hearth::Offering& o = cost.optimizer->catalog().offerings()[index];
  out->name = o.name.c_str();
  out->kind = cost.kinds[index].c_str();
  out->provider = o.provider.c_str();
  out->region = o.region.c_str();
  out->currency = o.currency.c_str();
  out->price_date = o.price_date.c_str();
  out->source = o.source.c_str();
  out->vcpus = o.resources.vcpus;
  out->memory_gib = o.resources.memory_gib;
  out->accelerator = o.resources.accelerator.c_str();
  out->accelerator_count = o.resources.accelerator_count;
  out->price_per_second = o.PricePerSecond();
  out->per_request = o.per_request;
  out->billing_granularity_s = absl::ToDoubleSeconds(o.billing_granularity);
  out->minimum_billed_s = absl::ToDoubleSeconds(o.minimum_billed);
  out->hourly = o.hourly;
  out->term_s = absl::ToDoubleSeconds(o.term);
  out->interruption_rate_per_hour = o.interruption_rate_per_hour.value_or(std::nan(""));
}

// The index of `name` in the catalog, or NotFound listing the known names.
absl::StatusOr<size_t> FindOffering(const hearth_cost& cost, const char* name) {
  absl::StatusOr<const hearth::Offering*> o = cost.optimizer->catalog().Find(name);
  if (!o.ok()) return o.status();
  return static_cast<size_t>(*o - cost.optimizer->catalog().offerings().data());
}

void CopyRoute(const hearth::Router& router, const hearth::RouteDecision& d, hearth_route* out) {
  const hearth::ModelTier& tier = router.tiers()[d.tier];
  out->tier = d.tier;
  out->tier_name = tier.name.c_str();
  out->model = tier.model.c_str();
  out->difficulty = d.difficulty;
  out->escalated = d.escalated ? 1 : 0;
}

// The router, or FailedPrecondition when the optimizer was made without tiers.
absl::StatusOr<hearth::Router*> RouterOf(const hearth_cost& cost) {
  hearth::Router* router = cost.optimizer->router();
  if (router == nullptr) {
    return absl::FailedPreconditionError("no router: the optimizer was created without tiers");
  }
  return router;
}

}  // namespace
}  // namespace hearth_capi

using hearth_capi::CheckHandle;
using hearth_capi::CheckNotNull;
using hearth_capi::CheckSize;
using hearth_capi::CheckText;
using hearth_capi::Fail;
using hearth_capi::Guard;

extern "C" {

void hearth_model_tier_init(hearth_model_tier* tier) {
  if (tier == nullptr) return;
  std::memset(tier, 0, sizeof(*tier));
  tier->struct_size = sizeof(hearth_model_tier);
  tier->max_difficulty = hearth::ModelTier{}.max_difficulty;
}

void hearth_cost_params_init(hearth_cost_params* params) {
  if (params == nullptr) return;
  std::memset(params, 0, sizeof(*params));
  const hearth::CostOptimizerConfig defaults;
  params->struct_size = sizeof(hearth_cost_params);
  params->output_token_weight = defaults.ledger.output_token_weight;
  params->escalate_below_logprob = defaults.router.escalate_below_logprob;
  params->cache_capacity_bytes = defaults.cache.capacity_bytes;
  params->cache_ttl_s = absl::ToDoubleSeconds(defaults.cache.ttl);
}

int hearth_cost_create(const hearth_cost_params* params, hearth_cost** out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    *out = nullptr;
    HEARTH_CAPI_CHECK(CheckNotNull(params, "params"));
    HEARTH_CAPI_CHECK(
        CheckSize(params->struct_size, sizeof(hearth_cost_params), "hearth_cost_params"));
    HEARTH_CAPI_CHECK(CheckText(params->catalog_path, "catalog_path"));
    absl::StatusOr<std::shared_ptr<hearth::Clock>> clock = hearth_capi::ClockOf(params->clock);
    if (!clock.ok()) return Fail(clock.status());
    hearth::CostOptimizerConfig config;
    config.ledger.output_token_weight = params->output_token_weight;
    absl::StatusOr<hearth::RouterConfig> router = hearth_capi::ToRouter(*params);
    if (!router.ok()) return Fail(router.status());
    config.router = *std::move(router);
    config.cache.capacity_bytes = params->cache_capacity_bytes;
    absl::StatusOr<absl::Duration> ttl =
        hearth_capi::ToDuration(params->cache_ttl_s, "cache_ttl_s", /*infinite_ok=*/true);
    if (!ttl.ok()) return Fail(ttl.status());
    config.cache.ttl = *ttl;
    absl::StatusOr<hearth::PriceCatalog> catalog = hearth::PriceCatalog::Load(params->catalog_path);
    if (!catalog.ok()) return Fail(catalog.status());
    auto handle = std::make_unique<hearth_cost>();
    handle->clock = *std::move(clock);
    absl::StatusOr<std::unique_ptr<hearth::CostOptimizer>> optimizer =
        hearth::CostOptimizer::Create(*std::move(catalog), std::move(config), handle->clock.get());
    if (!optimizer.ok()) return Fail(optimizer.status());
    handle->optimizer = *std::move(optimizer);
    for (const hearth::Offering& o : handle->optimizer->catalog().offerings()) {
      handle->kinds.emplace_back(hearth::OfferingKindName(o.kind));
    }
    *out = hearth_capi::Publish(std::move(handle));
    return static_cast<int>(HEARTH_OK);
  });
}

void hearth_cost_destroy(hearth_cost* cost) { hearth_capi::Destroy(cost); }

int hearth_cost_offering_count(const hearth_cost* cost, size_t* count) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckNotNull(count, "count"));
    *count = cost->optimizer->catalog().offerings().size();
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_offering_at(const hearth_cost* cost, size_t index, hearth_offering* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(CheckSize(out->struct_size, sizeof(hearth_offering), "hearth_offering"));
    const size_t count = cost->optimizer->catalog().offerings().size();
    if (index >= count) {
      return Fail(HEARTH_OUT_OF_RANGE,
                  absl::StrCat("offering index ", index, " is past the catalog's ", count));
    }
    hearth_capi::CopyOffering(*cost, index, out);
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_find_offering(const hearth_cost* cost, const char* name, hearth_offering* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(name, "name"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(CheckSize(out->struct_size, sizeof(hearth_offering), "hearth_offering"));
    absl::StatusOr<size_t> index = hearth_capi::FindOffering(*cost, name);
    if (!index.ok()) return Fail(index.status());
    hearth_capi::CopyOffering(*cost, *index, out);
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_price(const hearth_cost* cost, const char* offering, double run_s,
                      hearth_price* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(offering, "offering"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(CheckSize(out->struct_size, sizeof(hearth_price), "hearth_price"));
    absl::StatusOr<absl::Duration> run = hearth_capi::ToDuration(run_s, "run_s");
    if (!run.ok()) return Fail(run.status());
    absl::StatusOr<const hearth::Offering*> o = cost->optimizer->catalog().Find(offering);
    if (!o.ok()) return Fail(o.status());
    out->billed_s = (*o)->BilledSeconds(*run);
    out->run_cost = (*o)->RunCost(*run);
    out->request_fee = (*o)->per_request;
    out->total = out->run_cost + out->request_fee;
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_record_instance_time(hearth_cost* cost, const char* model, const char* offering,
                                     double run_s) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    HEARTH_CAPI_CHECK(CheckText(offering, "offering"));
    absl::StatusOr<absl::Duration> run = hearth_capi::ToDuration(run_s, "run_s");
    if (!run.ok()) return Fail(run.status());
    HEARTH_CAPI_CHECK(cost->optimizer->ledger().RecordInstanceTime(model, offering, *run));
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_record_request(hearth_cost* cost, const char* tenant, const char* model,
                               int64_t prompt_tokens, int64_t output_tokens,
                               const char* offering) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(tenant, "tenant"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    if (offering != nullptr) HEARTH_CAPI_CHECK(CheckText(offering, "offering"));
    HEARTH_CAPI_CHECK(cost->optimizer->ledger().RecordRequest(
        {tenant, model, prompt_tokens, output_tokens, offering == nullptr ? "" : offering}));
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_set_budget(hearth_cost* cost, const char* tenant, double amount,
                           double period_s) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(tenant, "tenant"));
    absl::StatusOr<absl::Duration> period = hearth_capi::ToDuration(period_s, "period_s");
    if (!period.ok()) return Fail(period.status());
    hearth::TenantBudget budget;
    budget.amount = amount;
    budget.period = *period;
    HEARTH_CAPI_CHECK(cost->optimizer->ledger().SetBudget(tenant, std::move(budget)));
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_period_spend(hearth_cost* cost, const char* tenant, double* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(tenant, "tenant"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    absl::StatusOr<double> spend = cost->optimizer->ledger().PeriodSpend(tenant);
    if (!spend.ok()) return Fail(spend.status());
    *out = *spend;
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_alert_count(const hearth_cost* cost, size_t* count) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckNotNull(count, "count"));
    *count = cost->optimizer->ledger().alerts().size();
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_get_totals(const hearth_cost* cost, hearth_cost_totals* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(
        CheckSize(out->struct_size, sizeof(hearth_cost_totals), "hearth_cost_totals"));
    const hearth::CostReport report = cost->optimizer->ledger().Report();
    out->instance_cost = report.instance_cost;
    out->request_fees = report.request_fees;
    out->unattributed = report.unattributed;
    out->total = report.total;
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_get_tenant(const hearth_cost* cost, const char* tenant, hearth_tenant_cost* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(tenant, "tenant"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(
        CheckSize(out->struct_size, sizeof(hearth_tenant_cost), "hearth_tenant_cost"));
    const hearth::CostReport report = cost->optimizer->ledger().Report();
    for (const hearth::TenantCost& t : report.tenants) {
      if (t.tenant != tenant) continue;
      out->instance_share = t.instance_share;
      out->request_fees = t.request_fees;
      out->total = t.total;
      out->requests = t.requests;
      out->prompt_tokens = t.prompt_tokens;
      out->output_tokens = t.output_tokens;
      return static_cast<int>(HEARTH_OK);
    }
    return Fail(HEARTH_NOT_FOUND, absl::StrCat("no request recorded for tenant '", tenant, "'"));
  });
}

int hearth_cost_get_model(const hearth_cost* cost, const char* model, hearth_model_cost* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(CheckSize(out->struct_size, sizeof(hearth_model_cost), "hearth_model_cost"));
    const hearth::CostReport report = cost->optimizer->ledger().Report();
    for (const hearth::ModelCost& m : report.models) {
      if (m.model != model) continue;
      out->instance_seconds = 0;
      for (const hearth::OfferingUsage& u : m.offerings) out->instance_seconds += u.instance_seconds;
      out->instance_cost = m.instance_cost;
      out->request_fees = m.request_fees;
      out->requests = m.requests;
      out->prompt_tokens = m.prompt_tokens;
      out->output_tokens = m.output_tokens;
      return static_cast<int>(HEARTH_OK);
    }
    return Fail(HEARTH_NOT_FOUND, absl::StrCat("nothing recorded for model '", model, "'"));
  });
}

int hearth_cost_cache_put(hearth_cost* cost, const char* model, const hearth_request* request,
                          int seed_explicit, const char* response) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    HEARTH_CAPI_CHECK(CheckText(response, "response"));
    absl::StatusOr<hearth::GenerateRequest> r = hearth_capi::ToRequest(request);
    if (!r.ok()) return Fail(r.status());
    HEARTH_CAPI_CHECK(cost->optimizer->cache().Insert(model, *r, seed_explicit != 0, response));
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_cache_get(hearth_cost* cost, const char* model, const hearth_request* request,
                          int seed_explicit, char** out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    *out = nullptr;
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    absl::StatusOr<hearth::GenerateRequest> r = hearth_capi::ToRequest(request);
    if (!r.ok()) return Fail(r.status());
    std::optional<std::string> hit = cost->optimizer->cache().Lookup(model, *r, seed_explicit != 0);
    if (!hit.has_value()) return static_cast<int>(HEARTH_OK);
    // malloc'd so that hearth_string_free (free) pairs with it whatever allocated it.
    auto* copy = static_cast<char*>(std::malloc(hit->size() + 1));
    if (copy == nullptr) return Fail(HEARTH_RESOURCE_EXHAUSTED, "out of memory");
    std::memcpy(copy, hit->c_str(), hit->size() + 1);
    *out = copy;
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_cache_stats(const hearth_cost* cost, hearth_cache_stats* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(
        CheckSize(out->struct_size, sizeof(hearth_cache_stats), "hearth_cache_stats"));
    const hearth::ResponseCacheStats s = cost->optimizer->cache().stats();
    out->hits = s.hits;
    out->misses = s.misses;
    out->uncacheable = s.uncacheable;
    out->insertions = s.insertions;
    out->evictions = s.evictions;
    out->expirations = s.expirations;
    out->refused = s.refused;
    out->entries = s.entries;
    out->bytes = s.bytes;
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_route(hearth_cost* cost, const char* prompt, int64_t prompt_tokens,
                      int64_t max_tokens, hearth_route* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckText(prompt, "prompt"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(CheckSize(out->struct_size, sizeof(hearth_route), "hearth_route"));
    if (prompt_tokens < 0 || max_tokens < 0) {
      return Fail(HEARTH_INVALID_ARGUMENT, absl::StrCat("prompt_tokens ", prompt_tokens,
                                                        " and max_tokens ", max_tokens,
                                                        " must be >= 0"));
    }
    absl::StatusOr<hearth::Router*> router = hearth_capi::RouterOf(*cost);
    if (!router.ok()) return Fail(router.status());
    hearth_capi::CopyRoute(**router, (*router)->Route({prompt, prompt_tokens, max_tokens}), out);
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_cost_escalate(hearth_cost* cost, int32_t from, double mean_logprob,
                         hearth_route* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(cost, "cost"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(CheckSize(out->struct_size, sizeof(hearth_route), "hearth_route"));
    absl::StatusOr<hearth::Router*> router = hearth_capi::RouterOf(*cost);
    if (!router.ok()) return Fail(router.status());
    absl::StatusOr<hearth::RouteDecision> d = (*router)->Escalate(from, mean_logprob);
    if (!d.ok()) return Fail(d.status());
    hearth_capi::CopyRoute(**router, *d, out);
    return static_cast<int>(HEARTH_OK);
  });
}

}  // extern "C"
