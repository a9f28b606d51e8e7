// bench_serving: a load generator over hearth's Engine, in-process.
//
//   build/bench/bench_serving --mode closed --concurrency 16 --max_tokens 128
//   build/bench/bench_serving --mode poisson --rate 2.5 --requests 64
//   build/bench/bench_serving --backend cuda --concurrency 64 --max_sequences 64
//
// The workload is the one bench/llama_cpp_serving.py sends to llama.cpp, so the two
// engines can be compared (bench/compare_serving.py runs both): request i is the user
// message on line (i mod lines) of bench/serving_prompts.jsonl, formatted with the
// model's chat template (request.messages), generated greedily to exactly max_tokens
// tokens (ignore_eos). Poisson arrivals come from SplitMix64 seeded with --seed, first
// request at t = 0, then exponential gaps: the same schedule as the Python side.
//
// Modes:
//  - closed: --concurrency clients, each submits a request, waits for it to finish, then
//    submits the next, until --requests (default max(2C, 8)) are done;
//  - poisson: open loop, requests submitted at their arrival times whatever the load.
//
// Measurements (steady clock, from the client): a request arrives when its client
// submits it (closed) or at its scheduled time (poisson); the streaming callback stamps
// each piece as the scheduler emits it. TTFT = first piece - arrival; inter-token
// latency = gaps between consecutive pieces of a request, pooled (one piece per token,
// except where a piece waits for the rest of a UTF-8 character); end-to-end = last piece
// - arrival; throughput = completion tokens / (last piece of the run - first arrival).
// Percentiles interpolate linearly between order statistics (as numpy's default). The
// last stdout line is one JSON object (--json_out writes it to a file too); no request is
// dropped, failures are counted. --backend cpu|cuda|auto and --device choose where the
// forward pass runs (EngineConfig::backend, device); the object's "backend" is where it ran.
// --activations 16|8 sets the CPU backend's activation precision
// (EngineConfig::activation_precision).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "hearth/engine.h"
#include "nlohmann/json.hpp"
#include "examples/model_path.h"

ABSL_FLAG(std::string, model, "", "GGUF model file (default: $HEARTH_MODEL, else "
                                  "models/SmolLM2-135M-Instruct.Q4_1.gguf)");
ABSL_FLAG(std::string, prompts, "bench/serving_prompts.jsonl",
          "JSON lines with a \"prompt\" field: the user messages");
ABSL_FLAG(std::string, mode, "closed", "closed (fixed concurrency) or poisson (open loop)");
ABSL_FLAG(int, concurrency, 1, "closed loop: number of clients");
ABSL_FLAG(int, requests, 0, "requests to complete; 0 = max(2 * concurrency, 8)");
ABSL_FLAG(double, rate, 1.0, "poisson: mean arrivals per second");
ABSL_FLAG(uint64_t, seed, 1, "poisson: arrival schedule seed");
ABSL_FLAG(int, max_tokens, 128, "tokens generated per request (EOS ignored)");
ABSL_FLAG(int, threads, 2, "Engine worker threads");
ABSL_FLAG(int, max_sequences, 0, "EngineConfig::max_sequences; 0 = the Engine's default");
ABSL_FLAG(int, max_batch_tokens, 0, "EngineConfig::max_batch_tokens; 0 = the Engine's default");
ABSL_FLAG(bool, prefix_caching, true, "EngineConfig::prefix_caching");
ABSL_FLAG(std::string, backend, "cpu", "where the forward pass runs: cpu, cuda or auto "
          "(EngineConfig::backend)");
ABSL_FLAG(int, device, 0, "CUDA device ordinal (EngineConfig::device)");
ABSL_FLAG(std::string, activations, "16",
          "CPU activation precision in bits, 16 or 8 (EngineConfig::activation_precision)");
ABSL_FLAG(int64_t, kv_cache_bytes, 0,
          "EngineConfig::kv_cache_bytes; 0 = the Engine's default");
ABSL_FLAG(std::string, json_out, "", "also write the result object to this file");

namespace {

using Clock = std::chrono::steady_clock;


// One request as the client saw it. Times are seconds since the run started.
struct Sample {
  double arrival = 0;
  std::vector<double> pieces;  // written by the callback on the scheduler thread
  bool ok = false;
  std::string finish_reason;
  int prompt_tokens = 0;
  int cached_prompt_tokens = 0;
  int completion_tokens = 0;
  int preemptions = 0;
};

// The arrival schedule shared with llama_cpp_serving.py: SplitMix64 uniforms, inverse
// CDF of the exponential distribution.
std::vector<double> PoissonArrivals(int n, double rate, uint64_t seed) {
  std::vector<double> times;
  uint64_t state = seed;
  double t = 0;
  for (int i = 0; i < n; ++i) {
    if (i > 0) {
      state += 0x9E3779B97F4A7C15ull;
      uint64_t z = state;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
      t += -std::log1p(-u) / rate;
    }
    times.push_back(t);
  }
  return times;
}

nlohmann::json Percentiles(std::vector<double> v) {
  if (v.empty()) return {{"p50", nullptr}, {"p99", nullptr}, {"mean", nullptr}};
  std::sort(v.begin(), v.end());
  const auto at = [&v](double q) {
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(pos);
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  };
  double sum = 0;
  for (double x : v) sum += x;
  return {{"p50", at(0.50)}, {"p99", at(0.99)}, {"mean", sum / static_cast<double>(v.size())}};
}

absl::StatusOr<std::vector<std::string>> LoadPrompts(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot open " + path);
  std::vector<std::string> prompts;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("prompt") || !j["prompt"].is_string()) {
      return absl::InvalidArgumentError(path + ": a line without a \"prompt\" string");
    }
    prompts.push_back(j["prompt"].get<std::string>());
  }
  if (prompts.empty()) return absl::InvalidArgumentError(path + ": no prompts");
  return prompts;
}

class LoadGenerator {
 public:
  LoadGenerator(hearth::Engine& engine, const std::vector<std::string>& prompts,
                int max_tokens)
      : engine_(engine), prompts_(prompts), max_tokens_(max_tokens) {}

  // Closed loop: `clients` threads share the request indices 0..n-1.
  std::vector<Sample> Closed(int n, int clients) {
    std::vector<Sample> samples(static_cast<size_t>(n));
    start_ = Clock::now();
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&] {
        for (int i = next++; i < n; i = next++) {
          Sample& s = samples[static_cast<size_t>(i)];
          s.arrival = Now();
          absl::StatusOr<hearth::RequestId> id = Submit(i, s);
          if (id.ok()) Collect(*id, s);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    return samples;
  }

  // Open loop: submit at the scheduled times, then collect every result. The timings
  // come from the callbacks, so waiting in submission order delays nothing measured.
  std::vector<Sample> Open(const std::vector<double>& arrivals) {
    std::vector<Sample> samples(arrivals.size());
    std::vector<std::optional<hearth::RequestId>> ids(arrivals.size());
    start_ = Clock::now();
    for (size_t i = 0; i < arrivals.size(); ++i) {
      std::this_thread::sleep_until(start_ + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(arrivals[i])));
      samples[i].arrival = arrivals[i];
      absl::StatusOr<hearth::RequestId> id = Submit(static_cast<int>(i), samples[i]);
      if (id.ok()) ids[i] = *id;
    }
    for (size_t i = 0; i < arrivals.size(); ++i) {
      if (ids[i].has_value()) Collect(*ids[i], samples[i]);
    }
    return samples;
  }

 private:
  double Now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  absl::StatusOr<hearth::RequestId> Submit(int index, Sample& sample) {
    hearth::GenerateRequest request;
    request.messages = {{"user", prompts_[static_cast<size_t>(index) % prompts_.size()]}};
    request.max_tokens = max_tokens_;
    request.ignore_eos = true;
    request.sampling.temperature = 0;
    absl::StatusOr<hearth::RequestId> id =
        engine_.Submit(std::move(request), [this, &sample](std::string_view) {
          sample.pieces.push_back(Now());
          return true;
        });
    if (!id.ok()) Report(id.status());
    return id;
  }

  void Collect(hearth::RequestId id, Sample& sample) {
    absl::StatusOr<hearth::GenerateResult> result = engine_.Wait(id);
    if (!result.ok()) {
      Report(result.status());
      return;
    }
    sample.finish_reason = std::string(hearth::FinishReasonName(result->finish_reason));
    sample.ok = result->finish_reason != hearth::FinishReason::kError;
    if (!sample.ok) Report(result->error);
    sample.prompt_tokens = result->prompt_tokens;
    sample.cached_prompt_tokens = result->cached_prompt_tokens;
    sample.completion_tokens = result->completion_tokens;
    sample.preemptions = result->preemptions;
  }

  void Report(const absl::Status& status) {
    std::lock_guard<std::mutex> lock(report_mu_);
    std::fprintf(stderr, "bench_serving: request failed: %s\n", status.ToString().c_str());
  }

  hearth::Engine& engine_;
  const std::vector<std::string>& prompts_;
  const int max_tokens_;
  Clock::time_point start_;
  std::mutex report_mu_;
};

nlohmann::json Summarise(const std::vector<Sample>& samples) {
  std::vector<double> ttft, itl, e2e;
  int64_t completion = 0, prompt = 0, cached = 0, preemptions = 0;
  int completed = 0, errors = 0;
  double first_arrival = INFINITY, last_piece = 0;
  std::map<std::string, int> reasons;
  for (const Sample& s : samples) {
    first_arrival = std::min(first_arrival, s.arrival);
    if (!s.ok) {
      ++errors;
      continue;
    }
    ++completed;
    ++reasons[s.finish_reason];
    completion += s.completion_tokens;
    prompt += s.prompt_tokens;
    cached += s.cached_prompt_tokens;
    preemptions += s.preemptions;
    if (s.pieces.empty()) continue;
    ttft.push_back(1e3 * (s.pieces.front() - s.arrival));
    e2e.push_back(1e3 * (s.pieces.back() - s.arrival));
    for (size_t k = 1; k < s.pieces.size(); ++k) {
      itl.push_back(1e3 * (s.pieces[k] - s.pieces[k - 1]));
    }
    last_piece = std::max(last_piece, s.pieces.back());
  }
  const double wall = last_piece - first_arrival;
  return {{"requests", samples.size()},
          {"completed", completed},
          {"errors", errors},
          {"finish_reasons", reasons},
          {"prompt_tokens", prompt},
          {"cached_prompt_tokens", cached},
          {"preemptions", preemptions},
          {"completion_tokens", completion},
          {"wall_s", wall},
          {"output_tok_s", wall > 0 ? nlohmann::json(static_cast<double>(completion) / wall)
                                    : nlohmann::json(nullptr)},
          {"ttft_ms", Percentiles(ttft)},
          {"itl_ms", Percentiles(itl)},
          {"e2e_ms", Percentiles(e2e)}};
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "bench_serving: %s: %s\n", what.c_str(),
               std::string(status.message()).c_str());
  return 1;
}

int Run() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "closed" && mode != "poisson") {
    std::fprintf(stderr, "bench_serving: --mode must be closed or poisson\n");
    return 2;
  }
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int max_tokens = absl::GetFlag(FLAGS_max_tokens);
  const double rate = absl::GetFlag(FLAGS_rate);
  int requests = absl::GetFlag(FLAGS_requests);
  if (requests <= 0) requests = std::max(2 * concurrency, 8);
  if (concurrency <= 0 || max_tokens <= 0 || !(rate > 0)) {
    std::fprintf(stderr, "bench_serving: --concurrency, --max_tokens, --rate must be > 0\n");
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> prompts = LoadPrompts(absl::GetFlag(FLAGS_prompts));
  if (!prompts.ok()) return Fail("cannot read the prompts", prompts.status());

  hearth::EngineConfig config;
  config.model_path = hearth_examples::ResolveModelPath(absl::GetFlag(FLAGS_model));
  config.threads = absl::GetFlag(FLAGS_threads);
  if (absl::GetFlag(FLAGS_max_sequences) > 0) {
    config.max_sequences = absl::GetFlag(FLAGS_max_sequences);
  }
  if (absl::GetFlag(FLAGS_max_batch_tokens) > 0) {
    config.max_batch_tokens = absl::GetFlag(FLAGS_max_batch_tokens);
  }
  config.prefix_caching = absl::GetFlag(FLAGS_prefix_caching);
  absl::StatusOr<hearth::Backend> backend = hearth::ParseBackend(absl::GetFlag(FLAGS_backend));
  if (!backend.ok()) {
    std::fprintf(stderr, "bench_serving: --backend: %s\n",
                 std::string(backend.status().message()).c_str());
    return 2;
  }
  config.backend = *backend;
  config.device = absl::GetFlag(FLAGS_device);
  absl::StatusOr<hearth::ActivationPrecision> precision =
      hearth::ParseActivationPrecision(absl::GetFlag(FLAGS_activations));
  if (!precision.ok()) {
    std::fprintf(stderr, "bench_serving: --activations: %s\n",
                 std::string(precision.status().message()).c_str());
    return 2;
  }
  config.activation_precision = *precision;
  if (absl::GetFlag(FLAGS_kv_cache_bytes) > 0) {
    config.kv_cache_bytes = absl::GetFlag(FLAGS_kv_cache_bytes);
  }
  absl::StatusOr<std::unique_ptr<hearth::Engine>> engine = hearth::Engine::Create(config);
  if (!engine.ok()) return Fail("cannot load the model", engine.status());

  LoadGenerator load(**engine, *prompts, max_tokens);
  // Untimed warm-up, as on the llama.cpp side: page in the weights, start the workers.
  LoadGenerator(**engine, *prompts, 8).Closed(1, 1);

  const std::vector<Sample> samples =
      mode == "closed" ? load.Closed(requests, concurrency)
                       : load.Open(PoissonArrivals(requests, rate, absl::GetFlag(FLAGS_seed)));
  const hearth::EngineMetrics metrics = (*engine)->metrics();

  nlohmann::json out = Summarise(samples);
  out["engine"] = "hearth";
  out["mode"] = mode;
  out["concurrency"] = concurrency;
  out["rate"] = mode == "poisson" ? nlohmann::json(rate) : nlohmann::json(nullptr);
  out["seed"] = absl::GetFlag(FLAGS_seed);
  out["max_tokens"] = max_tokens;
  out["threads"] = (*engine)->threads();
  out["max_sequences"] = config.max_sequences;
  out["max_batch_tokens"] = config.max_batch_tokens;
  out["prefix_caching"] = config.prefix_caching;
  out["model"] = (*engine)->model_info().name;
  out["backend"] = (*engine)->model_info().backend;
  out["requested_backend"] = std::string(hearth::BackendName(config.backend));
  out["device"] = config.device;
  out["activations"] = std::string(hearth::ActivationPrecisionName(config.activation_precision));
  out["kv_cache_bytes"] = config.kv_cache_bytes;
  // The Engine's own view (whole process, warm-up included), to cross-check the client's.
  out["engine_metrics"] = {
      {"ttft_ms_p50", metrics.time_to_first_token_ms.Quantile(0.5)},
      {"ttft_ms_p99", metrics.time_to_first_token_ms.Quantile(0.99)},
      {"itl_ms_p50", metrics.inter_token_latency_ms.Quantile(0.5)},
      {"itl_ms_p99", metrics.inter_token_latency_ms.Quantile(0.99)},
      {"prefix_cache_hit_rate", metrics.prefix_cache_hit_rate},
      {"preemptions", metrics.preemptions},
      {"requests_failed", metrics.requests_failed}};
  const std::string line = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::printf("%s\n", line.c_str());
  const std::string json_out = absl::GetFlag(FLAGS_json_out);
  if (!json_out.empty()) {
    std::ofstream file(json_out);
    file << line << "\n";
    if (!file) {
      std::fprintf(stderr, "bench_serving: cannot write %s\n", json_out.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "bench_serving [--mode closed|poisson] [--concurrency C] [--requests R] [--rate L] "
      "[--max_tokens N] [--threads T] [--model FILE] [--prompts FILE] [--backend cpu|cuda|auto] "
      "[--device N] [--activations 16|8] [--kv_cache_bytes B] [--json_out FILE]");
  absl::ParseCommandLine(argc, argv);
  return Run();
}
