#include "lib/sim/sim_replica.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace hearth {
namespace {

// 50 ms per step plus 1 ms per prompt token and 10 ms per decode: the fixed part makes
// the number of steps (chunking) visible in the times.
double StepSeconds(int decodes, int prefill_tokens) {
  return 0.05 + 0.001 * prefill_tokens + 0.01 * decodes;
}

struct Times {
  double first_token = -1;
  double done = -1;
};

std::map<int64_t, Times> Collect(const std::vector<ReplicaProgress>& progress) {
  std::map<int64_t, Times> times;
  for (const ReplicaProgress& p : progress) {
    Times& t = times[p.request];
    (p.kind == ReplicaProgress::Kind::kFirstToken ? t.first_token : t.done) = p.time_s;
  }
  return times;
}

// Drives a replica event by event, as the simulator does, until it is idle.
void RunToIdle(SimReplica& replica, std::vector<ReplicaProgress>* progress) {
  while (std::isfinite(replica.NextChangeS())) replica.AdvanceTo(replica.NextChangeS(), progress);
}

TEST(SimReplicaTest, RejectsBadShapes) {
  EXPECT_EQ(SimReplica::Create(0, 256, StepSeconds).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SimReplica::Create(64, 32, StepSeconds).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SimReplica::Create(4, 256, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  SimReplica replica = SimReplica::Create(4, 256, StepSeconds).value();
  std::vector<ReplicaProgress> progress;
  EXPECT_EQ(replica.Add(0, 1, 0, 5, &progress).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(replica.Add(0, 1, 5, 0, &progress).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SimReplicaTest, LonePromptIsChunkedByTheBudget) {
  SimReplica replica = SimReplica::Create(4, 256, StepSeconds).value();
  std::vector<ReplicaProgress> progress;
  ASSERT_TRUE(replica.Add(1.0, 7, 600, 3, &progress).ok());
  RunToIdle(replica, &progress);
  const Times t = Collect(progress)[7];
  // Chunks 256, 256, 88: three steps of 50 ms plus 600 ms of prompt tokens.
  EXPECT_NEAR(t.first_token, 1.0 + 0.15 + 0.6, 1e-12);
  // Two more tokens, one decode step each.
  EXPECT_NEAR(t.done, t.first_token + 2 * 0.06, 1e-12);
  EXPECT_EQ(replica.output_tokens(), 3);
  EXPECT_NEAR(replica.busy_s(), t.done - 1.0, 1e-12);
}

TEST(SimReplicaTest, ConcurrentDecodesShareSteps) {
  SimReplica replica = SimReplica::Create(4, 256, StepSeconds).value();
  std::vector<ReplicaProgress> progress;
  ASSERT_TRUE(replica.Add(0, 1, 10, 11, &progress).ok());
  ASSERT_TRUE(replica.Add(0, 2, 10, 11, &progress).ok());
  RunToIdle(replica, &progress);
  std::map<int64_t, Times> t = Collect(progress);
  // The first request finds the replica idle and runs alone (60 ms); the second joins at
  // the next step, its prompt beside the first one's decode (70 ms). Then both decode in
  // 70 ms steps (35 ms per token each, not 60 alone) until the first one ends; the second
  // one's last token is a lone decode.
  EXPECT_NEAR(t[1].first_token, 0.06, 1e-12);
  EXPECT_NEAR(t[2].first_token, 0.13, 1e-12);
  EXPECT_NEAR(t[1].done, 0.13 + 9 * 0.07, 1e-12);
  EXPECT_NEAR(t[2].done, t[1].done + 0.06, 1e-12);
}

TEST(SimReplicaTest, ArrivalMidStepWaitsForTheBoundary) {
  SimReplica replica = SimReplica::Create(4, 256, StepSeconds).value();
  std::vector<ReplicaProgress> progress;
  ASSERT_TRUE(replica.Add(0, 1, 100, 2, &progress).ok());  // step 0 .. 0.15
  ASSERT_TRUE(replica.Add(0.1, 2, 10, 1, &progress).ok());
  EXPECT_EQ(replica.waiting(), 1);
  EXPECT_NEAR(replica.NextChangeS(), 0.15, 1e-12);
  RunToIdle(replica, &progress);
  std::map<int64_t, Times> t = Collect(progress);
  EXPECT_NEAR(t[1].first_token, 0.15, 1e-12);
  // Admitted at 0.15 beside request 1's decode: 50 + 10 + 10 ms.
  EXPECT_NEAR(t[2].first_token, 0.15 + 0.07, 1e-12);
  EXPECT_NEAR(t[2].done, t[2].first_token, 1e-12);
  EXPECT_NEAR(t[1].done, t[2].first_token, 1e-12);
}

TEST(SimReplicaTest, MaxSequencesQueuesTheRest) {
  SimReplica replica = SimReplica::Create(1, 256, StepSeconds).value();
  std::vector<ReplicaProgress> progress;
  ASSERT_TRUE(replica.Add(0, 1, 10, 1, &progress).ok());
  ASSERT_TRUE(replica.Add(0, 2, 10, 1, &progress).ok());
  EXPECT_EQ(replica.running(), 1);
  EXPECT_EQ(replica.waiting(), 1);
  RunToIdle(replica, &progress);
  std::map<int64_t, Times> t = Collect(progress);
  EXPECT_NEAR(t[1].done, 0.06, 1e-12);
  EXPECT_NEAR(t[2].done, 0.12, 1e-12);
}

// A step-by-step transcription of the Engine scheduler's rules (no KV limit), the
// reference the analytic replica must match exactly.
struct RefSeq {
  int64_t id;
  double arrival;
  int prompt_left;
  int output_left;
};

std::map<int64_t, Times> Reference(std::vector<RefSeq> requests, int max_sequences,
                                   int max_batch_tokens) {
  std::map<int64_t, Times> times;
  std::vector<RefSeq> running;
  std::deque<RefSeq> waiting;
  size_t next = 0;
  double now = 0;
  while (next < requests.size() || !running.empty() || !waiting.empty()) {
    while (next < requests.size() && requests[next].arrival <= now + 1e-12) {
      waiting.push_back(requests[next++]);
    }
    if (running.empty() && waiting.empty()) {
      now = requests[next].arrival;
      continue;
    }
    int budget = max_batch_tokens;
    std::vector<int> alloc(running.size(), 0);
    int decodes = 0;
    for (const RefSeq& s : running) decodes += s.prompt_left == 0;
    budget -= decodes;
    for (size_t i = 0; i < running.size(); ++i) {
      if (running[i].prompt_left == 0) continue;
      alloc[i] = std::min(running[i].prompt_left, budget);
      budget -= alloc[i];
    }
    while (budget > 0 && !waiting.empty() && static_cast<int>(running.size()) < max_sequences) {
      running.push_back(waiting.front());
      waiting.pop_front();
      alloc.push_back(std::min(running.back().prompt_left, budget));
      budget -= alloc.back();
    }
    now += StepSeconds(decodes, max_batch_tokens - decodes - budget);
    std::vector<RefSeq> still;
    for (size_t i = 0; i < running.size(); ++i) {
      RefSeq& s = running[i];
      if (s.prompt_left == 0) {
        --s.output_left;
      } else if (alloc[i] > 0) {
        s.prompt_left -= alloc[i];
        if (s.prompt_left == 0) {
          --s.output_left;
          times[s.id].first_token = now;
        }
      }
      if (s.output_left == 0) {
        times[s.id].done = now;
      } else {
        still.push_back(s);
      }
    }
    running = std::move(still);
  }
  return times;
}

TEST(SimReplicaTest, MatchesStepByStepSchedulerOnRandomLoads) {
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    const int max_sequences = std::uniform_int_distribution<int>(1, 8)(rng);
    const int max_batch_tokens = max_sequences + std::uniform_int_distribution<int>(0, 300)(rng);
    std::vector<RefSeq> requests;
    double t = 0;
    for (int i = 0; i < 60; ++i) {
      t += std::exponential_distribution<double>(5.0)(rng);
      requests.push_back({i, t, std::uniform_int_distribution<int>(1, 900)(rng),
                          std::uniform_int_distribution<int>(1, 40)(rng)});
    }
    const std::map<int64_t, Times> want = Reference(requests, max_sequences, max_batch_tokens);

    SimReplica replica = SimReplica::Create(max_sequences, max_batch_tokens, StepSeconds).value();
    std::vector<ReplicaProgress> progress;
    for (const RefSeq& r : requests) {
      // Changes that fall before this arrival happen first, as the event loop orders them.
      while (replica.NextChangeS() <= r.arrival)
        replica.AdvanceTo(replica.NextChangeS(), &progress);
      ASSERT_TRUE(replica.Add(r.arrival, r.id, r.prompt_left, r.output_left, &progress).ok());
    }
    RunToIdle(replica, &progress);
    const std::map<int64_t, Times> got = Collect(progress);
    ASSERT_EQ(got.size(), want.size()) << "seed " << seed;
    for (const auto& [id, w] : want) {
      EXPECT_NEAR(got.at(id).first_token, w.first_token, 1e-9) << "seed " << seed << " id " << id;
      EXPECT_NEAR(got.at(id).done, w.done, 1e-9) << "seed " << seed << " id " << id;
    }
  }
}

}  // namespace
}  // namespace hearth
