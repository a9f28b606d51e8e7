// End-to-end prefill and decode throughput of the Engine on the real model.
//   build/bench/bench_engine [--benchmark_filter=...]
// Model: $HEARTH_MODEL, else models/SmolLM2-135M-Instruct.Q4_1.gguf (run from the repo root).
#include <map>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "hearth/engine.h"
#include "examples/model_path.h"

namespace {

constexpr char kPrompt[] =
    "The old lighthouse keeper climbed the winding stairs every evening, and tonight, as the "
    "storm rolled in from the sea, he noticed";

hearth::Engine* EngineWithThreads(int threads) {
  static std::map<int, std::unique_ptr<hearth::Engine>> engines;
  auto& engine = engines[threads];
  if (!engine) {
    hearth::EngineConfig config;
    config.model_path = hearth_examples::ResolveModelPath("");
    config.threads = threads;
    absl::StatusOr<std::unique_ptr<hearth::Engine>> created = hearth::Engine::Create(config);
    if (!created.ok()) return nullptr;
    engine = *std::move(created);
  }
  return engine.get();
}

// Generates args: {threads, new tokens}; reports prefill and decode tokens/s as counters
// measured inside the engine, and items = generated tokens.
void BM_Generate(benchmark::State& state) {
  hearth::Engine* engine = EngineWithThreads(static_cast<int>(state.range(0)));
  if (engine == nullptr) {
    state.SkipWithError("cannot load the model (run scripts/setup.sh)");
    return;
  }
  hearth::GenerateRequest request;
  request.prompt = kPrompt;
  request.max_tokens = static_cast<int>(state.range(1));
  request.sampling.temperature = 0;
  request.ignore_eos = true;
  double prefill = 0, decode = 0;
  int64_t generated = 0;
  for (auto _ : state) {
    absl::StatusOr<hearth::GenerateResult> r = engine->Generate(request);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    prefill += r->timings.prefill_tokens_per_s;
    decode += r->timings.decode_tokens_per_s;
    generated += r->completion_tokens;
  }
  state.counters["prefill_tok_s"] = prefill / state.iterations();
  state.counters["decode_tok_s"] = decode / state.iterations();
  state.SetItemsProcessed(generated);
}
BENCHMARK(BM_Generate)
    ->ArgsProduct({{1, 2}, {128}})
    ->ArgNames({"threads", "tokens"})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
