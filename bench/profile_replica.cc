// profile_replica: measures one Engine replica for the simulator and writes the profile
// (schema: include/hearth/replica_profile.h).
//
//   build/bench/profile_replica [--threads 2] [--repetitions 3] [--out FILE]
//
// Every figure is the median of --repetitions runs, on the model of bench_serving
// (--model, a .gguf or a .hearth snapshot, else $HEARTH_MODEL, else
// models/SmolLM2-135M-Instruct.Q4_1.gguf):
//  - load: from Engine::Create to the first token of a short prompt submitted at once
//    (Create maps the file and reads the weights in on every thread, a snapshot checking
//    its checksums in the same pass, while the tokenizer is built). Warm: the
//    file is in the page cache (a load just before). Cold: its pages are dropped first
//    (drop_caches where permitted, posix_fadvise(POSIX_FADV_DONTNEED) always) and the
//    fraction still resident is checked with mincore and recorded. first_token_s: the
//    same kind of prompt once the replica has served (what of the load is the prompt).
//  - prefill: one prompt of N tokens alone (distinct text each run, so the prefix cache
//    never helps), the Engine's own prefill tokens/s (prompt compute, queue excluded).
//  - decode: b requests submitted together (distinct short prompts, greedy, EOS ignored,
//    the same max_tokens). The streaming callback stamps each piece with the Engine's
//    cumulative generated-token count, which the scheduler updates once per step before
//    delivering that step's pieces. The steady window runs from the step that gave the
//    last request its first token to the step that gave the first request its last:
//    every step inside it decodes all b, and tokens / seconds over it is the aggregate.
// The machine (CPU, cores, threads used), date, git commit, command line and load
// average go into "measurement". The run takes about 1-2 minutes on 2 cores.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "hearth/engine.h"
#include "lib/model/llama_config.h"
#include "lib/model/paged_kv_cache.h"
#include "lib/runtime/page_cache.h"
#include "lib/snapshot/model_file.h"
#include "nlohmann/json.hpp"
#include "examples/model_path.h"

ABSL_FLAG(std::string, model, "", ".gguf or .hearth model file (default: $HEARTH_MODEL, else "
                                  "models/SmolLM2-135M-Instruct.Q4_1.gguf)");
ABSL_FLAG(std::string, out, "data/profiles/smollm2-135m-q4_1-cpu.json", "profile to write");
ABSL_FLAG(std::string, name, "smollm2-135m-q4_1-cpu", "the profile's name");
ABSL_FLAG(int, threads, 2, "Engine worker threads");
ABSL_FLAG(int, repetitions, 3, "runs per figure (the median is kept)");
ABSL_FLAG(int, ctx, 0, "EngineConfig::context_length; 0 = the Engine's default");
ABSL_FLAG(int, max_sequences, 0, "EngineConfig::max_sequences; 0 = the Engine's default");
ABSL_FLAG(int, max_batch_tokens, 0, "EngineConfig::max_batch_tokens; 0 = the Engine's default");
ABSL_FLAG(std::string, prefill_tokens, "16,64,256,1024,2048",
          "prompt lengths to prefill alone (each <= the context)");
ABSL_FLAG(std::string, batches, "1,2,4,8,16,32,64", "decode batch sizes");
ABSL_FLAG(int, decode_tokens, 256,
          "tokens generated per decode run in all (split among the batch)...");
ABSL_FLAG(int, min_decode_tokens, 24, "...but at least this many per request");

namespace {

using SteadyClock = std::chrono::steady_clock;


double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

absl::StatusOr<std::vector<int>> ParseInts(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  for (absl::string_view piece : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int v = 0;
    if (!absl::SimpleAtoi(piece, &v) || v <= 0 || (!out.empty() && v <= out.back())) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": want increasing positive integers, got ", text));
    }
    out.push_back(v);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is empty"));
  return out;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown CPU";
}

std::string CommandOutput(const char* command) {
  FILE* pipe = ::popen(command, "r");
  if (pipe == nullptr) return "";
  char buffer[256];
  std::string out;
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Drops the model file from the page cache: drop_caches when permitted (root on the
// host), posix_fadvise always (lib/runtime/page_cache, as `hearth generate --evict`).
// Returns the fraction of its pages still resident after (1 when it cannot tell).
double EvictModelFile(const std::string& path, bool* drop_caches_permitted) {
  ::sync();
  {
    std::ofstream drop("/proc/sys/vm/drop_caches");
    drop << "1\n";
    drop.flush();
    *drop_caches_permitted = static_cast<bool>(drop);
  }
  if (absl::Status s = hearth::EvictFromPageCache(path); !s.ok()) return 1;
  return hearth::ResidentFraction(path).value_or(1.0);
}

class Profiler {
 public:
  Profiler(hearth::EngineConfig config, int repetitions)
      : config_(std::move(config)), repetitions_(repetitions) {}

  // Load, cold and warm: from Engine::Create to the first token of a short prompt (the
  // first forward pass faults the weights in), and that prompt's first-token time on the
  // replica once it has served. Leaves a warm Engine in engine_ for the rest.
  absl::Status MeasureLoad(nlohmann::json& raw) {
    std::vector<double> cold, warm, create_cold, create_warm, steady, resident;
    bool drop_caches = false;
    for (int rep = 0; rep < 2 * repetitions_; ++rep) {
      const bool is_cold = rep % 2 == 0;  // interleaved, so drift hits both alike
      engine_.reset();                    // unmaps the file: its pages can be dropped
      if (is_cold) {
        resident.push_back(EvictModelFile(config_.model_path, &drop_caches));
      }
      const auto start = SteadyClock::now();
      absl::StatusOr<std::unique_ptr<hearth::Engine>> engine = hearth::Engine::Create(config_);
      const double create_s = SecondsSince(start);
      if (!engine.ok()) return engine.status();
      engine_ = *std::move(engine);
      absl::StatusOr<double> first = ShortPromptFirstTokenSeconds();
      if (!first.ok()) return first.status();
      const double load_s = SecondsSince(start);
      absl::StatusOr<double> again = ShortPromptFirstTokenSeconds();
      if (!again.ok()) return again.status();
      (is_cold ? cold : warm).push_back(load_s);
      (is_cold ? create_cold : create_warm).push_back(create_s);
      steady.push_back(*again);
    }
    raw["load_cold_s"] = cold;
    raw["load_warm_s"] = warm;
    raw["create_cold_s"] = create_cold;
    raw["create_warm_s"] = create_warm;
    raw["first_token_s"] = steady;
    raw["resident_fraction_after_eviction"] = resident;
    raw["drop_caches_permitted"] = drop_caches;
    load_cold_s_ = Median(cold);
    load_warm_s_ = Median(warm);
    first_token_s_ = Median(steady);
    return absl::OkStatus();
  }

  // Repetitions outermost, sizes inside: load from others drifts over the run, and this
  // spreads it over every size instead of depressing the last ones.
  absl::StatusOr<nlohmann::json> MeasurePrefill(const std::vector<int>& lengths,
                                                nlohmann::json& raw) {
    std::vector<std::vector<double>> rates(lengths.size());
    std::vector<int> measured(lengths.size());
    for (int rep = 0; rep < repetitions_; ++rep) {
      for (size_t k = 0; k < lengths.size(); ++k) {
        absl::StatusOr<std::string> prompt = Prompt(lengths[k]);
        if (!prompt.ok()) return prompt.status();
        hearth::GenerateRequest request;
        request.prompt = *prompt;
        request.max_tokens = 1;
        request.sampling.temperature = 0;
        absl::StatusOr<hearth::GenerateResult> r = engine_->Generate(request);
        if (!r.ok()) return r.status();
        if (r->cached_prompt_tokens != 0) {
          return absl::InternalError(
              absl::StrCat("prefill of ", lengths[k], " tokens hit the prefix cache"));
        }
        measured[k] = r->prompt_tokens;
        rates[k].push_back(r->timings.prefill_tokens_per_s);
      }
    }
    nlohmann::json points = nlohmann::json::array();
    for (size_t k = 0; k < lengths.size(); ++k) {
      raw["prefill"][std::to_string(measured[k])] = rates[k];
      points.push_back({{"tokens", measured[k]}, {"tokens_per_s", Median(rates[k])}});
      std::fprintf(stderr, "prefill %5d tokens: %.1f tok/s\n", measured[k], Median(rates[k]));
    }
    return points;
  }

  absl::StatusOr<nlohmann::json> MeasureDecode(const std::vector<int>& batches, int total,
                                               int min_each, nlohmann::json& raw) {
    std::vector<std::vector<double>> rates(batches.size());
    for (int rep = 0; rep < repetitions_; ++rep) {
      for (size_t k = 0; k < batches.size(); ++k) {
        absl::StatusOr<double> rate =
            DecodeOnce(batches[k], std::max(min_each, total / batches[k]));
        if (!rate.ok()) return rate.status();
        rates[k].push_back(*rate);
      }
      raw["loadavg_after_decode_round"].push_back(ReadFirstLine("/proc/loadavg"));
    }
    nlohmann::json points = nlohmann::json::array();
    for (size_t k = 0; k < batches.size(); ++k) {
      raw["decode"][std::to_string(batches[k])] = rates[k];
      points.push_back({{"batch", batches[k]}, {"tokens_per_s", Median(rates[k])}});
      std::fprintf(stderr, "decode batch %2d: %.1f tok/s\n", batches[k], Median(rates[k]));
    }
    return points;
  }

  hearth::Engine& engine() { return *engine_; }
  double load_cold_s() const { return load_cold_s_; }
  double load_warm_s() const { return load_warm_s_; }
  double first_token_s() const { return first_token_s_; }

 private:
  // (seconds since the run's start, cumulative generated tokens) at one piece.
  struct Stamp {
    double t;
    uint64_t generated;
  };

  absl::StatusOr<double> ShortPromptFirstTokenSeconds() {
    hearth::GenerateRequest request;
    request.prompt = absl::StrCat("Greeting ", ++prompts_, ": hello");
    request.max_tokens = 1;
    request.sampling.temperature = 0;
    absl::StatusOr<hearth::GenerateResult> r = engine_->Generate(request);
    if (!r.ok()) return r.status();
    return r->timings.first_token_ms / 1e3;
  }

  // A prompt of exactly `tokens` tokens (as the Engine counts them) that shares no prefix
  // with any other prompt of this run: a unique head, then one-token words.
  absl::StatusOr<std::string> Prompt(int tokens) {
    const std::string head = absl::StrCat("Run ", ++prompts_, ":");
    absl::StatusOr<int> head_tokens = CountTokens(head);
    if (!head_tokens.ok()) return head_tokens.status();
    std::string text = head;
    for (int i = *head_tokens; i < tokens; ++i) text += " the";
    return text;
  }

  absl::StatusOr<int> CountTokens(const std::string& text) {
    hearth::GenerateRequest request;
    request.prompt = text;
    request.max_tokens = 1;
    absl::StatusOr<hearth::GenerateResult> r = engine_->Generate(request);
    if (!r.ok()) return r.status();
    return r->prompt_tokens;
  }

  absl::StatusOr<double> DecodeOnce(int batch, int tokens_each) {
    std::vector<std::vector<Stamp>> stamps(static_cast<size_t>(batch));
    std::vector<hearth::RequestId> ids;
    const auto start = SteadyClock::now();
    for (int i = 0; i < batch; ++i) {
      hearth::GenerateRequest request;
      request.prompt = absl::StrCat("Story ", ++prompts_, ": once upon a time");
      request.max_tokens = tokens_each;
      request.ignore_eos = true;
      request.sampling.temperature = 0;
      std::vector<Stamp>* mine = &stamps[static_cast<size_t>(i)];
      // Runs on the scheduler thread after the step's token counts were recorded.
      absl::StatusOr<hearth::RequestId> id = engine_->Submit(
          std::move(request), [this, mine, start](std::string_view) {
            mine->push_back({SecondsSince(start), engine_->metrics().generated_tokens});
            return true;
          });
      if (!id.ok()) return id.status();
      ids.push_back(*id);
    }
    for (hearth::RequestId id : ids) {
      absl::StatusOr<hearth::GenerateResult> r = engine_->Wait(id);
      if (!r.ok()) return r.status();
      if (r->finish_reason != hearth::FinishReason::kLength || r->preemptions != 0) {
        return absl::InternalError(absl::StrCat(
            "decode run at batch ", batch, " did not finish cleanly: ",
            std::string(hearth::FinishReasonName(r->finish_reason)), ", ", r->preemptions,
            " preemptions"));
      }
    }
    double window_start = 0, window_end = 1e300;
    for (const std::vector<Stamp>& s : stamps) {
      if (s.empty()) return absl::InternalError("a decode request streamed nothing");
      window_start = std::max(window_start, s.front().t);
      window_end = std::min(window_end, s.back().t);
    }
    // The first stamp at or after the window's start and the last at or before its end,
    // over every request: both are step boundaries.
    const Stamp* first = nullptr;
    const Stamp* last = nullptr;
    for (const std::vector<Stamp>& s : stamps) {
      for (const Stamp& x : s) {
        if (x.t >= window_start && (first == nullptr || x.t < first->t)) first = &x;
        if (x.t <= window_end && (last == nullptr || x.t > last->t)) last = &x;
      }
    }
    if (first == nullptr || last == nullptr || last->generated <= first->generated ||
        last->t <= first->t) {
      return absl::InternalError(absl::StrCat("no steady window at batch ", batch,
                                              "; raise --min_decode_tokens"));
    }
    return static_cast<double>(last->generated - first->generated) / (last->t - first->t);
  }

  hearth::EngineConfig config_;
  int repetitions_;
  std::unique_ptr<hearth::Engine> engine_;
  int prompts_ = 0;
  double load_cold_s_ = 0, load_warm_s_ = 0, first_token_s_ = 0;
};

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "profile_replica: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

int Run(const std::string& command) {
  absl::StatusOr<std::vector<int>> prefill_lengths =
      ParseInts("prefill_tokens", absl::GetFlag(FLAGS_prefill_tokens));
  if (!prefill_lengths.ok()) return Fail("bad flag", prefill_lengths.status());
  absl::StatusOr<std::vector<int>> batches = ParseInts("batches", absl::GetFlag(FLAGS_batches));
  if (!batches.ok()) return Fail("bad flag", batches.status());
  const int repetitions = absl::GetFlag(FLAGS_repetitions);
  if (repetitions < 1) return Fail("bad flag", absl::InvalidArgumentError("--repetitions < 1"));

  hearth::EngineConfig config;
  config.model_path = hearth_examples::ResolveModelPath(absl::GetFlag(FLAGS_model));
  config.threads = absl::GetFlag(FLAGS_threads);
  config.context_length = absl::GetFlag(FLAGS_ctx);
  if (absl::GetFlag(FLAGS_max_sequences) > 0) {
    config.max_sequences = absl::GetFlag(FLAGS_max_sequences);
  }
  if (absl::GetFlag(FLAGS_max_batch_tokens) > 0) {
    config.max_batch_tokens = absl::GetFlag(FLAGS_max_batch_tokens);
  }
  if (batches->back() > config.max_sequences) {
    return Fail("bad flag", absl::InvalidArgumentError("a batch exceeds max_sequences"));
  }

  // KV bytes per token as the Engine sizes its cache (keys and values, every layer), from a .gguf or a .hearth alike (only
  // its metadata is read; it is closed at once, or its mapping would keep the file's pages
  // from being dropped).
  absl::StatusOr<hearth::LlamaConfig> llama;
  {
    absl::StatusOr<hearth::OpenedModelFile> opened = hearth::OpenModelFile(config.model_path);
    if (!opened.ok()) return Fail("cannot open the model", opened.status());
    llama = hearth::ReadLlamaConfig(*opened->file);
  }
  if (!llama.ok()) return Fail("cannot read the model's config", llama.status());
  const int64_t kv_bytes_per_token = hearth::PagedKvCache::BytesPerBlock(*llama, 1);

  const std::string load_before = ReadFirstLine("/proc/loadavg");
  const auto start = SteadyClock::now();
  nlohmann::json raw;
  Profiler profiler(config, repetitions);
  if (absl::Status s = profiler.MeasureLoad(raw); !s.ok()) return Fail("load", s);
  std::fprintf(stderr, "load cold %.3f s, warm %.3f s; first token %.3f s\n",
               profiler.load_cold_s(), profiler.load_warm_s(), profiler.first_token_s());
  hearth::Engine& engine = profiler.engine();
  const int context = static_cast<int>(engine.model_info().context_length);
  if (prefill_lengths->back() > context) {
    return Fail("bad flag", absl::InvalidArgumentError(absl::StrCat(
                                "--prefill_tokens beyond the context of ", context)));
  }
  absl::StatusOr<nlohmann::json> prefill = profiler.MeasurePrefill(*prefill_lengths, raw);
  if (!prefill.ok()) return Fail("prefill", prefill.status());
  absl::StatusOr<nlohmann::json> decode =
      profiler.MeasureDecode(*batches, absl::GetFlag(FLAGS_decode_tokens),
                             absl::GetFlag(FLAGS_min_decode_tokens), raw);
  if (!decode.ok()) return Fail("decode", decode.status());
  const hearth::EngineMetrics metrics = engine.metrics();
  const int64_t kv_cache_bytes =
      metrics.kv_blocks_total * hearth::PagedKvCache::BytesPerBlock(*llama, config.kv_block_tokens);
  const unsigned cores = std::thread::hardware_concurrency();

  nlohmann::json out;
  out["schema_version"] = 1;
  out["name"] = absl::GetFlag(FLAGS_name);
  out["hardware"] = absl::StrCat(CpuModel(), ", ", cores, " cores, ", engine.threads(),
                                 " threads used");
  out["load_s"] = {{"cold", profiler.load_cold_s()}, {"warm", profiler.load_warm_s()}};
  out["first_token_s"] = profiler.first_token_s();
  out["memory_bytes"] = {{"weights", engine.model_info().file_bytes},
                         {"kv_cache", kv_cache_bytes}};
  out["kv_bytes_per_token"] = kv_bytes_per_token;
  out["max_sequences"] = config.max_sequences;
  out["max_batch_tokens"] = config.max_batch_tokens;
  out["context_length"] = context;
  out["prefill"] = *prefill;
  out["decode"] = *decode;
  out["measurement"] = {
      {"program", "bench/profile_replica"},
      {"command", command},
      {"date", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone())},
      {"git_commit", CommandOutput("git describe --always --dirty 2>/dev/null")},
      {"model", engine.model_info().name},
      {"model_file", config.model_path},
      {"cpu", CpuModel()},
      {"cores", cores},
      {"threads_used", engine.threads()},
      {"kv_block_tokens", config.kv_block_tokens},
      {"prefix_caching", config.prefix_caching},
      {"repetitions", repetitions},
      {"statistic", "median"},
      {"loadavg_before", load_before},
      {"loadavg_after", ReadFirstLine("/proc/loadavg")},
      {"wall_s", SecondsSince(start)},
      {"runs", raw}};

  const std::string path = absl::GetFlag(FLAGS_out);
  std::ofstream file(path);
  file << out.dump(2) << "\n";
  file.close();
  if (!file) return Fail("cannot write", absl::UnavailableError(path));
  std::fprintf(stderr, "wrote %s in %.0f s\n", path.c_str(), SecondsSince(start));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "profile_replica [--threads T] [--repetitions R] [--out FILE] [--model FILE]");
  // The command as run from the repository root (where the default paths point), without
  // the machine's own path to the binary.
  std::vector<std::string> args = {"build/bench/profile_replica"};
  args.insert(args.end(), argv + 1, argv + argc);
  absl::ParseCommandLine(argc, argv);
  return Run(absl::StrJoin(args, " "));
}
