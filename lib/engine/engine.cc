#include "hearth/engine.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "lib/engine/text_stream.h"
#include "lib/model/kv_cache.h"
#include "lib/model/llama_model.h"
#include "lib/runtime/thread_pool.h"
#include "lib/sampler/sampler.h"
#include "lib/tokenizer/chat_template.h"
#include "lib/tokenizer/tokenizer.h"

namespace hearth {
namespace {

// A long default context costs nothing up front: KV pages are touched only when used.
constexpr int64_t kDefaultContext = 4096;

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

class CpuEngine final : public Engine {
 public:
  CpuEngine(std::unique_ptr<LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
            int threads, int64_t context, double load_ms)
      : model_(std::move(model)),
        tokenizer_(std::move(tokenizer)),
        pool_(threads),
        cache_(model_->config(), context),
        load_ms_(load_ms) {
    const LlamaConfig& c = model_->config();
    info_.name = c.name;
    info_.architecture = c.architecture;
    for (const GgufTensor& t : model_->file().tensors()) info_.parameters += t.n_elements;
    info_.layers = c.n_layers;
    info_.context_length = context;
    info_.vocab_size = c.vocab_size;
    info_.file_bytes = model_->file().file_size();
  }

  absl::StatusOr<GenerateResult> Generate(const GenerateRequest& request,
                                          const TokenCallback& on_token) override;
  const ModelInfo& model_info() const override { return info_; }
  double load_ms() const override { return load_ms_; }
  int threads() const override { return pool_.size(); }

 private:
  absl::StatusOr<std::vector<int32_t>> PromptTokens(const GenerateRequest& request) const;

  const std::unique_ptr<LlamaModel> model_;
  const std::unique_ptr<Tokenizer> tokenizer_;
  ModelInfo info_;
  absl::Mutex mu_;  // one generation at a time owns the pool and the cache
  ThreadPool pool_ ABSL_GUARDED_BY(mu_);
  KvCache cache_ ABSL_GUARDED_BY(mu_);
  const double load_ms_;
};

absl::StatusOr<std::vector<int32_t>> CpuEngine::PromptTokens(const GenerateRequest& request) const {
  const bool has_prompt = !request.prompt.empty(), has_messages = !request.messages.empty();
  if (has_prompt == has_messages) {
    return absl::InvalidArgumentError(
        has_prompt ? "set either prompt or messages, not both"
                   : "the prompt is empty (set prompt or messages)");
  }
  std::string text = request.prompt;
  if (has_messages) {
    absl::StatusOr<std::string_view> tmpl = model_->file().GetString("tokenizer.chat_template");
    if (!tmpl.ok()) {
      return absl::FailedPreconditionError(
          "the model has no chat template (tokenizer.chat_template); send a raw prompt");
    }
    absl::StatusOr<std::string> formatted =
        ApplyChatTemplate(*tmpl, request.messages, /*add_generation_prompt=*/true);
    if (!formatted.ok()) return formatted.status();
    text = *std::move(formatted);
  }
  // Special-token text in the prompt (e.g. "<|im_start|>") becomes the special token, as
  // the chat template requires and as llama.cpp does for prompts.
  return tokenizer_->Encode(text, tokenizer_->add_bos(), /*parse_special=*/true);
}

absl::StatusOr<GenerateResult> CpuEngine::Generate(const GenerateRequest& request,
                                                   const TokenCallback& on_token) {
  const Clock::time_point start = Clock::now();
  if (request.max_tokens <= 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("max_tokens must be > 0 (got %d)", request.max_tokens));
  }
  if (absl::Status s = ValidateSamplingParams(request.sampling); !s.ok()) return s;
  absl::StatusOr<std::vector<int32_t>> prompt = PromptTokens(request);
  if (!prompt.ok()) return prompt.status();
  if (prompt->empty()) return absl::InvalidArgumentError("the prompt encodes to no tokens");

  absl::MutexLock lock(&mu_);
  const int64_t context = cache_.capacity();
  if (static_cast<int64_t>(prompt->size()) >= context) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the prompt has %d tokens but the context holds %d (at least one must be left to "
        "generate)",
        prompt->size(), context));
  }

  GenerateResult result;
  result.prompt_tokens = static_cast<int>(prompt->size());
  std::vector<int32_t> history = *prompt;
  std::vector<float> logits;
  if (absl::Status s = model_->Forward(*prompt, 0, cache_, pool_, LogitsMode::kLast, &logits);
      !s.ok()) {
    return s;
  }
  result.timings.prefill_ms = MillisSince(start);

  Sampler sampler(request.sampling);
  TextStream stream(request.stop);
  Clock::time_point first_token_at{};
  result.finish_reason = FinishReason::kLength;
  while (true) {
    const int32_t id = sampler.Sample(logits, history);
    if (result.tokens.empty()) {
      first_token_at = Clock::now();
      result.timings.first_token_ms = MillisSince(start);
    }
    if (!request.ignore_eos && tokenizer_->IsEndOfGeneration(id)) {
      result.finish_reason = FinishReason::kStop;
      break;
    }
    result.tokens.push_back(id);
    history.push_back(id);
    const bool stopped = stream.Append(tokenizer_->TokenBytes(id));
    const std::string ready = stream.TakeReady();
    if (!ready.empty() && on_token && !on_token(ready)) {
      result.finish_reason = FinishReason::kCancelled;
      break;
    }
    if (stopped) {
      result.finish_reason = FinishReason::kStop;
      break;
    }
    const int64_t pos = static_cast<int64_t>(history.size()) - 1;
    if (static_cast<int>(result.tokens.size()) >= request.max_tokens || pos + 1 >= context) break;
    if (absl::Status s = model_->Forward({id}, pos, cache_, pool_, LogitsMode::kLast, &logits);
        !s.ok()) {
      return s;
    }
  }
  if (const std::string rest = stream.Finish();
      !rest.empty() && on_token && result.finish_reason != FinishReason::kCancelled) {
    on_token(rest);
  }
  result.text = stream.text();
  result.completion_tokens = static_cast<int>(result.tokens.size());

  GenerateTimings& t = result.timings;
  t.prefill_tokens_per_s = result.prompt_tokens / (t.prefill_ms / 1e3);
  if (result.completion_tokens > 1) {
    t.decode_ms = MillisSince(first_token_at);
    t.decode_tokens_per_s = (result.completion_tokens - 1) / (t.decode_ms / 1e3);
  }
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineConfig& config) {
  const Clock::time_point start = Clock::now();
  if (config.model_path.empty()) return absl::InvalidArgumentError("model_path is empty");
  if (config.threads < 0 || config.threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrFormat("threads must be in [0, 1024] (got %d)", config.threads));
  }
  if (config.context_length < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("context_length must be >= 0 (got %d)", config.context_length));
  }
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(config.model_path);
  if (!model.ok()) return model.status();
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = Tokenizer::FromGguf((*model)->file());
  if (!tokenizer.ok()) return tokenizer.status();
  if ((*tokenizer)->n_vocab() != (*model)->config().vocab_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the tokenizer has %d tokens but the model's embedding has %d rows",
        (*tokenizer)->n_vocab(), (*model)->config().vocab_size));
  }
  const int64_t trained = (*model)->config().context_length;
  int64_t context = std::min(trained, kDefaultContext);
  if (config.context_length > 0) {
    if (config.context_length > trained) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "context_length %d exceeds the model's trained context of %d", config.context_length,
          trained));
    }
    context = config.context_length;
  }
  return std::unique_ptr<Engine>(new CpuEngine(*std::move(model), *std::move(tokenizer),
                                               config.threads, context, MillisSince(start)));
}

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "unknown";
}

}  // namespace hearth
