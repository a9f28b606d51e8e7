/* Drives hearth from C through dlopen/dlsym alone, as another language's runtime would:
 * nothing links against libhearth; the header is used only for its types.
 *
 *   hearth_dlopen LIBRARY MODEL PROMPT [MAX_TOKENS]
 *   hearth_dlopen build/capi/libhearth.so.0 models/SmolLM2-135M-Instruct.Q4_1.gguf "Hello"
 *
 * Streams the greedy answer to stdout, then one line with the finish reason and token
 * counts. Exit 0 on success, 1 with the library's message on stderr otherwise. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "hearth/c_api.h"

typedef struct {
  uint32_t (*version)(void);
  const char* (*last_error)(void);
  void (*params_init)(hearth_engine_params*);
  int (*create)(const hearth_engine_params*, hearth_engine**);
  void (*destroy)(hearth_engine*);
  void (*request_init)(hearth_request*);
  int (*generate)(hearth_engine*, const hearth_request*, hearth_token_callback, void*,
                  hearth_result**);
  const char* (*finish_reason)(const hearth_result*);
  int32_t (*prompt_tokens)(const hearth_result*);
  int32_t (*completion_tokens)(const hearth_result*);
  void (*result_destroy)(hearth_result*);
} Api;

/* Looks `name` up; on failure says which symbol is missing. */
static void* symbol(void* library, const char* name, int* ok) {
  void* s = dlsym(library, name);
  if (s == NULL) {
    fprintf(stderr, "hearth_dlopen: %s not found: %s\n", name, dlerror());
    *ok = 0;
  }
  return s;
}

static int print_piece(const char* piece, size_t length, void* user_data) {
  (void)user_data;
  fwrite(piece, 1, length, stdout);
  fflush(stdout);
  return 0;
}

int main(int argc, char** argv) {
  void* library;
  Api api;
  int ok = 1;
  hearth_engine_params params;
  hearth_engine* engine = NULL;
  hearth_request request;
  hearth_result* result = NULL;
  if (argc < 4) {
    fprintf(stderr, "usage: %s LIBRARY MODEL PROMPT [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "hearth_dlopen: %s\n", dlerror());
    return 1;
  }
  /* POSIX allows converting dlsym's void* to a function pointer; ISO C does not say. */
  *(void**)&api.version = symbol(library, "hearth_version", &ok);
  *(void**)&api.last_error = symbol(library, "hearth_last_error", &ok);
  *(void**)&api.params_init = symbol(library, "hearth_engine_params_init", &ok);
  *(void**)&api.create = symbol(library, "hearth_engine_create", &ok);
  *(void**)&api.destroy = symbol(library, "hearth_engine_destroy", &ok);
  *(void**)&api.request_init = symbol(library, "hearth_request_init", &ok);
  *(void**)&api.generate = symbol(library, "hearth_engine_generate", &ok);
  *(void**)&api.finish_reason = symbol(library, "hearth_result_finish_reason", &ok);
  *(void**)&api.prompt_tokens = symbol(library, "hearth_result_prompt_tokens", &ok);
  *(void**)&api.completion_tokens = symbol(library, "hearth_result_completion_tokens", &ok);
  *(void**)&api.result_destroy = symbol(library, "hearth_result_destroy", &ok);
  if (!ok) return 1;
  if (api.version() / 10000 != HEARTH_VERSION_MAJOR) {
    fprintf(stderr, "hearth_dlopen: library version %u, built against %d\n", api.version(),
            HEARTH_VERSION_NUMBER);
    return 1;
  }

  api.params_init(&params);
  params.model_path = argv[2];
  if (api.create(&params, &engine) != HEARTH_OK) {
    fprintf(stderr, "hearth_dlopen: cannot load the model: %s\n", api.last_error());
    return 1;
  }
  api.request_init(&request);
  request.prompt = argv[3];
  request.max_tokens = argc > 4 ? atoi(argv[4]) : 32;
  request.temperature = 0;
  if (api.generate(engine, &request, print_piece, NULL, &result) != HEARTH_OK) {
    fprintf(stderr, "hearth_dlopen: cannot generate: %s\n", api.last_error());
    api.destroy(engine);
    return 1;
  }
  printf("\n[finish %s | prompt %d tokens | completion %d tokens]\n", api.finish_reason(result),
         api.prompt_tokens(result), api.completion_tokens(result));
  api.result_destroy(result);
  api.destroy(engine);
  dlclose(library);
  return 0;
}
