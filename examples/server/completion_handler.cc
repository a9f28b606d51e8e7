#include "examples/server/completion_handler.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "examples/server/http_reply.h"
#include "examples/server/openai_error.h"
#include "examples/server/openai_response.h"

namespace hearth_server {
namespace {

// The status counted for a stream whose client left before the end (nginx's "client
// closed request").
constexpr int kClientClosedRequest = 499;
// A full queue drains as requests finish: a second is a fair first wait.
constexpr absl::Duration kQueueFullRetryAfter = absl::Seconds(1);

ApiError Overloaded(RejectReason reason, std::string message, std::optional<absl::Duration> retry_after) {
  return {.http_status = 503, .type = "server_error", .code = std::string(RejectReasonName(reason)),
          .message = std::move(message), .retry_after = retry_after};
}

// The events after the last piece: the finish reason, the usage when asked for, [DONE].
std::string ClosingEvents(const ResponseMeta& meta, std::string_view finish_reason, const Usage& usage,
                          bool include_usage) {
  std::string out = SseEvent(StreamChunk(meta, "", false, finish_reason));
  if (include_usage) out += SseEvent(UsageChunk(meta, usage));
  out += SseDone();
  return out;
}

// One request's stream, owned by cpp-httplib's content provider: destroyed with the
// response, which cancels the request if the client left early (~Generation).
class StreamSession {
 public:
  StreamSession(Deployment& deployment, std::unique_ptr<Generation> generation, OpenAiRequest request,
                std::string model, std::string tenant)
      : deployment_(deployment), generation_(std::move(generation)), request_(std::move(request)),
        model_(std::move(model)), tenant_(std::move(tenant)),
        meta_(NewResponseMeta(request_.endpoint, model_)) {}

  // Writes the whole stream. False when the client has gone (the request is cancelled).
  bool Pump(httplib::DataSink& sink) {
    const auto write = [&sink](const std::string& event) { return sink.write(event.data(), event.size()); };
    bool first = true;
    bool client_gone = false;
    absl::Status stream_error;
    while (true) {
      absl::StatusOr<std::optional<hearth::StreamPiece>> piece = generation_->Next();
      if (!piece.ok()) {
        stream_error = piece.status();
        break;
      }
      if (!piece->has_value()) break;
      if (!write(SseEvent(StreamChunk(meta_, (*piece)->text, first, std::nullopt)))) {
        generation_->Cancel();
        client_gone = true;
        break;
      }
      first = false;
    }
    absl::StatusOr<hearth::GenerateResult> result = generation_->Finish();
    if (client_gone) {
      deployment_.metrics().CountRequest(request_.model, kClientClosedRequest);
      return false;
    }
    if (stream_error.ok() && !result.ok()) stream_error = result.status();
    if (stream_error.ok() && result->finish_reason == hearth::FinishReason::kError) stream_error = result->error;
    if (!stream_error.ok()) {
      // Headers (200) are gone already: OpenAI's streams report a late failure as an error event.
      ApiError error = ApiErrorFromStatus(stream_error);
      deployment_.metrics().CountRequest(request_.model, error.http_status);
      write(SseEvent(ApiErrorBody(error)));
      write(std::string(SseDone()));
      sink.done();
      return true;
    }
    const Usage usage = deployment_.Settle(tenant_, model_, request_, *result, generation_->held_seconds());
    const bool ok = write(ClosingEvents(meta_, FinishReasonText(result->finish_reason), usage, request_.include_usage));
    deployment_.metrics().CountRequest(request_.model, ok ? 200 : kClientClosedRequest);
    if (ok) sink.done();
    return ok;
  }

 private:
  Deployment& deployment_;
  std::unique_ptr<Generation> generation_;
  const OpenAiRequest request_;
  const std::string model_;
  const std::string tenant_;
  const ResponseMeta meta_;
};

void AnswerFromCache(Deployment& deployment, const OpenAiRequest& request, const std::string& model,
                     const CachedAnswer& answer, httplib::Response& res) {
  const ResponseMeta meta = NewResponseMeta(request.endpoint, model);
  const Usage usage{.prompt_tokens = answer.prompt_tokens, .completion_tokens = answer.completion_tokens,
                    .cost_usd = 0, .cached = true};
  deployment.metrics().CountRequest(request.model, 200);
  if (!request.stream) {
    SendJson(res, 200, CompletionBody(meta, answer.text, answer.finish_reason, usage));
    return;
  }
  std::string events = SseEvent(StreamChunk(meta, answer.text, true, std::nullopt)) +
                       ClosingEvents(meta, answer.finish_reason, usage, request.include_usage);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream",
                                   [events = std::move(events)](size_t, httplib::DataSink& sink) {
                                     if (!sink.write(events.data(), events.size())) return false;
                                     sink.done();
                                     return true;
                                   });
}

void AnswerWhole(Deployment& deployment, std::unique_ptr<Generation> generation, const OpenAiRequest& request,
                 const std::string& model, const std::string& tenant, httplib::Response& res) {
  std::string text;
  absl::Status error;
  while (true) {
    absl::StatusOr<std::optional<hearth::StreamPiece>> piece = generation->Next();
    if (!piece.ok()) {
      error = piece.status();
      break;
    }
    if (!piece->has_value()) break;
    text += (*piece)->text;
  }
  absl::StatusOr<hearth::GenerateResult> result = generation->Finish();
  if (error.ok() && !result.ok()) error = result.status();
  if (error.ok() && result->finish_reason == hearth::FinishReason::kError) error = result->error;
  if (!error.ok()) {
    ApiError api_error = ApiErrorFromStatus(error);
    deployment.metrics().CountRequest(request.model, api_error.http_status);
    SendApiError(res, api_error);
    return;
  }
  const Usage usage = deployment.Settle(tenant, model, request, *result, generation->held_seconds());
  deployment.metrics().CountRequest(request.model, 200);
  SendJson(res, 200,
           CompletionBody(NewResponseMeta(request.endpoint, model), text, FinishReasonText(result->finish_reason),
                          usage));
}

}  // namespace

void HandleCompletion(Deployment& deployment, Endpoint endpoint, const httplib::Request& req,
                      httplib::Response& res) {
  const auto arrival = std::chrono::steady_clock::now();
  ServerMetrics& metrics = deployment.metrics();
  metrics.CountArrival();
  // The model the client named, once it names a served one: unknown names stay out of the
  // label so that clients cannot grow the metric's series without bound.
  std::string model_label;
  const auto reject = [&](const ApiError& error, std::optional<RejectReason> reason) {
    if (reason) metrics.CountRejection(*reason);
    metrics.CountRequest(model_label, error.http_status);
    SendApiError(res, error);
  };

  if (deployment.draining()) {
    reject(Overloaded(RejectReason::kDraining, "the server is shutting down; retry on another replica",
                      absl::Seconds(1)),
           RejectReason::kDraining);
    return;
  }
  absl::StatusOr<OpenAiRequest> request = ParseOpenAiRequest(req.body, endpoint);
  if (!request.ok()) return reject(ApiErrorFromStatus(request.status()), std::nullopt);
  absl::StatusOr<std::string> model = deployment.ResolveModel(*request);
  if (!model.ok()) {
    ApiError error = ApiErrorFromStatus(model.status());
    error.param = "model";
    return reject(error, std::nullopt);
  }
  model_label = request->model;

  if (const RateDecision rate = deployment.AdmitRate(); !rate.admitted) {
    return reject({.http_status = 429, .type = "rate_limit_error", .code = "rate_limit_exceeded",
                   .message = absl::StrCat("rate limit of ", deployment.config().rate,
                                           " requests/s exceeded; retry after the Retry-After seconds"),
                   .retry_after = rate.retry_after},
                  RejectReason::kRateLimited);
  }
  const std::string tenant = TenantOf(req.get_header_value("X-Hearth-Tenant"), *request);
  if (std::optional<CachedAnswer> hit = deployment.LookupCache(*model, *request)) {
    return AnswerFromCache(deployment, *request, *model, *hit, res);
  }
  std::optional<RequestSlot> slot = deployment.EnterQueue();
  if (!slot) {
    return reject(Overloaded(RejectReason::kQueueFull,
                             absl::StrCat("all ", deployment.config().max_queue,
                                          " queue places are taken; retry after the Retry-After seconds"),
                             kQueueFullRetryAfter),
                  RejectReason::kQueueFull);
  }
  if (const CircuitPermit permit = deployment.breaker(*model).Allow(); !permit.allowed) {
    return reject(Overloaded(RejectReason::kCircuitOpen,
                             absl::StrCat("the model '", *model,
                                          "' failed repeatedly and is paused (circuit open); retry later"),
                             permit.retry_after),
                  RejectReason::kCircuitOpen);
  }
  absl::StatusOr<std::unique_ptr<Generation>> generation =
      deployment.Start(*model, *request, *std::move(slot), arrival);
  if (!generation.ok()) return reject(ApiErrorFromStatus(generation.status()), std::nullopt);

  if (!request->stream) {
    return AnswerWhole(deployment, *std::move(generation), *request, *model, tenant, res);
  }
  auto session = std::make_shared<StreamSession>(deployment, *std::move(generation), *std::move(request),
                                                 *model, tenant);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream", [session](size_t, httplib::DataSink& sink) { return session->Pump(sink); });
}

}  // namespace hearth_server
