/* The CostOptimizer through the C ABI (C99) on the real catalog
 * (data/prices/catalog-2026.json): offerings and prices checked against figures worked out
 * by hand from the file, the ledger's per-tenant shares and budget, the response cache,
 * the router's tiers, the capacity planner's comparison, and bad input for every cost
 * function. */
#include "check.h"

#define CATALOG HEARTH_SOURCE_DIR "/data/prices/catalog-2026.json"

static hearth_cost* make_cost(const hearth_model_tier* const* tiers, size_t n_tiers,
                              hearth_clock* clock) {
  hearth_cost_params params;
  hearth_cost* cost = NULL;
  hearth_cost_params_init(&params);
  params.catalog_path = CATALOG;
  params.tiers = tiers;
  params.n_tiers = n_tiers;
  params.clock = clock;
  CHECK(hearth_cost_create(&params, &cost) == HEARTH_OK);
  return cost;
}

static void test_offerings_and_prices(void) {
  hearth_cost* cost = make_cost(NULL, 0, NULL);
  hearth_offering o;
  hearth_price p;
  size_t count = 0;
  o.struct_size = sizeof(o);
  p.struct_size = sizeof(p);
  CHECK(hearth_cost_offering_count(cost, &count) == HEARTH_OK);
  CHECK(count == 13);
  CHECK(hearth_cost_offering_at(cost, 0, &o) == HEARTH_OK);
  CHECK(strcmp(o.name, "aws-lambda-x86-10gb") == 0);
  CHECK(strcmp(o.kind, "serverless") == 0 && strcmp(o.provider, "AWS") == 0);
  CHECK(strcmp(o.currency, "USD") == 0 && strlen(o.price_date) == 10);
  CHECK(strncmp(o.source, "https://", 8) == 0);
  /* 10 GiB at 0.0000166667 $/GiB-s; billed by the millisecond; 0.0000002 $ a request. */
  CHECK_NEAR(o.price_per_second, 10 * 0.0000166667);
  CHECK(o.vcpus == 6 && o.memory_gib == 10 && o.accelerator_count == 0);
  CHECK(strcmp(o.accelerator, "") == 0 && o.term_s == 0 && isnan(o.interruption_rate_per_hour));
  CHECK(hearth_cost_price(cost, "aws-lambda-x86-10gb", 1.2341, &p) == HEARTH_OK);
  CHECK_NEAR(p.billed_s, 1.235);
  CHECK_NEAR(p.run_cost, 1.235 * 10 * 0.0000166667);
  CHECK_NEAR(p.request_fee, 0.0000002);
  CHECK_NEAR(p.total, p.run_cost + p.request_fee);
  /* Cloud Run, 4 vCPU x 0.000024 + 16 GiB x 0.0000025; 100 ms granularity and minimum. */
  CHECK(hearth_cost_price(cost, "gcp-cloud-run-4vcpu-16gib", 0.01, &p) == HEARTH_OK);
  CHECK_NEAR(p.billed_s, 0.1);
  CHECK_NEAR(p.run_cost, 0.1 * (4 * 0.000024 + 16 * 0.0000025));
  /* EC2 on demand: 0.0816 $ an hour, billed exactly. */
  CHECK(hearth_cost_find_offering(cost, "aws-ec2-m7g.large", &o) == HEARTH_OK);
  CHECK(strcmp(o.kind, "on_demand") == 0);
  CHECK_NEAR(o.hourly, 0.0816);
  CHECK(hearth_cost_price(cost, "aws-ec2-m7g.large", 1800, &p) == HEARTH_OK);
  CHECK_NEAR(p.run_cost, 0.0408);
  CHECK(p.request_fee == 0);
  CHECK(hearth_cost_find_offering(cost, "coreweave-hgx-h100-spot", &o) == HEARTH_OK);
  CHECK(strcmp(o.kind, "spot") == 0 && o.accelerator_count == 8);
  CHECK(strcmp(o.accelerator, "NVIDIA H100 80GB") == 0);
  hearth_cost_destroy(cost);
}

/* Two tenants share an hour of one replica by weighted tokens; a budget alerts. */
static void test_ledger(void) {
  hearth_clock* clock = NULL;
  hearth_cost* cost;
  hearth_tenant_cost t;
  hearth_model_cost m;
  hearth_cost_totals totals;
  double spend = 0;
  size_t alerts = 0;
  CHECK(hearth_clock_create_manual(0, &clock) == HEARTH_OK);
  cost = make_cost(NULL, 0, clock);
  CHECK(hearth_cost_set_budget(cost, "acme", 0.05, 86400) == HEARTH_OK);
  CHECK(hearth_cost_record_instance_time(cost, "llama", "aws-ec2-m7g.large", 3600) == HEARTH_OK);
  CHECK(hearth_cost_record_request(cost, "acme", "llama", 300, 100, "aws-lambda-x86-10gb") ==
        HEARTH_OK);
  CHECK(hearth_cost_record_request(cost, "globex", "llama", 100, 100, NULL) == HEARTH_OK);

  t.struct_size = sizeof(t);
  CHECK(hearth_cost_get_tenant(cost, "acme", &t) == HEARTH_OK);
  CHECK_NEAR(t.instance_share, 0.0816 * 400 / 600);
  CHECK_NEAR(t.request_fees, 0.0000002);
  CHECK_NEAR(t.total, 0.0816 * 400 / 600 + 0.0000002);
  CHECK(t.requests == 1 && t.prompt_tokens == 300 && t.output_tokens == 100);
  CHECK(hearth_cost_get_tenant(cost, "globex", &t) == HEARTH_OK);
  CHECK_NEAR(t.instance_share, 0.0816 * 200 / 600);
  CHECK(t.request_fees == 0);
  m.struct_size = sizeof(m);
  CHECK(hearth_cost_get_model(cost, "llama", &m) == HEARTH_OK);
  CHECK_NEAR(m.instance_seconds, 3600);
  CHECK_NEAR(m.instance_cost, 0.0816);
  CHECK(m.requests == 2 && m.prompt_tokens == 400 && m.output_tokens == 200);
  totals.struct_size = sizeof(totals);
  CHECK(hearth_cost_get_totals(cost, &totals) == HEARTH_OK);
  CHECK_NEAR(totals.instance_cost, 0.0816);
  CHECK_NEAR(totals.total, 0.0816 + 0.0000002);
  CHECK(totals.unattributed == 0);

  /* 0.0544 $ of a 0.05 $ budget: past 50 %, 80 % and 100 %. */
  CHECK(hearth_cost_period_spend(cost, "acme", &spend) == HEARTH_OK);
  CHECK_NEAR(spend, 0.0816 * 400 / 600 + 0.0000002);
  CHECK(hearth_cost_alert_count(cost, &alerts) == HEARTH_OK);
  CHECK(alerts == 3);
  /* A new period, a day later, starts from nothing. */
  CHECK(hearth_clock_advance(clock, 86400) == HEARTH_OK);
  CHECK(hearth_cost_period_spend(cost, "acme", &spend) == HEARTH_OK);
  CHECK(spend == 0);
  hearth_cost_destroy(cost);
  hearth_clock_destroy(clock);
}

static void greedy(hearth_request* request, const char* prompt) {
  hearth_request_init(request);
  request->prompt = prompt;
  request->max_tokens = 16;
  request->temperature = 0;
}

static void test_cache(void) {
  hearth_cost* cost = make_cost(NULL, 0, NULL);
  hearth_request request;
  hearth_cache_stats stats;
  char* text = NULL;
  greedy(&request, "Once upon a time");
  CHECK(hearth_cost_cache_get(cost, "tiny", &request, 0, &text) == HEARTH_OK);
  CHECK(text == NULL); /* a miss */
  CHECK(hearth_cost_cache_put(cost, "tiny", &request, 0, "there was a fox") == HEARTH_OK);
  greedy(&request, "  Once upon   a time ");  /* the same after normalisation */
  CHECK(hearth_cost_cache_get(cost, "tiny", &request, 0, &text) == HEARTH_OK);
  CHECK(text != NULL && strcmp(text, "there was a fox") == 0);
  hearth_string_free(text);
  CHECK(hearth_cost_cache_get(cost, "other", &request, 0, &text) == HEARTH_OK);
  CHECK(text == NULL); /* another model */

  /* Sampled with the default seed: not cacheable, unless the seed was the caller's. */
  request.temperature = 0.8f;
  CHECK_FAILS(hearth_cost_cache_put(cost, "tiny", &request, 0, "x"), HEARTH_FAILED_PRECONDITION,
              "");
  CHECK(hearth_cost_cache_get(cost, "tiny", &request, 0, &text) == HEARTH_OK);
  CHECK(text == NULL);
  CHECK(hearth_cost_cache_put(cost, "tiny", &request, 1, "seeded") == HEARTH_OK);
  CHECK(hearth_cost_cache_get(cost, "tiny", &request, 1, &text) == HEARTH_OK);
  CHECK(text != NULL && strcmp(text, "seeded") == 0);
  hearth_string_free(text);

  stats.struct_size = sizeof(stats);
  CHECK(hearth_cost_cache_stats(cost, &stats) == HEARTH_OK);
  CHECK(stats.hits == 2 && stats.misses == 2 && stats.uncacheable == 2);
  CHECK(stats.insertions == 2 && stats.entries == 2 && stats.bytes > 0);

  CHECK_FAILS(hearth_cost_cache_put(cost, "tiny", &request, 1, "bad\xff"),
              HEARTH_INVALID_ARGUMENT, "response");
  CHECK_FAILS(hearth_cost_cache_put(cost, "tiny", NULL, 1, "x"), HEARTH_INVALID_ARGUMENT,
              "request");
  CHECK_FAILS(hearth_cost_cache_get(cost, "tiny", &request, 1, NULL), HEARTH_INVALID_ARGUMENT,
              "out");
  request.struct_size = 2;
  CHECK_FAILS(hearth_cost_cache_get(cost, "tiny", &request, 1, &text), HEARTH_INVALID_ARGUMENT,
              "hearth_request.struct_size");
  hearth_string_free(NULL);
  hearth_cost_destroy(cost);
}

static void test_router(void) {
  hearth_model_tier small, large;
  const hearth_model_tier* tiers[2];
  hearth_cost* cost;
  hearth_cost* no_router;
  hearth_route route;
  hearth_model_tier_init(&small);
  small.name = "small";
  small.model = "smollm2-135m";
  small.price_per_1k_tokens = 0.0002;
  small.max_difficulty = 0.3;
  hearth_model_tier_init(&large);
  large.name = "large";
  large.model = "llama-8b";
  large.price_per_1k_tokens = 0.004;
  tiers[0] = &large; /* in any order: the router sorts them by price */
  tiers[1] = &small;
  cost = make_cost(tiers, 2, NULL);
  route.struct_size = sizeof(route);

  CHECK(hearth_cost_route(cost, "hello", 10, 16, &route) == HEARTH_OK);
  CHECK(route.tier == 0 && strcmp(route.tier_name, "small") == 0);
  CHECK(strcmp(route.model, "smollm2-135m") == 0 && !route.escalated);
  CHECK_NEAR(route.difficulty, 0.35 * 10 / 4096 + 0.25 * 16 / 1024.0);
  /* Long, reasoning, code: 0.35 x 4000/4096 + 0.25 + 0.20 + 0.10. */
  CHECK(hearth_cost_route(cost, "Prove it step by step:\n```\ndef f(x): return x\n```", 4000,
                          1024, &route) == HEARTH_OK);
  CHECK(strcmp(route.tier_name, "large") == 0);
  CHECK_NEAR(route.difficulty, 0.35 * 4000 / 4096 + 0.55);

  CHECK(hearth_cost_escalate(cost, 0, -2.0, &route) == HEARTH_OK);
  CHECK(route.tier == 1 && route.escalated && strcmp(route.model, "llama-8b") == 0);
  CHECK(hearth_cost_escalate(cost, 0, -0.5, &route) == HEARTH_OK);
  CHECK(route.tier == 0 && !route.escalated);
  CHECK_FAILS(hearth_cost_escalate(cost, 5, -2.0, &route), HEARTH_INVALID_ARGUMENT, "");
  CHECK_FAILS(hearth_cost_escalate(cost, 0, 1.0, &route), HEARTH_INVALID_ARGUMENT, "");
  CHECK_FAILS(hearth_cost_route(cost, "x\xc3", 1, 1, &route), HEARTH_INVALID_ARGUMENT, "prompt");
  CHECK_FAILS(hearth_cost_route(cost, "x", -1, 1, &route), HEARTH_INVALID_ARGUMENT,
              "prompt_tokens");
  route.struct_size = 0;
  CHECK_FAILS(hearth_cost_route(cost, "x", 1, 1, &route), HEARTH_INVALID_ARGUMENT, "struct_size");
  route.struct_size = sizeof(route);

  no_router = make_cost(NULL, 0, NULL);
  CHECK_FAILS(hearth_cost_route(no_router, "x", 1, 1, &route), HEARTH_FAILED_PRECONDITION,
              "without tiers");
  CHECK_FAILS(hearth_cost_escalate(no_router, 0, -2, &route), HEARTH_FAILED_PRECONDITION,
              "without tiers");
  hearth_cost_destroy(no_router);
  hearth_cost_destroy(cost);
}

/* An hour of 30 two-second requests a minute: one busy replica all along. */
static void test_plan(void) {
  hearth_cost* cost = make_cost(NULL, 0, NULL);
  hearth_plan_params params;
  hearth_plan plan;
  double requests[60];
  const double serverless_per_s = 2 * 0.000018; /* Cloud Run instance-based, 2 vCPU */
  const double always_on_per_s = 0.0816 / 3600;
  int i;
  for (i = 0; i < 60; ++i) requests[i] = 30;
  hearth_plan_params_init(&params);
  params.serverless_offering = "gcp-cloud-run-2vcpu-instance";
  params.always_on_offering = "aws-ec2-m7g.large";
  params.requests = requests;
  params.n_intervals = 60;
  params.request_duration_s = 2;
  params.p95_latency_s = 2;
  plan.struct_size = sizeof(plan);
  CHECK(hearth_cost_plan(cost, &params, &plan) == HEARTH_OK);
  CHECK(plan.always_on_replicas == 1);
  CHECK_NEAR(plan.always_on_cost, 3600 * always_on_per_s);
  CHECK_NEAR(plan.serverless_cost, 3600 * serverless_per_s);
  CHECK(plan.best_reserved == 1);
  CHECK_NEAR(plan.best_cost, 3600 * always_on_per_s);
  CHECK(plan.seed_reserved == 1); /* 43,200 a day x 2 s / 86,400 s */
  CHECK_NEAR(plan.daily_requests, 43200);
  CHECK(strcmp(plan.recommendation, "always_on") == 0 ||
        strcmp(plan.recommendation, "reserved") == 0);
  /* r* = 86,400 x always-on price / (2 s x serverless price): 27,200 requests a day. */
  CHECK(plan.crossover_valid);
  CHECK_NEAR(plan.crossover_requests_per_day, 86400 * always_on_per_s / (2 * serverless_per_s));

  CHECK_FAILS(hearth_cost_plan(cost, &params, NULL), HEARTH_INVALID_ARGUMENT, "out");
  plan.struct_size = 0;
  CHECK_FAILS(hearth_cost_plan(cost, &params, &plan), HEARTH_INVALID_ARGUMENT,
              "hearth_plan.struct_size");
  plan.struct_size = sizeof(plan);
  params.serverless_offering = "nowhere";
  CHECK_FAILS(hearth_cost_plan(cost, &params, &plan), HEARTH_NOT_FOUND,
              "serverless_offering: ");
  params.serverless_offering = "aws-ec2-m7g.large"; /* an hourly kind */
  CHECK_FAILS(hearth_cost_plan(cost, &params, &plan), HEARTH_INVALID_ARGUMENT, "serverless");
  params.serverless_offering = "gcp-cloud-run-2vcpu-instance";
  params.reserved_offering = "\xfe";
  CHECK_FAILS(hearth_cost_plan(cost, &params, &plan), HEARTH_INVALID_ARGUMENT,
              "reserved_offering is not valid UTF-8");
  params.reserved_offering = NULL;
  requests[3] = -1;
  CHECK_FAILS(hearth_cost_plan(cost, &params, &plan), HEARTH_INVALID_ARGUMENT, "3");
  requests[3] = 30;
  params.requests = NULL;
  CHECK_FAILS(hearth_cost_plan(cost, &params, &plan), HEARTH_INVALID_ARGUMENT, "requests");
  params.requests = requests;
  params.request_duration_s = 0;
  CHECK_FAILS(hearth_cost_plan(cost, &params, &plan), HEARTH_INVALID_ARGUMENT, "duration");
  params.request_duration_s = 2;
  params.struct_size = 1;
  CHECK_FAILS(hearth_cost_plan(cost, &params, &plan), HEARTH_INVALID_ARGUMENT,
              "hearth_plan_params.struct_size");
  CHECK_FAILS(hearth_cost_plan(NULL, &params, &plan), HEARTH_INVALID_ARGUMENT, "cost");
  CHECK_FAILS(hearth_cost_plan(cost, NULL, &plan), HEARTH_INVALID_ARGUMENT, "params");
  hearth_cost_destroy(cost);
}

static void test_bad_input(void) {
  hearth_cost_params params;
  hearth_cost* cost = (hearth_cost*)&params; /* must be reset to NULL */
  hearth_model_tier tier;
  const hearth_model_tier* tiers[1];
  hearth_offering o;
  hearth_price p;
  hearth_tenant_cost t;
  hearth_model_cost m;
  hearth_cost_totals totals;
  hearth_cache_stats stats;
  double spend;
  size_t count;
  hearth_cost_params_init(&params);
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_INVALID_ARGUMENT, "catalog_path is NULL");
  CHECK(cost == NULL);
  params.catalog_path = "no/such/catalog.json";
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_NOT_FOUND, "no/such/catalog.json");
  params.catalog_path = HEARTH_SOURCE_DIR "/data/profiles/smollm2-135m-q4_1-cpu.json";
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_INVALID_ARGUMENT, "");
  params.catalog_path = CATALOG;
  params.cache_ttl_s = 0;
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_INVALID_ARGUMENT, "ttl");
  params.cache_ttl_s = INFINITY; /* never expires: allowed */
  params.output_token_weight = -1;
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_INVALID_ARGUMENT, "output_token_weight");
  params.output_token_weight = 1;
  hearth_model_tier_init(&tier);
  tier.name = "small";
  tiers[0] = &tier;
  params.tiers = tiers;
  params.n_tiers = 1;
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_INVALID_ARGUMENT, "tiers[0].model is NULL");
  tier.model = "m";
  tier.max_difficulty = 2;
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_INVALID_ARGUMENT, "max_difficulty");
  tier.struct_size = 0;
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_INVALID_ARGUMENT,
              "tiers[0]: hearth_model_tier.struct_size");
  params.n_tiers = 0;
  params.struct_size = 0;
  CHECK_FAILS(hearth_cost_create(&params, &cost), HEARTH_INVALID_ARGUMENT,
              "hearth_cost_params.struct_size");
  CHECK_FAILS(hearth_cost_create(NULL, &cost), HEARTH_INVALID_ARGUMENT, "params");
  CHECK_FAILS(hearth_cost_create(&params, NULL), HEARTH_INVALID_ARGUMENT, "out");

  cost = make_cost(NULL, 0, NULL);
  o.struct_size = sizeof(o);
  CHECK_FAILS(hearth_cost_offering_at(cost, 13, &o), HEARTH_OUT_OF_RANGE, "13");
  CHECK_FAILS(hearth_cost_find_offering(cost, "nowhere", &o), HEARTH_NOT_FOUND, "nowhere");
  CHECK_FAILS(hearth_cost_find_offering(cost, NULL, &o), HEARTH_INVALID_ARGUMENT, "name");
  CHECK_FAILS(hearth_cost_offering_count(cost, NULL), HEARTH_INVALID_ARGUMENT, "count");
  CHECK_FAILS(hearth_cost_offering_count(NULL, &count), HEARTH_INVALID_ARGUMENT, "cost");
  o.struct_size = 4;
  CHECK_FAILS(hearth_cost_offering_at(cost, 0, &o), HEARTH_INVALID_ARGUMENT, "struct_size");
  p.struct_size = sizeof(p);
  CHECK_FAILS(hearth_cost_price(cost, "nowhere", 1, &p), HEARTH_NOT_FOUND, "nowhere");
  CHECK_FAILS(hearth_cost_price(cost, "aws-ec2-m7g.large", -1, &p), HEARTH_INVALID_ARGUMENT, "run_s");
  CHECK_FAILS(hearth_cost_price(cost, "aws-ec2-m7g.large", 1, NULL), HEARTH_INVALID_ARGUMENT, "out");
  CHECK_FAILS(hearth_cost_record_instance_time(cost, "m", "nowhere", 1), HEARTH_NOT_FOUND, "nowhere");
  CHECK_FAILS(hearth_cost_record_instance_time(cost, "m", "aws-ec2-m7g.large", NAN),
              HEARTH_INVALID_ARGUMENT, "run_s");
  CHECK_FAILS(hearth_cost_record_instance_time(NULL, "m", "aws-ec2-m7g.large", 1),
              HEARTH_INVALID_ARGUMENT, "cost");
  CHECK_FAILS(hearth_cost_record_request(cost, "", "m", 1, 1, NULL), HEARTH_INVALID_ARGUMENT, "");
  CHECK_FAILS(hearth_cost_record_request(cost, "a", "m", -1, 1, NULL), HEARTH_INVALID_ARGUMENT, "");
  CHECK_FAILS(hearth_cost_record_request(cost, "a", "m\xff", 1, 1, NULL), HEARTH_INVALID_ARGUMENT,
              "model is not valid UTF-8");
  CHECK_FAILS(hearth_cost_record_request(cost, "a", "m", 1, 1, "nowhere"), HEARTH_NOT_FOUND,
              "nowhere");
  CHECK_FAILS(hearth_cost_set_budget(cost, "a", 0, 60), HEARTH_INVALID_ARGUMENT, "");
  CHECK_FAILS(hearth_cost_set_budget(cost, "a", 1, -60), HEARTH_INVALID_ARGUMENT, "period_s");
  CHECK_FAILS(hearth_cost_period_spend(cost, "a", &spend), HEARTH_NOT_FOUND, "");
  CHECK_FAILS(hearth_cost_period_spend(cost, "a", NULL), HEARTH_INVALID_ARGUMENT, "out");
  CHECK_FAILS(hearth_cost_alert_count(cost, NULL), HEARTH_INVALID_ARGUMENT, "count");
  t.struct_size = sizeof(t);
  CHECK_FAILS(hearth_cost_get_tenant(cost, "nobody", &t), HEARTH_NOT_FOUND, "nobody");
  m.struct_size = sizeof(m);
  CHECK_FAILS(hearth_cost_get_model(cost, "nothing", &m), HEARTH_NOT_FOUND, "nothing");
  totals.struct_size = 0;
  CHECK_FAILS(hearth_cost_get_totals(cost, &totals), HEARTH_INVALID_ARGUMENT, "struct_size");
  CHECK_FAILS(hearth_cost_get_totals(NULL, &totals), HEARTH_INVALID_ARGUMENT, "cost");
  stats.struct_size = 0;
  CHECK_FAILS(hearth_cost_cache_stats(cost, &stats), HEARTH_INVALID_ARGUMENT, "struct_size");
  hearth_cost_destroy(cost);
  hearth_cost_destroy(NULL);
}

int main(void) {
  test_offerings_and_prices();
  test_ledger();
  test_cache();
  test_router();
  test_plan();
  test_bad_input();
  printf("c_api_cost_test: all checks passed\n");
  return 0;
}
