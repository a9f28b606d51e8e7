/* hearth C API — the stable C ABI over the hearth library (C99).
 *
 * For callers in C and in languages that load the library with dlopen (Python ctypes,
 * Go, Rust, ...). Conventions, as in SQLite and zstd:
 *   - Opaque handles, created and destroyed in pairs; destroy(NULL) is a no-op.
 *   - Every fallible call returns a hearth_status (0 = HEARTH_OK); the message of the
 *     calling thread's last failure is hearth_last_error(). Codes are the canonical
 *     absl/gRPC codes, never renumbered.
 *   - Parameter structs start with `struct_size`, set by their *_init() function, so that
 *     fields can be added at the end without breaking compiled callers; a size the
 *     library does not know is HEARTH_INVALID_ARGUMENT.
 *   - Strings in are NUL-terminated UTF-8 (invalid UTF-8 is HEARTH_INVALID_ARGUMENT);
 *     strings out belong to the object they came from and live as long as it.
 *   - No C++ exception crosses this boundary.
 *
 * Usage:
 *   hearth_engine_params params;
 *   hearth_engine_params_init(&params);
 *   params.model_path = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
 *   hearth_engine* engine = NULL;
 *   if (hearth_engine_create(&params, &engine) != HEARTH_OK) {
 *     fprintf(stderr, "%s\n", hearth_last_error());
 *   }
 *   hearth_request request;
 *   hearth_request_init(&request);
 *   request.prompt = "Once upon a time";
 *   request.max_tokens = 32;
 *   hearth_result* result = NULL;
 *   if (hearth_engine_generate(engine, &request, print_piece, NULL, &result) == HEARTH_OK) {
 *     printf("%s\n", hearth_result_text(result));
 *   }
 *   hearth_result_destroy(result);
 *   hearth_engine_destroy(engine);
 *
 * Thread-safety: every function may be called from any thread; an engine serves many
 * threads at once. A handle must not be used after (or while) it is destroyed. Token
 * callbacks run on the engine's scheduler thread: they must be quick and must not call
 * back into the engine.
 */
#ifndef HEARTH_C_API_H_
#define HEARTH_C_API_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define HEARTH_API __declspec(dllexport)
#else
#define HEARTH_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Compile-time version; hearth_version() gives the library's at run time. */
#define HEARTH_VERSION_MAJOR 0
#define HEARTH_VERSION_MINOR 1
#define HEARTH_VERSION_PATCH 0
#define HEARTH_VERSION_NUMBER \
  (HEARTH_VERSION_MAJOR * 10000 + HEARTH_VERSION_MINOR * 100 + HEARTH_VERSION_PATCH)

/* The canonical status codes (absl::StatusCode), one to one. */
typedef enum hearth_status {
  HEARTH_OK = 0,
  HEARTH_CANCELLED = 1,
  HEARTH_UNKNOWN = 2,
  HEARTH_INVALID_ARGUMENT = 3,
  HEARTH_DEADLINE_EXCEEDED = 4,
  HEARTH_NOT_FOUND = 5,
  HEARTH_ALREADY_EXISTS = 6,
  HEARTH_PERMISSION_DENIED = 7,
  HEARTH_RESOURCE_EXHAUSTED = 8,
  HEARTH_FAILED_PRECONDITION = 9,
  HEARTH_ABORTED = 10,
  HEARTH_OUT_OF_RANGE = 11,
  HEARTH_UNIMPLEMENTED = 12,
  HEARTH_INTERNAL = 13,
  HEARTH_UNAVAILABLE = 14,
  HEARTH_DATA_LOSS = 15,
  HEARTH_UNAUTHENTICATED = 16
} hearth_status;

/* HEARTH_VERSION_NUMBER of the library actually loaded. */
HEARTH_API uint32_t hearth_version(void);
/* "0.1.0"; static storage. */
HEARTH_API const char* hearth_version_string(void);
/* The message of the calling thread's last failed call ("" if none); valid until the
 * thread's next failing call. */
HEARTH_API const char* hearth_last_error(void);
/* "ok", "invalid_argument", ...; "unknown" for a code outside the enum. Static storage. */
HEARTH_API const char* hearth_status_name(int status);

/* ---- Engine ------------------------------------------------------------------------ */

typedef struct hearth_engine hearth_engine;

typedef struct hearth_engine_params {
  uint32_t struct_size;    /* sizeof(hearth_engine_params), set by _init */
  const char* model_path;  /* a .gguf file; required */
  int32_t threads;         /* 0 = one per hardware thread */
  int32_t context_length;  /* 0 = min(model's, 4096) */
  int64_t kv_cache_bytes;  /* 0 = room for max_sequences requests of 1,024 tokens */
  int32_t max_batch_tokens;  /* 0 = 256 */
  int32_t max_sequences;     /* 0 = 64 */
  int32_t prefix_caching;    /* nonzero = on (default) */
} hearth_engine_params;

/* Fills *params with the defaults above (model_path NULL). */
HEARTH_API void hearth_engine_params_init(hearth_engine_params* params);

/* Loads the model. On success *out owns a new engine (free with hearth_engine_destroy);
 * on failure *out is NULL (e.g. HEARTH_NOT_FOUND for a missing file). */
HEARTH_API int hearth_engine_create(const hearth_engine_params* params, hearth_engine** out);
/* Cancels the engine's unfinished requests, then frees it. NULL is a no-op. */
HEARTH_API void hearth_engine_destroy(hearth_engine* engine);

typedef struct hearth_request {
  uint32_t struct_size;        /* sizeof(hearth_request), set by _init */
  /* Exactly one of: a raw prompt, or n_messages chat messages (roles "system", "user",
   * "assistant") formatted with the model's chat template. */
  const char* prompt;
  const char* const* message_roles;
  const char* const* message_contents;
  size_t n_messages;
  int32_t max_tokens;          /* > 0; default 256 */
  float temperature;           /* >= 0, 0 = greedy; default 0.8 */
  int32_t top_k;               /* 0 = off; default 40 */
  float top_p;                 /* (0, 1]; default 0.95 */
  float min_p;                 /* [0, 1); default 0.05 */
  float repetition_penalty;    /* > 0, 1 = off; default 1 */
  uint64_t seed;               /* same seed, same output; default 0 */
  const char* const* stop;     /* n_stop stop strings */
  size_t n_stop;
  int32_t priority;            /* larger runs first; default 0 */
  double timeout_s;            /* > 0: finish with "deadline" after this; 0 = none */
  int32_t ignore_eos;          /* nonzero: keep going past end-of-sequence */
} hearth_request;

/* Fills *request with the defaults above (no prompt). */
HEARTH_API void hearth_request_init(hearth_request* request);

/* Receives each new piece of text (whole UTF-8 characters, not NUL-terminated). Return 0
 * to continue, nonzero to cancel the request (it finishes with "cancelled"). */
typedef int (*hearth_token_callback)(const char* piece, size_t length, void* user_data);

typedef struct hearth_result hearth_result;

/* Submits the request and waits for it, streaming to on_token (may be NULL). On success
 * *out owns the result (free with hearth_result_destroy), whatever the finish reason. */
HEARTH_API int hearth_engine_generate(hearth_engine* engine, const hearth_request* request,
                                      hearth_token_callback on_token, void* user_data,
                                      hearth_result** out);
/* Queues the request and returns at once with its id in *id. */
HEARTH_API int hearth_engine_submit(hearth_engine* engine, const hearth_request* request,
                                    hearth_token_callback on_token, void* user_data,
                                    uint64_t* id);
/* Asks a submitted request to stop: HEARTH_NOT_FOUND for an unknown id,
 * HEARTH_FAILED_PRECONDITION once it has finished. */
HEARTH_API int hearth_engine_cancel(hearth_engine* engine, uint64_t id);
/* Waits for a submitted request; the id is forgotten afterwards. */
HEARTH_API int hearth_engine_wait(hearth_engine* engine, uint64_t id, hearth_result** out);

/* The result's generated text (NUL-terminated UTF-8). */
HEARTH_API const char* hearth_result_text(const hearth_result* result);
/* "stop", "length", "cancelled", "deadline" or "error". */
HEARTH_API const char* hearth_result_finish_reason(const hearth_result* result);
HEARTH_API int32_t hearth_result_prompt_tokens(const hearth_result* result);
HEARTH_API int32_t hearth_result_completion_tokens(const hearth_result* result);
/* Milliseconds from submission to the first generated token. */
HEARTH_API double hearth_result_first_token_ms(const hearth_result* result);
/* NULL is a no-op. */
HEARTH_API void hearth_result_destroy(hearth_result* result);

typedef struct hearth_engine_metrics {
  uint32_t struct_size;  /* the caller sets sizeof(hearth_engine_metrics) */
  int64_t waiting;       /* queue depth */
  int64_t running;
  int64_t kv_blocks_total;
  int64_t kv_blocks_used;
  int64_t kv_blocks_free;
  uint64_t requests_submitted;
  uint64_t requests_finished;
  uint64_t generated_tokens;
  double generated_tokens_per_s;  /* over the last 10 s */
  double prefix_cache_hit_rate;
  double time_to_first_token_p50_ms;
  double time_to_first_token_p99_ms;
  double inter_token_latency_p50_ms;
  double inter_token_latency_p99_ms;
} hearth_engine_metrics;

/* A snapshot of the engine's load; cheap, never waits for the scheduler. */
HEARTH_API int hearth_engine_get_metrics(const hearth_engine* engine, hearth_engine_metrics* out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* HEARTH_C_API_H_ */
