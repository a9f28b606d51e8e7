#include "lib/engine/batch_engine.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "lib/tokenizer/chat_template.h"

namespace hearth {
namespace {

double MillisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

bool IsSet(Clock::time_point t) { return t != Clock::time_point{}; }

}  // namespace

BatchEngine::BatchEngine(std::unique_ptr<LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
                         std::unique_ptr<ThreadPool> pool,
                         std::unique_ptr<ForwardBackend> backend, const EngineLimits& limits,
                         const LoadTimings& load)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      limits_(limits),
      load_(load),
      pool_(std::move(pool)),
      backend_(std::move(backend)),
      blocks_(limits.kv_blocks, limits.block_tokens, limits.prefix_caching),
      scheduler_(limits.scheduler, &blocks_) {
  const LlamaConfig& c = model_->config();
  info_.name = c.name;
  info_.architecture = c.architecture;
  for (const GgufTensor& t : model_->file().tensors()) info_.parameters += t.n_elements;
  info_.layers = c.n_layers;
  info_.context_length = limits.context;
  info_.vocab_size = c.vocab_size;
  info_.file_bytes = model_->file().file_size();
  info_.backend = std::string(backend_->name());
  metrics_.RecordLoad(scheduler_, blocks_);
  loop_ = std::thread([this] { Loop(); });
}

BatchEngine::~BatchEngine() { Shutdown(); }

absl::StatusOr<std::vector<int32_t>> BatchEngine::PromptTokens(
    const GenerateRequest& request) const {
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

absl::StatusOr<RequestId> BatchEngine::Submit(GenerateRequest request, TokenCallback on_token) {
  const Clock::time_point submitted = Clock::now();
  if (request.max_tokens <= 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("max_tokens must be > 0 (got %d)", request.max_tokens));
  }
  if (absl::Status s = ValidateSamplingParams(request.sampling); !s.ok()) return s;
  absl::StatusOr<std::vector<int32_t>> prompt = PromptTokens(request);
  if (!prompt.ok()) return prompt.status();
  if (prompt->empty()) return absl::InvalidArgumentError("the prompt encodes to no tokens");
  if (static_cast<int64_t>(prompt->size()) >= limits_.context) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the prompt has %d tokens but the context holds %d (at least one must be left to "
        "generate)",
        prompt->size(), limits_.context));
  }
  RequestId id;
  {
    std::lock_guard lock(mu_);
    if (!accepting_) return absl::FailedPreconditionError("the Engine is shut down");
    id = next_id_++;
    auto state = std::make_shared<RequestState>(id, std::move(request), std::move(on_token),
                                                *std::move(prompt), submitted);
    requests_[id].state = state;
    inbox_.push_back(std::move(state));
    metrics_.RecordSubmitted();
  }
  submitted_.notify_one();
  return id;
}

absl::StatusOr<std::shared_ptr<RequestState>> BatchEngine::Find(RequestId id) const {
  auto it = requests_.find(id);
  if (it == requests_.end()) {
    return absl::NotFoundError(
        absl::StrFormat("no request %d (never submitted, or its result was already taken)", id));
  }
  return it->second.state;
}

absl::StatusOr<std::optional<StreamPiece>> BatchEngine::Next(RequestId id) {
  std::shared_ptr<RequestState> state;
  {
    std::lock_guard lock(mu_);
    absl::StatusOr<std::shared_ptr<RequestState>> found = Find(id);
    if (!found.ok()) return found.status();
    state = *std::move(found);
  }
  if (state->streams_to_callback()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("request %d streams to its callback, not to Next()", id));
  }
  return state->NextPiece();
}

absl::Status BatchEngine::Cancel(RequestId id) {
  std::lock_guard lock(mu_);
  absl::StatusOr<std::shared_ptr<RequestState>> state = Find(id);
  if (!state.ok()) return state.status();
  if ((*state)->finished()) {
    return absl::FailedPreconditionError(absl::StrFormat("request %d has already finished", id));
  }
  (*state)->RequestCancel();
  return absl::OkStatus();
}

absl::StatusOr<GenerateResult> BatchEngine::Wait(RequestId id) {
  std::shared_ptr<RequestState> state;
  {
    std::lock_guard lock(mu_);
    auto it = requests_.find(id);
    if (it == requests_.end()) return Find(id).status();
    if (it->second.waited) {
      return absl::FailedPreconditionError(
          absl::StrFormat("request %d is already being waited on", id));
    }
    it->second.waited = true;
    state = it->second.state;
  }
  GenerateResult result = state->TakeResult();
  std::lock_guard lock(mu_);
  requests_.erase(id);
  return result;
}

absl::StatusOr<GenerateResult> BatchEngine::Generate(const GenerateRequest& request,
                                                   const TokenCallback& on_token) {
  absl::StatusOr<RequestId> id = Submit(request, on_token);
  if (!id.ok()) return id.status();
  return Wait(*id);
}

void BatchEngine::Shutdown() {
  {
    std::lock_guard lock(mu_);
    accepting_ = false;
    for (auto& [id, entry] : requests_) entry.state->RequestCancel();
  }
  submitted_.notify_one();
  std::lock_guard lock(join_mu_);
  if (loop_.joinable()) loop_.join();
}

void BatchEngine::Loop() {
  while (TakeSubmissions(scheduler_.empty())) {
    Reap();
    if (!scheduler_.empty()) {
      const std::vector<ScheduledChunk> plan = scheduler_.Schedule();
      if (plan.empty()) {
        // Only a request that cannot fit even alone could leave nothing to run; Submit
        // refuses those, but a request must fail rather than wait forever.
        FinishSequence(scheduler_.waiting().front().get(), FinishReason::kError,
                       absl::ResourceExhaustedError("the request does not fit in the KV cache"));
      } else {
        RunStep(plan);
      }
    }
    metrics_.RecordLoad(scheduler_, blocks_);
  }
}

bool BatchEngine::TakeSubmissions(bool idle) {
  std::vector<std::shared_ptr<RequestState>> arrived;
  bool accepting;
  {
    std::unique_lock lock(mu_);
    if (idle) submitted_.wait(lock, [this] { return !inbox_.empty() || !accepting_; });
    arrived.swap(inbox_);
    accepting = accepting_;
  }
  for (std::shared_ptr<RequestState>& state : arrived) {
    const uint64_t arrival = state->id();  // ids are handed out in submission order
    scheduler_.Add(std::make_unique<Sequence>(std::move(state), arrival, limits_.context));
  }
  return accepting || !scheduler_.empty();
}

void BatchEngine::Reap() {
  const absl::Time wall_now = absl::Now();
  std::vector<Sequence*> all;
  for (const auto* list : {&scheduler_.running(), &scheduler_.waiting()}) {
    for (const auto& s : *list) all.push_back(s.get());
  }
  for (Sequence* s : all) {
    if (s->state->cancel_requested()) {
      FinishSequence(s, FinishReason::kCancelled);
    } else if (wall_now >= s->state->request().deadline) {
      FinishSequence(s, FinishReason::kDeadline);
    }
  }
}

void BatchEngine::RunStep(const std::vector<ScheduledChunk>& plan) {
  const Clock::time_point start = Clock::now();
  std::vector<SequenceChunk> batch;
  std::vector<Sequence*> sampled;  // sequences whose logits come back, in row order
  int64_t prompt_tokens = 0;
  for (const ScheduledChunk& c : plan) {
    Sequence* s = c.sequence;
    if (!IsSet(s->first_scheduled)) s->first_scheduled = start;
    prompt_tokens += std::clamp<int64_t>(s->prompt_length - s->computed, 0, c.n_tokens);
    batch.push_back({absl::MakeConstSpan(s->tokens).subspan(s->computed, c.n_tokens),
                     s->computed, s->block_table,
                     c.wants_logits ? LogitsMode::kLast : LogitsMode::kNone});
    if (c.wants_logits) sampled.push_back(s);
  }
  if (absl::Status status = backend_->Forward(batch, &logits_); !status.ok()) {
    for (const ScheduledChunk& c : plan) FinishSequence(c.sequence, FinishReason::kError, status);
    return;
  }
  scheduler_.Commit(plan);

  const int64_t vocab = model_->config().vocab_size;
  std::vector<int32_t> next(sampled.size());
  pool_->ParallelFor(static_cast<int64_t>(sampled.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Sequence& s = *sampled[i];
      next[i] = s.sampler.Sample(absl::MakeConstSpan(logits_).subspan(i * vocab, vocab), s.tokens);
    }
  });
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < sampled.size(); ++i) {
    Sequence& s = *sampled[i];
    if (!IsSet(s.prompt_done)) s.prompt_done = now;
    if (std::optional<FinishReason> reason = Append(s, next[i], now)) FinishSequence(&s, *reason);
  }
  metrics_.RecordTokens(now, prompt_tokens, static_cast<int64_t>(sampled.size()));
}

std::optional<FinishReason> BatchEngine::Append(Sequence& s, int32_t token, Clock::time_point now) {
  if (!IsSet(s.first_token)) {
    s.first_token = now;
    metrics_.RecordFirstToken(MillisBetween(s.state->submitted(), now));
  } else {
    metrics_.RecordInterToken(MillisBetween(s.last_token, now));
  }
  s.last_token = now;
  const GenerateRequest& request = s.state->request();
  if (!request.ignore_eos && tokenizer_->IsEndOfGeneration(token)) return FinishReason::kStop;

  s.tokens.push_back(token);
  s.result.tokens.push_back(token);
  const bool stopped = s.stream.Append(tokenizer_->TokenBytes(token));
  if (std::string ready = s.stream.TakeReady(); !ready.empty()) {
    StreamPiece piece{std::move(ready), {s.result.tokens.begin() + s.streamed_tokens,
                                         s.result.tokens.end()}};
    s.streamed_tokens = s.result.tokens.size();
    if (!s.state->Deliver(std::move(piece))) return FinishReason::kCancelled;
  }
  if (stopped) return FinishReason::kStop;
  if (s.generated() >= request.max_tokens || s.length() >= s.max_length) {
    return FinishReason::kLength;
  }
  return std::nullopt;
}

void BatchEngine::FinishSequence(Sequence* sequence, FinishReason reason, absl::Status error) {
  std::unique_ptr<Sequence> s = scheduler_.Remove(sequence);
  if (reason != FinishReason::kCancelled) {
    if (std::string rest = s->stream.Finish(); !rest.empty()) {
      s->state->Deliver({std::move(rest), {s->result.tokens.begin() + s->streamed_tokens,
                                           s->result.tokens.end()}});
    }
  }
  GenerateResult& r = s->result;
  r.text = s->stream.text();
  r.finish_reason = reason;
  r.error = std::move(error);
  r.prompt_tokens = static_cast<int>(s->prompt_length);
  r.completion_tokens = static_cast<int>(r.tokens.size());

  const Clock::time_point submitted = s->state->submitted(), now = Clock::now();
  GenerateTimings& t = r.timings;
  t.queue_ms = MillisBetween(submitted, IsSet(s->first_scheduled) ? s->first_scheduled : now);
  if (IsSet(s->prompt_done)) {
    t.prefill_ms = MillisBetween(submitted, s->prompt_done);
    const double compute_ms = MillisBetween(s->first_scheduled, s->prompt_done);
    if (compute_ms > 0) {
      t.prefill_tokens_per_s = (r.prompt_tokens - r.cached_prompt_tokens) / (compute_ms / 1e3);
    }
  }
  if (IsSet(s->first_token)) {
    t.first_token_ms = MillisBetween(submitted, s->first_token);
    if (r.completion_tokens > 1) {
      t.decode_ms = MillisBetween(s->first_token, s->last_token);
      t.decode_tokens_per_s = (r.completion_tokens - 1) / (t.decode_ms / 1e3);
    }
  }
  metrics_.RecordFinished(reason);
  s->state->Finish(std::move(r));
}

}  // namespace hearth
