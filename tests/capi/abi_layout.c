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
