/* Prints the layout of the C API's public types, one fact a line, for the ABI check
 * (scripts/check_abi.py): struct sizes, every field's offset and size, every enum value
 * and the version macros. Compiled as C99, like a caller. */
#include <stddef.h>
#include <stdio.h>

#include "hearth/c_api.h"

#define STRUCT(T) printf("struct %s size %zu\n", #T, sizeof(T))
#define FIELD(T, f) \
  printf("field %s.%s offset %zu size %zu\n", #T, #f, offsetof(T, f), sizeof(((T*)0)->f))
#define ENUM(e) printf("enum %s %d\n", #e, (int)(e))

int main(void) {
  printf("macro HEARTH_VERSION_MAJOR %d\n", HEARTH_VERSION_MAJOR);

  STRUCT(hearth_engine_params);
  FIELD(hearth_engine_params, struct_size);
  FIELD(hearth_engine_params, model_path);
  FIELD(hearth_engine_params, threads);
  FIELD(hearth_engine_params, context_length);
  FIELD(hearth_engine_params, kv_cache_bytes);
  FIELD(hearth_engine_params, max_batch_tokens);
  FIELD(hearth_engine_params, max_sequences);
  FIELD(hearth_engine_params, prefix_caching);
  FIELD(hearth_engine_params, backend);
  FIELD(hearth_engine_params, device);
  FIELD(hearth_engine_params, activation_bits);

  STRUCT(hearth_request);
  FIELD(hearth_request, struct_size);
  FIELD(hearth_request, prompt);
  FIELD(hearth_request, message_roles);
  FIELD(hearth_request, message_contents);
  FIELD(hearth_request, n_messages);
  FIELD(hearth_request, max_tokens);
  FIELD(hearth_request, temperature);
  FIELD(hearth_request, top_k);
  FIELD(hearth_request, top_p);
  FIELD(hearth_request, min_p);
  FIELD(hearth_request, repetition_penalty);
  FIELD(hearth_request, seed);
  FIELD(hearth_request, stop);
  FIELD(hearth_request, n_stop);
  FIELD(hearth_request, priority);
  FIELD(hearth_request, timeout_s);
  FIELD(hearth_request, ignore_eos);

  STRUCT(hearth_engine_metrics);
  FIELD(hearth_engine_metrics, struct_size);
  FIELD(hearth_engine_metrics, waiting);
  FIELD(hearth_engine_metrics, running);
  FIELD(hearth_engine_metrics, kv_blocks_total);
  FIELD(hearth_engine_metrics, kv_blocks_used);
  FIELD(hearth_engine_metrics, kv_blocks_free);
  FIELD(hearth_engine_metrics, requests_submitted);
  FIELD(hearth_engine_metrics, requests_finished);
  FIELD(hearth_engine_metrics, generated_tokens);
  FIELD(hearth_engine_metrics, generated_tokens_per_s);
  FIELD(hearth_engine_metrics, prefix_cache_hit_rate);
  FIELD(hearth_engine_metrics, time_to_first_token_p50_ms);
  FIELD(hearth_engine_metrics, time_to_first_token_p99_ms);
  FIELD(hearth_engine_metrics, inter_token_latency_p50_ms);
  FIELD(hearth_engine_metrics, inter_token_latency_p99_ms);

  STRUCT(hearth_pool_model);
  FIELD(hearth_pool_model, struct_size);
  FIELD(hearth_pool_model, name);
  FIELD(hearth_pool_model, engine);
  FIELD(hearth_pool_model, memory_bytes);
  FIELD(hearth_pool_model, max_leases);
  FIELD(hearth_pool_model, min_warm);

  STRUCT(hearth_pool_params);
  FIELD(hearth_pool_params, struct_size);
  FIELD(hearth_pool_params, models);
  FIELD(hearth_pool_params, n_models);
  FIELD(hearth_pool_params, memory_budget_bytes);
  FIELD(hearth_pool_params, max_instances);
  FIELD(hearth_pool_params, keep_alive);
  FIELD(hearth_pool_params, keep_alive_s);
  FIELD(hearth_pool_params, hybrid_bin_s);
  FIELD(hearth_pool_params, hybrid_range_s);
  FIELD(hearth_pool_params, hybrid_head_percentile);
  FIELD(hearth_pool_params, hybrid_tail_percentile);
  FIELD(hearth_pool_params, hybrid_margin);
  FIELD(hearth_pool_params, hybrid_min_samples);
  FIELD(hearth_pool_params, hybrid_min_cv);
  FIELD(hearth_pool_params, hybrid_max_out_of_bounds_share);
  FIELD(hearth_pool_params, hybrid_forecast_alpha);
  FIELD(hearth_pool_params, hybrid_forecast_margin);
  FIELD(hearth_pool_params, clock);

  STRUCT(hearth_pool_metrics);
  FIELD(hearth_pool_metrics, struct_size);
  FIELD(hearth_pool_metrics, warm_hits);
  FIELD(hearth_pool_metrics, cold_starts);
  FIELD(hearth_pool_metrics, failed_deadline);
  FIELD(hearth_pool_metrics, failed_load);
  FIELD(hearth_pool_metrics, failed_other);
  FIELD(hearth_pool_metrics, instances_started);
  FIELD(hearth_pool_metrics, instances_failed);
  FIELD(hearth_pool_metrics, instances_evicted);
  FIELD(hearth_pool_metrics, instances_expired);
  FIELD(hearth_pool_metrics, instances);
  FIELD(hearth_pool_metrics, provisioning);
  FIELD(hearth_pool_metrics, loading);
  FIELD(hearth_pool_metrics, idle);
  FIELD(hearth_pool_metrics, busy);
  FIELD(hearth_pool_metrics, draining);
  FIELD(hearth_pool_metrics, leases);
  FIELD(hearth_pool_metrics, waiting);
  FIELD(hearth_pool_metrics, memory_bytes);
  FIELD(hearth_pool_metrics, wait_time_p50_ms);
  FIELD(hearth_pool_metrics, wait_time_p99_ms);
  FIELD(hearth_pool_metrics, cold_start_p50_ms);
  FIELD(hearth_pool_metrics, cold_start_p99_ms);
  FIELD(hearth_pool_metrics, idle_instance_seconds);
  FIELD(hearth_pool_metrics, loaded_instance_seconds);

  STRUCT(hearth_pool_model_metrics);
  FIELD(hearth_pool_model_metrics, struct_size);
  FIELD(hearth_pool_model_metrics, provisioning);
  FIELD(hearth_pool_model_metrics, loading);
  FIELD(hearth_pool_model_metrics, idle);
  FIELD(hearth_pool_model_metrics, busy);
  FIELD(hearth_pool_model_metrics, draining);
  FIELD(hearth_pool_model_metrics, leases);
  FIELD(hearth_pool_model_metrics, waiting);
  FIELD(hearth_pool_model_metrics, desired);
  FIELD(hearth_pool_model_metrics, min_warm);
  FIELD(hearth_pool_model_metrics, memory_bytes);
  FIELD(hearth_pool_model_metrics, warm_hits);
  FIELD(hearth_pool_model_metrics, cold_starts);
  FIELD(hearth_pool_model_metrics, last_cold_start_ms);

  STRUCT(hearth_autoscaler_params);
  FIELD(hearth_autoscaler_params, struct_size);
  FIELD(hearth_autoscaler_params, policies);
  FIELD(hearth_autoscaler_params, n_policies);
  FIELD(hearth_autoscaler_params, min_replicas);
  FIELD(hearth_autoscaler_params, max_replicas);
  FIELD(hearth_autoscaler_params, clock);
  FIELD(hearth_autoscaler_params, hpa_target_per_replica);
  FIELD(hearth_autoscaler_params, hpa_tolerance);
  FIELD(hearth_autoscaler_params, hpa_sync_period_s);
  FIELD(hearth_autoscaler_params, hpa_scale_down_window_s);
  FIELD(hearth_autoscaler_params, hpa_min_replicas);
  FIELD(hearth_autoscaler_params, kpa_container_concurrency);
  FIELD(hearth_autoscaler_params, kpa_target_utilization);
  FIELD(hearth_autoscaler_params, kpa_stable_window_s);
  FIELD(hearth_autoscaler_params, kpa_panic_threshold);
  FIELD(hearth_autoscaler_params, kpa_scale_to_zero_grace_s);
  FIELD(hearth_autoscaler_params, queue_target_depth);
  FIELD(hearth_autoscaler_params, queue_cooldown_s);
  FIELD(hearth_autoscaler_params, load_score_rps_capacity);
  FIELD(hearth_autoscaler_params, load_score_interval_s);
  FIELD(hearth_autoscaler_params, predictive_target_concurrency);
  FIELD(hearth_autoscaler_params, predictive_headroom);
  FIELD(hearth_autoscaler_params, predictive_bin_s);
  FIELD(hearth_autoscaler_params, predictive_season_s);
  FIELD(hearth_autoscaler_params, predictive_cold_start_s);
  FIELD(hearth_autoscaler_params, static_replicas);

  STRUCT(hearth_load_sample);
  FIELD(hearth_load_sample, struct_size);
  FIELD(hearth_load_sample, ready_replicas);
  FIELD(hearth_load_sample, starting_replicas);
  FIELD(hearth_load_sample, in_flight);
  FIELD(hearth_load_sample, queue_depth);
  FIELD(hearth_load_sample, arrival_rate);
  FIELD(hearth_load_sample, tokens_per_s);
  FIELD(hearth_load_sample, utilization);
  FIELD(hearth_load_sample, memory_utilization);
  FIELD(hearth_load_sample, ttft_p50_ms);
  FIELD(hearth_load_sample, ttft_p99_ms);

  STRUCT(hearth_model_tier);
  FIELD(hearth_model_tier, struct_size);
  FIELD(hearth_model_tier, name);
  FIELD(hearth_model_tier, model);
  FIELD(hearth_model_tier, price_per_1k_tokens);
  FIELD(hearth_model_tier, max_difficulty);

  STRUCT(hearth_cost_params);
  FIELD(hearth_cost_params, struct_size);
  FIELD(hearth_cost_params, catalog_path);
  FIELD(hearth_cost_params, output_token_weight);
  FIELD(hearth_cost_params, tiers);
  FIELD(hearth_cost_params, n_tiers);
  FIELD(hearth_cost_params, escalate_below_logprob);
  FIELD(hearth_cost_params, cache_capacity_bytes);
  FIELD(hearth_cost_params, cache_ttl_s);
  FIELD(hearth_cost_params, clock);

  STRUCT(hearth_offering);
  FIELD(hearth_offering, struct_size);
  FIELD(hearth_offering, name);
  FIELD(hearth_offering, kind);
  FIELD(hearth_offering, provider);
  FIELD(hearth_offering, region);
  FIELD(hearth_offering, currency);
  FIELD(hearth_offering, price_date);
  FIELD(hearth_offering, source);
  FIELD(hearth_offering, vcpus);
  FIELD(hearth_offering, memory_gib);
  FIELD(hearth_offering, accelerator);
  FIELD(hearth_offering, accelerator_count);
  FIELD(hearth_offering, price_per_second);
  FIELD(hearth_offering, per_request);
  FIELD(hearth_offering, billing_granularity_s);
  FIELD(hearth_offering, minimum_billed_s);
  FIELD(hearth_offering, hourly);
  FIELD(hearth_offering, term_s);
  FIELD(hearth_offering, interruption_rate_per_hour);

  STRUCT(hearth_price);
  FIELD(hearth_price, struct_size);
  FIELD(hearth_price, billed_s);
  FIELD(hearth_price, run_cost);
  FIELD(hearth_price, request_fee);
  FIELD(hearth_price, total);

  STRUCT(hearth_cost_totals);
  FIELD(hearth_cost_totals, struct_size);
  FIELD(hearth_cost_totals, instance_cost);
  FIELD(hearth_cost_totals, request_fees);
  FIELD(hearth_cost_totals, unattributed);
  FIELD(hearth_cost_totals, total);

  STRUCT(hearth_tenant_cost);
  FIELD(hearth_tenant_cost, struct_size);
  FIELD(hearth_tenant_cost, instance_share);
  FIELD(hearth_tenant_cost, request_fees);
  FIELD(hearth_tenant_cost, total);
  FIELD(hearth_tenant_cost, requests);
  FIELD(hearth_tenant_cost, prompt_tokens);
  FIELD(hearth_tenant_cost, output_tokens);

  STRUCT(hearth_model_cost);
  FIELD(hearth_model_cost, struct_size);
  FIELD(hearth_model_cost, instance_seconds);
  FIELD(hearth_model_cost, instance_cost);
  FIELD(hearth_model_cost, request_fees);
  FIELD(hearth_model_cost, requests);
  FIELD(hearth_model_cost, prompt_tokens);
  FIELD(hearth_model_cost, output_tokens);

  STRUCT(hearth_cache_stats);
  FIELD(hearth_cache_stats, struct_size);
  FIELD(hearth_cache_stats, hits);
  FIELD(hearth_cache_stats, misses);
  FIELD(hearth_cache_stats, uncacheable);
  FIELD(hearth_cache_stats, insertions);
  FIELD(hearth_cache_stats, evictions);
  FIELD(hearth_cache_stats, expirations);
  FIELD(hearth_cache_stats, refused);
  FIELD(hearth_cache_stats, entries);
  FIELD(hearth_cache_stats, bytes);

  STRUCT(hearth_route);
  FIELD(hearth_route, struct_size);
  FIELD(hearth_route, tier);
  FIELD(hearth_route, tier_name);
  FIELD(hearth_route, model);
  FIELD(hearth_route, difficulty);
  FIELD(hearth_route, escalated);

  STRUCT(hearth_plan_params);
  FIELD(hearth_plan_params, struct_size);
  FIELD(hearth_plan_params, serverless_offering);
  FIELD(hearth_plan_params, always_on_offering);
  FIELD(hearth_plan_params, reserved_offering);
  FIELD(hearth_plan_params, cold_start_s);
  FIELD(hearth_plan_params, requests);
  FIELD(hearth_plan_params, n_intervals);
  FIELD(hearth_plan_params, interval_s);
  FIELD(hearth_plan_params, request_duration_s);
  FIELD(hearth_plan_params, concurrency_per_replica);
  FIELD(hearth_plan_params, p95_latency_s);

  STRUCT(hearth_plan);
  FIELD(hearth_plan, struct_size);
  FIELD(hearth_plan, always_on_cost);
  FIELD(hearth_plan, always_on_replicas);
  FIELD(hearth_plan, serverless_cost);
  FIELD(hearth_plan, best_reserved);
  FIELD(hearth_plan, best_cost);
  FIELD(hearth_plan, seed_reserved);
  FIELD(hearth_plan, seed_cost);
  FIELD(hearth_plan, daily_requests);
  FIELD(hearth_plan, recommendation);
  FIELD(hearth_plan, crossover_requests_per_day);
  FIELD(hearth_plan, crossover_valid);

  STRUCT(hearth_sim_params);
  FIELD(hearth_sim_params, struct_size);
  FIELD(hearth_sim_params, traces);
  FIELD(hearth_sim_params, n_traces);
  FIELD(hearth_sim_params, policy);
  FIELD(hearth_sim_params, profile_path);
  FIELD(hearth_sim_params, catalog_path);
  FIELD(hearth_sim_params, offering);
  FIELD(hearth_sim_params, always_on_offering);
  FIELD(hearth_sim_params, speedup);
  FIELD(hearth_sim_params, start_s);
  FIELD(hearth_sim_params, end_s);
  FIELD(hearth_sim_params, sample);
  FIELD(hearth_sim_params, time_scale);
  FIELD(hearth_sim_params, provisioning_overhead_s);
  FIELD(hearth_sim_params, slo_ttft_s);
  FIELD(hearth_sim_params, max_queue_wait_s);
  FIELD(hearth_sim_params, max_instances);
  FIELD(hearth_sim_params, max_replicas);
  FIELD(hearth_sim_params, servegen_rate_scale);
  FIELD(hearth_sim_params, top);
  FIELD(hearth_sim_params, seed);

  STRUCT(hearth_sim_summary);
  FIELD(hearth_sim_summary, struct_size);
  FIELD(hearth_sim_summary, requests);
  FIELD(hearth_sim_summary, served);
  FIELD(hearth_sim_summary, rejected);
  FIELD(hearth_sim_summary, rejected_queue_timeout);
  FIELD(hearth_sim_summary, rejected_prompt_too_long);
  FIELD(hearth_sim_summary, rejected_provisioner_error);
  FIELD(hearth_sim_summary, rejected_pool_error);
  FIELD(hearth_sim_summary, rejected_empty_prompt);
  FIELD(hearth_sim_summary, truncated);
  FIELD(hearth_sim_summary, cold_starts);
  FIELD(hearth_sim_summary, cold_start_rate);
  FIELD(hearth_sim_summary, ttft_p50_s);
  FIELD(hearth_sim_summary, ttft_p99_s);
  FIELD(hearth_sim_summary, e2e_p50_s);
  FIELD(hearth_sim_summary, e2e_p95_s);
  FIELD(hearth_sim_summary, e2e_p99_s);
  FIELD(hearth_sim_summary, slo_met);
  FIELD(hearth_sim_summary, slo_attainment);
  FIELD(hearth_sim_summary, prompt_tokens);
  FIELD(hearth_sim_summary, output_tokens);
  FIELD(hearth_sim_summary, instances_started);
  FIELD(hearth_sim_summary, instance_seconds);
  FIELD(hearth_sim_summary, loaded_instance_seconds);
  FIELD(hearth_sim_summary, idle_instance_seconds);
  FIELD(hearth_sim_summary, cost);
  FIELD(hearth_sim_summary, cost_per_1k_requests);

  ENUM(HEARTH_BACKEND_CPU);
  ENUM(HEARTH_BACKEND_CUDA);
  ENUM(HEARTH_BACKEND_AUTO);
  ENUM(HEARTH_KEEP_ALIVE_FIXED);
  ENUM(HEARTH_KEEP_ALIVE_IMMEDIATE);
  ENUM(HEARTH_KEEP_ALIVE_HYBRID);
  ENUM(HEARTH_OK);
  ENUM(HEARTH_CANCELLED);
  ENUM(HEARTH_UNKNOWN);
  ENUM(HEARTH_INVALID_ARGUMENT);
  ENUM(HEARTH_DEADLINE_EXCEEDED);
  ENUM(HEARTH_NOT_FOUND);
  ENUM(HEARTH_ALREADY_EXISTS);
  ENUM(HEARTH_PERMISSION_DENIED);
  ENUM(HEARTH_RESOURCE_EXHAUSTED);
  ENUM(HEARTH_FAILED_PRECONDITION);
  ENUM(HEARTH_ABORTED);
  ENUM(HEARTH_OUT_OF_RANGE);
  ENUM(HEARTH_UNIMPLEMENTED);
  ENUM(HEARTH_INTERNAL);
  ENUM(HEARTH_UNAVAILABLE);
  ENUM(HEARTH_DATA_LOSS);
  ENUM(HEARTH_UNAUTHENTICATED);
  return 0;
}
