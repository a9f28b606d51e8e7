/* The simulator through the C ABI (C99): two minutes of the real Azure conversation trace
 * under the kpa preset with the real profile and catalog; the report's figures must be
 * consistent (every request served or rejected, one model's totals = the overall ones,
 * the JSON saying the same), the run deterministic; and bad input for every simulator
 * function. */
#include "check.h"

#define TRACE HEARTH_SOURCE_DIR "/data/traces/AzureLLMInferenceTrace_conv_2023.csv"

static void base_params(hearth_sim_params* params, const char* const* traces) {
  hearth_sim_params_init(params);
  params->traces = traces;
  params->n_traces = 1;
  params->policy = "kpa";
  params->profile_path = HEARTH_SOURCE_DIR "/data/profiles/smollm2-135m-q4_1-cpu.json";
  params->catalog_path = HEARTH_SOURCE_DIR "/data/prices/catalog-2026.json";
  params->end_s = 120;
}

static hearth_sim_summary summary_of(const hearth_sim_report* report, const char* model) {
  hearth_sim_summary s;
  s.struct_size = sizeof(s);
  CHECK(hearth_sim_report_get_summary(report, model, &s) == HEARTH_OK);
  return s;
}

static void test_consistent_report(void) {
  const char* traces[] = {TRACE "=conv"};
  hearth_sim_params params;
  hearth_sim_report* report = NULL;
  hearth_sim_report* again = NULL;
  hearth_sim_summary all, conv, second;
  char figure[64];
  base_params(&params, traces);
  CHECK(hearth_simulate(&params, &report) == HEARTH_OK);
  all = summary_of(report, NULL);
  conv = summary_of(report, "conv");
  CHECK(all.requests > 100);
  CHECK(all.served + all.rejected == all.requests);
  CHECK(all.rejected == all.rejected_queue_timeout + all.rejected_prompt_too_long +
                            all.rejected_provisioner_error + all.rejected_pool_error +
                            all.rejected_empty_prompt);
  CHECK(all.served > 0 && all.cold_starts <= all.served);
  CHECK(all.cold_starts > 0); /* kpa starts from zero replicas */
  CHECK(all.ttft_p50_s > 0 && all.ttft_p99_s >= all.ttft_p50_s);
  CHECK(all.e2e_p99_s >= all.e2e_p95_s && all.e2e_p95_s >= all.e2e_p50_s);
  CHECK(all.slo_met <= all.requests && all.slo_attainment <= 1);
  CHECK(all.instances_started > 0 && all.instance_seconds > 0);
  CHECK(all.loaded_instance_seconds <= all.instance_seconds);
  CHECK(all.idle_instance_seconds <= all.loaded_instance_seconds);
  CHECK(all.cost > 0);
  CHECK_NEAR(all.cost_per_1k_requests, all.cost / all.requests * 1000);
  CHECK(conv.requests == all.requests && conv.served == all.served && conv.cost == all.cost);
  CHECK(hearth_sim_report_duration_s(report) >= 120);
  CHECK(hearth_sim_report_events(report) > (uint64_t)all.requests);
  CHECK(hearth_sim_report_wall_s(report) > 0);
  sprintf(figure, "\"served\": %lld", (long long)all.served);
  CHECK(strstr(hearth_sim_report_json(report), figure) != NULL);

  /* The same run again: the same figures (the simulation never reads the real clock). */
  CHECK(hearth_simulate(&params, &again) == HEARTH_OK);
  second = summary_of(again, NULL);
  CHECK(second.served == all.served && second.cost == all.cost);
  CHECK(second.ttft_p99_s == all.ttft_p99_s);
  hearth_sim_report_destroy(again);

  /* Half the window: fewer requests. */
  params.end_s = 60;
  CHECK(hearth_simulate(&params, &again) == HEARTH_OK);
  second = summary_of(again, NULL);
  CHECK(second.requests > 0 && second.requests < all.requests);
  hearth_sim_report_destroy(again);
  hearth_sim_report_destroy(report);
}

static void test_bad_input(void) {
  const char* traces[] = {TRACE};
  const char* missing[] = {"no/such/trace.csv"};
  const char* invalid[] = {"trace\xff.csv"};
  hearth_sim_params params;
  hearth_sim_report* report = (hearth_sim_report*)&params; /* must be reset to NULL */
  hearth_sim_summary s;
  base_params(&params, traces);
  CHECK_FAILS(hearth_simulate(NULL, &report), HEARTH_INVALID_ARGUMENT, "params");
  CHECK(report == NULL);
  CHECK_FAILS(hearth_simulate(&params, NULL), HEARTH_INVALID_ARGUMENT, "out");
  params.struct_size = 2;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT,
              "hearth_sim_params.struct_size");
  params.struct_size = sizeof(params);
  params.policy = "magic";
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT,
              "unknown policy preset 'magic'");
  CHECK(strstr(hearth_last_error(), "hearth") != NULL); /* lists the known ones */
  params.policy = NULL;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT, "policy is NULL");
  params.policy = "kpa";
  params.traces = missing;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_NOT_FOUND, "no/such/trace.csv");
  params.traces = invalid;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT,
              "traces[0] is not valid UTF-8");
  params.traces = NULL;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT, "traces");
  params.traces = traces;
  params.profile_path = "no/such/profile.json";
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_NOT_FOUND, "no/such/profile.json");
  params.profile_path = NULL;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT, "profile_path is NULL");
  base_params(&params, traces);
  params.catalog_path = "no/such/catalog.json";
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_NOT_FOUND, "no/such/catalog.json");
  base_params(&params, traces);
  params.offering = "nowhere";
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_NOT_FOUND, "nowhere");
  base_params(&params, traces);
  params.start_s = 1e9; /* after the trace's end */
  params.end_s = 0;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT, "no request");
  base_params(&params, traces);
  params.slo_ttft_s = -1;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT, "slo_ttft_s");
  base_params(&params, traces);
  params.speedup = 0;
  CHECK_FAILS(hearth_simulate(&params, &report), HEARTH_INVALID_ARGUMENT, "");

  s.struct_size = sizeof(s);
  CHECK_FAILS(hearth_sim_report_get_summary(NULL, NULL, &s), HEARTH_INVALID_ARGUMENT, "report");
  CHECK(hearth_sim_report_duration_s(NULL) == 0);
  CHECK(hearth_sim_report_wall_s(NULL) == 0);
  CHECK(hearth_sim_report_events(NULL) == 0);
  CHECK(strcmp(hearth_sim_report_json(NULL), "") == 0);
  hearth_sim_report_destroy(NULL);
}

/* Bad summary calls on a real report (the smallest window that has requests). */
static void test_bad_summary_calls(void) {
  const char* traces[] = {TRACE};
  hearth_sim_params params;
  hearth_sim_report* report = NULL;
  hearth_sim_summary s;
  base_params(&params, traces);
  params.end_s = 10;
  CHECK(hearth_simulate(&params, &report) == HEARTH_OK);
  s.struct_size = sizeof(s);
  /* The model is named after the file when the trace spec names none. */
  CHECK(hearth_sim_report_get_summary(report, "AzureLLMInferenceTrace_conv_2023", &s) ==
        HEARTH_OK);
  CHECK_FAILS(hearth_sim_report_get_summary(report, "conv", &s), HEARTH_NOT_FOUND, "conv");
  CHECK_FAILS(hearth_sim_report_get_summary(report, "\xc0", &s), HEARTH_INVALID_ARGUMENT, "UTF-8");
  CHECK_FAILS(hearth_sim_report_get_summary(report, NULL, NULL), HEARTH_INVALID_ARGUMENT, "out");
  s.struct_size = 0;
  CHECK_FAILS(hearth_sim_report_get_summary(report, NULL, &s), HEARTH_INVALID_ARGUMENT,
              "hearth_sim_summary.struct_size");
  hearth_sim_report_destroy(report);
}

int main(void) {
  test_bad_input();
  test_bad_summary_calls();
  test_consistent_report();
  printf("c_api_sim_test: all checks passed\n");
  return 0;
}
