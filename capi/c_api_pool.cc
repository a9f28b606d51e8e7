// The C ABI's WarmPool part: a pool of real Engines (hearth::MakeEngineProvisioner) and
// leases that lend their Engine as a borrowed hearth_engine.
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "c_api_internal.h"
#include "hearth/c_api.h"
#include "hearth/keep_alive.h"
#include "hearth/warm_pool.h"

struct hearth_pool {
  std::shared_ptr<hearth::Clock> clock;     // first: outlives the pool that reads it
  std::unique_ptr<hearth::WarmPool> pool;
};

struct hearth_lease {
  hearth::Lease lease;
  hearth_engine engine;  // borrowed: lease.engine(), owned by the pool's instance
};

namespace hearth_capi {
namespace {

absl::StatusOr<std::unique_ptr<hearth::KeepAlivePolicy>> ToKeepAlive(
    const hearth_pool_params& p) {
  switch (p.keep_alive) {
    case HEARTH_KEEP_ALIVE_FIXED: {
      absl::StatusOr<absl::Duration> timeout = ToDuration(p.keep_alive_s, "keep_alive_s");
      if (!timeout.ok()) return timeout.status();
      return hearth::MakeFixedKeepAlive(*timeout);
    }
    case HEARTH_KEEP_ALIVE_IMMEDIATE:
      return hearth::MakeFixedKeepAlive(absl::ZeroDuration());
    case HEARTH_KEEP_ALIVE_HYBRID: {
      absl::StatusOr<absl::Duration> bin = ToDuration(p.hybrid_bin_s, "hybrid_bin_s");
      if (!bin.ok()) return bin.status();
      absl::StatusOr<absl::Duration> range = ToDuration(p.hybrid_range_s, "hybrid_range_s");
      if (!range.ok()) return range.status();
      hearth::HybridKeepAliveConfig config;
      config.bin = *bin;
      config.range = *range;
      config.head_percentile = p.hybrid_head_percentile;
      config.tail_percentile = p.hybrid_tail_percentile;
      config.margin = p.hybrid_margin;
      config.min_samples = p.hybrid_min_samples;
      config.min_cv = p.hybrid_min_cv;
      config.max_out_of_bounds_share = p.hybrid_max_out_of_bounds_share;
      config.forecast_alpha = p.hybrid_forecast_alpha;
      config.forecast_margin = p.hybrid_forecast_margin;
      absl::StatusOr<std::unique_ptr<hearth::KeepAlivePolicy>> policy =
          hearth::MakeHybridKeepAlive(config);
      if (!policy.ok()) return Within("hybrid keep-alive", policy.status());
      return policy;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("keep_alive ", p.keep_alive, " is not a hearth_keep_alive"));
}

// The pool's models and, for the provisioner, how to load each one.
absl::Status ToModels(const hearth_pool_params& p, hearth::WarmPoolConfig* config,
                      std::map<std::string, hearth::EngineConfig, std::less<>>* engines) {
  if (p.n_models > 0 && p.models == nullptr) {
    return absl::InvalidArgumentError("n_models > 0 but models is NULL");
  }
  for (size_t i = 0; i < p.n_models; ++i) {
    const std::string at = absl::StrCat("models[", i, "]");
    const hearth_pool_model* m = p.models[i];
    if (m == nullptr) return absl::InvalidArgumentError(absl::StrCat(at, " is NULL"));
    if (absl::Status s = CheckSize(m->struct_size, sizeof(hearth_pool_model), "hearth_pool_model");
        !s.ok()) {
      return Within(at, s);
    }
    if (absl::Status s = CheckText(m->name, at + ".name"); !s.ok()) return s;
    absl::StatusOr<hearth::EngineConfig> engine = ToEngineConfig(m->engine);
    if (!engine.ok()) return Within(at + ".engine", engine.status());
    config->models.push_back({m->name, m->memory_bytes, m->max_leases, m->min_warm});
    engines->emplace(m->name, *std::move(engine));
  }
  return absl::OkStatus();
}

void CopyState(const hearth::ModelPoolMetrics& m, hearth_pool_model_metrics* out) {
  out->provisioning = m.provisioning;
  out->loading = m.loading;
  out->idle = m.idle;
  out->busy = m.busy;
  out->draining = m.draining;
  out->leases = m.leases;
  out->waiting = m.waiting;
  out->desired = m.desired;
  out->min_warm = m.min_warm;
  out->memory_bytes = m.memory_bytes;
  out->warm_hits = m.warm_hits;
  out->cold_starts = m.cold_starts;
  out->last_cold_start_ms = m.last_cold_start_ms;
}

}  // namespace
}  // namespace hearth_capi

using hearth_capi::CheckHandle;
using hearth_capi::CheckNotNull;
using hearth_capi::CheckSize;
using hearth_capi::CheckText;
using hearth_capi::Fail;
using hearth_capi::Guard;
using hearth_capi::IsLive;

extern "C" {

void hearth_pool_model_init(hearth_pool_model* model) {
  if (model == nullptr) return;
  std::memset(model, 0, sizeof(*model));
  model->struct_size = sizeof(hearth_pool_model);
  model->max_leases = hearth::WarmPoolModelConfig{}.max_leases;
}

void hearth_pool_params_init(hearth_pool_params* params) {
  if (params == nullptr) return;
  std::memset(params, 0, sizeof(*params));
  const hearth::HybridKeepAliveConfig hybrid;
  params->struct_size = sizeof(hearth_pool_params);
  params->keep_alive = HEARTH_KEEP_ALIVE_FIXED;
  params->keep_alive_s = 600;
  params->hybrid_bin_s = absl::ToDoubleSeconds(hybrid.bin);
  params->hybrid_range_s = absl::ToDoubleSeconds(hybrid.range);
  params->hybrid_head_percentile = hybrid.head_percentile;
  params->hybrid_tail_percentile = hybrid.tail_percentile;
  params->hybrid_margin = hybrid.margin;
  params->hybrid_min_samples = hybrid.min_samples;
  params->hybrid_min_cv = hybrid.min_cv;
  params->hybrid_max_out_of_bounds_share = hybrid.max_out_of_bounds_share;
  params->hybrid_forecast_alpha = hybrid.forecast_alpha;
  params->hybrid_forecast_margin = hybrid.forecast_margin;
}

int hearth_pool_create(const hearth_pool_params* params, hearth_pool** out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    *out = nullptr;
    HEARTH_CAPI_CHECK(CheckNotNull(params, "params"));
    HEARTH_CAPI_CHECK(CheckSize(params->struct_size, sizeof(hearth_pool_params),
                                "hearth_pool_params"));
    hearth::WarmPoolConfig config;
    std::map<std::string, hearth::EngineConfig, std::less<>> engines;
    HEARTH_CAPI_CHECK(hearth_capi::ToModels(*params, &config, &engines));
    config.memory_budget_bytes = params->memory_budget_bytes;
    config.max_instances = params->max_instances;
    absl::StatusOr<std::unique_ptr<hearth::KeepAlivePolicy>> keep_alive =
        hearth_capi::ToKeepAlive(*params);
    if (!keep_alive.ok()) return Fail(keep_alive.status());
    absl::StatusOr<std::unique_ptr<hearth::Provisioner>> provisioner =
        hearth::MakeEngineProvisioner(std::move(engines));
    if (!provisioner.ok()) return Fail(provisioner.status());
    absl::StatusOr<std::shared_ptr<hearth::Clock>> clock = hearth_capi::ClockOf(params->clock);
    if (!clock.ok()) return Fail(clock.status());
    auto handle = std::make_unique<hearth_pool>();
    handle->clock = *std::move(clock);
    absl::StatusOr<std::unique_ptr<hearth::WarmPool>> pool =
        hearth::WarmPool::Create(std::move(config), *std::move(provisioner),
                                 *std::move(keep_alive), handle->clock.get());
    if (!pool.ok()) return Fail(pool.status());
    handle->pool = *std::move(pool);
    *out = hearth_capi::Publish(std::move(handle));
    return static_cast<int>(HEARTH_OK);
  });
}

void hearth_pool_destroy(hearth_pool* pool) { hearth_capi::Destroy(pool); }

int hearth_pool_acquire(hearth_pool* pool, const char* model, double timeout_s,
                        hearth_lease** out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    *out = nullptr;
    HEARTH_CAPI_CHECK(CheckHandle(pool, "pool"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    absl::StatusOr<absl::Duration> timeout =
        hearth_capi::ToDuration(timeout_s, "timeout_s", /*infinite_ok=*/true);
    if (!timeout.ok()) return Fail(timeout.status());
    const absl::Time deadline = *timeout == absl::InfiniteDuration()
                                    ? absl::InfiniteFuture()
                                    : pool->clock->Now() + *timeout;
    absl::StatusOr<hearth::Lease> lease = pool->pool->Acquire(model, deadline);
    if (!lease.ok()) return Fail(lease.status());
    auto handle = std::make_unique<hearth_lease>(hearth_lease{*std::move(lease), {}});
    handle->engine.engine = handle->lease.engine();
    hearth_capi::RegisterHandles({{handle.get(), hearth_capi::HandleKind::kLease},
                                  {&handle->engine, hearth_capi::HandleKind::kBorrowedEngine}});
    *out = handle.release();
    return static_cast<int>(HEARTH_OK);
  });
}

hearth_engine* hearth_lease_engine(const hearth_lease* lease) {
  // The lease hands out its engine view; the view is not part of the lease's state.
  return IsLive(lease) ? const_cast<hearth_engine*>(&lease->engine) : nullptr;
}

int64_t hearth_lease_instance_id(const hearth_lease* lease) {
  return IsLive(lease) ? lease->lease.instance_id() : 0;
}

void hearth_lease_release(hearth_lease* lease) {
  Guard([&] {
    if (!hearth_capi::Retire(lease)) return static_cast<int>(HEARTH_OK);
    hearth_capi::UnregisterHandle(&lease->engine, hearth_capi::HandleKind::kBorrowedEngine);
    delete lease;
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_pool_prewarm(hearth_pool* pool, const char* model, int32_t count) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(pool, "pool"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    HEARTH_CAPI_CHECK(pool->pool->Prewarm(model, count));
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_pool_set_desired_instances(hearth_pool* pool, const char* model, int32_t count) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(pool, "pool"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    HEARTH_CAPI_CHECK(pool->pool->SetDesiredInstances(model, count));
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_pool_retire(hearth_pool* pool, int64_t instance_id) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(pool, "pool"));
    HEARTH_CAPI_CHECK(pool->pool->Retire(instance_id));
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_pool_tick(hearth_pool* pool) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(pool, "pool"));
    pool->pool->Tick();
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_pool_next_wakeup(const hearth_pool* pool, double* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(pool, "pool"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    *out = hearth_capi::ToUnixSeconds(pool->pool->NextWakeup());
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_pool_get_metrics(const hearth_pool* pool, hearth_pool_metrics* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(pool, "pool"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(
        CheckSize(out->struct_size, sizeof(hearth_pool_metrics), "hearth_pool_metrics"));
    const hearth::WarmPoolMetrics m = pool->pool->metrics();
    const uint32_t size = out->struct_size;
    std::memset(out, 0, sizeof(*out));
    out->struct_size = size;
    out->warm_hits = m.warm_hits;
    out->cold_starts = m.cold_starts;
    out->failed_deadline = m.failed_deadline;
    out->failed_load = m.failed_provisioner;
    out->failed_other = m.failed_other;
    out->instances_started = m.instances_started;
    out->instances_failed = m.instances_failed;
    out->instances_evicted = m.instances_evicted;
    out->instances_expired = m.instances_expired;
    out->instances = m.instances;
    for (const auto& [name, model] : m.models) {
      out->provisioning += model.provisioning;
      out->loading += model.loading;
      out->idle += model.idle;
      out->busy += model.busy;
      out->draining += model.draining;
      out->leases += model.leases;
      out->waiting += model.waiting;
    }
    out->memory_bytes = m.memory_bytes;
    out->wait_time_p50_ms = m.wait_time_ms.Quantile(0.5);
    out->wait_time_p99_ms = m.wait_time_ms.Quantile(0.99);
    out->cold_start_p50_ms = m.cold_start_ms.Quantile(0.5);
    out->cold_start_p99_ms = m.cold_start_ms.Quantile(0.99);
    out->idle_instance_seconds = m.idle_instance_seconds;
    out->loaded_instance_seconds = m.loaded_instance_seconds;
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_pool_get_model_metrics(const hearth_pool* pool, const char* model,
                                  hearth_pool_model_metrics* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(pool, "pool"));
    HEARTH_CAPI_CHECK(CheckText(model, "model"));
    HEARTH_CAPI_CHECK(CheckNotNull(out, "out"));
    HEARTH_CAPI_CHECK(CheckSize(out->struct_size, sizeof(hearth_pool_model_metrics),
                                "hearth_pool_model_metrics"));
    const hearth::WarmPoolMetrics m = pool->pool->metrics();
    auto it = m.models.find(model);
    if (it == m.models.end()) {
      return Fail(HEARTH_NOT_FOUND, absl::StrCat("the pool serves no model '", model, "'"));
    }
    hearth_capi::CopyState(it->second, out);
    return static_cast<int>(HEARTH_OK);
  });
}

}  // extern "C"
