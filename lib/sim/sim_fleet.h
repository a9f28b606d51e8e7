// SimFleet: the simulated instances, and the Provisioner through which the WarmPool
// starts them.
//
// Provisioner::Start records an instance and schedules its kInstanceReady event at
// now + cold start (the model's measured load time + the provisioning overhead); at that
// event the simulator calls Ready(), which hands the WarmPool a handle (or the
// provisioner's error, for a seeded fraction of starts). The WarmPool destroys the handle
// when the instance is gone: the handle's destructor stamps the instance's end of life,
// which ends its billing. Instances are never forgotten: their records stay for the
// totals.
//
// Thread-safety: none; the simulator's loop is the only thread. The WarmPool calls
// Start and destroys handles outside its lock, from inside the loop's calls into it.
#ifndef HEARTH_LIB_SIM_SIM_FLEET_H_
#define HEARTH_LIB_SIM_SIM_FLEET_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "hearth/clock.h"
#include "hearth/replica_profile.h"
#include "hearth/warm_pool.h"
#include "lib/sim/sim_events.h"
#include "lib/sim/sim_replica.h"

namespace hearth {

// What the fleet needs of one model.
struct SimFleetModel {
  std::string name;
  const ReplicaProfile* profile = nullptr;  // not owned; outlives the fleet
  double cold_start_s = 0;                  // Start → ready
  int always_on = 0;  // live instances billed always-on (the base); the rest serverless
};

struct SimInstance {
  int64_t id = 0;
  int model = 0;  // index into the fleet's models
  double start_s = 0;
  double ready_s = std::numeric_limits<double>::infinity();  // until loaded
  double gone_s = std::numeric_limits<double>::infinity();   // until gone
  bool failed = false;                                       // the start failed: never loaded
  bool always_on = false;  // one of its model's always-on base (billed hourly)
  SimReplica replica;
  int leases = 0;
  double leased_since_s = 0;     // when leases last went from 0 to 1
  double leased_s = 0;           // time with at least one lease out
  int64_t change_event_ns = -1;  // the pending kInstanceChange event, -1 if none
  // Snapshots at the last autoscaler tick, for per-tick rates.
  int64_t tick_tokens = 0;
  double tick_busy_s = 0;
  Provisioner::Done done;  // until Ready()

  bool loaded() const { return ready_s != std::numeric_limits<double>::infinity() && !gone(); }
  bool starting() const { return !failed && ready_s == std::numeric_limits<double>::infinity(); }
  bool gone() const { return gone_s != std::numeric_limits<double>::infinity(); }
  // The lease count changes at now_s (+1 or -1): keeps leased_s.
  void AddLeases(int delta, double now_s);
};

class SimFleet {
 public:
  // `events` and `clock` are not owned and outlive the fleet. failure_rate in [0, 1).
  SimFleet(std::vector<SimFleetModel> models, EventQueue* events, const Clock* clock,
           double failure_rate, uint64_t seed);

  // A Provisioner for the WarmPool that starts instances in this fleet. The fleet must
  // outlive it (and the pool's handles).
  std::unique_ptr<Provisioner> MakeProvisioner();

  // The kInstanceReady event of instance `id`: hands the pool its handle or the error.
  void Ready(int64_t id);
  // At the end of the run: answers every start still in progress with Cancelled and
  // marks those instances gone now.
  void CancelStarts();

  SimInstance* Find(int64_t id);
  // Every instance ever started, in start order.
  const std::vector<std::unique_ptr<SimInstance>>& instances() const { return instances_; }
  // The instances of `model` not gone yet (starting or loaded), in start order: a copy,
  // so the caller may start or end instances while walking it. Gone ones are dropped
  // from the list here, which keeps a tick's cost proportional to the live fleet.
  std::vector<SimInstance*> LiveInstances(int model);
  const std::vector<SimFleetModel>& models() const { return models_; }
  double NowS() const;

 private:
  class FleetProvisioner;
  class Handle;
  void Start(const InstanceSpec& spec, Provisioner::Done done);
  void Gone(int64_t id);

  std::vector<SimFleetModel> models_;
  absl::flat_hash_map<std::string, int> model_index_;
  EventQueue* events_;
  const Clock* clock_;
  double failure_rate_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<SimInstance>> instances_;  // start order
  std::vector<std::vector<SimInstance*>> live_;          // per model; may hold gone ones
  absl::flat_hash_map<int64_t, SimInstance*> by_id_;
};

// Virtual time: seconds since the start of the trace <-> the clock's absl::Time and the
// event queue's nanoseconds. Event times round up, so an event never fires before the
// moment it stands for.
absl::Time SimTime(double seconds);
double SimSeconds(absl::Time time);
int64_t SimNanos(double seconds);

}  // namespace hearth

#endif  // HEARTH_LIB_SIM_SIM_FLEET_H_
