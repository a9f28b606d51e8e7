/* hearth C API — the stable C ABI over the hearth library (C99).
 *
 * For callers in C and in languages that load the library with dlopen (Python ctypes,
 * Go, Rust, ...). Conventions, as in SQLite and zstd:
 *   - Opaque handles, created and destroyed in pairs; destroy(NULL) is a no-op.
 *   - The library keeps a registry of the handles it has handed out and not yet seen
 *     destroyed. A handle that is not in it (destroyed or released, never created, or a
 *     handle of another type cast to this one) is refused like NULL: every call taking
 *     it returns HEARTH_INVALID_ARGUMENT with "<name> is not a live hearth_<type>
 *     (destroyed, or never created)", destroy/release of it is a no-op (a double destroy
 *     is harmless), and a function returning a value instead of a status returns what it
 *     returns for NULL. Its limits: it catches a use on any thread once the destroy has
 *     returned, not a destroy racing with a call in progress on the same handle (still
 *     the caller's bug), and an address freed and then reused by a new handle of the same
 *     type is that new handle: the registry cannot tell them apart.
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
 * threads at once. A handle must not be destroyed while a call on it is in progress
 * (hearth_pool_destroy excepted: it ends the acquires waiting on it); a call after the
 * destroy has returned is refused, as above. Token
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
  /* Added in 0.1's second ABI revision; a caller built before them passes the smaller
   * struct_size and gets the defaults. */
  int32_t backend;           /* a hearth_backend; default HEARTH_BACKEND_CPU */
  int32_t device;            /* CUDA device ordinal; default 0 */
  /* Added in the third revision, in what was the struct's tail padding (its size is
   * unchanged): _init zeroes it, and 0 means the default. */
  int32_t activation_bits;   /* CPU activation precision: 16 (0 = default) or 8 (faster
                              * batches, ~97 % top-1 agreement with the 16-bit results) */
} hearth_engine_params;

/* Where an engine's forward pass runs. CUDA needs a library built with it and a device
 * (else hearth_engine_create fails with HEARTH_UNIMPLEMENTED or
 * HEARTH_FAILED_PRECONDITION); AUTO takes the GPU where both exist, else the CPU. */
typedef enum hearth_backend {
  HEARTH_BACKEND_CPU = 0,
  HEARTH_BACKEND_CUDA = 1,
  HEARTH_BACKEND_AUTO = 2
} hearth_backend;

/* Fills *params with the defaults above (model_path NULL). */
HEARTH_API void hearth_engine_params_init(hearth_engine_params* params);

/* Loads the model. On success *out owns a new engine (free with hearth_engine_destroy);
 * on failure *out is NULL (e.g. HEARTH_NOT_FOUND for a missing file). */
HEARTH_API int hearth_engine_create(const hearth_engine_params* params, hearth_engine** out);
/* Cancels the engine's unfinished requests, then frees it. NULL is a no-op. */
HEARTH_API void hearth_engine_destroy(hearth_engine* engine);
/* "cpu" or "cuda": where the engine's forward pass runs (what HEARTH_BACKEND_AUTO chose);
 * owned by the engine. "" for a handle that is not live. */
HEARTH_API const char* hearth_engine_backend(const hearth_engine* engine);

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

/* ---- Clocks ------------------------------------------------------------------------ */

/* The WarmPool, the AutoScaler and the CostOptimizer read time from a clock: the real one
 * (pass NULL) or a manual clock that moves only when the caller advances it, so that
 * tests and simulations decide the same way on every run. Times are seconds since the
 * Unix epoch on that clock. An object created with a manual clock keeps it alive: the
 * handle may be destroyed before the objects that use it. */
typedef struct hearth_clock hearth_clock;

/* A manual clock starting at start_s (finite). *out owns it (hearth_clock_destroy). */
HEARTH_API int hearth_clock_create_manual(double start_s, hearth_clock** out);
/* Drops the caller's reference; objects created with the clock keep theirs. NULL: no-op. */
HEARTH_API void hearth_clock_destroy(hearth_clock* clock);
/* Moves the clock forward by seconds (finite, >= 0). Safe from any thread, also while
 * other threads read the clock through the objects that use it. */
HEARTH_API int hearth_clock_advance(hearth_clock* clock, double seconds);
/* The clock's time; NULL reads the real clock. NAN for a clock that is not live. */
HEARTH_API double hearth_clock_now(const hearth_clock* clock);

/* ---- WarmPool ---------------------------------------------------------------------- */

/* Keeps loaded engines per model and leases them to requests (include/hearth/warm_pool.h
 * tells the whole story). The pool loads REAL engines, each from its model's
 * hearth_engine_params, on a background thread: a lease for a model with no free loaded
 * engine waits for a cold start; the next one finds it warm. A lease lends its engine:
 * hearth_lease_engine() is a borrowed hearth_engine* usable with every hearth_engine_*
 * call but destroy (which ignores it), valid until the lease is released.
 *
 * Thread-safety: every pool and lease function may be called from any thread; one pool
 * serves many threads at once. A lease is released once, after every call on its engine
 * has returned. A lease may outlive its pool: its engine then stays loaded until the
 * lease is released. */
typedef struct hearth_pool hearth_pool;
typedef struct hearth_lease hearth_lease;

/* How long an idle engine stays loaded (include/hearth/keep_alive.h). */
typedef enum hearth_keep_alive {
  HEARTH_KEEP_ALIVE_FIXED = 0,     /* keep_alive_s after its last lease returns */
  HEARTH_KEEP_ALIVE_IMMEDIATE = 1, /* unload at once; only min_warm and the desired count
                                      keep engines loaded */
  HEARTH_KEEP_ALIVE_HYBRID = 2     /* the hybrid histogram policy (Shahrad et al., ATC '20),
                                      per model, with the hybrid_* parameters */
} hearth_keep_alive;

typedef struct hearth_pool_model {
  uint32_t struct_size;                /* sizeof(hearth_pool_model), set by _init */
  const char* name;                    /* unique in the pool; required */
  const hearth_engine_params* engine;  /* how to load it; required, kv_cache_bytes > 0 (the
                                          pool budgets file size + KV cache per engine) */
  int64_t memory_bytes;  /* per engine; 0 (default) = learn it from the first one loaded */
  int32_t max_leases;    /* leases one engine serves at once; default 1 */
  int32_t min_warm;      /* engines loaded at create and always kept; default 0 */
} hearth_pool_model;

/* Fills *model with the defaults above (name and engine NULL). */
HEARTH_API void hearth_pool_model_init(hearth_pool_model* model);

typedef struct hearth_pool_params {
  uint32_t struct_size;                     /* sizeof(hearth_pool_params), set by _init */
  const hearth_pool_model* const* models;   /* n_models pointers; at least one */
  size_t n_models;
  int64_t memory_budget_bytes;  /* > 0: all loaded and loading engines together */
  int32_t max_instances;        /* > 0: engines not yet unloaded */
  int32_t keep_alive;           /* a hearth_keep_alive; default FIXED */
  double keep_alive_s;          /* FIXED: >= 0; default 600 (AWS Lambda's 10 minutes) */
  /* HYBRID, defaults as keep_alive.h: idle-time histogram of hybrid_bin_s-wide bins over
   * [0, hybrid_range_s); pre-warm at the head percentile, keep to the tail one, each with
   * the margin. */
  double hybrid_bin_s;             /* > 0; default 60 */
  double hybrid_range_s;           /* a multiple of the bin; default 14400 */
  double hybrid_head_percentile;   /* [0, 100]; default 5 */
  double hybrid_tail_percentile;   /* [head, 100]; default 99 */
  double hybrid_margin;            /* [0, 1); default 0.1 */
  int32_t hybrid_min_samples;      /* >= 1; default 10 */
  double hybrid_min_cv;            /* >= 0; default 2 */
  double hybrid_max_out_of_bounds_share;  /* [0, 1]; default 0.5 */
  double hybrid_forecast_alpha;    /* (0, 1]; default 0.5 */
  double hybrid_forecast_margin;   /* [0, 1); default 0.15 */
  hearth_clock* clock;  /* NULL = the real clock; a manual one is kept alive by the pool */
} hearth_pool_params;

/* Fills *params with the defaults above (no models, zero capacity). */
HEARTH_API void hearth_pool_params_init(hearth_pool_params* params);

/* Validates the params (HEARTH_INVALID_ARGUMENT naming the field) and starts every
 * model's min_warm engines. *out owns the pool (hearth_pool_destroy); NULL on failure. */
HEARTH_API int hearth_pool_create(const hearth_pool_params* params, hearth_pool** out);
/* Fails every waiting acquire with HEARTH_CANCELLED, unloads idle engines, waits for
 * engines still loading, then frees the pool; leases out keep their engine. NULL: no-op. */
HEARTH_API void hearth_pool_destroy(hearth_pool* pool);

/* Leases a slot of an engine of `model`, waiting at most timeout_s (>= 0, INFINITY = no
 * limit) for a cold start or a free slot. *out owns the lease (hearth_lease_release).
 * HEARTH_NOT_FOUND for an unknown model, HEARTH_DEADLINE_EXCEEDED when the time passes
 * first, the engine's load error (e.g. HEARTH_NOT_FOUND for a missing model file),
 * HEARTH_RESOURCE_EXHAUSTED when the engine does not fit, HEARTH_CANCELLED when the pool
 * is destroyed meanwhile. With a manual clock the deadline is checked when the pool
 * reads its clock: another thread's hearth_pool_tick (or any pool call) after advancing
 * the clock ends the wait. */
HEARTH_API int hearth_pool_acquire(hearth_pool* pool, const char* model, double timeout_s,
                                   hearth_lease** out);
/* The lease's engine, borrowed from the pool: valid until hearth_lease_release. */
HEARTH_API hearth_engine* hearth_lease_engine(const hearth_lease* lease);
/* The id of the engine instance serving the lease (unique in the pool); 0 for NULL. */
HEARTH_API int64_t hearth_lease_instance_id(const hearth_lease* lease);
/* Returns the slot to the pool and frees the lease (its engine is no longer the
 * caller's). NULL: no-op. */
HEARTH_API void hearth_lease_release(hearth_lease* lease);

/* Starts count (>= 0) more engines of model now. HEARTH_RESOURCE_EXHAUSTED (saying how
 * many started) when not all fit. */
HEARTH_API int hearth_pool_prewarm(hearth_pool* pool, const char* model, int32_t count);
/* The autoscaler's target for model (>= 0): engines start until it has count, and idle
 * ones above max(count, min_warm) go by the keep-alive policy. */
HEARTH_API int hearth_pool_set_desired_instances(hearth_pool* pool, const char* model,
                                                 int32_t count);
/* Unloads one engine: idle now, busy once its leases return. HEARTH_NOT_FOUND for an
 * unknown or unloaded id. */
HEARTH_API int hearth_pool_retire(hearth_pool* pool, int64_t instance_id);
/* Applies, at the clock's time, waiters' deadlines, keep-alive windows and pre-warm
 * timers: call it periodically (with a manual clock, after each advance). */
HEARTH_API int hearth_pool_tick(hearth_pool* pool);
/* When hearth_pool_tick next has work (clock seconds; INFINITY for never). */
HEARTH_API int hearth_pool_next_wakeup(const hearth_pool* pool, double* out);

typedef struct hearth_pool_metrics {
  uint32_t struct_size;         /* the caller sets sizeof(hearth_pool_metrics) */
  uint64_t warm_hits;           /* acquisitions leased at once */
  uint64_t cold_starts;         /* acquisitions that found no free loaded slot and waited */
  uint64_t failed_deadline;     /* acquisitions answered HEARTH_DEADLINE_EXCEEDED */
  uint64_t failed_load;         /* acquisitions answered with an engine's load error */
  uint64_t failed_other;        /* unknown model, pool destroyed, engine too large */
  uint64_t instances_started;
  uint64_t instances_failed;    /* engines that failed to load */
  uint64_t instances_evicted;   /* idle engines unloaded to make room */
  uint64_t instances_expired;   /* idle engines unloaded by the keep-alive policy */
  int32_t instances;            /* not yet unloaded, by state below */
  int32_t provisioning;
  int32_t loading;
  int32_t idle;
  int32_t busy;
  int32_t draining;             /* told to go, waiting for their leases to return */
  int32_t leases;               /* leases out */
  int32_t waiting;              /* acquisitions waiting */
  int64_t memory_bytes;         /* held or reserved now */
  double wait_time_p50_ms;      /* acquisition to lease, warm hits counted as 0 */
  double wait_time_p99_ms;
  double cold_start_p50_ms;     /* engine start to loaded */
  double cold_start_p99_ms;
  double idle_instance_seconds;    /* integral of idle engines over time */
  double loaded_instance_seconds;  /* integral of loaded engines over time */
} hearth_pool_metrics;

/* A snapshot over every model; cheap. */
HEARTH_API int hearth_pool_get_metrics(const hearth_pool* pool, hearth_pool_metrics* out);

typedef struct hearth_pool_model_metrics {
  uint32_t struct_size;  /* the caller sets sizeof(hearth_pool_model_metrics) */
  int32_t provisioning;
  int32_t loading;
  int32_t idle;
  int32_t busy;
  int32_t draining;
  int32_t leases;
  int32_t waiting;
  int32_t desired;       /* hearth_pool_set_desired_instances' count */
  int32_t min_warm;
  int64_t memory_bytes;  /* per engine, as configured or learned */
  uint64_t warm_hits;
  uint64_t cold_starts;
  double last_cold_start_ms;  /* the latest engine start to loaded; 0 before any */
} hearth_pool_model_metrics;

/* One model's snapshot; HEARTH_NOT_FOUND for a model the pool does not serve. */
HEARTH_API int hearth_pool_get_model_metrics(const hearth_pool* pool, const char* model,
                                             hearth_pool_model_metrics* out);

/* ---- AutoScaler -------------------------------------------------------------------- */

/* Load signals in, a desired replica count out (include/hearth/autoscaler.h): the
 * largest recommendation of its policies, clamped to [min_replicas, max_replicas], and at
 * least 1 while nothing runs but requests wait. It decides only; the caller acts (e.g.
 * hearth_pool_set_desired_instances).
 *
 * Thread-safety: every autoscaler function may be called from any thread. */
typedef struct hearth_autoscaler hearth_autoscaler;

typedef struct hearth_autoscaler_params {
  uint32_t struct_size;         /* sizeof(hearth_autoscaler_params), set by _init */
  /* n_policies names of: "hpa", "kpa", "queue_depth", "load_score", "predictive",
   * "static"; at least one, each at most once. */
  const char* const* policies;
  size_t n_policies;
  int32_t min_replicas;         /* >= 0 (0 allows scale to zero); default 0 */
  int32_t max_replicas;         /* >= max(1, min_replicas); default 100 */
  hearth_clock* clock;          /* NULL = the real clock */
  /* Each policy's main parameters, defaults as scaling_policies.h documents them.
   * hpa: Kubernetes HPA v2 on concurrency (in flight + queued per ready replica). */
  double hpa_target_per_replica;   /* > 0; default 70 */
  double hpa_tolerance;            /* [0, 1); default 0.1 */
  double hpa_sync_period_s;        /* > 0; default 15 */
  double hpa_scale_down_window_s;  /* >= 0; default 300 */
  int32_t hpa_min_replicas;        /* >= 0; default 1 (Kubernetes' minReplicas) */
  /* kpa: Knative's KPA. */
  double kpa_container_concurrency;  /* > 0; default 100 */
  double kpa_target_utilization;     /* (0, 1]; default 0.7 */
  double kpa_stable_window_s;        /* > 0; default 60 */
  double kpa_panic_threshold;        /* > 1; default 2 */
  double kpa_scale_to_zero_grace_s;  /* >= 0; default 30 */
  /* queue_depth: add replicas when requests wait. */
  double queue_target_depth;         /* > 0: waiting requests one replica absorbs; 10 */
  double queue_cooldown_s;           /* >= 0; default 60 */
  /* load_score: weighted utilisation / memory / request-rate score. */
  double load_score_rps_capacity;    /* > 0: requests/s one replica serves; default 10 */
  double load_score_interval_s;      /* > 0; default 15 */
  /* predictive: arrival-rate forecast, provisioned ahead by the cold start. */
  double predictive_target_concurrency;  /* > 0; default 70 */
  double predictive_headroom;            /* >= 1; default 1.1 */
  double predictive_bin_s;               /* > 0; default 60 */
  double predictive_season_s;            /* >= 2 bins, whole bins; default 86400 */
  double predictive_cold_start_s;        /* >= 0, lead until measured; default 10 */
  /* static: a fixed count. */
  int32_t static_replicas;               /* >= 0; default 1 */
} hearth_autoscaler_params;

/* Fills *params with the defaults above (no policies). */
HEARTH_API void hearth_autoscaler_params_init(hearth_autoscaler_params* params);

/* HEARTH_INVALID_ARGUMENT naming the field or the unknown policy. *out owns the
 * autoscaler (hearth_autoscaler_destroy); NULL on failure. */
HEARTH_API int hearth_autoscaler_create(const hearth_autoscaler_params* params,
                                        hearth_autoscaler** out);
/* NULL: no-op. */
HEARTH_API void hearth_autoscaler_destroy(hearth_autoscaler* autoscaler);

/* One observation of one model's replicas, totals over them. */
typedef struct hearth_load_sample {
  uint32_t struct_size;       /* sizeof(hearth_load_sample), set by _init */
  int32_t ready_replicas;     /* serving */
  int32_t starting_replicas;  /* loading */
  double in_flight;           /* requests being served */
  double queue_depth;         /* requests waiting, those held for a cold start included */
  double arrival_rate;        /* requests/s since the previous sample */
  double tokens_per_s;        /* generated */
  double utilization;         /* [0, 1]: mean busy fraction of ready replicas */
  double memory_utilization;  /* [0, 1] */
  double ttft_p50_ms;
  double ttft_p99_ms;
} hearth_load_sample;

/* Fills *sample with zeros (no load). */
HEARTH_API void hearth_load_sample_init(hearth_load_sample* sample);

/* Records the sample at the autoscaler's clock time. HEARTH_INVALID_ARGUMENT naming the
 * field for a NaN, infinite or negative figure or a utilisation above 1, or when the
 * clock went back; a rejected sample changes nothing. */
HEARTH_API int hearth_autoscaler_observe(hearth_autoscaler* autoscaler,
                                         const hearth_load_sample* sample);
/* The decision at the clock's time into *desired; the reason (which policy, with its
 * numbers) is copied into reason[reason_size], cut to fit and NUL-terminated (reason
 * may be NULL when reason_size is 0). */
HEARTH_API int hearth_autoscaler_decide(hearth_autoscaler* autoscaler, int32_t* desired,
                                        char* reason, size_t reason_size);
/* The measured cold start (seconds, >= 0): the predictive policy's lead time. */
HEARTH_API int hearth_autoscaler_set_cold_start(hearth_autoscaler* autoscaler, double seconds);

/* ---- CostOptimizer ----------------------------------------------------------------- */

/* Prices, per-tenant accounting, routing by tier and a response cache over one price
 * catalog (include/hearth/cost_optimizer.h), and the capacity planner's comparison.
 * Money is in the catalog's currency.
 *
 * Thread-safety: every cost function may be called from any thread. */
typedef struct hearth_cost hearth_cost;

/* A model tier the router may send a request to. */
typedef struct hearth_model_tier {
  uint32_t struct_size;        /* sizeof(hearth_model_tier), set by _init */
  const char* name;            /* unique; required */
  const char* model;           /* what serves it; required */
  double price_per_1k_tokens;  /* >= 0: orders the tiers */
  double max_difficulty;       /* [0, 1]: the hardest request it is trusted with; default 1 */
} hearth_model_tier;

HEARTH_API void hearth_model_tier_init(hearth_model_tier* tier);

typedef struct hearth_cost_params {
  uint32_t struct_size;          /* sizeof(hearth_cost_params), set by _init */
  const char* catalog_path;      /* the price catalog (JSON); required */
  double output_token_weight;    /* >= 0: an output token's weight in cost shares; 1 */
  const hearth_model_tier* const* tiers;  /* n_tiers pointers; none = no router */
  size_t n_tiers;
  double escalate_below_logprob; /* <= 0; default -1 */
  int64_t cache_capacity_bytes;  /* > 0; default 64 MiB */
  double cache_ttl_s;            /* > 0, INFINITY = never expires; default 600 */
  hearth_clock* clock;           /* NULL = the real clock */
} hearth_cost_params;

HEARTH_API void hearth_cost_params_init(hearth_cost_params* params);

/* Loads the catalog: HEARTH_NOT_FOUND for a missing file, HEARTH_INVALID_ARGUMENT naming
 * the offering and field for bad content or params. *out owns the optimizer
 * (hearth_cost_destroy); NULL on failure. */
HEARTH_API int hearth_cost_create(const hearth_cost_params* params, hearth_cost** out);
/* NULL: no-op. */
HEARTH_API void hearth_cost_destroy(hearth_cost* cost);

/* One offering of the catalog. Its strings belong to the optimizer. */
typedef struct hearth_offering {
  uint32_t struct_size;      /* the caller sets sizeof(hearth_offering) */
  const char* name;
  const char* kind;          /* "serverless", "on_demand", "reserved" or "spot" */
  const char* provider;
  const char* region;
  const char* currency;
  const char* price_date;    /* YYYY-MM-DD */
  const char* source;        /* URL of the price list */
  double vcpus;
  double memory_gib;
  const char* accelerator;   /* "" for CPU-only shapes */
  int32_t accelerator_count;
  double price_per_second;   /* of the whole shape */
  double per_request;        /* fee, serverless only */
  double billing_granularity_s;
  double minimum_billed_s;
  double hourly;             /* the hourly kinds */
  double term_s;             /* reserved: the commitment; else 0 */
  double interruption_rate_per_hour;  /* spot: expected interruptions per instance-hour;
                                         NAN where unpublished or not spot */
} hearth_offering;

/* The catalog's offerings in file order: *count, then each by index (HEARTH_OUT_OF_RANGE
 * past the end) or by name (HEARTH_NOT_FOUND listing the known names). */
HEARTH_API int hearth_cost_offering_count(const hearth_cost* cost, size_t* count);
HEARTH_API int hearth_cost_offering_at(const hearth_cost* cost, size_t index,
                                       hearth_offering* out);
HEARTH_API int hearth_cost_find_offering(const hearth_cost* cost, const char* name,
                                         hearth_offering* out);

typedef struct hearth_price {
  uint32_t struct_size;  /* the caller sets sizeof(hearth_price) */
  double billed_s;       /* the run rounded up to the billing granularity and minimum */
  double run_cost;       /* billed_s x the offering's price per second */
  double request_fee;
  double total;          /* run_cost + request_fee */
} hearth_price;

/* What one request running run_s seconds (>= 0) on offering costs. */
HEARTH_API int hearth_cost_price(const hearth_cost* cost, const char* offering, double run_s,
                                 hearth_price* out);

/* Records run_s seconds (>= 0) of one engine of model held on offering (one billed
 * interval). HEARTH_NOT_FOUND for an unknown offering. */
HEARTH_API int hearth_cost_record_instance_time(hearth_cost* cost, const char* model,
                                                const char* offering, double run_s);
/* Records a request's tokens for tenant on model; offering (may be NULL) is whose
 * per-request fee applies. */
HEARTH_API int hearth_cost_record_request(hearth_cost* cost, const char* tenant,
                                          const char* model, int64_t prompt_tokens,
                                          int64_t output_tokens, const char* offering);
/* Sets (or replaces, starting a new period now) tenant's budget: amount > 0 per
 * period_s > 0, alerting at 50 %, 80 % and 100 %. */
HEARTH_API int hearth_cost_set_budget(hearth_cost* cost, const char* tenant, double amount,
                                      double period_s);
/* The tenant's spend in its current budget period; HEARTH_NOT_FOUND without a budget. */
HEARTH_API int hearth_cost_period_spend(hearth_cost* cost, const char* tenant, double* out);
/* Budget alerts raised so far. */
HEARTH_API int hearth_cost_alert_count(const hearth_cost* cost, size_t* count);

/* Costs since creation, over everything recorded. */
typedef struct hearth_cost_totals {
  uint32_t struct_size;   /* the caller sets sizeof(hearth_cost_totals) */
  double instance_cost;   /* all models */
  double request_fees;
  double unattributed;    /* instance cost of models that served no tokens */
  double total;           /* instance_cost + request_fees */
} hearth_cost_totals;

HEARTH_API int hearth_cost_get_totals(const hearth_cost* cost, hearth_cost_totals* out);

/* One tenant's share: the instance cost of each model it used, split by weighted tokens,
 * plus its request fees. */
typedef struct hearth_tenant_cost {
  uint32_t struct_size;   /* the caller sets sizeof(hearth_tenant_cost) */
  double instance_share;
  double request_fees;
  double total;
  int64_t requests;
  int64_t prompt_tokens;
  int64_t output_tokens;
} hearth_tenant_cost;

/* HEARTH_NOT_FOUND for a tenant with no request recorded. */
HEARTH_API int hearth_cost_get_tenant(const hearth_cost* cost, const char* tenant,
                                      hearth_tenant_cost* out);

typedef struct hearth_model_cost {
  uint32_t struct_size;   /* the caller sets sizeof(hearth_model_cost) */
  double instance_seconds;  /* as recorded, every offering */
  double instance_cost;
  double request_fees;
  int64_t requests;
  int64_t prompt_tokens;
  int64_t output_tokens;
} hearth_model_cost;

/* HEARTH_NOT_FOUND for a model with nothing recorded. */
HEARTH_API int hearth_cost_get_model(const hearth_cost* cost, const char* model,
                                     hearth_model_cost* out);

/* The response cache: only deterministic requests (temperature 0, or seed_explicit
 * nonzero: the caller chose the seed) are stored and found; the key is the model and
 * the request's normalised text and output-changing fields. */
/* Stores response (UTF-8). HEARTH_FAILED_PRECONDITION for a non-deterministic request,
 * HEARTH_RESOURCE_EXHAUSTED for an entry larger than the whole cache. */
HEARTH_API int hearth_cost_cache_put(hearth_cost* cost, const char* model,
                                     const hearth_request* request, int seed_explicit,
                                     const char* response);
/* On a hit *out is a copy of the stored response, owned by the caller (free it with
 * hearth_string_free); on a miss, an expired entry or a non-deterministic request, *out
 * is NULL and the call still returns HEARTH_OK. */
HEARTH_API int hearth_cost_cache_get(hearth_cost* cost, const char* model,
                                     const hearth_request* request, int seed_explicit,
                                     char** out);
/* Frees a string the library handed over. NULL: no-op. */
HEARTH_API void hearth_string_free(char* text);

typedef struct hearth_cache_stats {
  uint32_t struct_size;  /* the caller sets sizeof(hearth_cache_stats) */
  int64_t hits;
  int64_t misses;        /* deterministic lookups that found nothing live */
  int64_t uncacheable;   /* lookups and stores of non-deterministic requests */
  int64_t insertions;
  int64_t evictions;     /* dropped for room, least recently used first */
  int64_t expirations;   /* dropped at their TTL */
  int64_t refused;       /* larger than the cache */
  int64_t entries;
  int64_t bytes;
} hearth_cache_stats;

HEARTH_API int hearth_cost_cache_stats(const hearth_cost* cost, hearth_cache_stats* out);

/* The router's choice. Strings belong to the optimizer. */
typedef struct hearth_route {
  uint32_t struct_size;   /* the caller sets sizeof(hearth_route) */
  int32_t tier;           /* index, cheapest tier first */
  const char* tier_name;
  const char* model;
  double difficulty;      /* the request's estimated difficulty, [0, 1] */
  int32_t escalated;      /* nonzero: moved up a tier by hearth_cost_escalate */
} hearth_route;

/* The cheapest tier trusted with the request's difficulty, estimated from prompt
 * (UTF-8; the text the router reads), prompt_tokens and max_tokens (>= 0).
 * HEARTH_FAILED_PRECONDITION when the optimizer has no tiers. */
HEARTH_API int hearth_cost_route(hearth_cost* cost, const char* prompt, int64_t prompt_tokens,
                                 int64_t max_tokens, hearth_route* out);
/* After tier `from` answered with mean token log-probability mean_logprob (<= 0): the
 * next tier up when below the threshold and one exists, else `from` again. */
HEARTH_API int hearth_cost_escalate(hearth_cost* cost, int32_t from, double mean_logprob,
                                    hearth_route* out);

/* Capacity planning on a demand series: always-on against serverless against a hybrid
 * of reserved replicas + serverless burst (include/hearth/capacity_planner.h). */
typedef struct hearth_plan_params {
  uint32_t struct_size;             /* sizeof(hearth_plan_params), set by _init */
  const char* serverless_offering;  /* a serverless offering of the catalog; required */
  const char* always_on_offering;   /* an hourly offering; required */
  const char* reserved_offering;    /* an hourly offering for the hybrid's base; NULL =
                                       always_on_offering */
  double cold_start_s;              /* billed per replica added, >= 0 */
  const double* requests;           /* requests arriving in each interval, >= 0 */
  size_t n_intervals;               /* at least 1 */
  double interval_s;                /* > 0; default 60 */
  double request_duration_s;        /* > 0: one request's time on a replica */
  int32_t concurrency_per_replica;  /* > 0: requests one replica serves at once; 1 */
  double p95_latency_s;             /* >= 0: the seeds' reserved rule's latency */
} hearth_plan_params;

HEARTH_API void hearth_plan_params_init(hearth_plan_params* params);

typedef struct hearth_plan {
  uint32_t struct_size;         /* the caller sets sizeof(hearth_plan) */
  double always_on_cost;        /* ceil(peak busy) replicas always on */
  int32_t always_on_replicas;
  double serverless_cost;       /* hybrid with 0 reserved */
  int32_t best_reserved;        /* the cheapest hybrid's reserved replicas */
  double best_cost;
  int32_t seed_reserved;        /* the seeds' rule: ceil(daily requests x p95 / 86400) */
  double seed_cost;
  double daily_requests;
  const char* recommendation;   /* "always_on", "serverless", "reserved" or "hybrid";
                                   static storage */
  double crossover_requests_per_day;  /* where one always-on replica costs as much as
                                         serverless (valid when crossover_valid) */
  int32_t crossover_valid;
} hearth_plan;

/* Prices the series every way. HEARTH_NOT_FOUND for an unknown offering,
 * HEARTH_INVALID_ARGUMENT for an offering of the wrong kind or a bad series. */
HEARTH_API int hearth_cost_plan(const hearth_cost* cost, const hearth_plan_params* params,
                                hearth_plan* out);

/* ---- Simulator --------------------------------------------------------------------- */

/* Replays request traces through the real WarmPool, AutoScaler and cost ledger on a
 * virtual clock under one policy preset, as `hearth simulate` does
 * (include/hearth/simulator.h, policy_presets.h). Runs synchronously and alone: it
 * shares nothing, so simulations may run on several threads at once. */
typedef struct hearth_sim_report hearth_sim_report;

typedef struct hearth_sim_params {
  uint32_t struct_size;          /* sizeof(hearth_sim_params), set by _init */
  /* n_traces files, each "PATH" or "PATH=MODEL" (the model its requests go to; default
   * the file's name); several overlay as several models. Any format hearth reads (Azure
   * LLM, Mooncake, ServeGen, Azure Functions, hearth CSV; .gz too). */
  const char* const* traces;
  size_t n_traces;
  const char* policy;            /* a preset name (e.g. "kpa", "hearth"); default "hearth" */
  const char* profile_path;      /* the measured replica profile (JSON); required */
  const char* catalog_path;      /* the price catalog (JSON); required */
  const char* offering;          /* serverless, per second; default
                                    "gcp-cloud-run-2vcpu-instance" */
  const char* always_on_offering;  /* on-demand hourly; default "aws-ec2-m7g.large" */
  double speedup;                /* replica speed relative to the profile, > 0; 1 */
  double start_s;                /* replay requests with start_s <= arrival < end_s */
  double end_s;                  /* 0 = to the end */
  double sample;                 /* keep each request with this probability; 1 */
  double time_scale;             /* multiply arrivals (0.5 = twice as fast); 1 */
  double provisioning_overhead_s;  /* added to each cold start; 0 */
  double slo_ttft_s;             /* SLO: TTFT <= this + own prefill; 2 */
  double max_queue_wait_s;       /* a request waits at most this for a replica; 60 */
  int32_t max_instances;         /* WarmPool limit; 256 */
  int32_t max_replicas;          /* AutoScaler bound per model; 256 */
  double servegen_rate_scale;    /* ServeGen traces: scale each window's count; 0.1 */
  int32_t top;                   /* ServeGen / Azure Functions: keep the N busiest
                                    clients / functions; 0 = all */
  uint64_t seed;                 /* generated arrivals, sampling, failures; 0 */
} hearth_sim_params;

HEARTH_API void hearth_sim_params_init(hearth_sim_params* params);

/* Reads the traces and files, sizes the replicas, runs the preset. *out owns the report
 * (hearth_sim_report_destroy). HEARTH_NOT_FOUND for a missing file, HEARTH_INVALID_ARGUMENT
 * naming the unknown preset, the bad field or the trace line at fault. */
HEARTH_API int hearth_simulate(const hearth_sim_params* params, hearth_sim_report** out);
/* NULL: no-op. */
HEARTH_API void hearth_sim_report_destroy(hearth_sim_report* report);

/* Totals over every model, or over one. */
typedef struct hearth_sim_summary {
  uint32_t struct_size;         /* the caller sets sizeof(hearth_sim_summary) */
  int64_t requests;
  int64_t served;
  int64_t rejected;             /* the five reasons below together */
  int64_t rejected_queue_timeout;
  int64_t rejected_prompt_too_long;
  int64_t rejected_provisioner_error;
  int64_t rejected_pool_error;
  int64_t rejected_empty_prompt;
  int64_t truncated;            /* served with the output cut to the context */
  int64_t cold_starts;          /* served requests that waited for a starting replica */
  double cold_start_rate;       /* cold_starts / served */
  double ttft_p50_s;
  double ttft_p99_s;
  double e2e_p50_s;
  double e2e_p95_s;
  double e2e_p99_s;
  int64_t slo_met;
  double slo_attainment;        /* slo_met / requests */
  int64_t prompt_tokens;        /* of served requests */
  int64_t output_tokens;
  int64_t instances_started;
  double instance_seconds;      /* billed: start to unloaded */
  double loaded_instance_seconds;  /* loaded to unloaded */
  double idle_instance_seconds;
  double cost;                  /* instance cost + request fees */
  double cost_per_1k_requests;
} hearth_sim_summary;

/* The overall totals (model NULL) or one model's (HEARTH_NOT_FOUND for a model not in
 * the simulation). */
HEARTH_API int hearth_sim_report_get_summary(const hearth_sim_report* report, const char* model,
                                             hearth_sim_summary* out);
/* Virtual seconds simulated; 0 for NULL. */
HEARTH_API double hearth_sim_report_duration_s(const hearth_sim_report* report);
/* Wall seconds the run took (trace reading and sizing excluded); 0 for NULL. */
HEARTH_API double hearth_sim_report_wall_s(const hearth_sim_report* report);
/* Events the simulation processed; 0 for NULL. */
HEARTH_API uint64_t hearth_sim_report_events(const hearth_sim_report* report);
/* The whole report (everything but the per-tick timeline) as a JSON object, as `hearth
 * simulate --out` writes it; owned by the report. "" for NULL. */
HEARTH_API const char* hearth_sim_report_json(const hearth_sim_report* report);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* HEARTH_C_API_H_ */
