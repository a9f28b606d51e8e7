// hearth::CostOptimizer — prices, accounting, routing and caching in one place.
//
// A facade that owns a PriceCatalog, a CostLedger, a Router (when tiers are given) and a
// ResponseCache, built together under one Clock. Each part is usable alone as well (see
// price_catalog.h, cost_ledger.h, router.h, response_cache.h); capacity planning is a
// stateless calculation over a demand series (capacity_planner.h). The CostOptimizer is
// pure accounting and routing: it does no I/O of its own besides loading the catalog.
//
// The request path of DESIGN.md:
//   cache hit?        optimizer->cache().Lookup(model, request, seed_explicit)
//   which tier?       optimizer->router()->Route({prompt, prompt_tokens, max_tokens})
//   ... WarmPool lease, Engine.Submit ...
//   low confidence?   optimizer->router()->Escalate(decision.tier, mean_logprob)
//   record usage      optimizer->ledger().RecordRequest({tenant, model, prompt, output, offering})
//   store             optimizer->cache().Insert(model, request, seed_explicit, text)
// and the pool reports instance time with ledger().RecordInstanceTime(model, offering, d).
//
// Usage:
//   auto catalog = hearth::PriceCatalog::Load("data/prices/catalog-2026.json").value();
//   auto optimizer = hearth::CostOptimizer::Create(std::move(catalog), {}, &clock).value();
//   optimizer->ledger().SetBudget("acme", {.amount = 50, .period = absl::Hours(24)});
//
// Thread-safety: every part is thread-safe; the accessors may be called from any thread.
// The parts live as long as the CostOptimizer.
#ifndef HEARTH_COST_OPTIMIZER_H_
#define HEARTH_COST_OPTIMIZER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "hearth/capacity_planner.h"
#include "hearth/clock.h"
#include "hearth/cost_ledger.h"
#include "hearth/price_catalog.h"
#include "hearth/response_cache.h"
#include "hearth/router.h"

namespace hearth {

struct CostOptimizerConfig {
  CostLedgerConfig ledger;
  RouterConfig router;        // no tiers: no router
  ResponseCacheConfig cache;
};

class CostOptimizer {
 public:
  // The first part's error (InvalidArgument naming the field) if any config is bad.
  // `clock` is not owned and must outlive the optimizer.
  static absl::StatusOr<std::unique_ptr<CostOptimizer>> Create(PriceCatalog catalog,
                                                               CostOptimizerConfig config, Clock* clock);

  const PriceCatalog& catalog() const { return *catalog_; }
  CostLedger& ledger() { return *ledger_; }
  Router* router() { return router_.get(); }  // nullptr when no tiers were configured
  ResponseCache& cache() { return *cache_; }

 private:
  CostOptimizer() = default;

  std::unique_ptr<PriceCatalog> catalog_;  // heap: the ledger keeps a pointer to it
  std::unique_ptr<CostLedger> ledger_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<ResponseCache> cache_;
};

}  // namespace hearth

#endif  // HEARTH_COST_OPTIMIZER_H_
