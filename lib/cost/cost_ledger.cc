#include "hearth/cost_ledger.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hearth {

absl::StatusOr<std::unique_ptr<CostLedger>> CostLedger::Create(const PriceCatalog* catalog,
                                                               CostLedgerConfig config,
                                                               Clock* clock) {
  if (catalog == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError("CostLedger: catalog and clock must not be null");
  }
  if (!std::isfinite(config.output_token_weight) || config.output_token_weight < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CostLedger: output_token_weight must be finite and >= 0, got ", config.output_token_weight));
  }
  return std::unique_ptr<CostLedger>(new CostLedger(catalog, config, clock));
}

absl::Status CostLedger::RecordInstanceTime(std::string_view model, std::string_view offering,
                                            absl::Duration duration) {
  if (model.empty()) return absl::InvalidArgumentError("RecordInstanceTime: model is empty");
  if (duration < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("RecordInstanceTime: duration is negative (", absl::FormatDuration(duration),
                     ") for model '", std::string(model), "'"));
  }
  absl::StatusOr<const Offering*> o = catalog_->Find(offering);
  if (!o.ok()) return o.status();
  const double seconds = absl::ToDoubleSeconds(duration);
  const double cost = (*o)->RunCost(duration);
  const std::string model_name(model);
  std::vector<BudgetAlert> raised = Apply([&](absl::flat_hash_map<std::string, ModelTotals>& models) {
    ModelTotals& m = models[model_name];
    OfferingUsage& usage = m.offerings[(*o)->name];
    usage.offering = (*o)->name;
    usage.instance_seconds += seconds;
    usage.cost += cost;
    m.instance_cost += cost;
  });
  Notify(raised);
  return absl::OkStatus();
}

absl::Status CostLedger::RecordRequest(const RequestUsage& usage) {
  if (usage.tenant.empty() || usage.model.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("RecordRequest: tenant ('", usage.tenant,
                                                   "') and model ('", usage.model,
                                                   "') must be non-empty"));
  }
  if (usage.prompt_tokens < 0 || usage.output_tokens < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RecordRequest: negative tokens for tenant '", usage.tenant, "': prompt_tokens ",
        usage.prompt_tokens, ", output_tokens ", usage.output_tokens));
  }
  double fee = 0;
  if (!usage.offering.empty()) {
    absl::StatusOr<const Offering*> o = catalog_->Find(usage.offering);
    if (!o.ok()) return o.status();
    fee = (*o)->per_request;
  }
  const double weighted =
      static_cast<double>(usage.prompt_tokens) + config_.output_token_weight * usage.output_tokens;
  std::vector<BudgetAlert> raised = Apply([&](absl::flat_hash_map<std::string, ModelTotals>& models) {
    ModelTotals& m = models[usage.model];
    m.request_fees += fee;
    m.requests += 1;
    m.prompt_tokens += usage.prompt_tokens;
    m.output_tokens += usage.output_tokens;
    m.weighted_tokens += weighted;
    m.tenant_weighted_tokens[usage.tenant] += weighted;
    m.tenant_fees[usage.tenant] += fee;
    m.tenant_requests[usage.tenant] += 1;
    m.tenant_prompt[usage.tenant] += usage.prompt_tokens;
    m.tenant_output[usage.tenant] += usage.output_tokens;
  });
  Notify(raised);
  return absl::OkStatus();
}

void CostLedger::Notify(const std::vector<BudgetAlert>& raised) {
  if (raised.empty()) return;
  std::function<void(const BudgetAlert&)> callback;
  {
    std::lock_guard<std::mutex> lock(mu_);
    callback = callback_;
  }
  if (callback) {
    for (const BudgetAlert& a : raised) callback(a);
  }
}

std::vector<BudgetAlert> CostLedger::Apply(
    const std::function<void(absl::flat_hash_map<std::string, ModelTotals>&)>& update) {
  const absl::Time now = clock_->Now();
  std::vector<BudgetAlert> raised;
  std::lock_guard<std::mutex> lock(mu_);
  update(models_);
  for (auto& [tenant, state] : budgets_) {
    RollOver(state, now);
    update(state.period);
    const double spent = TenantSpend(state.period, tenant);
    for (size_t i = 0; i < state.budget.thresholds.size(); ++i) {
      if (state.raised[i] || spent < state.budget.thresholds[i] * state.budget.amount) continue;
      state.raised[i] = true;
      raised.push_back({tenant, state.budget.thresholds[i], spent, state.budget.amount,
                        state.period_start, now});
    }
  }
  alerts_.insert(alerts_.end(), raised.begin(), raised.end());
  return raised;
}

void CostLedger::RollOver(BudgetState& state, absl::Time now) {
  if (now < state.period_start + state.budget.period) return;
  // Whole periods: a tenant silent for several periods starts in the one holding `now`.
  absl::Duration remainder;
  const int64_t periods = absl::IDivDuration(now - state.period_start, state.budget.period, &remainder);
  state.period_start += state.budget.period * periods;
  state.period.clear();
  state.raised.assign(state.budget.thresholds.size(), false);
}

double CostLedger::TenantSpend(const absl::flat_hash_map<std::string, ModelTotals>& models,
                               const std::string& tenant) {
  double spent = 0;
  for (const auto& [name, m] : models) {
    auto tokens = m.tenant_weighted_tokens.find(tenant);
    if (tokens == m.tenant_weighted_tokens.end()) continue;
    if (m.weighted_tokens > 0) spent += m.instance_cost * tokens->second / m.weighted_tokens;
    spent += m.tenant_fees.at(tenant);
  }
  return spent;
}

absl::Status CostLedger::SetBudget(std::string_view tenant, TenantBudget budget) {
  if (tenant.empty()) return absl::InvalidArgumentError("SetBudget: tenant is empty");
  if (!std::isfinite(budget.amount) || budget.amount <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("SetBudget: amount for tenant '", std::string(tenant),
                                                   "' must be finite and > 0, got ", budget.amount));
  }
  if (budget.period <= absl::ZeroDuration() || budget.period == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("SetBudget: period for tenant '", std::string(tenant),
                                                   "' must be finite and > 0, got ",
                                                   absl::FormatDuration(budget.period)));
  }
  for (double t : budget.thresholds) {
    if (!std::isfinite(t) || t <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("SetBudget: threshold ", t, " for tenant '",
                                                     std::string(tenant), "' must be finite and > 0"));
    }
  }
  std::sort(budget.thresholds.begin(), budget.thresholds.end());
  std::lock_guard<std::mutex> lock(mu_);
  BudgetState& state = budgets_[std::string(tenant)];
  state.raised.assign(budget.thresholds.size(), false);
  state.budget = std::move(budget);
  state.period_start = clock_->Now();
  state.period.clear();
  return absl::OkStatus();
}

absl::StatusOr<double> CostLedger::PeriodSpend(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = budgets_.find(absl::string_view(tenant.data(), tenant.size()));
  if (it == budgets_.end()) {
    return absl::NotFoundError(absl::StrCat("PeriodSpend: tenant '", std::string(tenant), "' has no budget"));
  }
  RollOver(it->second, clock_->Now());
  return TenantSpend(it->second.period, it->first);
}

std::vector<BudgetAlert> CostLedger::alerts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return alerts_;
}

void CostLedger::SetAlertCallback(std::function<void(const BudgetAlert&)> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  callback_ = std::move(callback);
}

CostReport CostLedger::Report() const {
  std::lock_guard<std::mutex> lock(mu_);
  CostReport report;
  absl::flat_hash_map<std::string, TenantCost> tenants;
  for (const auto& [name, m] : models_) {
    ModelCost mc{name, {}, m.instance_cost, m.request_fees, m.requests, m.prompt_tokens, m.output_tokens};
    for (const auto& [offering, usage] : m.offerings) mc.offerings.push_back(usage);
    std::sort(mc.offerings.begin(), mc.offerings.end(),
              [](const OfferingUsage& a, const OfferingUsage& b) { return a.offering < b.offering; });
    report.models.push_back(std::move(mc));
    report.instance_cost += m.instance_cost;
    report.request_fees += m.request_fees;
    if (m.weighted_tokens <= 0) report.unattributed += m.instance_cost;
    for (const auto& [tenant, weighted] : m.tenant_weighted_tokens) {
      TenantCost& tc = tenants[tenant];
      tc.tenant = tenant;
      const double share = m.weighted_tokens > 0 ? m.instance_cost * weighted / m.weighted_tokens : 0;
      const double fees = m.tenant_fees.at(tenant);
      tc.models.push_back({name, weighted, share, fees});
      tc.instance_share += share;
      tc.request_fees += fees;
      tc.total += share + fees;
      tc.requests += m.tenant_requests.at(tenant);
      tc.prompt_tokens += m.tenant_prompt.at(tenant);
      tc.output_tokens += m.tenant_output.at(tenant);
    }
  }
  // A model with requests but zero weighted tokens (all-empty requests) leaves its
  // instance cost unshared: it is counted in `unattributed` above.
  for (auto& [tenant, tc] : tenants) {
    std::sort(tc.models.begin(), tc.models.end(),
              [](const TenantModelCost& a, const TenantModelCost& b) { return a.model < b.model; });
    report.tenants.push_back(std::move(tc));
  }
  std::sort(report.models.begin(), report.models.end(),
            [](const ModelCost& a, const ModelCost& b) { return a.model < b.model; });
  std::sort(report.tenants.begin(), report.tenants.end(),
            [](const TenantCost& a, const TenantCost& b) { return a.tenant < b.tenant; });
  report.total = report.instance_cost + report.request_fees;
  return report;
}

}  // namespace hearth
