// `hearth generate`: load a model, stream one answer, print its metrics.
#include "examples/cli/generate_command.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "hearth/engine.h"
#include "nlohmann/json.hpp"
#include "examples/cli/cold_report.h"
#include "examples/model_path.h"

ABSL_FLAG(std::string, model, "", "model file, .gguf or .hearth (default: $HEARTH_MODEL, else "
                                  "models/SmolLM2-135M-Instruct.Q4_1.gguf)");
ABSL_FLAG(std::string, prompt, "", "the prompt text");
ABSL_FLAG(bool, chat, false, "wrap the prompt as a user message in the model's chat template");
ABSL_FLAG(std::string, system, "", "system message (with --chat)");
ABSL_FLAG(int, max_tokens, 256, "maximum tokens to generate");
ABSL_FLAG(double, temperature, 0.8, "sampling temperature; 0 = greedy");
ABSL_FLAG(int, top_k, 40, "top-k; 0 = off");
ABSL_FLAG(double, top_p, 0.95, "top-p (nucleus); 1 = off");
ABSL_FLAG(double, min_p, 0.05, "min-p; 0 = off");
ABSL_FLAG(double, repeat_penalty, 1.0, "repetition penalty; 1 = off");
ABSL_FLAG(uint64_t, seed, 0, "random seed (same seed, same output)");
ABSL_FLAG(std::vector<std::string>, stop, {}, "comma-separated stop strings");
ABSL_FLAG(bool, ignore_eos, false, "keep generating past end-of-sequence (benchmarks)");
ABSL_FLAG(int, threads, 0, "worker threads; 0 = all cores");
ABSL_FLAG(std::string, backend, "cpu", "where the model runs: cpu, cuda or auto");
ABSL_FLAG(int, device, 0, "CUDA device ordinal (--backend cuda or auto)");
ABSL_FLAG(std::string, activations, "16",
          "CPU activation precision in bits: 16 (100 % top-1 agreement with a float64 "
          "reference) or 8 (faster batches, ~97 %)");
ABSL_FLAG(int, ctx, 0, "context length in tokens; 0 = min(model's, 4096)");
ABSL_FLAG(bool, json, false, "print the answer and metrics as one JSON object instead");
ABSL_FLAG(bool, cold_report, false,
          "report where the time to the first token went (page cache, load stages, first "
          "prefill, first token); with --json, as a \"cold_start\" object");
ABSL_FLAG(bool, evict, false,
          "drop the model file from the page cache before loading (a cold start)");

namespace hearth_cli {
namespace {


int Fail(std::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "hearth: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int RunGenerate() {
  if (absl::GetFlag(FLAGS_prompt).empty()) {
    std::fprintf(stderr, "hearth: --prompt is required and must not be empty\n");
    return 2;
  }
  hearth::EngineConfig config;
  config.model_path = hearth_examples::ResolveModelPath(absl::GetFlag(FLAGS_model));
  ColdStart cold;
  if (absl::GetFlag(FLAGS_cold_report) || absl::GetFlag(FLAGS_evict)) {
    absl::StatusOr<ColdStart> prepared =
        PrepareColdStart(config.model_path, absl::GetFlag(FLAGS_evict));
    if (!prepared.ok()) return Fail("cannot prepare the cold start", prepared.status());
    cold = *prepared;
  }
  const auto load_start = std::chrono::steady_clock::now();
  config.threads = absl::GetFlag(FLAGS_threads);
  config.context_length = absl::GetFlag(FLAGS_ctx);
  absl::StatusOr<hearth::Backend> backend = hearth::ParseBackend(absl::GetFlag(FLAGS_backend));
  if (!backend.ok()) return Fail("bad --backend", backend.status());
  config.backend = *backend;
  config.device = absl::GetFlag(FLAGS_device);
  absl::StatusOr<hearth::ActivationPrecision> precision =
      hearth::ParseActivationPrecision(absl::GetFlag(FLAGS_activations));
  if (!precision.ok()) return Fail("bad --activations", precision.status());
  config.activation_precision = *precision;
  absl::StatusOr<std::unique_ptr<hearth::Engine>> engine = hearth::Engine::Create(config);
  if (!engine.ok()) return Fail("cannot load the model", engine.status());
  const double load_wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start)
          .count();

  hearth::GenerateRequest request;
  const std::string prompt = absl::GetFlag(FLAGS_prompt);
  if (absl::GetFlag(FLAGS_chat)) {
    if (!absl::GetFlag(FLAGS_system).empty()) {
      request.messages.push_back({"system", absl::GetFlag(FLAGS_system)});
    }
    request.messages.push_back({"user", prompt});
  } else {
    request.prompt = prompt;
  }
  request.max_tokens = absl::GetFlag(FLAGS_max_tokens);
  request.sampling.temperature = static_cast<float>(absl::GetFlag(FLAGS_temperature));
  request.sampling.top_k = absl::GetFlag(FLAGS_top_k);
  request.sampling.top_p = static_cast<float>(absl::GetFlag(FLAGS_top_p));
  request.sampling.min_p = static_cast<float>(absl::GetFlag(FLAGS_min_p));
  request.sampling.repetition_penalty = static_cast<float>(absl::GetFlag(FLAGS_repeat_penalty));
  request.sampling.seed = absl::GetFlag(FLAGS_seed);
  request.stop = absl::GetFlag(FLAGS_stop);
  request.ignore_eos = absl::GetFlag(FLAGS_ignore_eos);

  const bool json = absl::GetFlag(FLAGS_json);
  const hearth::TokenCallback stream = [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  absl::StatusOr<hearth::GenerateResult> result =
      (*engine)->Generate(request, json ? hearth::TokenCallback() : stream);
  if (!result.ok()) return Fail("cannot generate", result.status());

  const hearth::GenerateTimings& t = result->timings;
  const bool cold_report = absl::GetFlag(FLAGS_cold_report);
  const nlohmann::ordered_json report =
      cold_report ? ColdReportJson(cold, **engine, *result, load_start, load_wall_ms) : nlohmann::ordered_json();
  if (json) {
    nlohmann::json out = {
        {"text", result->text},
        {"finish_reason", std::string(hearth::FinishReasonName(result->finish_reason))},
        {"model", (*engine)->model_info().name},
        {"backend", (*engine)->model_info().backend},
        {"threads", (*engine)->threads()},
        {"activations", std::string(hearth::ActivationPrecisionName(config.activation_precision))},
        {"load_ms", (*engine)->load_ms()},
        {"ttft_ms", t.first_token_ms},
        {"prompt_tokens", result->prompt_tokens},
        {"prefill_tok_s", t.prefill_tokens_per_s},
        {"completion_tokens", result->completion_tokens},
        {"decode_tok_s", t.decode_tokens_per_s},
    };
    if (cold_report) out["cold_start"] = report;
    // Invalid UTF-8 from a model must not abort the dump.
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n\n[load %.1f ms | time to first token %.1f ms | prefill %.1f tokens/s "
                "(%d tokens) | decode %.1f tokens/s (%d tokens) | %s, %d threads]\n",
                (*engine)->load_ms(), t.first_token_ms, t.prefill_tokens_per_s,
                result->prompt_tokens, t.decode_tokens_per_s, result->completion_tokens,
                std::string(hearth::FinishReasonName(result->finish_reason)).c_str(),
                (*engine)->threads());
    if (cold_report) PrintColdReport(report);
  }
  return 0;
}

}  // namespace hearth_cli
