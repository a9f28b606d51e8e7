#include "hearth/cost_optimizer.h"

#include <utility>

namespace hearth {

absl::StatusOr<std::unique_ptr<CostOptimizer>> CostOptimizer::Create(PriceCatalog catalog,
                                                                     CostOptimizerConfig config,
                                                                     Clock* clock) {
  std::unique_ptr<CostOptimizer> optimizer(new CostOptimizer());
  optimizer->catalog_ = std::make_unique<PriceCatalog>(std::move(catalog));
  absl::StatusOr<std::unique_ptr<CostLedger>> ledger =
      CostLedger::Create(optimizer->catalog_.get(), config.ledger, clock);
  if (!ledger.ok()) return ledger.status();
  optimizer->ledger_ = *std::move(ledger);
  if (!config.router.tiers.empty()) {
    absl::StatusOr<std::unique_ptr<Router>> router = Router::Create(std::move(config.router));
    if (!router.ok()) return router.status();
    optimizer->router_ = *std::move(router);
  }
  absl::StatusOr<std::unique_ptr<ResponseCache>> cache = ResponseCache::Create(config.cache, clock);
  if (!cache.ok()) return cache.status();
  optimizer->cache_ = *std::move(cache);
  return optimizer;
}

}  // namespace hearth
