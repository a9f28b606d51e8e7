#include "examples/server/instance_tracker.h"

#include <chrono>
#include <utility>

namespace hearth_server {

class InstanceTracker::TrackedInstance final : public hearth::InstanceHandle {
 public:
  TrackedInstance(std::unique_ptr<hearth::InstanceHandle> inner, std::string model,
                  std::shared_ptr<InstanceTracker> tracker)
      : inner_(std::move(inner)), tracker_(std::move(tracker)) {
    if (inner_->engine() != nullptr) tracker_->Register(model, inner_->engine());
  }
  // Forgotten before inner_ (and its Engine) is destroyed, so /metrics never reads a
  // destroyed Engine.
  ~TrackedInstance() override { tracker_->Unregister(inner_->engine()); }

  hearth::Engine* engine() override { return inner_->engine(); }
  int64_t memory_bytes() const override { return inner_->memory_bytes(); }

 private:
  std::unique_ptr<hearth::InstanceHandle> inner_;
  std::shared_ptr<InstanceTracker> tracker_;
};

class InstanceTracker::TrackingProvisioner final : public hearth::Provisioner {
 public:
  TrackingProvisioner(std::unique_ptr<hearth::Provisioner> inner, std::shared_ptr<InstanceTracker> tracker)
      : inner_(std::move(inner)), tracker_(std::move(tracker)) {}

  void Start(const hearth::InstanceSpec& spec, Done done) override {
    const auto started = std::chrono::steady_clock::now();
    inner_->Start(spec, [tracker = tracker_, model = spec.model, started, done = std::move(done)](
                            absl::StatusOr<std::unique_ptr<hearth::InstanceHandle>> handle) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      tracker->RecordStart(model, handle.ok(), seconds);
      if (!handle.ok()) {
        done(handle.status());
        return;
      }
      done(std::unique_ptr<hearth::InstanceHandle>(
          std::make_unique<TrackedInstance>(*std::move(handle), model, tracker)));
    });
  }

 private:
  std::unique_ptr<hearth::Provisioner> inner_;
  std::shared_ptr<InstanceTracker> tracker_;
};

std::unique_ptr<hearth::Provisioner> InstanceTracker::Wrap(std::unique_ptr<hearth::Provisioner> inner) {
  return std::make_unique<TrackingProvisioner>(std::move(inner), shared_from_this());
}

std::map<std::string, ModelStarts> InstanceTracker::starts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return starts_;
}

std::map<std::string, EngineLoad> InstanceTracker::engine_load() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, EngineLoad> out;
  for (const auto& [engine, model] : live_engines_) {
    const hearth::EngineMetrics m = engine->metrics();
    EngineLoad& load = out[model];
    load.running += m.running;
    load.kv_blocks_used += m.kv_blocks_used;
  }
  return out;
}

void InstanceTracker::RecordStart(const std::string& model, bool ok, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ModelStarts& starts = starts_[model];
  if (ok) {
    ++starts.cold_starts;
    starts.last_cold_start_s = seconds;
  } else {
    ++starts.failed_starts;
  }
}

void InstanceTracker::Register(const std::string& model, hearth::Engine* engine) {
  std::lock_guard<std::mutex> lock(mu_);
  live_engines_[engine] = model;
}

void InstanceTracker::Unregister(hearth::Engine* engine) {
  std::lock_guard<std::mutex> lock(mu_);
  live_engines_.erase(engine);
}

}  // namespace hearth_server
