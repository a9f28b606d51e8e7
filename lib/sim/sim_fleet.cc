#include "lib/sim/sim_fleet.h"

#include <algorithm>

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hearth {

absl::Time SimTime(double seconds) { return absl::UnixEpoch() + absl::Seconds(seconds); }

double SimSeconds(absl::Time time) { return absl::ToDoubleSeconds(time - absl::UnixEpoch()); }

int64_t SimNanos(double seconds) { return static_cast<int64_t>(std::ceil(seconds * 1e9)); }

void SimInstance::AddLeases(int delta, double now_s) {
  if (leases == 0 && delta > 0) leased_since_s = now_s;
  leases += delta;
  if (leases == 0 && delta < 0) leased_s += now_s - leased_since_s;
}

class SimFleet::FleetProvisioner final : public Provisioner {
 public:
  explicit FleetProvisioner(SimFleet* fleet) : fleet_(fleet) {}
  void Start(const InstanceSpec& spec, Done done) override { fleet_->Start(spec, std::move(done)); }

 private:
  SimFleet* fleet_;
};

class SimFleet::Handle final : public InstanceHandle {
 public:
  Handle(SimFleet* fleet, int64_t id, int64_t memory_bytes)
      : fleet_(fleet), id_(id), memory_bytes_(memory_bytes) {}
  ~Handle() override { fleet_->Gone(id_); }
  int64_t memory_bytes() const override { return memory_bytes_; }

 private:
  SimFleet* fleet_;
  int64_t id_;
  int64_t memory_bytes_;
};

SimFleet::SimFleet(std::vector<SimFleetModel> models, EventQueue* events, const Clock* clock,
                   double failure_rate, uint64_t seed)
    : models_(std::move(models)),
      events_(events),
      clock_(clock),
      failure_rate_(failure_rate),
      rng_(seed) {
  for (size_t i = 0; i < models_.size(); ++i) model_index_[models_[i].name] = static_cast<int>(i);
  live_.resize(models_.size());
}

std::unique_ptr<Provisioner> SimFleet::MakeProvisioner() {
  return std::make_unique<FleetProvisioner>(this);
}

double SimFleet::NowS() const { return SimSeconds(clock_->Now()); }

void SimFleet::Start(const InstanceSpec& spec, Provisioner::Done done) {
  auto model = model_index_.find(spec.model);
  if (model == model_index_.end()) {
    done(absl::NotFoundError(
        absl::StrCat("simulated provisioner: unknown model '", spec.model, "'")));
    return;
  }
  const ReplicaProfile& profile = *models_[model->second].profile;
  // The step time of the measured profile: decodes and prefill as measured apart.
  StepSecondsFn step = [&profile](int decodes, int prefill_tokens) {
    return profile.DecodeStepSeconds(decodes) + profile.PrefillSeconds(prefill_tokens);
  };
  absl::StatusOr<SimReplica> replica =
      SimReplica::Create(profile.max_sequences, profile.max_batch_tokens, std::move(step));
  if (!replica.ok()) {
    done(replica.status());
    return;
  }
  // The base is the first instances alive: a replacement for a gone base instance joins it.
  const std::vector<SimInstance*> live = LiveInstances(model->second);
  const int64_t live_base = std::count_if(live.begin(), live.end(),
                                          [](const SimInstance* i) { return i->always_on; });
  auto instance = std::make_unique<SimInstance>(
      SimInstance{.id = spec.instance_id,
                  .model = model->second,
                  .start_s = NowS(),
                  .always_on = live_base < models_[model->second].always_on,
                  .replica = *std::move(replica),
                  .done = std::move(done)});
  by_id_[instance->id] = instance.get();
  events_->Push(SimNanos(instance->start_s + models_[model->second].cold_start_s),
                EventKind::kInstanceReady, instance->id);
  live_[instance->model].push_back(instance.get());
  instances_.push_back(std::move(instance));
}

std::vector<SimInstance*> SimFleet::LiveInstances(int model) {
  std::vector<SimInstance*>& live = live_[model];
  std::erase_if(live, [](const SimInstance* instance) { return instance->gone(); });
  return live;
}

void SimFleet::Ready(int64_t id) {
  SimInstance* instance = Find(id);
  if (instance == nullptr || !instance->done) return;
  Provisioner::Done done = std::move(instance->done);
  instance->done = nullptr;
  // Drawn for every start, failing or not, so the sequence of draws (and the run) depends
  // on the seed and the order of starts only.
  const bool fail = std::uniform_real_distribution<double>(0, 1)(rng_) < failure_rate_;
  if (fail) {
    instance->failed = true;
    instance->gone_s = NowS();
    done(absl::UnavailableError(
        absl::StrCat("simulated provisioner: instance ", id, " failed to start")));
    return;
  }
  instance->ready_s = NowS();
  done(std::make_unique<Handle>(this, id, models_[instance->model].profile->memory_bytes()));
}

void SimFleet::CancelStarts() {
  for (const auto& instance : instances_) {
    if (!instance->done) continue;
    Provisioner::Done done = std::move(instance->done);
    instance->done = nullptr;
    instance->failed = true;
    instance->gone_s = NowS();
    done(absl::CancelledError("simulation ended during the cold start"));
  }
}

void SimFleet::Gone(int64_t id) {
  if (SimInstance* instance = Find(id)) instance->gone_s = NowS();
}

SimInstance* SimFleet::Find(int64_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

}  // namespace hearth
