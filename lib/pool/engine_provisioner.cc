// The in-process Provisioner: an Instance is an Engine created on a background thread.
#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "hearth/engine.h"
#include "hearth/warm_pool.h"

namespace hearth {
namespace {

class EngineInstance final : public InstanceHandle {
 public:
  EngineInstance(std::unique_ptr<Engine> engine, int64_t memory_bytes)
      : engine_(std::move(engine)), memory_bytes_(memory_bytes) {}

  Engine* engine() override { return engine_.get(); }
  int64_t memory_bytes() const override { return memory_bytes_; }

 private:
  const std::unique_ptr<Engine> engine_;
  const int64_t memory_bytes_;
};

class EngineProvisioner final : public Provisioner {
 public:
  explicit EngineProvisioner(std::map<std::string, EngineConfig, std::less<>> configs)
      : configs_(std::move(configs)) {}

  // Waits for the Engines still loading; their done callbacks run first.
  ~EngineProvisioner() override {
    for (Loader& loader : loaders_) loader.thread.join();
  }

  void Start(const InstanceSpec& spec, Done done) override {
    auto it = configs_.find(spec.model);
    if (it == configs_.end()) {
      done(absl::NotFoundError(
          absl::StrCat("EngineProvisioner has no EngineConfig for model '", spec.model, "'")));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    JoinFinished();
    Loader& loader = loaders_.emplace_back();
    loader.finished = std::make_shared<std::atomic<bool>>(false);
    // Loading reads and maps the whole model: off the caller's thread, which may be the
    // pool's caller serving requests.
    loader.thread = std::thread([config = it->second, on_loading = spec.on_loading,
                                 done = std::move(done), finished = loader.finished] {
      if (on_loading) on_loading();
      absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config);
      if (!engine.ok()) {
        done(engine.status());
      } else {
        const int64_t bytes =
            static_cast<int64_t>((*engine)->model_info().file_bytes) + config.kv_cache_bytes;
        done(std::make_unique<EngineInstance>(*std::move(engine), bytes));
      }
      finished->store(true);
    });
  }

 private:
  struct Loader {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };

  void JoinFinished() {
    for (auto it = loaders_.begin(); it != loaders_.end();) {
      if (it->finished->load()) {
        it->thread.join();
        it = loaders_.erase(it);
      } else {
        ++it;
      }
    }
  }

  const std::map<std::string, EngineConfig, std::less<>> configs_;
  std::mutex mu_;  // Start may run on several threads at once (any pool caller)
  std::list<Loader> loaders_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Provisioner>> MakeEngineProvisioner(
    std::map<std::string, EngineConfig, std::less<>> configs) {
  if (configs.empty()) {
    return absl::InvalidArgumentError("MakeEngineProvisioner: no model configs");
  }
  for (const auto& [name, config] : configs) {
    if (config.model_path.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("MakeEngineProvisioner: model '", name, "' has an empty model_path"));
    }
    // The pool budgets memory per instance, so the KV share must be known up front.
    if (config.kv_cache_bytes <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("MakeEngineProvisioner: model '", name,
                                                     "' needs kv_cache_bytes > 0, got ",
                                                     config.kv_cache_bytes));
    }
  }
  return std::make_unique<EngineProvisioner>(std::move(configs));
}

}  // namespace hearth
