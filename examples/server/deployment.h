// Deployment — the four hearth objects composed behind the HTTP front end, for every
// model `hearth serve` serves:
//
//   WarmPool        one in-process Engine per model, loaded on demand (a request that
//                   finds none waits for the cold start) and unloaded by the keep-alive
//                   policy once idle (scale to zero unless --min-warm);
//   AutoScaler      fed this server's load every control tick; its decision is
//                   published as hearth_desired_replicas for an orchestrator;
//   CostOptimizer   the price of each request, the response cache, the ledger per
//                   tenant, and the router between two models (--route);
//   and per model a CircuitBreaker, in front of all of them the rate limit and the
//   bounded admission queue.
//
// A control thread ticks the pool (keep-alive, deadlines) and samples the AutoScaler
// every kControlPeriod.
//
// Thread-safety: every method may be called from any thread.
#ifndef HEARTH_EXAMPLES_SERVER_DEPLOYMENT_H_
#define HEARTH_EXAMPLES_SERVER_DEPLOYMENT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "examples/server/admission_queue.h"
#include "examples/server/circuit_breaker.h"
#include "examples/server/generation.h"
#include "examples/server/instance_tracker.h"
#include "examples/server/openai_request.h"
#include "examples/server/openai_response.h"
#include "examples/server/server_config.h"
#include "examples/server/server_metrics.h"
#include "examples/server/token_bucket.h"
#include "hearth/autoscaler.h"
#include "hearth/cost_optimizer.h"
#include "hearth/warm_pool.h"

namespace hearth_server {

// A finished answer as the response cache keeps it.
struct CachedAnswer {
  std::string text;
  std::string finish_reason;
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

class Deployment {
 public:
  // Loads the catalog, checks every model file exists, builds the pool (starting the
  // min_warm instances), the AutoScaler, the optimizer, the breakers and the control
  // thread. The first error, naming the flag or file at fault.
  static absl::StatusOr<std::unique_ptr<Deployment>> Create(const ServerConfig& config);
  // Stops the control thread, then unloads every instance.
  ~Deployment();

  const ServerConfig& config() const { return config_; }
  // The names clients may send: every served model, and "auto" with --route.
  std::vector<std::string> ModelNames() const;
  // The served model that answers `request`: its own name, or the router's choice for
  // "auto". NotFound (naming the served models) for any other name.
  absl::StatusOr<std::string> ResolveModel(const OpenAiRequest& request);

  RateDecision AdmitRate() { return rate_limit_->TryTake(); }
  std::optional<RequestSlot> EnterQueue() { return admission_.TryEnter(); }
  CircuitBreaker& breaker(const std::string& model) { return *breakers_.at(model); }

  std::optional<CachedAnswer> LookupCache(const std::string& model, const OpenAiRequest& request);

  // Leases an instance of `model` (waiting for a cold start if none is loaded, up to
  // --queue-timeout-s) and submits the request. The breaker learns the outcome: a load
  // failure or an Engine error is a failure, a lease and a submission a success, a
  // timeout nothing. Errors: Unavailable (could not load; the message says why),
  // DeadlineExceeded (no instance in time), InvalidArgument (the Engine refused the
  // request, e.g. a prompt longer than the context).
  absl::StatusOr<std::unique_ptr<Generation>> Start(const std::string& model, const OpenAiRequest& request,
                                                    RequestSlot slot, Generation::SteadyTime arrival);

  // Accounts a finished request: its cost on the configured offering (a share of the
  // instance's price for the time the request held one of its --max-concurrent slots,
  // plus the offering's per-request fee), the tenant's total, the ledger, and the cache.
  Usage Settle(const std::string& tenant, const std::string& model, const OpenAiRequest& request,
               const hearth::GenerateResult& result, double held_seconds);

  // Draining: readyz answers 503 and new requests are refused.
  void BeginDrain() { draining_ = true; }
  bool draining() const { return draining_; }
  void WaitUntilIdle() { admission_.WaitUntilEmpty(); }

  ServerMetrics& metrics() { return metrics_; }

  // What /metrics shows besides ServerMetrics.
  struct State {
    int queued = 0;
    int in_flight = 0;
    int desired_replicas = 0;
    hearth::WarmPoolMetrics pool;
    std::map<std::string, ModelStarts> starts;
    std::map<std::string, EngineLoad> engine_load;
    std::map<std::string, CircuitState> circuits;
  };
  State state() const;

 private:
  explicit Deployment(ServerConfig config);
  void ControlLoop();
  void ControlTick(double dt_s);

  const ServerConfig config_;
  ServerMetrics metrics_;
  AdmissionQueue admission_;
  std::unique_ptr<TokenBucket> rate_limit_;
  std::map<std::string, std::unique_ptr<CircuitBreaker>> breakers_;
  std::shared_ptr<InstanceTracker> tracker_;
  std::unique_ptr<hearth::CostOptimizer> optimizer_;
  const hearth::Offering* offering_ = nullptr;  // into optimizer_'s catalog; null: no pricing
  std::unique_ptr<hearth::AutoScaler> autoscaler_;
  std::unique_ptr<hearth::WarmPool> pool_;
  std::atomic<bool> draining_{false};
  std::atomic<int> desired_replicas_{0};

  std::mutex control_mu_;
  std::condition_variable control_cv_;
  bool stop_control_ = false;  // guarded by control_mu_
  uint64_t last_arrivals_ = 0;  // control thread only
  std::thread control_thread_;
};

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_DEPLOYMENT_H_
