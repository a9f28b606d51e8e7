/* The WarmPool through the C ABI (C99), on real engines of the tiny model
 * (tests/data/models/stories260K.gguf): a cold start, a generate through the lease's
 * borrowed engine, a warm hit, keep-alive expiry on a manual clock, a lease outliving its
 * pool, an engine that cannot load, and bad input for every pool function. */
#include "check.h"

#define TINY_MODEL HEARTH_SOURCE_DIR "/tests/data/models/stories260K.gguf"

static hearth_engine_params tiny_engine(const char* path) {
  hearth_engine_params engine;
  hearth_engine_params_init(&engine);
  engine.model_path = path;
  engine.threads = 1;
  engine.kv_cache_bytes = 16 << 20;
  return engine;
}

/* One model "tiny", one lease per engine, room for two engines. */
static hearth_pool* make_pool(const hearth_engine_params* engine, hearth_clock* clock,
                              double keep_alive_s) {
  hearth_pool_model model;
  const hearth_pool_model* models[1];
  hearth_pool_params params;
  hearth_pool* pool = NULL;
  hearth_pool_model_init(&model);
  model.name = "tiny";
  model.engine = engine;
  models[0] = &model;
  hearth_pool_params_init(&params);
  params.models = models;
  params.n_models = 1;
  params.memory_budget_bytes = (int64_t)1 << 30;
  params.max_instances = 2;
  params.keep_alive_s = keep_alive_s;
  params.clock = clock;
  CHECK(hearth_pool_create(&params, &pool) == HEARTH_OK);
  return pool;
}

static hearth_pool_metrics metrics_of(const hearth_pool* pool) {
  hearth_pool_metrics m;
  m.struct_size = sizeof(m);
  CHECK(hearth_pool_get_metrics(pool, &m) == HEARTH_OK);
  return m;
}

static void generate_through(hearth_lease* lease) {
  hearth_request request;
  hearth_result* result = NULL;
  hearth_engine* engine = hearth_lease_engine(lease);
  CHECK(engine != NULL);
  hearth_request_init(&request);
  request.prompt = "Once upon a time";
  request.max_tokens = 8;
  request.temperature = 0;
  request.ignore_eos = 1;
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_OK);
  CHECK(hearth_result_completion_tokens(result) == 8);
  hearth_result_destroy(result);
  hearth_engine_destroy(engine); /* borrowed: left alone, still usable */
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_OK);
  hearth_result_destroy(result);
}

static void test_cold_then_warm(void) {
  const hearth_engine_params engine = tiny_engine(TINY_MODEL);
  hearth_pool* pool = make_pool(&engine, NULL, 600);
  hearth_lease* lease = NULL;
  hearth_lease* second = (hearth_lease*)&engine; /* must be reset to NULL */
  hearth_pool_metrics m;
  hearth_pool_model_metrics model;
  int64_t instance;
  double wakeup = 0;

  CHECK(hearth_pool_acquire(pool, "tiny", 30, &lease) == HEARTH_OK);
  instance = hearth_lease_instance_id(lease);
  CHECK(instance > 0);
  m = metrics_of(pool);
  CHECK(m.cold_starts == 1 && m.warm_hits == 0);
  CHECK(m.instances == 1 && m.busy == 1 && m.leases == 1);
  CHECK(m.instances_started == 1);
  CHECK(m.memory_bytes > (16 << 20)); /* the file + the KV cache */
  generate_through(lease);

  /* Its one slot is taken: a deadline already past only takes a free warm slot. */
  CHECK_FAILS(hearth_pool_acquire(pool, "tiny", 0, &second), HEARTH_DEADLINE_EXCEEDED, "");
  CHECK(second == NULL);
  hearth_lease_release(lease);

  CHECK(hearth_pool_acquire(pool, "tiny", 30, &lease) == HEARTH_OK);
  CHECK(hearth_lease_instance_id(lease) == instance);
  m = metrics_of(pool);
  CHECK(m.warm_hits == 1);
  model.struct_size = sizeof(model);
  CHECK(hearth_pool_get_model_metrics(pool, "tiny", &model) == HEARTH_OK);
  CHECK(model.busy == 1 && model.leases == 1 && model.warm_hits == 1);
  CHECK(model.cold_starts >= 1 && model.last_cold_start_ms > 0);
  hearth_lease_release(lease);

  CHECK(hearth_pool_prewarm(pool, "tiny", 1) == HEARTH_OK);
  CHECK(hearth_pool_set_desired_instances(pool, "tiny", 2) == HEARTH_OK);
  CHECK(hearth_pool_tick(pool) == HEARTH_OK);
  CHECK(hearth_pool_next_wakeup(pool, &wakeup) == HEARTH_OK);
  CHECK(wakeup > hearth_clock_now(NULL)); /* the keep-alive window, 10 minutes on */
  CHECK(hearth_pool_retire(pool, instance) == HEARTH_OK);
  CHECK_FAILS(hearth_pool_retire(pool, instance), HEARTH_NOT_FOUND, "");
  hearth_pool_destroy(pool);
}

/* On a manual clock an idle engine goes when its keep-alive window has passed. */
static void test_keep_alive_on_manual_clock(void) {
  const hearth_engine_params engine = tiny_engine(TINY_MODEL);
  hearth_clock* clock = NULL;
  hearth_pool* pool;
  hearth_lease* lease = NULL;
  hearth_pool_metrics m;
  CHECK(hearth_clock_create_manual(1000, &clock) == HEARTH_OK);
  pool = make_pool(&engine, clock, 10);
  hearth_clock_destroy(clock); /* the pool keeps reading the clock */
  clock = NULL;
  CHECK(hearth_pool_acquire(pool, "tiny", 30, &lease) == HEARTH_OK);
  hearth_lease_release(lease);
  CHECK(hearth_pool_tick(pool) == HEARTH_OK);
  CHECK(metrics_of(pool).idle == 1);
  hearth_pool_destroy(pool);

  CHECK(hearth_clock_create_manual(1000, &clock) == HEARTH_OK);
  pool = make_pool(&engine, clock, 10);
  CHECK(hearth_pool_acquire(pool, "tiny", 30, &lease) == HEARTH_OK);
  hearth_lease_release(lease);
  CHECK(hearth_clock_advance(clock, 9) == HEARTH_OK);
  CHECK(hearth_pool_tick(pool) == HEARTH_OK);
  CHECK(metrics_of(pool).idle == 1);
  CHECK(hearth_clock_advance(clock, 2) == HEARTH_OK);
  CHECK(hearth_pool_tick(pool) == HEARTH_OK);
  m = metrics_of(pool);
  CHECK(m.instances == 0 && m.instances_expired == 1);
  CHECK(m.idle_instance_seconds >= 9);
  hearth_pool_destroy(pool);
  hearth_clock_destroy(clock);
}

/* A lease keeps its engine after the pool is gone. */
static void test_lease_outlives_pool(void) {
  const hearth_engine_params engine = tiny_engine(TINY_MODEL);
  hearth_pool* pool = make_pool(&engine, NULL, 600);
  hearth_lease* lease = NULL;
  CHECK(hearth_pool_acquire(pool, "tiny", 30, &lease) == HEARTH_OK);
  hearth_pool_destroy(pool);
  generate_through(lease);
  hearth_lease_release(lease);
}

static void test_engine_that_cannot_load(void) {
  const hearth_engine_params engine = tiny_engine("no/such/model.gguf");
  hearth_pool* pool = make_pool(&engine, NULL, 600);
  hearth_lease* lease = NULL;
  /* The pool learns the engine's size from the first load, which fails. */
  CHECK_FAILS(hearth_pool_acquire(pool, "tiny", 30, &lease), HEARTH_NOT_FOUND,
              "no/such/model.gguf");
  CHECK(lease == NULL);
  CHECK(metrics_of(pool).failed_load == 1);
  hearth_pool_destroy(pool);
}

static void test_bad_params(void) {
  hearth_engine_params engine = tiny_engine(TINY_MODEL);
  hearth_pool_model model;
  const hearth_pool_model* models[1];
  hearth_pool_params params;
  hearth_pool* pool = (hearth_pool*)&params; /* must be reset to NULL */
  hearth_pool_model_init(&model);
  model.name = "tiny";
  model.engine = &engine;
  models[0] = &model;
  hearth_pool_params_init(&params);
  params.models = models;
  params.n_models = 1;
  params.memory_budget_bytes = (int64_t)1 << 30;
  params.max_instances = 2;

  CHECK_FAILS(hearth_pool_create(NULL, &pool), HEARTH_INVALID_ARGUMENT, "params is NULL");
  CHECK(pool == NULL);
  CHECK_FAILS(hearth_pool_create(&params, NULL), HEARTH_INVALID_ARGUMENT, "out is NULL");
  params.struct_size = 3;
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT,
              "hearth_pool_params.struct_size");
  params.struct_size = sizeof(params);
  model.struct_size = 3;
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT,
              "models[0]: hearth_pool_model.struct_size");
  model.struct_size = sizeof(model);
  model.name = "ti\xffny";
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT,
              "models[0].name is not valid UTF-8");
  model.name = "tiny";
  model.engine = NULL;
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT,
              "models[0].engine: params is NULL");
  model.engine = &engine;
  engine.kv_cache_bytes = 0; /* the pool could not budget the engine */
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT, "kv_cache_bytes");
  engine.kv_cache_bytes = 16 << 20;
  models[0] = NULL;
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT, "models[0] is NULL");
  models[0] = &model;
  params.models = NULL;
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT, "models is NULL");
  params.models = models;
  params.max_instances = 0;
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT, "max_instances");
  params.max_instances = 2;
  params.keep_alive = 7;
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT,
              "keep_alive 7 is not a hearth_keep_alive");
  params.keep_alive = HEARTH_KEEP_ALIVE_FIXED;
  params.keep_alive_s = -1;
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT, "keep_alive_s");
  params.keep_alive_s = 600;
  params.keep_alive = HEARTH_KEEP_ALIVE_HYBRID;
  params.hybrid_range_s = 90; /* not a multiple of the 60 s bin */
  CHECK_FAILS(hearth_pool_create(&params, &pool), HEARTH_INVALID_ARGUMENT, "hybrid keep-alive");
  params.hybrid_range_s = 3600;
  CHECK(hearth_pool_create(&params, &pool) == HEARTH_OK); /* hybrid, valid */
  hearth_pool_destroy(pool);
  params.keep_alive = HEARTH_KEEP_ALIVE_IMMEDIATE;
  CHECK(hearth_pool_create(&params, &pool) == HEARTH_OK);
  hearth_pool_destroy(pool);
  hearth_pool_destroy(NULL);
}

static void test_bad_calls(void) {
  const hearth_engine_params engine = tiny_engine(TINY_MODEL);
  hearth_pool* pool = make_pool(&engine, NULL, 600);
  hearth_lease* lease = (hearth_lease*)&engine; /* must be reset to NULL */
  hearth_pool_metrics m;
  hearth_pool_model_metrics model;
  double wakeup;
  CHECK_FAILS(hearth_pool_acquire(NULL, "tiny", 1, &lease), HEARTH_INVALID_ARGUMENT, "pool");
  CHECK(lease == NULL);
  CHECK_FAILS(hearth_pool_acquire(pool, "tiny", 1, NULL), HEARTH_INVALID_ARGUMENT, "out");
  CHECK_FAILS(hearth_pool_acquire(pool, NULL, 1, &lease), HEARTH_INVALID_ARGUMENT, "model");
  CHECK_FAILS(hearth_pool_acquire(pool, "t\xc0\xafy", 1, &lease), HEARTH_INVALID_ARGUMENT,
              "UTF-8");
  CHECK_FAILS(hearth_pool_acquire(pool, "huge", 1, &lease), HEARTH_NOT_FOUND, "huge");
  CHECK_FAILS(hearth_pool_acquire(pool, "tiny", -1, &lease), HEARTH_INVALID_ARGUMENT,
              "timeout_s");
  CHECK_FAILS(hearth_pool_acquire(pool, "tiny", NAN, &lease), HEARTH_INVALID_ARGUMENT,
              "timeout_s");
  CHECK_FAILS(hearth_pool_prewarm(pool, "tiny", -1), HEARTH_INVALID_ARGUMENT, "");
  CHECK_FAILS(hearth_pool_prewarm(pool, "huge", 1), HEARTH_NOT_FOUND, "huge");
  CHECK_FAILS(hearth_pool_prewarm(NULL, "tiny", 1), HEARTH_INVALID_ARGUMENT, "pool");
  CHECK_FAILS(hearth_pool_set_desired_instances(pool, "huge", 1), HEARTH_NOT_FOUND, "huge");
  CHECK_FAILS(hearth_pool_set_desired_instances(pool, "tiny", -2), HEARTH_INVALID_ARGUMENT, "");
  CHECK_FAILS(hearth_pool_set_desired_instances(pool, "\xff", 1), HEARTH_INVALID_ARGUMENT,
              "UTF-8");
  CHECK_FAILS(hearth_pool_retire(pool, 12345), HEARTH_NOT_FOUND, "");
  CHECK_FAILS(hearth_pool_retire(NULL, 1), HEARTH_INVALID_ARGUMENT, "pool");
  CHECK_FAILS(hearth_pool_tick(NULL), HEARTH_INVALID_ARGUMENT, "pool");
  CHECK_FAILS(hearth_pool_next_wakeup(pool, NULL), HEARTH_INVALID_ARGUMENT, "out");
  CHECK_FAILS(hearth_pool_next_wakeup(NULL, &wakeup), HEARTH_INVALID_ARGUMENT, "pool");
  memset(&m, 0, sizeof(m));
  CHECK_FAILS(hearth_pool_get_metrics(pool, &m), HEARTH_INVALID_ARGUMENT, "struct_size");
  CHECK_FAILS(hearth_pool_get_metrics(pool, NULL), HEARTH_INVALID_ARGUMENT, "out");
  m.struct_size = sizeof(m);
  CHECK_FAILS(hearth_pool_get_metrics(NULL, &m), HEARTH_INVALID_ARGUMENT, "pool");
  model.struct_size = sizeof(model);
  CHECK_FAILS(hearth_pool_get_model_metrics(pool, "huge", &model), HEARTH_NOT_FOUND, "huge");
  model.struct_size = 1;
  CHECK_FAILS(hearth_pool_get_model_metrics(pool, "tiny", &model), HEARTH_INVALID_ARGUMENT,
              "struct_size");
  CHECK(hearth_lease_engine(NULL) == NULL);
  CHECK(hearth_lease_instance_id(NULL) == 0);
  hearth_lease_release(NULL);
  hearth_pool_destroy(pool);
}

static void test_clock(void) {
  hearth_clock* clock = (hearth_clock*)&clock; /* must be reset to NULL */
  CHECK_FAILS(hearth_clock_create_manual(INFINITY, &clock), HEARTH_INVALID_ARGUMENT, "start_s");
  CHECK(clock == NULL);
  CHECK_FAILS(hearth_clock_create_manual(0, NULL), HEARTH_INVALID_ARGUMENT, "out");
  CHECK(hearth_clock_create_manual(50, &clock) == HEARTH_OK);
  CHECK(hearth_clock_now(clock) == 50);
  CHECK(hearth_clock_advance(clock, 2.5) == HEARTH_OK);
  CHECK(hearth_clock_now(clock) == 52.5);
  CHECK_FAILS(hearth_clock_advance(clock, -1), HEARTH_INVALID_ARGUMENT, "seconds");
  CHECK_FAILS(hearth_clock_advance(NULL, 1), HEARTH_INVALID_ARGUMENT, "clock");
  CHECK(hearth_clock_now(NULL) > 1.7e9); /* the real clock: after 2023 */
  hearth_clock_destroy(clock);
  hearth_clock_destroy(NULL);
}

int main(void) {
  test_clock();
  test_bad_params();
  test_bad_calls();
  test_cold_then_warm();
  test_keep_alive_on_manual_clock();
  test_lease_outlives_pool();
  test_engine_that_cannot_load();
  printf("c_api_pool_test: all checks passed\n");
  return 0;
}
