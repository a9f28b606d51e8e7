// hearth::Engine — quantised transformer inference on one loaded model, serving many
// requests at once.
//
// An Engine owns one model (a GGUF file, mapped and read in place), its tokenizer, a pool
// of worker threads, a paged KV cache under a memory budget and a scheduler thread. Every
// step of the scheduler decodes one token for each running request and fills the rest of
// its token budget with chunks of waiting prompts (continuous batching); prompts that
// share a prefix share KV blocks.
//
// Usage:
//   hearth::EngineConfig config;
//   config.model_path = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
//   absl::StatusOr<std::unique_ptr<hearth::Engine>> engine = hearth::Engine::Create(config);
//   if (!engine.ok()) { /* engine.status().message() names the problem */ }
//
//   hearth::GenerateRequest request;
//   request.messages = {{"user", "What is the capital of France?"}};
//   request.max_tokens = 64;
//   // One call: submit and wait, streaming through a callback.
//   absl::StatusOr<hearth::GenerateResult> result = (*engine)->Generate(
//       request, [](std::string_view piece) { std::fwrite(piece.data(), 1, piece.size(), stdout); return true; });
//   // Or: submit now, read the stream (blocking), then collect the result.
//   absl::StatusOr<hearth::RequestId> id = (*engine)->Submit(request);
//   while (true) {
//     absl::StatusOr<std::optional<hearth::StreamPiece>> piece = (*engine)->Next(*id);
//     if (!piece.ok() || !piece->has_value()) break;
//     std::cout << (*piece)->text;
//   }
//   absl::StatusOr<hearth::GenerateResult> done = (*engine)->Wait(*id);
//
// Errors: every fallible call returns absl::Status / StatusOr; nothing throws and nothing
// aborts on bad input (missing model, unsupported architecture or tensor type, empty or
// over-long prompt, invalid sampling values, unknown request ids). Once submitted, a
// request is never dropped: it finishes (stop / length), is cancelled, passes its
// deadline, or ends with an error, and Wait() reports which.
//
// Thread-safety: every method may be called from any thread at any time. Callbacks run on
// the Engine's scheduler thread, between steps: they must be quick and must not call
// back into the Engine's blocking methods (Wait, Next, Generate).
#ifndef HEARTH_ENGINE_H_
#define HEARTH_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hearth/histogram.h"

namespace hearth {

// Where the forward pass runs. kCuda needs a build with CUDA (HEARTH_CUDA) and a device;
// kAuto takes the GPU where both exist, else the CPU. The default stays kCpu until the
// CUDA path has been verified on a GPU.
enum class Backend { kCpu, kCuda, kAuto };

// How the CPU backend quantises activations for its products with quantised weights.
enum class ActivationPrecision {
  // Two int8 planes (16 bits): 100 % top-1 agreement with a float64 reference on
  // SmolLM2-135M.
  k16Bit,
  // One int8 plane, as llama.cpp's q8_0: cheaper batched steps (bench/NOTES.md), about
  // 97 % top-1 agreement; greedy outputs may differ from the 16-bit ones.
  k8Bit,
};

struct EngineConfig {
  std::string model_path;  // a .gguf file (Llama family)
  Backend backend = Backend::kCpu;
  int device = 0;          // the CUDA device ordinal (kCuda, kAuto)
  // The CPU backend's activation precision; the CUDA backend computes in float32.
  ActivationPrecision activation_precision = ActivationPrecision::k16Bit;
  int threads = 0;         // worker threads; 0 = one per hardware thread
  int context_length = 0;  // most tokens (prompt + output) per request; 0 = min(model's, 4096)
  // Memory for keys and values of all requests together (float16 on the CPU, float32 on
  // CUDA; kAuto is sized as CUDA); 0 = enough for max_sequences requests of 1,024 tokens
  // each (or of context_length, if smaller).
  int64_t kv_cache_bytes = 0;
  int kv_block_tokens = 16;     // tokens per KV block (the unit of allocation and sharing)
  int max_batch_tokens = 256;   // tokens per scheduler step: decodes + prefill chunks
  int max_sequences = 64;       // requests running at once; more wait in the queue
  bool prefix_caching = true;   // share KV blocks between prompts with a common prefix
};

// Sampling settings: repetition penalty, then top-k, top-p and min-p on the
// temperature-scaled distribution (as vLLM and Hugging Face apply them), then a seeded
// draw. temperature == 0 means greedy (argmax).
struct SamplingParams {
  float temperature = 0.8f;        // >= 0
  int top_k = 40;                  // 0 = off
  float top_p = 0.95f;             // (0, 1]; 1 = off
  float min_p = 0.05f;             // [0, 1); 0 = off
  float repetition_penalty = 1.0f; // > 0; 1 = off
  int repetition_window = 64;      // last tokens the penalty looks at
  uint64_t seed = 0;               // same seed, same output
};

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct GenerateRequest {
  // Exactly one of prompt (raw text) or messages (formatted with the model's chat
  // template, ending with the assistant's turn) is set.
  std::string prompt;
  std::vector<ChatMessage> messages;
  int max_tokens = 256;               // > 0
  SamplingParams sampling;
  std::vector<std::string> stop;      // generation ends before any of these strings
  bool ignore_eos = false;            // keep going past end-of-sequence (benchmarks)
  int priority = 0;                   // larger runs first and is preempted last
  absl::Time deadline = absl::InfiniteFuture();  // unfinished then: FinishReason::kDeadline
};

enum class FinishReason {
  kStop,       // end-of-sequence token or a stop string
  kLength,     // max_tokens or the context length reached
  kCancelled,  // Cancel() was called, or the callback returned false
  kDeadline,   // the request's deadline passed first
  kError,      // the Engine failed the request; GenerateResult::error says why
};

struct GenerateTimings {
  double queue_ms = 0;          // from Submit to the first step that ran the request
  double prefill_ms = 0;        // from Submit to the end of the prompt's last chunk
  double first_token_ms = 0;    // from Submit to the first generated token
  double decode_ms = 0;         // from the first generated token to the last
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;  // tokens after the first / decode_ms
};

struct GenerateResult {
  std::string text;
  std::vector<int32_t> tokens;  // generated token ids
  FinishReason finish_reason = FinishReason::kStop;
  absl::Status error;            // set when finish_reason == kError
  int prompt_tokens = 0;
  int cached_prompt_tokens = 0;  // prompt tokens whose KV came from the prefix cache
  int completion_tokens = 0;
  int preemptions = 0;           // times the request's KV was freed and recomputed
  GenerateTimings timings;
};

// Identifies a submitted request until Wait() has returned its result.
using RequestId = uint64_t;

// One piece of a streamed answer: whole UTF-8 characters, never part of a stop string.
struct StreamPiece {
  std::string text;
  std::vector<int32_t> tokens;  // token ids generated since the previous piece
};

// A consistent-enough view of the Engine's load, cheap to take at any time (counters are
// atomics; nothing waits for the scheduler).
struct EngineMetrics {
  int64_t waiting = 0;            // queue depth: submitted, not running (incl. preempted)
  int64_t running = 0;            // requests holding KV blocks in the batch
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;     // referenced by a running request
  int64_t kv_blocks_cached = 0;   // unreferenced, kept for prefix reuse, evictable
  int64_t kv_blocks_free = 0;     // never used or evicted
  // Tokens of admitted prompts (again, with what they generated, after a preemption)...
  uint64_t prefix_cache_queried_tokens = 0;
  uint64_t prefix_cache_hit_tokens = 0;      // ...and of those, found in cached blocks
  double prefix_cache_hit_rate = 0;          // hit / queried
  uint64_t requests_submitted = 0;
  uint64_t requests_finished = 0;   // all finish reasons
  uint64_t requests_cancelled = 0;
  uint64_t requests_deadline = 0;
  uint64_t requests_failed = 0;
  uint64_t preemptions = 0;
  uint64_t prompt_tokens = 0;       // computed (not cached) prompt tokens
  uint64_t generated_tokens = 0;
  double generated_tokens_per_s = 0;  // over the last 10 seconds
  Histogram time_to_first_token_ms;
  Histogram inter_token_latency_ms;
};

// Receives each new piece of text (always whole UTF-8 characters). Return false to stop.
using TokenCallback = std::function<bool(std::string_view piece)>;

struct ModelInfo {
  std::string name;
  std::string architecture;
  int64_t parameters = 0;
  int64_t layers = 0;
  int64_t context_length = 0;  // the Engine's, not the trained one
  int64_t vocab_size = 0;
  uint64_t file_bytes = 0;
  std::string backend;  // "cpu" or "cuda": where the forward pass runs
};

// Where Create()'s time went, in milliseconds, in the order the stages run. The tokenizer
// is built on its own thread while the weights are read, so the stages overlap and
// total_ms is less than their sum.
struct LoadTimings {
  double open_ms = 0;       // open, map and validate the model file (a .hearth snapshot:
                            // its header and the chunks of metadata checked)
  double page_in_ms = 0;    // the weights read into memory by parallel readers (a .hearth
                            // snapshot's checksums computed in the same pass)
  double tokenizer_ms = 0;  // vocabulary, merges and chat template (during the page-in)
  double backend_ms = 0;    // the forward backend: KV cache; on a GPU, the weight upload
  double total_ms = 0;      // the whole of Create() (= load_ms())
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineConfig& config);
  // Cancels every unfinished request, wakes every waiter, stops the scheduler.
  virtual ~Engine() = default;

  // Queues a request. Invalid requests (see GenerateRequest) and prompts that can never
  // fit (longer than the context, or than the whole KV cache) fail here, as does any
  // call after Shutdown(). With on_token, pieces go to the callback (returning false
  // cancels the request); without it, they queue for Next().
  virtual absl::StatusOr<RequestId> Submit(GenerateRequest request,
                                           TokenCallback on_token = {}) = 0;
  // Blocks until the next piece of the answer is ready: nullopt once the request has
  // finished and every piece was read. NotFound for an unknown id; FailedPrecondition
  // for a request streaming to a callback.
  virtual absl::StatusOr<std::optional<StreamPiece>> Next(RequestId id) = 0;
  // Asks the request to stop; it finishes with kCancelled at the next step. NotFound for
  // an unknown id, FailedPrecondition if it has already finished.
  virtual absl::Status Cancel(RequestId id) = 0;
  // Blocks until the request finishes and returns its result; the id is forgotten
  // afterwards (a second Wait gives NotFound).
  virtual absl::StatusOr<GenerateResult> Wait(RequestId id) = 0;
  // Submit + Wait.
  virtual absl::StatusOr<GenerateResult> Generate(const GenerateRequest& request,
                                                  const TokenCallback& on_token = {}) = 0;
  // Stops accepting requests (Submit then fails with FailedPrecondition), cancels the
  // unfinished ones and returns once the scheduler has finished them all. Idempotent.
  virtual void Shutdown() = 0;

  virtual EngineMetrics metrics() const = 0;

  virtual const ModelInfo& model_info() const = 0;
  // Milliseconds Create() took: open, map, validate, read the weights in, build the
  // tokenizer, set up the backend; load_timings() splits it.
  virtual double load_ms() const = 0;
  virtual const LoadTimings& load_timings() const = 0;
  // Threads the forward pass runs on.
  virtual int threads() const = 0;
};

std::string_view FinishReasonName(FinishReason reason);
// "cpu", "cuda", "auto"; ParseBackend is its inverse (InvalidArgument for anything else).
std::string_view BackendName(Backend backend);
absl::StatusOr<Backend> ParseBackend(std::string_view name);

// "16", "8"; ParseActivationPrecision is its inverse (InvalidArgument for anything else).
std::string_view ActivationPrecisionName(ActivationPrecision precision);
absl::StatusOr<ActivationPrecision> ParseActivationPrecision(std::string_view bits);

}  // namespace hearth

#endif  // HEARTH_ENGINE_H_
