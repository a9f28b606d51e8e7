// InstanceTracker — watches the instances the WarmPool starts, through the public
// Provisioner interface: it wraps the Engine provisioner, times every start (the cold
// start a request waits for), counts starts and failures per model, and keeps the live
// Engines per model so /metrics can report their load (running requests, KV blocks).
//
// Usage:
//   auto tracker = std::make_shared<InstanceTracker>();
//   auto provisioner = tracker->Wrap(hearth::MakeEngineProvisioner(configs).value());
//   ... WarmPool::Create(config, std::move(provisioner), ...) ...
//   tracker->starts();        // per model
//
// Thread-safety: every method may be called from any thread. The tracker outlives the
// provisioner and the instance handles (they share its ownership).
#ifndef HEARTH_EXAMPLES_SERVER_INSTANCE_TRACKER_H_
#define HEARTH_EXAMPLES_SERVER_INSTANCE_TRACKER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hearth/engine.h"
#include "hearth/warm_pool.h"

namespace hearth_server {

struct ModelStarts {
  uint64_t cold_starts = 0;       // instances loaded
  uint64_t failed_starts = 0;     // starts the provisioner failed (e.g. a missing file)
  double last_cold_start_s = 0;   // the most recent successful start, Start → done
};

struct EngineLoad {
  int64_t running = 0;
  int64_t kv_blocks_used = 0;
};

class InstanceTracker : public std::enable_shared_from_this<InstanceTracker> {
 public:
  std::unique_ptr<hearth::Provisioner> Wrap(std::unique_ptr<hearth::Provisioner> inner);

  std::map<std::string, ModelStarts> starts() const;
  // Summed over the model's loaded Engines; models with none are absent.
  std::map<std::string, EngineLoad> engine_load() const;

 private:
  class TrackingProvisioner;
  class TrackedInstance;

  void RecordStart(const std::string& model, bool ok, double seconds);
  void Register(const std::string& model, hearth::Engine* engine);
  void Unregister(hearth::Engine* engine);

  mutable std::mutex mu_;
  std::map<std::string, ModelStarts> starts_;             // guarded by mu_
  std::map<hearth::Engine*, std::string> live_engines_;   // guarded by mu_
};

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_INSTANCE_TRACKER_H_
