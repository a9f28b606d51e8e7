/* Handles that are not live, through the C ABI (C99): for every handle type, a handle used
 * after its destroy (or release) is HEARTH_INVALID_ARGUMENT "... is not a live ...", a
 * second destroy is harmless, a function returning a value returns its NULL value; a
 * live handle of one type cast to another is refused, and so is a stack address cast to a
 * handle. The library never reads through such a pointer, so all of it runs clean under
 * AddressSanitizer. Real files: the tiny model, the catalog, a trace and the profile.
 *
 * Each handle is checked before any new handle of its type is created: a new one could
 * take the freed address, and would then be live (c_api.h says so). */
#include "check.h"

#define TINY_MODEL HEARTH_SOURCE_DIR "/tests/data/models/stories260K.gguf"
#define CATALOG HEARTH_SOURCE_DIR "/data/prices/catalog-2026.json"
#define TRACE HEARTH_SOURCE_DIR "/data/traces/AzureLLMInferenceTrace_conv_2023.csv"

/* A call that must be refused: `name` is not a live hearth_`type`. */
#define CHECK_NOT_LIVE(call, name, type) \
  CHECK_FAILS(call, HEARTH_INVALID_ARGUMENT, name " is not a live hearth_" type)

static hearth_engine_params tiny_params(void) {
  hearth_engine_params params;
  hearth_engine_params_init(&params);
  params.model_path = TINY_MODEL;
  params.threads = 1;
  params.kv_cache_bytes = 16 << 20;
  return params;
}

static hearth_request greedy_request(void) {
  hearth_request request;
  hearth_request_init(&request);
  request.prompt = "Once upon a time";
  request.max_tokens = 4;
  request.temperature = 0;
  request.ignore_eos = 1;
  return request;
}

/* Every engine call on `engine`, each refused with "<name> is not a live hearth_engine". */
static void check_engine_refused(hearth_engine* engine) {
  const hearth_request request = greedy_request();
  hearth_result* result = (hearth_result*)&result; /* must be reset to NULL */
  hearth_engine_metrics metrics;
  uint64_t id = 0;
  metrics.struct_size = sizeof(metrics);
  CHECK_NOT_LIVE(hearth_engine_generate(engine, &request, NULL, NULL, &result), "engine",
                 "engine");
  CHECK(result == NULL);
  CHECK_NOT_LIVE(hearth_engine_submit(engine, &request, NULL, NULL, &id), "engine", "engine");
  CHECK_NOT_LIVE(hearth_engine_cancel(engine, 1), "engine", "engine");
  result = (hearth_result*)&result;
  CHECK_NOT_LIVE(hearth_engine_wait(engine, 1, &result), "engine", "engine");
  CHECK(result == NULL);
  CHECK_NOT_LIVE(hearth_engine_get_metrics(engine, &metrics), "engine", "engine");
  CHECK(strstr(hearth_last_error(), "(destroyed, or never created)") != NULL);
}

/* Every result accessor on `result` answers as for NULL. */
static void check_result_neutral(const hearth_result* result) {
  CHECK(strcmp(hearth_result_text(result), "") == 0);
  CHECK(strcmp(hearth_result_finish_reason(result), "") == 0);
  CHECK(hearth_result_prompt_tokens(result) == 0);
  CHECK(hearth_result_completion_tokens(result) == 0);
  CHECK(hearth_result_first_token_ms(result) == 0);
}

static void test_engine_and_result(void) {
  const hearth_engine_params params = tiny_params();
  const hearth_request request = greedy_request();
  hearth_engine* engine = NULL;
  hearth_result* result = NULL;
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_OK);
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_OK);
  CHECK(hearth_result_completion_tokens(result) == 4);

  hearth_result_destroy(result);
  check_result_neutral(result);
  hearth_result_destroy(result); /* twice: a no-op */

  hearth_engine_destroy(engine);
  check_engine_refused(engine);
  hearth_engine_destroy(engine); /* twice: a no-op */
}

static void test_clock(void) {
  hearth_clock* clock = NULL;
  hearth_clock* other = NULL;
  hearth_autoscaler_params scaler;
  hearth_autoscaler* autoscaler = (hearth_autoscaler*)&scaler; /* must be reset to NULL */
  const char* policies[] = {"static"};
  CHECK(hearth_clock_create_manual(100, &clock) == HEARTH_OK);
  CHECK(hearth_clock_now(clock) == 100);
  hearth_clock_destroy(clock);
  CHECK_NOT_LIVE(hearth_clock_advance(clock, 1), "clock", "clock");
  CHECK(isnan(hearth_clock_now(clock)));
  hearth_clock_destroy(clock); /* twice: a no-op */

  /* A clock in a params struct is checked like one passed directly. */
  hearth_autoscaler_params_init(&scaler);
  scaler.policies = policies;
  scaler.n_policies = 1;
  scaler.clock = clock;
  CHECK_NOT_LIVE(hearth_autoscaler_create(&scaler, &autoscaler), "clock", "clock");
  CHECK(autoscaler == NULL);

  /* The objects created with a clock keep it after its handle's destroy. */
  CHECK(hearth_clock_create_manual(5, &other) == HEARTH_OK);
  scaler.clock = other;
  CHECK(hearth_autoscaler_create(&scaler, &autoscaler) == HEARTH_OK);
  hearth_clock_destroy(other);
  CHECK(hearth_autoscaler_set_cold_start(autoscaler, 1) == HEARTH_OK);
  hearth_autoscaler_destroy(autoscaler);
}

static void test_pool_and_lease(void) {
  const hearth_engine_params engine = tiny_params();
  hearth_pool_model model;
  const hearth_pool_model* models[1];
  hearth_pool_params params;
  hearth_pool* pool = NULL;
  hearth_lease* lease = NULL;
  hearth_lease* refused = (hearth_lease*)&refused; /* must be reset to NULL */
  hearth_engine* borrowed = NULL;
  hearth_pool_metrics metrics;
  hearth_pool_model_metrics model_metrics;
  double wakeup = 0;
  hearth_pool_model_init(&model);
  model.name = "tiny";
  model.engine = &engine;
  models[0] = &model;
  hearth_pool_params_init(&params);
  params.models = models;
  params.n_models = 1;
  params.memory_budget_bytes = (int64_t)1 << 30;
  params.max_instances = 1;
  CHECK(hearth_pool_create(&params, &pool) == HEARTH_OK);
  CHECK(hearth_pool_acquire(pool, "tiny", 30, &lease) == HEARTH_OK);
  borrowed = hearth_lease_engine(lease);
  CHECK(borrowed != NULL && hearth_lease_instance_id(lease) > 0);
  hearth_engine_destroy(borrowed); /* borrowed: left alone, still live */
  CHECK(hearth_lease_engine(lease) == borrowed);

  /* A lease of one type cast to another type is refused, both ways. */
  CHECK_NOT_LIVE(hearth_pool_tick((hearth_pool*)lease), "pool", "pool");
  CHECK(hearth_lease_engine((const hearth_lease*)pool) == NULL);
  CHECK(hearth_lease_instance_id((const hearth_lease*)borrowed) == 0);

  hearth_lease_release(lease);
  CHECK(hearth_lease_engine(lease) == NULL);
  CHECK(hearth_lease_instance_id(lease) == 0);
  check_engine_refused(borrowed); /* the borrowed engine went with its lease */
  hearth_lease_release(lease);    /* twice: a no-op */
  hearth_engine_destroy(borrowed);

  hearth_pool_destroy(pool);
  metrics.struct_size = sizeof(metrics);
  model_metrics.struct_size = sizeof(model_metrics);
  CHECK_NOT_LIVE(hearth_pool_acquire(pool, "tiny", 0, &refused), "pool", "pool");
  CHECK(refused == NULL);
  CHECK_NOT_LIVE(hearth_pool_prewarm(pool, "tiny", 1), "pool", "pool");
  CHECK_NOT_LIVE(hearth_pool_set_desired_instances(pool, "tiny", 1), "pool", "pool");
  CHECK_NOT_LIVE(hearth_pool_retire(pool, 1), "pool", "pool");
  CHECK_NOT_LIVE(hearth_pool_tick(pool), "pool", "pool");
  CHECK_NOT_LIVE(hearth_pool_next_wakeup(pool, &wakeup), "pool", "pool");
  CHECK_NOT_LIVE(hearth_pool_get_metrics(pool, &metrics), "pool", "pool");
  CHECK_NOT_LIVE(hearth_pool_get_model_metrics(pool, "tiny", &model_metrics), "pool", "pool");
  hearth_pool_destroy(pool); /* twice: a no-op */
}

static void test_autoscaler(void) {
  const char* policies[] = {"static"};
  hearth_autoscaler_params params;
  hearth_autoscaler* autoscaler = NULL;
  hearth_load_sample sample;
  int32_t desired = 0;
  char reason[32];
  hearth_autoscaler_params_init(&params);
  params.policies = policies;
  params.n_policies = 1;
  hearth_load_sample_init(&sample);
  CHECK(hearth_autoscaler_create(&params, &autoscaler) == HEARTH_OK);
  CHECK(hearth_autoscaler_decide(autoscaler, &desired, reason, sizeof(reason)) == HEARTH_OK);
  hearth_autoscaler_destroy(autoscaler);
  CHECK_NOT_LIVE(hearth_autoscaler_observe(autoscaler, &sample), "autoscaler", "autoscaler");
  CHECK_NOT_LIVE(hearth_autoscaler_decide(autoscaler, &desired, reason, sizeof(reason)),
                 "autoscaler", "autoscaler");
  CHECK_NOT_LIVE(hearth_autoscaler_set_cold_start(autoscaler, 1), "autoscaler", "autoscaler");
  hearth_autoscaler_destroy(autoscaler); /* twice: a no-op */
}

/* Every cost function on `cost`, each refused with "cost is not a live hearth_cost". */
static void check_cost_refused(hearth_cost* cost) {
  const hearth_request request = greedy_request();
  const double requests[] = {1, 2, 3};
  hearth_offering offering;
  hearth_price price;
  hearth_cost_totals totals;
  hearth_tenant_cost tenant;
  hearth_model_cost model;
  hearth_cache_stats stats;
  hearth_route route;
  hearth_plan_params plan_params;
  hearth_plan plan;
  size_t count = 0;
  double spend = 0;
  char* cached = (char*)&cached; /* must be reset to NULL */
  offering.struct_size = sizeof(offering);
  price.struct_size = sizeof(price);
  totals.struct_size = sizeof(totals);
  tenant.struct_size = sizeof(tenant);
  model.struct_size = sizeof(model);
  stats.struct_size = sizeof(stats);
  route.struct_size = sizeof(route);
  plan.struct_size = sizeof(plan);
  hearth_plan_params_init(&plan_params);
  plan_params.serverless_offering = "aws-lambda-x86-10gb";
  plan_params.always_on_offering = "aws-ec2-m7g.large";
  plan_params.requests = requests;
  plan_params.n_intervals = 3;
  plan_params.request_duration_s = 1;

  CHECK_NOT_LIVE(hearth_cost_offering_count(cost, &count), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_offering_at(cost, 0, &offering), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_find_offering(cost, "aws-lambda-x86-10gb", &offering), "cost",
                 "cost");
  CHECK_NOT_LIVE(hearth_cost_price(cost, "aws-lambda-x86-10gb", 1, &price), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_record_instance_time(cost, "m", "aws-ec2-m7g.large", 1), "cost",
                 "cost");
  CHECK_NOT_LIVE(hearth_cost_record_request(cost, "t", "m", 1, 1, NULL), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_set_budget(cost, "t", 1, 60), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_period_spend(cost, "t", &spend), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_alert_count(cost, &count), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_get_totals(cost, &totals), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_get_tenant(cost, "t", &tenant), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_get_model(cost, "m", &model), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_cache_put(cost, "m", &request, 0, "x"), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_cache_get(cost, "m", &request, 0, &cached), "cost", "cost");
  CHECK(cached == NULL);
  CHECK_NOT_LIVE(hearth_cost_cache_stats(cost, &stats), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_route(cost, "hello", 1, 1, &route), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_escalate(cost, 0, -2, &route), "cost", "cost");
  CHECK_NOT_LIVE(hearth_cost_plan(cost, &plan_params, &plan), "cost", "cost");
}

static void test_cost(void) {
  hearth_cost_params params;
  hearth_cost* cost = NULL;
  size_t count = 0;
  hearth_cost_params_init(&params);
  params.catalog_path = CATALOG;
  CHECK(hearth_cost_create(&params, &cost) == HEARTH_OK);
  CHECK(hearth_cost_offering_count(cost, &count) == HEARTH_OK && count > 0);
  hearth_cost_destroy(cost);
  check_cost_refused(cost);
  hearth_cost_destroy(cost); /* twice: a no-op */
}

static void test_sim_report(void) {
  const char* traces[] = {TRACE};
  hearth_sim_params params;
  hearth_sim_report* report = NULL;
  hearth_sim_summary summary;
  hearth_sim_params_init(&params);
  params.traces = traces;
  params.n_traces = 1;
  params.policy = "kpa";
  params.profile_path = HEARTH_SOURCE_DIR "/data/profiles/smollm2-135m-q4_1-cpu.json";
  params.catalog_path = CATALOG;
  params.end_s = 10;
  CHECK(hearth_simulate(&params, &report) == HEARTH_OK);
  CHECK(strlen(hearth_sim_report_json(report)) > 2);
  hearth_sim_report_destroy(report);
  summary.struct_size = sizeof(summary);
  CHECK_NOT_LIVE(hearth_sim_report_get_summary(report, NULL, &summary), "report", "sim_report");
  CHECK(hearth_sim_report_duration_s(report) == 0);
  CHECK(hearth_sim_report_wall_s(report) == 0);
  CHECK(hearth_sim_report_events(report) == 0);
  CHECK(strcmp(hearth_sim_report_json(report), "") == 0);
  hearth_sim_report_destroy(report); /* twice: a no-op */
}

/* Live handles cast to another type, and addresses that never were handles: refused,
 * and their destroy is a no-op (the live handles stay usable). */
static void test_not_handles(void) {
  const hearth_engine_params params = tiny_params();
  hearth_engine* engine = NULL;
  hearth_clock* clock = NULL;
  hearth_cost_params cost_params;
  hearth_cost* cost = NULL;
  double stack[8] = {0};
  int64_t local = 0;
  size_t count = 0;
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_OK);
  CHECK(hearth_clock_create_manual(0, &clock) == HEARTH_OK);
  hearth_cost_params_init(&cost_params);
  cost_params.catalog_path = CATALOG;
  CHECK(hearth_cost_create(&cost_params, &cost) == HEARTH_OK);

  /* Another type's live handle. */
  CHECK_NOT_LIVE(hearth_cost_offering_count((hearth_cost*)clock, &count), "cost", "cost");
  CHECK_NOT_LIVE(hearth_clock_advance((hearth_clock*)cost, 1), "clock", "clock");
  CHECK(isnan(hearth_clock_now((const hearth_clock*)engine)));
  check_engine_refused((hearth_engine*)cost);
  check_result_neutral((const hearth_result*)engine);
  hearth_result_destroy((hearth_result*)engine);
  hearth_cost_destroy((hearth_cost*)clock);
  hearth_clock_destroy((hearth_clock*)engine);
  hearth_engine_destroy((hearth_engine*)cost);

  /* Addresses that never were handles: on the stack, inside a live handle. */
  check_engine_refused((hearth_engine*)stack);
  check_engine_refused((hearth_engine*)&local);
  check_engine_refused((hearth_engine*)((char*)engine + sizeof(void*)));
  CHECK_NOT_LIVE(hearth_clock_advance((hearth_clock*)stack, 1), "clock", "clock");
  check_cost_refused((hearth_cost*)stack);
  check_result_neutral((const hearth_result*)stack);
  CHECK(hearth_lease_engine((const hearth_lease*)stack) == NULL);
  hearth_engine_destroy((hearth_engine*)stack);
  hearth_result_destroy((hearth_result*)stack);
  hearth_clock_destroy((hearth_clock*)stack);
  hearth_pool_destroy((hearth_pool*)stack);
  hearth_lease_release((hearth_lease*)stack);
  hearth_autoscaler_destroy((hearth_autoscaler*)stack);
  hearth_cost_destroy((hearth_cost*)stack);
  hearth_sim_report_destroy((hearth_sim_report*)stack);
  CHECK(stack[0] == 0 && stack[7] == 0);

  /* Still live after all of that. */
  CHECK(hearth_cost_offering_count(cost, &count) == HEARTH_OK && count > 0);
  CHECK(hearth_clock_advance(clock, 1) == HEARTH_OK && hearth_clock_now(clock) == 1);
  {
    const hearth_request request = greedy_request();
    hearth_result* result = NULL;
    CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_OK);
    CHECK(hearth_result_completion_tokens(result) == 4);
    hearth_result_destroy(result);
  }
  hearth_cost_destroy(cost);
  hearth_clock_destroy(clock);
  hearth_engine_destroy(engine);
}

int main(void) {
  test_engine_and_result();
  test_clock();
  test_pool_and_lease();
  test_autoscaler();
  test_cost();
  test_sim_report();
  test_not_handles();
  printf("c_api_handles_test: all checks passed\n");
  return 0;
}
