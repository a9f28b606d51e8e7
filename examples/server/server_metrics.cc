#include "examples/server/server_metrics.h"

namespace hearth_server {
namespace {
// Prometheus' default buckets stretched to a minute: a cold start puts the first token
// of a scaled-to-zero model seconds away.
std::vector<double> TtftBoundsS() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}
// Decode steps of a small model on a CPU take milliseconds; a busy batch, tenths.
std::vector<double> InterTokenBoundsS() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};
}
}  // namespace

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kRateLimited: return "rate_limited";
    case RejectReason::kQueueFull: return "queue_full";
    case RejectReason::kCircuitOpen: return "circuit_open";
    case RejectReason::kDraining: return "draining";
  }
  return "unknown";
}

LatencyRecorder::LatencyRecorder(std::vector<double> upper_bounds_s) {
  histogram_.counts.assign(upper_bounds_s.size() + 1, 0);
  histogram_.upper_bounds = std::move(upper_bounds_s);
}

void LatencyRecorder::Record(double seconds, uint64_t times) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t bucket = 0;
  while (bucket < histogram_.upper_bounds.size() && seconds > histogram_.upper_bounds[bucket]) ++bucket;
  histogram_.counts[bucket] += times;
  histogram_.count += times;
  histogram_.sum += seconds * static_cast<double>(times);
}

hearth::Histogram LatencyRecorder::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return histogram_;
}

ServerMetrics::ServerMetrics() : ttft_(TtftBoundsS()), itl_(InterTokenBoundsS()) {
  for (RejectReason reason : kAllRejectReasons) counts_.rejected[std::string(RejectReasonName(reason))] = 0;
}

void ServerMetrics::CountRequest(std::string_view model, int http_status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.requests[{std::string(model), http_status}];
}

void ServerMetrics::CountRejection(RejectReason reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.rejected[std::string(RejectReasonName(reason))];
}

void ServerMetrics::AddCost(std::string_view tenant, double usd) {
  std::lock_guard<std::mutex> lock(mu_);
  counts_.cost_usd[std::string(tenant)] += usd;
}

void ServerMetrics::CountCacheHit() {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.cache_hits;
}

void ServerMetrics::CountArrival() {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.arrivals;
}

ServerMetrics::Snapshot ServerMetrics::snapshot() const {
  Snapshot out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = counts_;
  }
  out.ttft = ttft_.Snapshot();
  out.itl = itl_.Snapshot();
  return out;
}

}  // namespace hearth_server
