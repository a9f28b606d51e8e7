// ServerMetrics — the counters and latency histograms of the HTTP front end: what each
// request ended as, why requests were turned away, time to first token and between
// tokens (as clients see them: from the request's arrival, cold starts included), cost by
// tenant and response-cache hits. The pool's, the Engines' and the AutoScaler's state is
// read from them when /metrics is rendered (metrics_page.h).
//
// Thread-safety: every method may be called from any thread.
#ifndef HEARTH_EXAMPLES_SERVER_SERVER_METRICS_H_
#define HEARTH_EXAMPLES_SERVER_SERVER_METRICS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hearth/histogram.h"

namespace hearth_server {

enum class RejectReason { kRateLimited, kQueueFull, kCircuitOpen, kDraining };
// "rate_limited", "queue_full", "circuit_open", "draining" (the metric's reason label).
std::string_view RejectReasonName(RejectReason reason);
inline constexpr RejectReason kAllRejectReasons[] = {RejectReason::kRateLimited, RejectReason::kQueueFull,
                                                     RejectReason::kCircuitOpen, RejectReason::kDraining};

// A histogram of seconds over fixed bounds, filled from many threads.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(std::vector<double> upper_bounds_s);
  void Record(double seconds, uint64_t times = 1);
  hearth::Histogram Snapshot() const;

 private:
  mutable std::mutex mu_;
  hearth::Histogram histogram_;  // guarded by mu_
};

class ServerMetrics {
 public:
  ServerMetrics();

  // A request answered with `http_status` (model: as the client named it, or "" before
  // the body named one).
  void CountRequest(std::string_view model, int http_status);
  void CountRejection(RejectReason reason);
  void AddCost(std::string_view tenant, double usd);
  void CountCacheHit();
  // Arrivals so far (every completion request, answered or not): the AutoScaler's rate.
  void CountArrival();

  LatencyRecorder& time_to_first_token() { return ttft_; }
  LatencyRecorder& inter_token_latency() { return itl_; }

  struct Snapshot {
    std::map<std::pair<std::string, int>, uint64_t> requests;  // (model, code)
    std::map<std::string, uint64_t> rejected;                  // by reason name, all present
    std::map<std::string, double> cost_usd;                    // by tenant
    uint64_t cache_hits = 0;
    uint64_t arrivals = 0;
    hearth::Histogram ttft;
    hearth::Histogram itl;
  };
  Snapshot snapshot() const;

 private:
  LatencyRecorder ttft_;
  LatencyRecorder itl_;
  mutable std::mutex mu_;
  Snapshot counts_;  // guarded by mu_ (its histograms unused: the recorders hold them)
};

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_SERVER_METRICS_H_
