/* The C ABI from C (compiled as C99): versions, every status path, generation with a
 * streaming callback, cancellation from the callback, submit / wait / cancel, metrics,
 * and NULL, wrong-size and invalid-UTF-8 inputs. Runs the real tiny model
 * (tests/data/models/stories260K.gguf). Exits non-zero on the first failed check. */
#include <time.h>

#include "check.h"

typedef struct {
  char text[4096];
  size_t length;
  int pieces;
  int stop_after;  /* cancel once this many pieces arrived; 0 = never */
} Collected;

static int collect(const char* piece, size_t length, void* user_data) {
  Collected* c = (Collected*)user_data;
  if (c->length + length < sizeof(c->text)) {
    memcpy(c->text + c->length, piece, length);
    c->length += length;
    c->text[c->length] = '\0';
  }
  ++c->pieces;
  return c->stop_after > 0 && c->pieces >= c->stop_after;
}

static hearth_engine* tiny_engine(void) {
  hearth_engine_params params;
  hearth_engine* engine = NULL;
  hearth_engine_params_init(&params);
  params.model_path = HEARTH_SOURCE_DIR "/tests/data/models/stories260K.gguf";
  params.threads = 1;
  params.kv_cache_bytes = 16 << 20;
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_OK);
  CHECK(engine != NULL);
  return engine;
}

static void greedy(hearth_request* request, const char* prompt, int max_tokens) {
  hearth_request_init(request);
  request->prompt = prompt;
  request->max_tokens = max_tokens;
  request->temperature = 0;
  request->ignore_eos = 1;
}

static void test_versions_and_names(void) {
  CHECK(hearth_version() == HEARTH_VERSION_NUMBER);
  CHECK(strcmp(hearth_version_string(), "0.1.0") == 0);
  CHECK(strcmp(hearth_status_name(HEARTH_OK), "ok") == 0);
  CHECK(strcmp(hearth_status_name(HEARTH_NOT_FOUND), "not_found") == 0);
  CHECK(strcmp(hearth_status_name(99), "unknown") == 0);
  CHECK(strcmp(hearth_status_name(-1), "unknown") == 0);
}

static void test_create_errors(void) {
  hearth_engine_params params;
  hearth_engine* engine = (hearth_engine*)&params; /* must be reset to NULL */
  CHECK(hearth_engine_create(NULL, &engine) == HEARTH_INVALID_ARGUMENT);
  CHECK(engine == NULL);
  CHECK(strstr(hearth_last_error(), "params") != NULL);
  hearth_engine_params_init(&params);
  CHECK(hearth_engine_create(&params, NULL) == HEARTH_INVALID_ARGUMENT);
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_INVALID_ARGUMENT); /* no path */
  params.model_path = "no/such/model.gguf";
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_NOT_FOUND);
  CHECK(strstr(hearth_last_error(), "no/such/model.gguf") != NULL);
  params.struct_size = 8;
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_INVALID_ARGUMENT);
  CHECK(strstr(hearth_last_error(), "struct_size") != NULL);
  params.struct_size = sizeof(params);
  params.model_path = "bad\xff.gguf";
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_INVALID_ARGUMENT);
  CHECK(strstr(hearth_last_error(), "UTF-8") != NULL);
  hearth_engine_destroy(NULL);
  hearth_result_destroy(NULL);
}

static void test_generate_streams_every_piece(hearth_engine* engine) {
  hearth_request request;
  hearth_result* result = NULL;
  Collected c;
  memset(&c, 0, sizeof(c));
  greedy(&request, "Once upon a time", 24);
  CHECK(hearth_engine_generate(engine, &request, collect, &c, &result) == HEARTH_OK);
  CHECK(strcmp(hearth_result_finish_reason(result), "length") == 0);
  CHECK(hearth_result_completion_tokens(result) == 24);
  CHECK(hearth_result_prompt_tokens(result) > 0);
  CHECK(hearth_result_first_token_ms(result) > 0);
  CHECK(strlen(hearth_result_text(result)) > 0);
  CHECK(strcmp(hearth_result_text(result), c.text) == 0);
  CHECK(c.pieces > 0);
  hearth_result_destroy(result);

  /* Same request, same greedy answer, without a callback. */
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_OK);
  CHECK(strcmp(hearth_result_text(result), c.text) == 0);
  hearth_result_destroy(result);
}

static void test_callback_cancels(hearth_engine* engine) {
  hearth_request request;
  hearth_result* result = NULL;
  Collected c;
  memset(&c, 0, sizeof(c));
  c.stop_after = 2;
  greedy(&request, "Once upon a time", 64);
  CHECK(hearth_engine_generate(engine, &request, collect, &c, &result) == HEARTH_OK);
  CHECK(strcmp(hearth_result_finish_reason(result), "cancelled") == 0);
  CHECK(hearth_result_completion_tokens(result) < 64);
  hearth_result_destroy(result);
}

static void test_bad_requests(hearth_engine* engine) {
  hearth_request request;
  hearth_result* result = (hearth_result*)&request; /* must be reset to NULL */
  const char* roles[] = {"user"};
  const char* contents[] = {"hi\xc0\xaf"}; /* overlong '/' */
  greedy(&request, "Once upon a time", 0);
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_INVALID_ARGUMENT);
  CHECK(result == NULL);
  greedy(&request, "caf\xc3", 8); /* truncated sequence */
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_INVALID_ARGUMENT);
  CHECK(strstr(hearth_last_error(), "prompt") != NULL);
  greedy(&request, NULL, 8);
  request.message_roles = roles;
  request.message_contents = contents;
  request.n_messages = 1;
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_INVALID_ARGUMENT);
  CHECK(strstr(hearth_last_error(), "messages[0].content") != NULL);
  greedy(&request, "Once", 8);
  request.n_stop = 1;
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_INVALID_ARGUMENT);
  greedy(&request, "Once", 8);
  request.struct_size = 4;
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, &result) == HEARTH_INVALID_ARGUMENT);
  CHECK(hearth_engine_generate(engine, NULL, NULL, NULL, &result) == HEARTH_INVALID_ARGUMENT);
  greedy(&request, "Once", 8);
  CHECK(hearth_engine_generate(NULL, &request, NULL, NULL, &result) == HEARTH_INVALID_ARGUMENT);
  CHECK(hearth_engine_generate(engine, &request, NULL, NULL, NULL) == HEARTH_INVALID_ARGUMENT);
}

static void test_submit_wait_cancel(hearth_engine* engine) {
  hearth_request request;
  hearth_result* result = NULL;
  uint64_t ids[3];
  int i;
  greedy(&request, "The little dog", 16);
  for (i = 0; i < 3; ++i) CHECK(hearth_engine_submit(engine, &request, NULL, NULL, &ids[i]) == HEARTH_OK);
  for (i = 0; i < 3; ++i) {
    CHECK(hearth_engine_wait(engine, ids[i], &result) == HEARTH_OK);
    CHECK(hearth_result_completion_tokens(result) == 16);
    hearth_result_destroy(result);
  }
  /* Waited ids are forgotten. */
  CHECK(hearth_engine_wait(engine, ids[0], &result) == HEARTH_NOT_FOUND);
  CHECK(result == NULL);
  CHECK(hearth_engine_cancel(engine, ids[0]) == HEARTH_NOT_FOUND);
  CHECK(hearth_engine_submit(engine, &request, NULL, NULL, NULL) == HEARTH_INVALID_ARGUMENT);

  /* A cancel before it finishes ends it as cancelled (or it finished first). */
  request.max_tokens = 200;
  CHECK(hearth_engine_submit(engine, &request, NULL, NULL, &ids[0]) == HEARTH_OK);
  {
    const int cancelled = hearth_engine_cancel(engine, ids[0]);
    CHECK(cancelled == HEARTH_OK || cancelled == HEARTH_FAILED_PRECONDITION);
    CHECK(hearth_engine_wait(engine, ids[0], &result) == HEARTH_OK);
    CHECK(cancelled != HEARTH_OK || strcmp(hearth_result_finish_reason(result), "cancelled") == 0);
    hearth_result_destroy(result);
  }
}

static void test_metrics(hearth_engine* engine) {
  hearth_engine_metrics m;
  memset(&m, 0, sizeof(m));
  CHECK(hearth_engine_get_metrics(engine, &m) == HEARTH_INVALID_ARGUMENT); /* size unset */
  m.struct_size = sizeof(m);
  CHECK(hearth_engine_get_metrics(engine, &m) == HEARTH_OK);
  CHECK(m.requests_submitted >= 7);
  CHECK(m.requests_finished == m.requests_submitted);
  CHECK(m.generated_tokens > 0);
  CHECK(m.kv_blocks_total > 0);
  CHECK(m.time_to_first_token_p99_ms >= m.time_to_first_token_p50_ms);
  {
    /* The scheduler publishes the step's counts just after the waiters wake: they reach
     * zero within moments (seconds at most, under a sanitizer). */
    const time_t give_up = time(NULL) + 10;
    while ((m.waiting != 0 || m.running != 0) && time(NULL) < give_up) {
      CHECK(hearth_engine_get_metrics(engine, &m) == HEARTH_OK);
    }
    CHECK(m.waiting == 0 && m.running == 0);
  }
  CHECK(hearth_engine_get_metrics(NULL, &m) == HEARTH_INVALID_ARGUMENT);
  CHECK(hearth_engine_get_metrics(engine, NULL) == HEARTH_INVALID_ARGUMENT);
}

/* hearth_engine_params as a caller compiled against the first ABI revision has it. */
typedef struct {
  uint32_t struct_size;
  const char* model_path;
  int32_t threads;
  int32_t context_length;
  int64_t kv_cache_bytes;
  int32_t max_batch_tokens;
  int32_t max_sequences;
  int32_t prefix_caching;
} engine_params_v1;

/* Such a caller still loads, on the CPU; the current layout picks the backend. */
static void test_backends_and_the_first_params_layout(void) {
  hearth_engine_params params;
  hearth_engine* engine = NULL;
  int status;
  hearth_engine_params_init(&params);
  params.model_path = HEARTH_SOURCE_DIR "/tests/data/models/stories260K.gguf";
  params.threads = 1;
  params.backend = 77; /* beyond the first layout: not read */
  params.struct_size = sizeof(engine_params_v1);
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_OK);
  CHECK(strcmp(hearth_engine_backend(engine), "cpu") == 0);
  hearth_engine_destroy(engine);
  params.struct_size = sizeof(params);
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_INVALID_ARGUMENT);
  CHECK(strstr(hearth_last_error(), "not a hearth_backend") != NULL);
  params.backend = HEARTH_BACKEND_AUTO;
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_OK);
  CHECK(strcmp(hearth_engine_backend(engine), "cpu") == 0 ||
        strcmp(hearth_engine_backend(engine), "cuda") == 0);
  hearth_engine_destroy(engine);
  engine = NULL;
  params.backend = HEARTH_BACKEND_CUDA; /* no GPU in CI: a clear error */
  status = hearth_engine_create(&params, &engine);
  if (status != HEARTH_OK) {
    CHECK(status == HEARTH_UNIMPLEMENTED || status == HEARTH_FAILED_PRECONDITION);
    CHECK(strstr(hearth_last_error(), "CUDA") != NULL);
    CHECK(engine == NULL);
  }
  hearth_engine_destroy(engine);
  CHECK(strcmp(hearth_engine_backend(NULL), "") == 0);
}

/* activation_bits: 0 (what _init leaves) and 16 are the default, 8 the faster mode. */
static void test_activation_bits(void) {
  hearth_engine_params params;
  hearth_engine* engine = NULL;
  hearth_engine_params_init(&params);
  CHECK(params.activation_bits == 0);
  params.model_path = HEARTH_SOURCE_DIR "/tests/data/models/stories260K.gguf";
  params.threads = 1;
  params.activation_bits = 8;
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_OK);
  hearth_engine_destroy(engine);
  engine = NULL;
  params.activation_bits = 12;
  CHECK(hearth_engine_create(&params, &engine) == HEARTH_INVALID_ARGUMENT);
  CHECK(strstr(hearth_last_error(), "activation_bits 12") != NULL);
  CHECK(engine == NULL);
}

int main(void) {
  hearth_engine* engine;
  test_backends_and_the_first_params_layout();
  test_activation_bits();
  test_versions_and_names();
  test_create_errors();
  engine = tiny_engine();
  test_generate_streams_every_piece(engine);
  test_callback_cancels(engine);
  test_bad_requests(engine);
  test_submit_wait_cancel(engine);
  test_metrics(engine);
  hearth_engine_destroy(engine);
  printf("c_api_test: all checks passed\n");
  return 0;
}
