// The C ABI's Engine part (include/hearth/c_api.h): convert, call, map the status. Every
// entry point catches everything, so no C++ exception crosses into a C caller.
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "c_api_internal.h"
#include "hearth/c_api.h"
#include "hearth/engine.h"

struct hearth_result {
  hearth::GenerateResult result;
  std::string finish_reason;
};

namespace hearth_capi {

absl::StatusOr<hearth::GenerateRequest> ToRequest(const hearth_request* r) {
  if (r == nullptr) return absl::InvalidArgumentError("request is NULL");
  if (absl::Status s = CheckSize(r->struct_size, sizeof(hearth_request), "hearth_request");
      !s.ok()) {
    return s;
  }
  hearth::GenerateRequest out;
  if (r->prompt != nullptr) {
    if (absl::Status s = CheckText(r->prompt, "prompt"); !s.ok()) return s;
    out.prompt = r->prompt;
  }
  if (r->n_messages > 0 && (r->message_roles == nullptr || r->message_contents == nullptr)) {
    return absl::InvalidArgumentError("n_messages > 0 but message_roles or contents is NULL");
  }
  for (size_t i = 0; i < r->n_messages; ++i) {
    const std::string at = absl::StrCat("messages[", i, "]");
    if (absl::Status s = CheckText(r->message_roles[i], at + ".role"); !s.ok()) return s;
    if (absl::Status s = CheckText(r->message_contents[i], at + ".content"); !s.ok()) return s;
    out.messages.push_back({r->message_roles[i], r->message_contents[i]});
  }
  if (r->n_stop > 0 && r->stop == nullptr) {
    return absl::InvalidArgumentError("n_stop > 0 but stop is NULL");
  }
  for (size_t i = 0; i < r->n_stop; ++i) {
    if (absl::Status s = CheckText(r->stop[i], absl::StrCat("stop[", i, "]")); !s.ok()) return s;
    out.stop.push_back(r->stop[i]);
  }
  out.max_tokens = r->max_tokens;
  out.sampling.temperature = r->temperature;
  out.sampling.top_k = r->top_k;
  out.sampling.top_p = r->top_p;
  out.sampling.min_p = r->min_p;
  out.sampling.repetition_penalty = r->repetition_penalty;
  out.sampling.seed = r->seed;
  out.priority = r->priority;
  out.ignore_eos = r->ignore_eos != 0;
  if (!(r->timeout_s >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("timeout_s ", r->timeout_s, " is not >= 0"));
  }
  if (r->timeout_s > 0) out.deadline = absl::Now() + absl::Seconds(r->timeout_s);
  return out;
}

namespace {

// hearth_engine_params as the first ABI revision laid it out, before backend and device:
// callers built then pass its size and get those fields' defaults.
struct EngineParamsV1 {
  uint32_t struct_size;
  const char* model_path;
  int32_t threads;
  int32_t context_length;
  int64_t kv_cache_bytes;
  int32_t max_batch_tokens;
  int32_t max_sequences;
  int32_t prefix_caching;
};

absl::StatusOr<hearth::Backend> ToBackend(int32_t backend) {
  switch (backend) {
    case HEARTH_BACKEND_CPU: return hearth::Backend::kCpu;
    case HEARTH_BACKEND_CUDA: return hearth::Backend::kCuda;
    case HEARTH_BACKEND_AUTO: return hearth::Backend::kAuto;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("backend ", backend, " is not a hearth_backend (0 cpu, 1 cuda, 2 auto)"));
}

absl::StatusOr<hearth::ActivationPrecision> ToActivationPrecision(int32_t bits) {
  switch (bits) {
    case 0:
    case 16: return hearth::ActivationPrecision::k16Bit;
    case 8: return hearth::ActivationPrecision::k8Bit;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("activation_bits ", bits, " is neither 16 (or 0, the default) nor 8"));
}

}  // namespace

absl::StatusOr<hearth::EngineConfig> ToEngineConfig(const hearth_engine_params* params) {
  if (params == nullptr) return absl::InvalidArgumentError("params is NULL");
  const bool v1 = params->struct_size == sizeof(EngineParamsV1);
  if (!v1) {
    if (absl::Status s = CheckSize(params->struct_size, sizeof(hearth_engine_params),
                                   "hearth_engine_params");
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckText(params->model_path, "model_path"); !s.ok()) return s;
  hearth::EngineConfig config;
  config.model_path = params->model_path;
  config.threads = params->threads;
  config.context_length = params->context_length;
  config.kv_cache_bytes = params->kv_cache_bytes;
  if (params->max_batch_tokens != 0) config.max_batch_tokens = params->max_batch_tokens;
  if (params->max_sequences != 0) config.max_sequences = params->max_sequences;
  config.prefix_caching = params->prefix_caching != 0;
  if (v1) return config;  // the fields below are not the caller's
  absl::StatusOr<hearth::Backend> backend = ToBackend(params->backend);
  if (!backend.ok()) return backend.status();
  config.backend = *backend;
  config.device = params->device;
  absl::StatusOr<hearth::ActivationPrecision> precision =
      ToActivationPrecision(params->activation_bits);
  if (!precision.ok()) return precision.status();
  config.activation_precision = *precision;
  return config;
}

namespace {

hearth::TokenCallback ToCallback(hearth_token_callback on_token, void* user_data) {
  if (on_token == nullptr) return {};
  return [on_token, user_data](std::string_view piece) {
    return on_token(piece.data(), piece.size(), user_data) == 0;
  };
}

int Deliver(absl::StatusOr<hearth::GenerateResult> result, hearth_result** out) {
  if (!result.ok()) return Fail(result.status());
  auto r = std::make_unique<hearth_result>(hearth_result{*std::move(result), ""});
  r->finish_reason = std::string(hearth::FinishReasonName(r->result.finish_reason));
  *out = Publish(std::move(r));
  return HEARTH_OK;
}

}  // namespace
}  // namespace hearth_capi

using hearth_capi::CheckHandle;
using hearth_capi::CheckSize;
using hearth_capi::Deliver;
using hearth_capi::Fail;
using hearth_capi::Guard;
using hearth_capi::IsLive;
using hearth_capi::ToCallback;
using hearth_capi::ToRequest;

extern "C" {

void hearth_engine_params_init(hearth_engine_params* params) {
  if (params == nullptr) return;
  std::memset(params, 0, sizeof(*params));
  params->struct_size = sizeof(hearth_engine_params);
  params->prefix_caching = 1;
}

int hearth_engine_create(const hearth_engine_params* params, hearth_engine** out) {
  return Guard([&] {
    if (out == nullptr) return Fail(HEARTH_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    absl::StatusOr<hearth::EngineConfig> config = hearth_capi::ToEngineConfig(params);
    if (!config.ok()) return Fail(config.status());
    absl::StatusOr<std::unique_ptr<hearth::Engine>> engine = hearth::Engine::Create(*config);
    if (!engine.ok()) return Fail(engine.status());
    auto handle = std::make_unique<hearth_engine>(hearth_engine{*std::move(engine)});
    handle->engine = handle->owned.get();
    *out = hearth_capi::Publish(std::move(handle));
    return static_cast<int>(HEARTH_OK);
  });
}

// A lease's borrowed engine is not a kEngine: left alone.
void hearth_engine_destroy(hearth_engine* engine) { hearth_capi::Destroy(engine); }

void hearth_request_init(hearth_request* request) {
  if (request == nullptr) return;
  std::memset(request, 0, sizeof(*request));
  const hearth::GenerateRequest defaults;
  request->struct_size = sizeof(hearth_request);
  request->max_tokens = defaults.max_tokens;
  request->temperature = defaults.sampling.temperature;
  request->top_k = defaults.sampling.top_k;
  request->top_p = defaults.sampling.top_p;
  request->min_p = defaults.sampling.min_p;
  request->repetition_penalty = defaults.sampling.repetition_penalty;
  request->seed = defaults.sampling.seed;
  request->priority = defaults.priority;
}

int hearth_engine_generate(hearth_engine* engine, const hearth_request* request,
                           hearth_token_callback on_token, void* user_data,
                           hearth_result** out) {
  return Guard([&] {
    if (out == nullptr) return Fail(HEARTH_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    HEARTH_CAPI_CHECK(CheckHandle(engine, "engine"));
    absl::StatusOr<hearth::GenerateRequest> r = ToRequest(request);
    if (!r.ok()) return Fail(r.status());
    return Deliver(engine->engine->Generate(*r, ToCallback(on_token, user_data)), out);
  });
}

int hearth_engine_submit(hearth_engine* engine, const hearth_request* request,
                         hearth_token_callback on_token, void* user_data, uint64_t* id) {
  return Guard([&] {
    if (id == nullptr) return Fail(HEARTH_INVALID_ARGUMENT, "id is NULL");
    HEARTH_CAPI_CHECK(CheckHandle(engine, "engine"));
    absl::StatusOr<hearth::GenerateRequest> r = ToRequest(request);
    if (!r.ok()) return Fail(r.status());
    absl::StatusOr<hearth::RequestId> submitted =
        engine->engine->Submit(*std::move(r), ToCallback(on_token, user_data));
    if (!submitted.ok()) return Fail(submitted.status());
    *id = *submitted;
    return static_cast<int>(HEARTH_OK);
  });
}

int hearth_engine_cancel(hearth_engine* engine, uint64_t id) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(engine, "engine"));
    absl::Status s = engine->engine->Cancel(id);
    return s.ok() ? static_cast<int>(HEARTH_OK) : Fail(s);
  });
}

int hearth_engine_wait(hearth_engine* engine, uint64_t id, hearth_result** out) {
  return Guard([&] {
    if (out == nullptr) return Fail(HEARTH_INVALID_ARGUMENT, "out is NULL");
    *out = nullptr;
    HEARTH_CAPI_CHECK(CheckHandle(engine, "engine"));
    return Deliver(engine->engine->Wait(id), out);
  });
}

const char* hearth_engine_backend(const hearth_engine* engine) {
  return IsLive(engine) ? engine->engine->model_info().backend.c_str() : "";
}

const char* hearth_result_text(const hearth_result* result) {
  return IsLive(result) ? result->result.text.c_str() : "";
}

const char* hearth_result_finish_reason(const hearth_result* result) {
  return IsLive(result) ? result->finish_reason.c_str() : "";
}

int32_t hearth_result_prompt_tokens(const hearth_result* result) {
  return IsLive(result) ? result->result.prompt_tokens : 0;
}

int32_t hearth_result_completion_tokens(const hearth_result* result) {
  return IsLive(result) ? result->result.completion_tokens : 0;
}

double hearth_result_first_token_ms(const hearth_result* result) {
  return IsLive(result) ? result->result.timings.first_token_ms : 0;
}

void hearth_result_destroy(hearth_result* result) { hearth_capi::Destroy(result); }

int hearth_engine_get_metrics(const hearth_engine* engine, hearth_engine_metrics* out) {
  return Guard([&] {
    HEARTH_CAPI_CHECK(CheckHandle(engine, "engine"));
    if (out == nullptr) return Fail(HEARTH_INVALID_ARGUMENT, "out is NULL");
    if (absl::Status s =
            CheckSize(out->struct_size, sizeof(hearth_engine_metrics), "hearth_engine_metrics");
        !s.ok()) {
      return Fail(s);
    }
    const hearth::EngineMetrics m = engine->engine->metrics();
    out->waiting = m.waiting;
    out->running = m.running;
    out->kv_blocks_total = m.kv_blocks_total;
    out->kv_blocks_used = m.kv_blocks_used;
    out->kv_blocks_free = m.kv_blocks_free;
    out->requests_submitted = m.requests_submitted;
    out->requests_finished = m.requests_finished;
    out->generated_tokens = m.generated_tokens;
    out->generated_tokens_per_s = m.generated_tokens_per_s;
    out->prefix_cache_hit_rate = m.prefix_cache_hit_rate;
    out->time_to_first_token_p50_ms = m.time_to_first_token_ms.Quantile(0.5);
    out->time_to_first_token_p99_ms = m.time_to_first_token_ms.Quantile(0.99);
    out->inter_token_latency_p50_ms = m.inter_token_latency_ms.Quantile(0.5);
    out->inter_token_latency_p99_ms = m.inter_token_latency_ms.Quantile(0.99);
    return static_cast<int>(HEARTH_OK);
  });
}

}  // extern "C"
