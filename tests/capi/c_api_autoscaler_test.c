/* The AutoScaler through the C ABI (C99) on a manual clock: KPA scales up under load and
 * back to zero once it is gone, a static policy holds its count within the bounds, the
 * reason is cut to the caller's buffer, and bad input for every autoscaler function. */
#include "check.h"

static hearth_autoscaler* make_autoscaler(const char* policy, hearth_clock* clock,
                                          int32_t max_replicas) {
  const char* policies[1];
  hearth_autoscaler_params params;
  hearth_autoscaler* autoscaler = NULL;
  policies[0] = policy;
  hearth_autoscaler_params_init(&params);
  params.policies = policies;
  params.n_policies = 1;
  params.max_replicas = max_replicas;
  params.clock = clock;
  params.kpa_container_concurrency = 10; /* target 7 in flight per replica */
  params.static_replicas = 3;
  CHECK(hearth_autoscaler_create(&params, &autoscaler) == HEARTH_OK);
  return autoscaler;
}

/* Feeds `seconds` of 2-second samples with `in_flight` requests spread on the replicas the
 * autoscaler asked for; returns its last decision. */
static int32_t run_load(hearth_autoscaler* autoscaler, hearth_clock* clock, double in_flight,
                        int seconds, int32_t replicas) {
  int t;
  for (t = 0; t < seconds; t += 2) {
    hearth_load_sample sample;
    hearth_load_sample_init(&sample);
    sample.ready_replicas = replicas;
    sample.in_flight = in_flight;
    CHECK(hearth_autoscaler_observe(autoscaler, &sample) == HEARTH_OK);
    CHECK(hearth_autoscaler_decide(autoscaler, &replicas, NULL, 0) == HEARTH_OK);
    CHECK(hearth_clock_advance(clock, 2) == HEARTH_OK);
  }
  return replicas;
}

static void test_kpa_up_and_to_zero(void) {
  hearth_clock* clock = NULL;
  hearth_autoscaler* autoscaler;
  int32_t replicas;
  char reason[256];
  CHECK(hearth_clock_create_manual(0, &clock) == HEARTH_OK);
  autoscaler = make_autoscaler("kpa", clock, 20);
  CHECK(hearth_autoscaler_decide(autoscaler, &replicas, reason, sizeof(reason)) == HEARTH_OK);
  CHECK(replicas == 0); /* no sample, no load */

  /* 70 requests in flight at 7 per replica: 10 replicas. */
  replicas = run_load(autoscaler, clock, 70, 60, 1);
  CHECK(replicas == 10);
  CHECK(hearth_autoscaler_decide(autoscaler, &replicas, reason, sizeof(reason)) == HEARTH_OK);
  CHECK(strlen(reason) > 0);

  /* Load gone: the stable window (60 s) forgets it, the grace (30 s) passes, then 0. */
  replicas = run_load(autoscaler, clock, 0, 30, replicas);
  CHECK(replicas > 0);
  replicas = run_load(autoscaler, clock, 0, 120, replicas);
  CHECK(replicas == 0);
  hearth_autoscaler_destroy(autoscaler);
  hearth_clock_destroy(clock);
}

static void test_static_within_bounds(void) {
  hearth_clock* clock = NULL;
  hearth_autoscaler* autoscaler;
  int32_t replicas = -1;
  char reason[4];
  CHECK(hearth_clock_create_manual(0, &clock) == HEARTH_OK);
  autoscaler = make_autoscaler("static", clock, 100);
  CHECK(hearth_autoscaler_decide(autoscaler, &replicas, reason, sizeof(reason)) == HEARTH_OK);
  CHECK(replicas == 3);
  CHECK(strlen(reason) == 3); /* cut to the buffer, NUL-terminated */
  hearth_autoscaler_destroy(autoscaler);

  autoscaler = make_autoscaler("static", clock, 2);
  CHECK(hearth_autoscaler_decide(autoscaler, &replicas, NULL, 0) == HEARTH_OK);
  CHECK(replicas == 2); /* clamped to max_replicas */
  CHECK(hearth_autoscaler_set_cold_start(autoscaler, 12.5) == HEARTH_OK);
  hearth_autoscaler_destroy(autoscaler);
  hearth_clock_destroy(clock);
}

/* Every policy by name, together; the real clock. */
static void test_every_policy(void) {
  const char* policies[] = {"hpa", "kpa", "queue_depth", "load_score", "predictive", "static"};
  hearth_autoscaler_params params;
  hearth_autoscaler* autoscaler = NULL;
  hearth_load_sample sample;
  int32_t replicas = -1;
  hearth_autoscaler_params_init(&params);
  params.policies = policies;
  params.n_policies = 6;
  CHECK(hearth_autoscaler_create(&params, &autoscaler) == HEARTH_OK);
  hearth_load_sample_init(&sample);
  sample.ready_replicas = 1;
  sample.in_flight = 5;
  sample.arrival_rate = 2;
  sample.utilization = 0.5;
  CHECK(hearth_autoscaler_observe(autoscaler, &sample) == HEARTH_OK);
  CHECK(hearth_autoscaler_decide(autoscaler, &replicas, NULL, 0) == HEARTH_OK);
  CHECK(replicas >= 1); /* static's 1 at least */
  hearth_autoscaler_destroy(autoscaler);
}

static void test_bad_input(void) {
  const char* policies[] = {"kpa", "kpa"};
  const char* unknown[] = {"magic"};
  const char* invalid[] = {"kp\xe1"};
  hearth_autoscaler_params params;
  hearth_autoscaler* autoscaler = (hearth_autoscaler*)&params; /* must be reset to NULL */
  hearth_load_sample sample;
  int32_t replicas;
  char reason[8];
  hearth_autoscaler_params_init(&params);
  params.policies = policies;
  params.n_policies = 1;

  CHECK_FAILS(hearth_autoscaler_create(NULL, &autoscaler), HEARTH_INVALID_ARGUMENT, "params");
  CHECK(autoscaler == NULL);
  CHECK_FAILS(hearth_autoscaler_create(&params, NULL), HEARTH_INVALID_ARGUMENT, "out");
  params.struct_size = 1;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT,
              "hearth_autoscaler_params.struct_size");
  params.struct_size = sizeof(params);
  params.n_policies = 2;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT,
              "named twice");
  params.n_policies = 0;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT, "polic");
  params.n_policies = 1;
  params.policies = unknown;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT,
              "unknown scaling policy 'magic'");
  params.policies = invalid;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT,
              "policies[0] is not valid UTF-8");
  params.policies = NULL;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT,
              "policies is NULL");
  params.policies = policies;
  params.min_replicas = 5;
  params.max_replicas = 2;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT,
              "min_replicas");
  params.min_replicas = 0;
  params.max_replicas = 10;
  params.kpa_target_utilization = 2;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT,
              "policy kpa");
  params.kpa_target_utilization = 0.7;
  params.kpa_stable_window_s = -60;
  CHECK_FAILS(hearth_autoscaler_create(&params, &autoscaler), HEARTH_INVALID_ARGUMENT,
              "kpa_stable_window_s");
  params.kpa_stable_window_s = 60;
  CHECK(hearth_autoscaler_create(&params, &autoscaler) == HEARTH_OK);

  hearth_load_sample_init(&sample);
  sample.in_flight = -1;
  CHECK_FAILS(hearth_autoscaler_observe(autoscaler, &sample), HEARTH_INVALID_ARGUMENT,
              "in_flight");
  sample.in_flight = 0;
  sample.utilization = 1.5;
  CHECK_FAILS(hearth_autoscaler_observe(autoscaler, &sample), HEARTH_INVALID_ARGUMENT,
              "utilization");
  sample.utilization = 0;
  sample.queue_depth = NAN;
  CHECK_FAILS(hearth_autoscaler_observe(autoscaler, &sample), HEARTH_INVALID_ARGUMENT,
              "queue_depth");
  sample.queue_depth = 0;
  sample.ready_replicas = -1;
  CHECK_FAILS(hearth_autoscaler_observe(autoscaler, &sample), HEARTH_INVALID_ARGUMENT,
              "ready_replicas");
  sample.ready_replicas = 0;
  sample.struct_size = 0;
  CHECK_FAILS(hearth_autoscaler_observe(autoscaler, &sample), HEARTH_INVALID_ARGUMENT,
              "struct_size");
  CHECK_FAILS(hearth_autoscaler_observe(autoscaler, NULL), HEARTH_INVALID_ARGUMENT, "sample");
  CHECK_FAILS(hearth_autoscaler_observe(NULL, &sample), HEARTH_INVALID_ARGUMENT, "autoscaler");
  CHECK_FAILS(hearth_autoscaler_decide(autoscaler, NULL, reason, sizeof(reason)),
              HEARTH_INVALID_ARGUMENT, "desired");
  CHECK_FAILS(hearth_autoscaler_decide(autoscaler, &replicas, NULL, 8), HEARTH_INVALID_ARGUMENT,
              "reason");
  CHECK_FAILS(hearth_autoscaler_decide(NULL, &replicas, NULL, 0), HEARTH_INVALID_ARGUMENT,
              "autoscaler");
  CHECK_FAILS(hearth_autoscaler_set_cold_start(autoscaler, -1), HEARTH_INVALID_ARGUMENT,
              "seconds");
  CHECK_FAILS(hearth_autoscaler_set_cold_start(NULL, 1), HEARTH_INVALID_ARGUMENT, "autoscaler");
  hearth_autoscaler_destroy(autoscaler);
  hearth_autoscaler_destroy(NULL);
}

int main(void) {
  test_kpa_up_and_to_zero();
  test_static_within_bounds();
  test_every_policy();
  test_bad_input();
  printf("c_api_autoscaler_test: all checks passed\n");
  return 0;
}
