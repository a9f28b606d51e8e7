// hearth::Engine — quantised transformer inference on one loaded model.
//
// An Engine owns one model (a GGUF file, mapped and read in place), its tokenizer and a
// pool of worker threads. Generate() runs a prompt through the model and streams the
// answer token by token.
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
//   absl::StatusOr<hearth::GenerateResult> result = (*engine)->Generate(
//       request, [](std::string_view piece) { std::fputs(std::string(piece).c_str(), stdout); return true; });
//
// Errors: every fallible call returns absl::Status / StatusOr; nothing throws and nothing
// aborts on bad input (missing model, unsupported architecture or tensor type, empty or
// over-long prompt, invalid sampling values).
//
// Thread-safety: Create() may be called from any thread. Generate() may be called from
// several threads at once; calls are served one after another, each using all of the
// Engine's threads. The callback runs on the calling thread.
#ifndef HEARTH_ENGINE_H_
#define HEARTH_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace hearth {

struct EngineConfig {
  std::string model_path;  // a .gguf file (Llama family)
  int threads = 0;         // worker threads; 0 = one per hardware thread
  int context_length = 0;  // tokens of KV cache per request; 0 = min(model's, 4096)
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
};

enum class FinishReason {
  kStop,    // end-of-sequence token or a stop string
  kLength,  // max_tokens or the context length reached
  kCancelled,  // the callback returned false
};

struct GenerateTimings {
  double prefill_ms = 0;        // prompt processing
  double first_token_ms = 0;    // from the call to the first generated token
  double decode_ms = 0;         // from the first generated token to the last
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;  // tokens after the first / decode_ms
};

struct GenerateResult {
  std::string text;
  std::vector<int32_t> tokens;  // generated token ids
  FinishReason finish_reason = FinishReason::kStop;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  GenerateTimings timings;
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
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineConfig& config);
  virtual ~Engine() = default;

  virtual absl::StatusOr<GenerateResult> Generate(const GenerateRequest& request,
                                                  const TokenCallback& on_token = {}) = 0;

  virtual const ModelInfo& model_info() const = 0;
  // Milliseconds Create() took: open, map, validate, bind weights, build the tokenizer.
  virtual double load_ms() const = 0;
  // Threads the forward pass runs on.
  virtual int threads() const = 0;
};

std::string_view FinishReasonName(FinishReason reason);

}  // namespace hearth

#endif  // HEARTH_ENGINE_H_
