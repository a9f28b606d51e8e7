#include "hearth/warm_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hearth/clock.h"
#include "hearth/keep_alive.h"

namespace hearth {
namespace {

// What a fake embedding service knows: the starts it was asked for (done fires when the
// test says) and which instances are gone (their handles destroyed).
struct Service {
  std::mutex mu;
  std::deque<std::pair<InstanceSpec, Provisioner::Done>> pending;
  std::vector<int64_t> gone;
  int64_t reported_bytes = 0;  // what handles report as memory_bytes()
};

class FakeHandle final : public InstanceHandle {
 public:
  FakeHandle(std::shared_ptr<Service> service, int64_t id, int64_t bytes)
      : service_(std::move(service)), id_(id), bytes_(bytes) {}
  ~FakeHandle() override {
    std::lock_guard<std::mutex> lock(service_->mu);
    service_->gone.push_back(id_);
  }
  int64_t memory_bytes() const override { return bytes_; }

 private:
  std::shared_ptr<Service> service_;
  const int64_t id_;
  const int64_t bytes_;
};

// The provisioner of an embedding service whose replicas come up when the test says.
class FakeProvisioner final : public Provisioner {
 public:
  explicit FakeProvisioner(std::shared_ptr<Service> service) : service_(std::move(service)) {}
  void Start(const InstanceSpec& spec, Done done) override {
    std::lock_guard<std::mutex> lock(service_->mu);
    service_->pending.emplace_back(spec, std::move(done));
  }

 private:
  std::shared_ptr<Service> service_;
};

// One acquisition's answer, and how many times it came.
struct Answer {
  std::optional<absl::StatusOr<Lease>> result;
  int calls = 0;
  bool ok() const { return result.has_value() && result->ok(); }
  absl::StatusCode code() const { return result->status().code(); }
  int64_t id() const { return (*result)->instance_id(); }
  void Release() { (*result)->Release(); }
};

class WarmPoolTest : public ::testing::Test {
 protected:
  static WarmPoolModelConfig Model(std::string name, int64_t bytes, int max_leases = 1,
                                   int min_warm = 0) {
    WarmPoolModelConfig m;
    m.name = std::move(name);
    m.memory_bytes = bytes;
    m.max_leases = max_leases;
    m.min_warm = min_warm;
    return m;
  }

  static WarmPoolConfig Config(std::vector<WarmPoolModelConfig> models, int64_t budget = 1000,
                               int max_instances = 10) {
    WarmPoolConfig c;
    c.models = std::move(models);
    c.memory_budget_bytes = budget;
    c.max_instances = max_instances;
    return c;
  }

  absl::Status Make(WarmPoolConfig config, std::string_view keep_alive = "fixed") {
    absl::StatusOr<std::unique_ptr<KeepAlivePolicy>> policy = MakeKeepAlivePolicy(keep_alive);
    if (!policy.ok()) return policy.status();
    return Make(std::move(config), *std::move(policy));
  }

  absl::Status Make(WarmPoolConfig config, std::unique_ptr<KeepAlivePolicy> policy) {
    absl::StatusOr<std::unique_ptr<WarmPool>> pool = WarmPool::Create(
        std::move(config), std::make_unique<FakeProvisioner>(service_), std::move(policy), &clock_);
    if (!pool.ok()) return pool.status();
    pool_ = *std::move(pool);
    return absl::OkStatus();
  }

  std::shared_ptr<Answer> Acquire(std::string_view model, absl::Duration timeout = absl::Hours(1)) {
    auto answer = std::make_shared<Answer>();
    pool_->AcquireAsync(model, clock_.Now() + timeout, [answer](absl::StatusOr<Lease> r) {
      answer->result = std::move(r);
      ++answer->calls;
    });
    return answer;
  }

  size_t Pending() {
    std::lock_guard<std::mutex> lock(service_->mu);
    return service_->pending.size();
  }

  // Fires done of the `index`-th pending start: a handle or `error`. Returns its id.
  int64_t Finish(size_t index = 0, absl::Status error = absl::OkStatus()) {
    std::pair<InstanceSpec, Provisioner::Done> start;
    {
      std::lock_guard<std::mutex> lock(service_->mu);
      EXPECT_LT(index, service_->pending.size());
      if (index >= service_->pending.size()) return 0;
      start = std::move(service_->pending[index]);
      service_->pending.erase(service_->pending.begin() + static_cast<ptrdiff_t>(index));
    }
    const int64_t bytes = service_->reported_bytes;
    if (error.ok()) {
      start.second(std::make_unique<FakeHandle>(service_, start.first.instance_id, bytes));
    } else {
      start.second(error);
    }
    return start.first.instance_id;
  }

  void FinishAll() {
    while (Pending() > 0) Finish();
  }

  std::vector<int64_t> Gone() {
    std::lock_guard<std::mutex> lock(service_->mu);
    return service_->gone;
  }

  ModelPoolMetrics ModelMetrics(const std::string& model) {
    return pool_->metrics().models.at(model);
  }

  ManualClock clock_{absl::FromUnixSeconds(1'000'000)};
  std::shared_ptr<Service> service_ = std::make_shared<Service>();
  std::unique_ptr<WarmPool> pool_;
};

TEST_F(WarmPoolTest, StateNames) {
  EXPECT_EQ(InstanceStateName(InstanceState::kProvisioning), "provisioning");
  EXPECT_EQ(InstanceStateName(InstanceState::kLoading), "loading");
  EXPECT_EQ(InstanceStateName(InstanceState::kIdle), "idle");
  EXPECT_EQ(InstanceStateName(InstanceState::kBusy), "busy");
  EXPECT_EQ(InstanceStateName(InstanceState::kDraining), "draining");
  EXPECT_EQ(InstanceStateName(InstanceState::kGone), "gone");
}

TEST_F(WarmPoolTest, ColdStartThenWarmHit) {
  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());
  auto first = Acquire("a");
  EXPECT_EQ(first->calls, 0);
  ASSERT_EQ(Pending(), 1u);
  EXPECT_EQ(ModelMetrics("a").provisioning, 1);
  EXPECT_EQ(ModelMetrics("a").waiting, 1);

  clock_.Advance(absl::Seconds(2));
  const int64_t id = Finish();
  ASSERT_EQ(first->calls, 1);
  ASSERT_TRUE(first->ok()) << first->result->status();
  EXPECT_EQ(first->id(), id);
  EXPECT_EQ((*first->result)->engine(), nullptr);
  EXPECT_EQ(ModelMetrics("a").busy, 1);

  first->Release();
  EXPECT_EQ(ModelMetrics("a").idle, 1);
  auto second = Acquire("a");
  ASSERT_EQ(second->calls, 1);  // at once
  ASSERT_TRUE(second->ok());
  EXPECT_EQ(second->id(), id);
  EXPECT_EQ(Pending(), 0u);

  WarmPoolMetrics m = pool_->metrics();
  EXPECT_EQ(m.cold_starts, 1u);
  EXPECT_EQ(m.warm_hits, 1u);
  EXPECT_EQ(m.instances_started, 1u);
  EXPECT_EQ(m.cold_start_ms.count, 1u);
  EXPECT_DOUBLE_EQ(m.cold_start_ms.sum, 2000);
  EXPECT_DOUBLE_EQ(m.models.at("a").last_cold_start_ms, 2000);
  EXPECT_EQ(m.wait_time_ms.count, 2u);
  EXPECT_DOUBLE_EQ(m.wait_time_ms.sum, 2000);  // the warm hit waited 0 ms
}

// What the AutoScaler is fed: only starts that produced an instance, per model, the
// longest model's when none is named.
TEST_F(WarmPoolTest, MeasuredColdStartCountsLoadedInstancesOnly) {
  ASSERT_TRUE(Make(Config({Model("a", 100), Model("b", 100)})).ok());
  EXPECT_EQ(MeasuredColdStart(pool_->metrics()), std::nullopt);

  auto failed = Acquire("a");
  clock_.Advance(absl::Milliseconds(30));
  Finish(0, absl::UnavailableError("no capacity in the zone"));
  ASSERT_EQ(failed->code(), absl::StatusCode::kUnavailable);
  WarmPoolMetrics m = pool_->metrics();
  EXPECT_EQ(m.instances_failed, 1u);
  EXPECT_EQ(m.cold_start_ms.count, 0u);
  EXPECT_EQ(MeasuredColdStart(m), std::nullopt);

  auto a = Acquire("a");
  clock_.Advance(absl::Milliseconds(1250));
  Finish();
  ASSERT_TRUE(a->ok());
  auto b = Acquire("b");
  clock_.Advance(absl::Milliseconds(400));
  Finish();
  ASSERT_TRUE(b->ok());
  m = pool_->metrics();
  EXPECT_EQ(m.cold_start_ms.count, 2u);
  EXPECT_EQ(MeasuredColdStart(m, "a"), absl::Milliseconds(1250));
  EXPECT_EQ(MeasuredColdStart(m, "b"), absl::Milliseconds(400));
  EXPECT_EQ(MeasuredColdStart(m), absl::Milliseconds(1250));
  EXPECT_EQ(MeasuredColdStart(m, "unknown"), std::nullopt);
}

TEST_F(WarmPoolTest, LoadingStateWhenTheProvisionerSaysSo) {
  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());
  auto answer = Acquire("a");
  std::function<void()> on_loading;
  {
    std::lock_guard<std::mutex> lock(service_->mu);
    on_loading = service_->pending.front().first.on_loading;
  }
  ASSERT_TRUE(on_loading != nullptr);
  on_loading();
  EXPECT_EQ(ModelMetrics("a").loading, 1);
  EXPECT_EQ(ModelMetrics("a").provisioning, 0);
  Finish();
  EXPECT_TRUE(answer->ok());
}

TEST_F(WarmPoolTest, WaitersAreServedFirstInFirstOut) {
  ASSERT_TRUE(Make(Config({Model("a", 100)}, 1000, /*max_instances=*/1)).ok());
  auto w1 = Acquire("a");
  auto w2 = Acquire("a");
  auto w3 = Acquire("a");
  EXPECT_EQ(Pending(), 1u);  // only one instance fits
  EXPECT_EQ(ModelMetrics("a").waiting, 3);
  Finish();
  ASSERT_TRUE(w1->ok());
  EXPECT_EQ(w2->calls + w3->calls, 0);
  w1->Release();
  ASSERT_TRUE(w2->ok());
  EXPECT_EQ(w3->calls, 0);
  w2->Release();
  ASSERT_TRUE(w3->ok());
  EXPECT_EQ(w1->calls + w2->calls + w3->calls, 3);
}

TEST_F(WarmPoolTest, DeadlineExpiresAtTick) {
  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());
  auto answer = Acquire("a", absl::Seconds(5));
  EXPECT_EQ(pool_->NextWakeup(), clock_.Now() + absl::Seconds(5));
  clock_.Advance(absl::Seconds(5) - absl::Nanoseconds(1));
  pool_->Tick();
  EXPECT_EQ(answer->calls, 0);
  clock_.Advance(absl::Nanoseconds(1));
  pool_->Tick();
  ASSERT_EQ(answer->calls, 1);
  EXPECT_EQ(answer->code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(pool_->metrics().failed_deadline, 1u);
  EXPECT_EQ(ModelMetrics("a").waiting, 0);
  // The instance started for it still comes up, idle.
  Finish();
  EXPECT_EQ(answer->calls, 1);
  EXPECT_EQ(ModelMetrics("a").idle, 1);
}

TEST_F(WarmPoolTest, FailingCallsStillAnswerExpiredWaiters) {
  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());
  auto w1 = Acquire("a", absl::Seconds(5));
  auto w2 = Acquire("a", absl::Seconds(6));
  auto w3 = Acquire("a", absl::Seconds(7));
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(pool_->SetDesiredInstances("zzz", 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(w1->calls, 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(pool_->Prewarm("a", -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w2->calls, 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(pool_->Retire(999).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(w3->calls, 1);
  EXPECT_EQ(w3->code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(WarmPoolTest, PastDeadlineTakesOnlyAWarmSlot) {
  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());
  auto answer = Acquire("a", absl::ZeroDuration());
  ASSERT_EQ(answer->calls, 1);
  EXPECT_EQ(answer->code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Pending(), 0u);
}

TEST_F(WarmPoolTest, ProvisionerErrorReachesTheWaitersCountingOnIt) {
  ASSERT_TRUE(Make(Config({Model("a", 100, /*max_leases=*/2)})).ok());
  auto w1 = Acquire("a");
  auto w2 = Acquire("a");
  auto w3 = Acquire("a");
  ASSERT_EQ(Pending(), 2u);  // w1 and w2 on the first instance, w3 on the second
  Finish(0, absl::UnavailableError("no GPU left"));
  ASSERT_EQ(w1->calls, 1);
  ASSERT_EQ(w2->calls, 1);
  EXPECT_EQ(w1->code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(w2->code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(w1->result->status().message(), "no GPU left");
  EXPECT_EQ(w3->calls, 0);
  Finish();
  EXPECT_TRUE(w3->ok());
  WarmPoolMetrics m = pool_->metrics();
  EXPECT_EQ(m.failed_provisioner, 2u);
  EXPECT_EQ(m.instances_failed, 1u);
  EXPECT_EQ(m.instances, 1);
}

TEST_F(WarmPoolTest, MaxLeasesPerInstance) {
  ASSERT_TRUE(Make(Config({Model("a", 100, /*max_leases=*/2)}, 1000, 1)).ok());
  auto w1 = Acquire("a");
  auto w2 = Acquire("a");
  auto w3 = Acquire("a");
  Finish();
  ASSERT_TRUE(w1->ok());
  ASSERT_TRUE(w2->ok());
  EXPECT_EQ(w1->id(), w2->id());
  EXPECT_EQ(w3->calls, 0);
  EXPECT_EQ(ModelMetrics("a").leases, 2);
  w2->Release();
  ASSERT_TRUE(w3->ok());
  EXPECT_EQ(w3->id(), w1->id());
}

TEST_F(WarmPoolTest, LeastLoadedThenMostRecentlyUsed) {
  ASSERT_TRUE(Make(Config({Model("a", 100, /*max_leases=*/4)})).ok());
  ASSERT_TRUE(pool_->Prewarm("a", 2).ok());
  const int64_t first = Finish();
  clock_.Advance(absl::Seconds(1));
  const int64_t second = Finish();
  auto l1 = Acquire("a");  // both idle: the most recently used (loaded) one
  ASSERT_TRUE(l1->ok());
  EXPECT_EQ(l1->id(), second);
  auto l2 = Acquire("a");  // the least loaded
  ASSERT_TRUE(l2->ok());
  EXPECT_EQ(l2->id(), first);
}

TEST_F(WarmPoolTest, MemoryBudgetEvictsIdleLeastRecentlyUsed) {
  ASSERT_TRUE(Make(Config({Model("a", 400), Model("b", 400)}, 1000)).ok());
  auto a1 = Acquire("a");
  auto a2 = Acquire("a");
  const int64_t id1 = Finish();
  const int64_t id2 = Finish();
  ASSERT_TRUE(a1->ok() && a2->ok());
  clock_.Advance(absl::Seconds(1));
  (a1->id() == id1 ? a1 : a2)->Release();  // id1 idle first: least recently used
  clock_.Advance(absl::Seconds(1));
  (a1->id() == id2 ? a1 : a2)->Release();
  auto b = Acquire("b");
  EXPECT_EQ(Gone(), std::vector<int64_t>{id1});
  ASSERT_EQ(Pending(), 1u);
  Finish();
  EXPECT_TRUE(b->ok());
  WarmPoolMetrics m = pool_->metrics();
  EXPECT_EQ(m.instances_evicted, 1u);
  EXPECT_EQ(m.memory_bytes, 800);
}

TEST_F(WarmPoolTest, BusyInstancesAreNeverEvicted) {
  ASSERT_TRUE(Make(Config({Model("a", 600), Model("b", 600)}, 1000)).ok());
  auto a = Acquire("a");
  Finish();
  ASSERT_TRUE(a->ok());
  auto b = Acquire("b");
  EXPECT_EQ(Pending(), 0u);  // no room, and the a instance is busy
  EXPECT_TRUE(Gone().empty());
  a->Release();  // now idle: evicted for b's waiter at once
  EXPECT_EQ(Gone().size(), 1u);
  ASSERT_EQ(Pending(), 1u);
  Finish();
  EXPECT_TRUE(b->ok());
}

TEST_F(WarmPoolTest, MinWarmInstancesAreNeverEvicted) {
  ASSERT_TRUE(
      Make(Config({Model("a", 600, 1, /*min_warm=*/1), Model("b", 600)}, 1000), "immediate").ok());
  ASSERT_EQ(Pending(), 1u);  // started at Create
  Finish();
  EXPECT_EQ(ModelMetrics("a").idle, 1);
  auto b = Acquire("b", absl::Seconds(10));
  EXPECT_EQ(Pending(), 0u);
  clock_.Advance(absl::Seconds(10));
  pool_->Tick();
  EXPECT_EQ(b->code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ModelMetrics("a").idle, 1);  // nor unloaded by the immediate keep-alive
  EXPECT_TRUE(Gone().empty());
}

TEST_F(WarmPoolTest, MaxInstancesEvictsToo) {
  ASSERT_TRUE(Make(Config({Model("a", 1), Model("b", 1)}, 1000, /*max_instances=*/1)).ok());
  auto a = Acquire("a");
  const int64_t id = Finish();
  a->Release();
  auto b = Acquire("b");
  EXPECT_EQ(Gone(), std::vector<int64_t>{id});
  Finish();
  EXPECT_TRUE(b->ok());
  EXPECT_EQ(pool_->metrics().instances, 1);
}

TEST_F(WarmPoolTest, PrewarmStartsInstancesNow) {
  ASSERT_TRUE(Make(Config({Model("a", 300)}, 1000), "fixed:60").ok());
  ASSERT_TRUE(pool_->Prewarm("a", 2).ok());
  EXPECT_EQ(Pending(), 2u);
  FinishAll();
  EXPECT_EQ(ModelMetrics("a").idle, 2);
  const absl::Status s = pool_->Prewarm("a", 2);  // room for one more only
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("capacity for 1"), std::string_view::npos) << s;
  FinishAll();
  // Above the floor (0), they go by the keep-alive window, counted from loading.
  clock_.Advance(absl::Seconds(60));
  pool_->Tick();
  EXPECT_EQ(pool_->metrics().instances, 0);
  EXPECT_EQ(pool_->metrics().instances_expired, 3u);
}

TEST_F(WarmPoolTest, SetDesiredInstancesUpAndDown) {
  ASSERT_TRUE(Make(Config({Model("a", 100)}), "fixed:60").ok());
  ASSERT_TRUE(pool_->SetDesiredInstances("a", 3).ok());
  EXPECT_EQ(Pending(), 3u);
  EXPECT_EQ(ModelMetrics("a").desired, 3);
  FinishAll();
  clock_.Advance(absl::Seconds(120));
  pool_->Tick();
  EXPECT_EQ(ModelMetrics("a").idle, 3);  // the floor holds past the keep-alive window
  EXPECT_EQ(pool_->NextWakeup(), absl::InfiniteFuture());

  // One in use when the target drops: the two idle ones have had their window.
  auto lease = Acquire("a");
  ASSERT_TRUE(lease->ok());
  ASSERT_TRUE(pool_->SetDesiredInstances("a", 1).ok());
  EXPECT_EQ(ModelMetrics("a").idle, 0);
  EXPECT_EQ(ModelMetrics("a").busy, 1);
  // Back up again: starts two.
  ASSERT_TRUE(pool_->SetDesiredInstances("a", 3).ok());
  EXPECT_EQ(Pending(), 2u);
}

TEST_F(WarmPoolTest, SetDesiredDownKeepsIdleInstancesForTheirWindow) {
  ASSERT_TRUE(Make(Config({Model("a", 100)}), "fixed:60").ok());
  ASSERT_TRUE(pool_->SetDesiredInstances("a", 2).ok());
  FinishAll();
  const absl::Time loaded = clock_.Now();
  clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(pool_->SetDesiredInstances("a", 0).ok());
  EXPECT_EQ(ModelMetrics("a").idle, 2);
  EXPECT_EQ(pool_->NextWakeup(), loaded + absl::Seconds(60));
  clock_.Set(loaded + absl::Seconds(60));
  pool_->Tick();
  EXPECT_EQ(pool_->metrics().instances, 0);
}

TEST_F(WarmPoolTest, SetDesiredDownWithImmediateStopsAtOnce) {
  ASSERT_TRUE(Make(Config({Model("a", 100)}), "immediate").ok());
  ASSERT_TRUE(pool_->SetDesiredInstances("a", 2).ok());
  FinishAll();
  EXPECT_EQ(ModelMetrics("a").idle, 2);
  ASSERT_TRUE(pool_->SetDesiredInstances("a", 1).ok());
  EXPECT_EQ(ModelMetrics("a").idle, 1);
  EXPECT_EQ(Gone().size(), 1u);
}

TEST_F(WarmPoolTest, FixedKeepAliveGoesAtExactlyIdlePlusTimeout) {
  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());  // "fixed": 10 minutes
  auto lease = Acquire("a");
  const int64_t id = Finish();
  clock_.Advance(absl::Seconds(7));
  lease->Release();
  const absl::Time idle = clock_.Now();
  EXPECT_EQ(pool_->NextWakeup(), idle + absl::Minutes(10));
  clock_.Set(idle + absl::Minutes(10) - absl::Nanoseconds(1));
  pool_->Tick();
  EXPECT_TRUE(Gone().empty());
  EXPECT_EQ(ModelMetrics("a").idle, 1);
  clock_.Set(idle + absl::Minutes(10));
  pool_->Tick();
  EXPECT_EQ(Gone(), std::vector<int64_t>{id});
  EXPECT_EQ(pool_->metrics().instances, 0);
  EXPECT_EQ(pool_->metrics().instances_expired, 1u);
  EXPECT_EQ(pool_->NextWakeup(), absl::InfiniteFuture());
}

TEST_F(WarmPoolTest, ImmediateKeepAliveUnloadsOnRelease) {
  ASSERT_TRUE(Make(Config({Model("a", 100)}), "immediate").ok());
  auto lease = Acquire("a");
  const int64_t id = Finish();
  // Loaded and leased at once: not unloaded while busy.
  EXPECT_TRUE(Gone().empty());
  lease->Release();
  EXPECT_EQ(Gone(), std::vector<int64_t>{id});
  EXPECT_EQ(pool_->metrics().memory_bytes, 0);
}

TEST_F(WarmPoolTest, HybridPrewarmUnloadsAndReloads) {
  HybridKeepAliveConfig hybrid;
  hybrid.min_samples = 3;
  ASSERT_TRUE(Make(Config({Model("a", 100)}), MakeHybridKeepAlive(hybrid).value()).ok());
  // Requests every 10.5 minutes: idle times in bin 10. Until three are seen the
  // histogram is not representative and the instance is kept (4 hours).
  auto lease = Acquire("a");
  Finish();
  for (int i = 0; i < 3; ++i) {
    lease->Release();
    clock_.Advance(absl::Seconds(630));
    lease = Acquire("a");
    ASSERT_TRUE(lease->ok());
    EXPECT_EQ(pool_->metrics().instances_started, 1u);  // warm hits
  }
  // Now pre-warm = 10 min - 10 % = 9 min, unloaded until then; kept to 11 min + 10 %.
  lease->Release();
  const absl::Time idle = clock_.Now();
  EXPECT_EQ(Gone().size(), 1u);
  EXPECT_EQ(pool_->metrics().instances, 0);
  EXPECT_EQ(pool_->NextWakeup(), idle + absl::Minutes(9));
  clock_.Set(idle + absl::Minutes(9) - absl::Nanoseconds(1));
  pool_->Tick();
  EXPECT_EQ(Pending(), 0u);
  clock_.Set(idle + absl::Minutes(9));
  pool_->Tick();
  ASSERT_EQ(Pending(), 1u);  // reloading
  clock_.Advance(absl::Seconds(5));
  Finish();
  EXPECT_EQ(ModelMetrics("a").idle, 1);
  const absl::Time end = idle + absl::Seconds(726);  // 12.1 minutes
  EXPECT_EQ(pool_->NextWakeup(), end);
  clock_.Set(end - absl::Nanoseconds(1));
  pool_->Tick();
  EXPECT_EQ(ModelMetrics("a").idle, 1);
  clock_.Set(end);
  pool_->Tick();
  EXPECT_EQ(pool_->metrics().instances, 0);
}

TEST_F(WarmPoolTest, HybridRequestBeforePrewarmCancelsTheReload) {
  HybridKeepAliveConfig hybrid;
  hybrid.min_samples = 1;
  ASSERT_TRUE(Make(Config({Model("a", 100)}), MakeHybridKeepAlive(hybrid).value()).ok());
  auto lease = Acquire("a");
  Finish();
  lease->Release();
  clock_.Advance(absl::Minutes(30));
  lease = Acquire("a");  // idle 30 min recorded: pre-warm 27 min from now on
  lease->Release();
  EXPECT_EQ(pool_->metrics().instances, 0);
  clock_.Advance(absl::Minutes(1));
  lease = Acquire("a");  // early: a cold start, and the timer is moot
  EXPECT_EQ(Pending(), 1u);
  Finish();
  ASSERT_TRUE(lease->ok());
  // The next window comes from the new idle period when this lease returns; until then
  // only the waiter-free, lease-holding instance exists and no reload is pending.
  EXPECT_EQ(pool_->NextWakeup(), absl::InfiniteFuture());
}

TEST_F(WarmPoolTest, IdleSecondsIntegrateOverTheClock) {
  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());
  ASSERT_TRUE(pool_->Prewarm("a", 1).ok());
  clock_.Advance(absl::Seconds(3));  // provisioning: neither idle nor loaded
  Finish();
  clock_.Advance(absl::Seconds(30));  // idle
  auto lease = Acquire("a");
  clock_.Advance(absl::Seconds(10));  // busy
  lease->Release();
  clock_.Advance(absl::Seconds(20));  // idle
  WarmPoolMetrics m = pool_->metrics();
  EXPECT_DOUBLE_EQ(m.idle_instance_seconds, 50);
  EXPECT_DOUBLE_EQ(m.idle_byte_seconds, 5000);
  EXPECT_DOUBLE_EQ(m.loaded_instance_seconds, 60);
}

TEST_F(WarmPoolTest, MemoryLearnedFromTheHandle) {
  ASSERT_TRUE(Make(Config({Model("a", 0)}, 1000)).ok());
  service_->reported_bytes = 300;
  auto w1 = Acquire("a");
  auto w2 = Acquire("a");
  EXPECT_EQ(Pending(), 1u);  // size unknown: one start at a time
  Finish();
  EXPECT_EQ(ModelMetrics("a").memory_bytes, 300);
  ASSERT_EQ(Pending(), 1u);  // now w2's instance, reserving 300 bytes
  Finish();
  EXPECT_TRUE(w2->ok());
  EXPECT_EQ(pool_->metrics().memory_bytes, 600);
}

TEST_F(WarmPoolTest, InstanceLargerThanTheBudgetAllowsFailsItsWaiters) {
  ASSERT_TRUE(Make(Config({Model("a", 0)}, 1000)).ok());
  service_->reported_bytes = 2000;
  auto w = Acquire("a");
  const int64_t id = Finish();
  ASSERT_EQ(w->calls, 1);
  EXPECT_EQ(w->code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Gone(), std::vector<int64_t>{id});
  EXPECT_EQ(pool_->metrics().memory_bytes, 0);
}

TEST_F(WarmPoolTest, RetireDrainsABusyInstance) {
  ASSERT_TRUE(Make(Config({Model("a", 100, 2)})).ok());
  auto l1 = Acquire("a");
  auto l2 = Acquire("a");
  const int64_t id = Finish();
  ASSERT_TRUE(pool_->Retire(id).ok());
  EXPECT_EQ(ModelMetrics("a").draining, 1);
  auto l3 = Acquire("a");  // no new lease on a draining instance
  EXPECT_EQ(l3->calls, 0);
  EXPECT_EQ(Pending(), 1u);
  l1->Release();
  EXPECT_TRUE(Gone().empty());
  l2->Release();
  EXPECT_EQ(Gone(), std::vector<int64_t>{id});
  EXPECT_EQ(pool_->Retire(id).code(), absl::StatusCode::kNotFound);
}

TEST_F(WarmPoolTest, LeaseOutlivesThePool) {
  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());
  auto lease = Acquire("a");
  auto waiter = Acquire("a");
  Finish();
  auto third = Acquire("a");  // a third instance, started...
  ASSERT_TRUE(lease->ok());
  pool_.reset();
  EXPECT_EQ(waiter->code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(third->code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(Gone().empty());  // busy: draining
  lease->Release();
  EXPECT_EQ(Gone().size(), 1u);
  FinishAll();  // ...and done after the pool is gone: destroyed at once
  EXPECT_EQ(Gone().size(), 3u);
}

TEST_F(WarmPoolTest, BadInputsGetClearErrors) {
  const std::vector<WarmPoolConfig> bad = {
      Config({}),
      Config({Model("a", 100)}, /*budget=*/0),
      Config({Model("a", 100)}, 1000, /*max_instances=*/0),
      Config({Model("a", 100, /*max_leases=*/0)}),
      Config({Model("a", 100), Model("a", 100)}),
      Config({Model("", 100)}),
      Config({Model("a", -1)}),
      Config({Model("a", 2000)}),
      Config({Model("a", 100, 1, /*min_warm=*/-1)}),
      Config({Model("a", 600, 1, 1), Model("b", 600, 1, 1)}),
      Config({Model("a", 1, 1, 3)}, 1000, 2),
      Config({Model("a", 0, 1, 1)}),
  };
  for (const WarmPoolConfig& c : bad) {
    EXPECT_EQ(Make(c).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(WarmPool::Create(Config({Model("a", 1)}), nullptr, MakeKeepAlivePolicy("fixed").value(),
                             &clock_)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(Make(Config({Model("a", 100)})).ok());
  auto unknown = Acquire("zzz");
  ASSERT_EQ(unknown->calls, 1);
  EXPECT_EQ(unknown->code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown->result->status().message().find("zzz"), std::string_view::npos);
  EXPECT_EQ(pool_->Prewarm("a", -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pool_->Prewarm("zzz", 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(pool_->SetDesiredInstances("a", -2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pool_->SetDesiredInstances("zzz", 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(pool_->Retire(12345).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(pool_->Prewarm("a", 0).ok());
  EXPECT_EQ(Pending(), 0u);
}

TEST_F(WarmPoolTest, ProvisionerCallingDoneInsideStart) {
  // An embedding service whose replicas are ready at once (e.g. already running).
  class Immediate final : public Provisioner {
   public:
    explicit Immediate(std::shared_ptr<Service> s) : service_(std::move(s)) {}
    void Start(const InstanceSpec& spec, Done done) override {
      done(std::make_unique<FakeHandle>(service_, spec.instance_id, 0));
    }

   private:
    std::shared_ptr<Service> service_;
  };
  auto pool =
      WarmPool::Create(Config({Model("a", 100, 1, 1)}), std::make_unique<Immediate>(service_),
                       MakeKeepAlivePolicy("immediate").value(), &clock_);
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ((*pool)->metrics().models.at("a").idle, 1);
  absl::StatusOr<Lease> a = (*pool)->Acquire("a", absl::InfiniteFuture());
  ASSERT_TRUE(a.ok());
  absl::StatusOr<Lease> b = (*pool)->Acquire("a", absl::InfiniteFuture());  // cold, at once
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->instance_id(), b->instance_id());
  Lease moved = *std::move(b);
  EXPECT_FALSE(b->held());
  EXPECT_TRUE(moved.held());
  moved = Lease();  // releases: above the floor, immediate keep-alive unloads it
  EXPECT_EQ(Gone().size(), 1u);
}

// Random operations against invariants: leases per instance never exceed max_leases,
// memory and instance counts stay within the limits, every acquisition is answered
// exactly once (by the end, when the pool is destroyed).
TEST_F(WarmPoolTest, RandomOperationsKeepTheInvariants) {
  std::map<absl::StatusCode, int> outcomes;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    service_ = std::make_shared<Service>();
    std::mt19937 rng(seed);
    const char* keep_alive[] = {"fixed:30", "immediate", "hybrid"};
    WarmPoolConfig config =
        Config({Model("a", 300, 2, 1), Model("b", 200, 3), Model("c", 0, 1)}, 1000, 4);
    ASSERT_TRUE(Make(config, keep_alive[seed % 3]).ok());
    service_->reported_bytes = 250;
    std::vector<std::shared_ptr<Answer>> answers;
    std::vector<int> answer_model;
    const std::string models[] = {"a", "b", "c"};
    const int max_leases[] = {2, 3, 1};
    for (int step = 0; step < 400; ++step) {
      switch (rng() % 9) {
        case 0:
        case 1: {
          const int model = static_cast<int>(rng() % 3);
          answers.push_back(Acquire(models[model], absl::Seconds(static_cast<int>(rng() % 20))));
          answer_model.push_back(model);
          break;
        }
        case 2:
          if (Pending() > 0) {
            Finish(rng() % Pending(),
                   rng() % 5 == 0 ? absl::UnavailableError("x") : absl::OkStatus());
          }
          break;
        case 3: {
          auto it = std::find_if(answers.begin(), answers.end(),
                                 [](const auto& a) { return a->ok() && (*a->result)->held(); });
          if (it != answers.end()) (*it)->Release();
          break;
        }
        case 4:
          ASSERT_TRUE(pool_->SetDesiredInstances(models[rng() % 3], rng() % 3).ok());
          break;
        case 5:
          (void)pool_->Prewarm(models[rng() % 3], 1);  // ResourceExhausted when full
          break;
        case 6:
          if (!answers.empty()) {
            const Answer& a = *answers[rng() % answers.size()];
            if (a.ok()) (void)pool_->Retire(a.id());  // NotFound once gone or retired
          }
          break;
        default:
          clock_.Advance(absl::Seconds(static_cast<int>(rng() % 10)));
          pool_->Tick();
      }
      std::map<int64_t, int> leases;
      std::map<int64_t, int> limit;
      for (size_t i = 0; i < answers.size(); ++i) {
        const Answer& a = *answers[i];
        ASSERT_LE(a.calls, 1);
        if (a.ok() && (*a.result)->held()) {
          ++leases[a.id()];
          limit[a.id()] = max_leases[answer_model[i]];
        }
      }
      WarmPoolMetrics m = pool_->metrics();
      for (const auto& [id, n] : leases) ASSERT_LE(n, limit[id]) << seed;
      ASSERT_LE(m.memory_bytes, 1000) << seed;
      ASSERT_LE(m.instances, 4) << seed;
      int out = 0;
      for (const auto& [name, mm] : m.models) out += mm.leases;
      int held_now = 0;
      for (const auto& [id, n] : leases) held_now += n;
      ASSERT_EQ(out, held_now) << seed;
    }
    pool_.reset();
    for (const auto& a : answers) {
      ASSERT_EQ(a->calls, 1) << seed;
      ++outcomes[a->result->status().code()];
    }
    answers.clear();
    FinishAll();
  }
  // The operations reach every way an acquisition ends.
  EXPECT_GT(outcomes[absl::StatusCode::kOk], 100);
  EXPECT_GT(outcomes[absl::StatusCode::kDeadlineExceeded], 0);
  EXPECT_GT(outcomes[absl::StatusCode::kUnavailable], 0);
  EXPECT_GT(outcomes[absl::StatusCode::kCancelled], 0);
}

}  // namespace
}  // namespace hearth
