// hearth::CostLedger — what each model and each tenant cost, and budgets per tenant.
//
// Two kinds of records:
//   instance time  (model, offering, duration): a replica held loaded, busy or idle. Each
//                  call is one billed interval: RunCost(duration) of the offering (a
//                  serverless offering rounds it up to its billing granularity; a reserved
//                  one is priced at its effective hourly rate for the time recorded, so
//                  record every held hour to account the whole commitment).
//   requests       (tenant, model, prompt tokens, output tokens, offering): the tokens that
//                  share the model's instance cost, plus the offering's per-request fee.
//
// Attribution: a model's instance cost is shared among the tenants that used it in
// proportion to their weighted tokens, prompt_tokens + output_token_weight *
// output_tokens. The weight defaults to 1 (a prompt token and an output token weigh the
// same); set it higher where decode time dominates (a decoded token costs a forward step,
// a prompt token a share of a batched one). Instance cost of a model that served no
// tokens is reported as unattributed, never dropped. Per-request fees go to the tenant
// that made the request.
//
// Budgets: a tenant may have a budget (an amount per period, periods starting at the time
// the budget is set). The tenant's spend in the current period is its attributed share of
// the instance cost recorded in the period plus its fees in the period; when it first
// reaches each threshold (default 50 %, 80 %, 100 %) an alert is raised, once per
// threshold per period, kept for alerts() and passed to the callback if one is set. The
// shares are recomputed on every record, so a tenant's spend can fall when others send
// more tokens; an alert once raised stays raised for its period.
//
// Usage:
//   auto ledger = hearth::CostLedger::Create(&catalog, {}, &clock).value();
//   ledger->SetBudget("acme", {.amount = 100, .period = absl::Hours(24)});
//   ledger->RecordInstanceTime("llama-8b", "aws-ec2-g5.xlarge", absl::Minutes(10));
//   ledger->RecordRequest({.tenant = "acme", .model = "llama-8b",
//                          .prompt_tokens = 812, .output_tokens = 200});
//   hearth::CostReport report = ledger->Report();
//
// Thread-safety: every method may be called from any thread. The alert callback runs on
// the recording thread after the ledger's lock is released; it may call the ledger.
#ifndef HEARTH_COST_LEDGER_H_
#define HEARTH_COST_LEDGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hearth/clock.h"
#include "hearth/price_catalog.h"

namespace hearth {

struct CostLedgerConfig {
  double output_token_weight = 1.0;  // finite, >= 0
};

struct RequestUsage {
  std::string tenant;           // non-empty
  std::string model;            // non-empty
  int64_t prompt_tokens = 0;    // >= 0
  int64_t output_tokens = 0;    // >= 0
  std::string offering;         // whose per-request fee applies; empty = none
};

struct TenantBudget {
  double amount = 0;                             // in the catalog's currency, > 0
  absl::Duration period = absl::Hours(24 * 30);  // > 0
  std::vector<double> thresholds = {0.5, 0.8, 1.0};  // fractions of amount, each > 0
};

struct BudgetAlert {
  std::string tenant;
  double threshold = 0;          // the fraction reached
  double spent = 0;              // the tenant's spend in the period when raised
  double budget = 0;             // the amount
  absl::Time period_start;
  absl::Time raised_at;
};

struct OfferingUsage {
  std::string offering;
  double instance_seconds = 0;   // as recorded (before rounding)
  double cost = 0;               // as billed
};

struct ModelCost {
  std::string model;
  std::vector<OfferingUsage> offerings;  // sorted by name
  double instance_cost = 0;
  double request_fees = 0;
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;
};

struct TenantModelCost {
  std::string model;
  double weighted_tokens = 0;
  double instance_share = 0;     // this tenant's share of the model's instance cost
  double request_fees = 0;
};

struct TenantCost {
  std::string tenant;
  std::vector<TenantModelCost> models;  // sorted by model
  double instance_share = 0;
  double request_fees = 0;
  double total = 0;              // instance_share + request_fees
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;
};

struct CostReport {
  std::vector<ModelCost> models;    // sorted by model
  std::vector<TenantCost> tenants;  // sorted by tenant
  double instance_cost = 0;         // all models
  double request_fees = 0;
  double unattributed = 0;          // instance cost of models that served no tokens
  double total = 0;                 // instance_cost + request_fees
};

class CostLedger {
 public:
  // `catalog` and `clock` are not owned and must outlive the ledger. InvalidArgument for
  // a bad output_token_weight or a null pointer.
  static absl::StatusOr<std::unique_ptr<CostLedger>> Create(const PriceCatalog* catalog,
                                                            CostLedgerConfig config, Clock* clock);

  // NotFound for an unknown offering; InvalidArgument for an empty model or a negative
  // duration.
  absl::Status RecordInstanceTime(std::string_view model, std::string_view offering,
                                  absl::Duration duration);
  // InvalidArgument for empty names or negative tokens; NotFound for an unknown offering.
  absl::Status RecordRequest(const RequestUsage& usage);

  // Sets (or replaces, starting a new period now) a tenant's budget. InvalidArgument for
  // a non-positive amount or period, or a threshold that is not finite and > 0.
  absl::Status SetBudget(std::string_view tenant, TenantBudget budget);
  // The tenant's spend in its current budget period at clock->Now(); NotFound without a
  // budget.
  absl::StatusOr<double> PeriodSpend(std::string_view tenant);
  // Every alert raised so far, in the order raised.
  std::vector<BudgetAlert> alerts() const;
  // Called once per alert as it is raised. Replaces any earlier callback.
  void SetAlertCallback(std::function<void(const BudgetAlert&)> callback);

  // Costs over everything recorded since creation.
  CostReport Report() const;

 private:
  // Instance cost and weighted tokens of one model over a span of time.
  struct ModelTotals {
    absl::flat_hash_map<std::string, OfferingUsage> offerings;
    double instance_cost = 0;
    double request_fees = 0;
    int64_t requests = 0;
    int64_t prompt_tokens = 0;
    int64_t output_tokens = 0;
    double weighted_tokens = 0;
    absl::flat_hash_map<std::string, double> tenant_weighted_tokens;
    absl::flat_hash_map<std::string, double> tenant_fees;
    absl::flat_hash_map<std::string, int64_t> tenant_requests, tenant_prompt, tenant_output;
  };
  struct BudgetState {
    TenantBudget budget;
    absl::Time period_start;
    absl::flat_hash_map<std::string, ModelTotals> period;  // by model
    std::vector<bool> raised;                               // per threshold
  };

  CostLedger(const PriceCatalog* catalog, CostLedgerConfig config, Clock* clock)
      : catalog_(catalog), config_(config), clock_(clock) {}

  static double TenantSpend(const absl::flat_hash_map<std::string, ModelTotals>& models,
                            const std::string& tenant);
  void RollOver(BudgetState& state, absl::Time now);
  // Applies `update` to the lifetime totals and to every budget's period totals, then
  // raises the alerts now due. Returns them for the callback.
  std::vector<BudgetAlert> Apply(
      const std::function<void(absl::flat_hash_map<std::string, ModelTotals>&)>& update);
  // Passes alerts to the callback, outside the lock.
  void Notify(const std::vector<BudgetAlert>& raised);

  const PriceCatalog* const catalog_;
  const CostLedgerConfig config_;
  Clock* const clock_;

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, ModelTotals> models_;     // lifetime, by model
  absl::flat_hash_map<std::string, BudgetState> budgets_;    // by tenant
  std::vector<BudgetAlert> alerts_;
  std::function<void(const BudgetAlert&)> callback_;
};

}  // namespace hearth

#endif  // HEARTH_COST_LEDGER_H_
