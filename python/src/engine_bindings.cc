// hearth.Engine, hearth.Request and the value types they return.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "bindings.h"
#include "gil.h"
#include "hearth/engine.h"
#include "request_options.h"
#include "status.h"

namespace hearth::python {
namespace {

namespace py = pybind11;
using EnginePtr = std::shared_ptr<Engine>;

// A Python on_token callable, called on the Engine's scheduler thread. Its first
// exception stops the request and is raised again by whoever collects the result.
class PythonCallback {
 public:
  explicit PythonCallback(py::object callable) : callable_(std::move(callable)) {}
  ~PythonCallback() {
    py::gil_scoped_acquire gil;
    callable_ = py::object();
    error_.reset();
  }

  bool Call(std::string_view piece) {
    py::gil_scoped_acquire gil;
    if (error_) return false;
    try {
      py::object keep_going = callable_(py::str(piece.data(), piece.size()));
      return keep_going.is_none() || keep_going.cast<bool>();
    } catch (py::error_already_set& error) {
      error_.emplace(std::move(error));
      return false;
    }
  }

  // Raises the callback's exception, if it had one (the GIL is held).
  void RethrowError() {
    if (!error_) return;
    py::error_already_set error = std::move(*error_);
    error_.reset();
    throw error;
  }

 private:
  py::object callable_;
  std::optional<py::error_already_set> error_;
};

TokenCallback ToTokenCallback(const std::shared_ptr<PythonCallback>& callback) {
  if (!callback) return {};
  return [callback](std::string_view piece) { return callback->Call(piece); };
}

std::shared_ptr<PythonCallback> CallbackFromPython(const py::object& on_token) {
  if (on_token.is_none()) return nullptr;
  if (!PyCallable_Check(on_token.ptr())) throw py::type_error("on_token must be callable");
  return std::make_shared<PythonCallback>(on_token);
}

// A submitted request: iterate it for the streamed pieces, then result() for the rest.
class Request {
 public:
  Request(EnginePtr engine, RequestId id, std::shared_ptr<PythonCallback> callback)
      : engine_(std::move(engine)), id_(id), callback_(std::move(callback)) {}
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  // Nobody will collect it: stop it and let the Engine forget it.
  ~Request() {
    if (result_) return;
    py::gil_scoped_release release;
    engine_->Cancel(id_).IgnoreError();
    engine_->Wait(id_).IgnoreError();
  }

  RequestId id() const { return id_; }

  std::string Next() {
    if (callback_) {
      throw StatusError(absl::FailedPreconditionError(
          "this request streams to its on_token callback; it cannot also be iterated"));
    }
    if (result_) throw py::stop_iteration();
    // A piece may carry tokens but no text yet (held back as a possible stop string).
    while (true) {
      absl::StatusOr<std::optional<StreamPiece>> piece;
      {
        py::gil_scoped_release release;
        piece = engine_->Next(id_);
      }
      std::optional<StreamPiece> next = ValueOrThrow(std::move(piece));
      if (!next) throw py::stop_iteration();
      if (!next->text.empty()) return std::move(next->text);
    }
  }

  // Once its result is taken the Engine has forgotten the id; the request has finished.
  void Cancel() {
    if (result_) throw StatusError(absl::FailedPreconditionError("the request has finished"));
    ThrowIfError(engine_->Cancel(id_));
  }

  const GenerateResult& Result() {
    if (!result_) {
      absl::StatusOr<GenerateResult> result;
      {
        py::gil_scoped_release release;
        result = engine_->Wait(id_);
      }
      result_ = ValueOrThrow(std::move(result));
      if (callback_) callback_->RethrowError();
    }
    return *result_;
  }

 private:
  EnginePtr engine_;
  RequestId id_;
  std::shared_ptr<PythonCallback> callback_;
  std::optional<GenerateResult> result_;
};

std::unique_ptr<Request> Submit(const EnginePtr& engine, const std::optional<std::string>& prompt,
                                const py::object& on_token, const py::kwargs& options) {
  GenerateRequest request = RequestFromPython(prompt, options);
  std::shared_ptr<PythonCallback> callback = CallbackFromPython(on_token);
  absl::StatusOr<RequestId> id = engine->Submit(std::move(request), ToTokenCallback(callback));
  return std::make_unique<Request>(engine, ValueOrThrow(std::move(id)), std::move(callback));
}

GenerateResult Generate(Engine& engine, const std::optional<std::string>& prompt,
                        const py::object& on_token, const py::kwargs& options) {
  GenerateRequest request = RequestFromPython(prompt, options);
  std::shared_ptr<PythonCallback> callback = CallbackFromPython(on_token);
  absl::StatusOr<GenerateResult> result;
  {
    py::gil_scoped_release release;
    result = engine.Generate(request, ToTokenCallback(callback));
  }
  GenerateResult done = ValueOrThrow(std::move(result));
  if (callback) callback->RethrowError();
  return done;
}

EnginePtr CreateEngine(const py::object& model_path, int threads, int context_length,
                       int64_t kv_cache_bytes, int kv_block_tokens, int max_batch_tokens,
                       int max_sequences, bool prefix_caching, const std::string& backend,
                       int device, int activations) {
  EngineConfig config;
  config.backend = ValueOrThrow(ParseBackend(backend));
  config.device = device;
  config.activation_precision =
      ValueOrThrow(ParseActivationPrecision(std::to_string(activations)));
  config.model_path = py::module_::import("os").attr("fspath")(model_path).cast<std::string>();
  config.threads = threads;
  config.context_length = context_length;
  config.kv_cache_bytes = kv_cache_bytes;
  config.kv_block_tokens = kv_block_tokens;
  config.max_batch_tokens = max_batch_tokens;
  config.max_sequences = max_sequences;
  config.prefix_caching = prefix_caching;
  absl::StatusOr<std::unique_ptr<Engine>> engine;
  {
    py::gil_scoped_release release;
    engine = Engine::Create(config);
  }
  // Its destructor joins the scheduler thread, which may wait for the GIL inside a
  // Python on_token callback.
  return ShareReleasingGil(ValueOrThrow(std::move(engine)));
}

void BindValueTypes(py::module_& m) {
  py::class_<Histogram>(m, "Histogram",
                        "A latency distribution in fixed buckets (milliseconds), Prometheus style.")
      .def_readonly("upper_bounds", &Histogram::upper_bounds, "Bucket upper bounds, ascending.")
      .def_readonly("counts", &Histogram::counts,
                    "Samples per bucket; the last entry counts those above the last bound.")
      .def_readonly("count", &Histogram::count)
      .def_readonly("sum", &Histogram::sum)
      .def("mean", &Histogram::Mean)
      .def("quantile", &Histogram::Quantile, py::arg("q"),
           "The q-quantile (q in [0, 1]), interpolated inside its bucket; 0 when empty.");

  py::class_<GenerateTimings>(m, "Timings", "Where a request's time went (milliseconds).")
      .def_readonly("queue_ms", &GenerateTimings::queue_ms)
      .def_readonly("prefill_ms", &GenerateTimings::prefill_ms)
      .def_readonly("first_token_ms", &GenerateTimings::first_token_ms)
      .def_readonly("decode_ms", &GenerateTimings::decode_ms)
      .def_readonly("prefill_tokens_per_s", &GenerateTimings::prefill_tokens_per_s)
      .def_readonly("decode_tokens_per_s", &GenerateTimings::decode_tokens_per_s);

  py::class_<GenerateResult>(m, "Result", "A finished request.")
      .def_readonly("text", &GenerateResult::text)
      .def_readonly("tokens", &GenerateResult::tokens, "Generated token ids.")
      .def_property_readonly(
          "finish_reason",
          [](const GenerateResult& r) { return std::string(FinishReasonName(r.finish_reason)); },
          "'stop', 'length', 'cancelled', 'deadline' or 'error'.")
      .def_property_readonly(
          "error",
          [](const GenerateResult& r) -> std::optional<std::string> {
            if (r.error.ok()) return std::nullopt;
            return std::string(r.error.message());
          },
          "Why the Engine failed the request (finish_reason 'error'), else None.")
      .def_readonly("prompt_tokens", &GenerateResult::prompt_tokens)
      .def_readonly("cached_prompt_tokens", &GenerateResult::cached_prompt_tokens,
                    "Prompt tokens whose keys and values came from the prefix cache.")
      .def_readonly("completion_tokens", &GenerateResult::completion_tokens)
      .def_readonly("preemptions", &GenerateResult::preemptions)
      .def_readonly("timings", &GenerateResult::timings)
      .def("__repr__", [](const GenerateResult& r) -> std::string {
        return absl::StrCat("Result(finish_reason='", std::string(FinishReasonName(r.finish_reason)),
                            "', prompt_tokens=", r.prompt_tokens,
                            ", completion_tokens=", r.completion_tokens, ", text=",
                            std::string(py::repr(py::str(r.text))), ")");
      });

  py::class_<ModelInfo>(m, "ModelInfo", "What the Engine loaded.")
      .def_readonly("name", &ModelInfo::name)
      .def_readonly("architecture", &ModelInfo::architecture)
      .def_readonly("parameters", &ModelInfo::parameters)
      .def_readonly("layers", &ModelInfo::layers)
      .def_readonly("context_length", &ModelInfo::context_length)
      .def_readonly("vocab_size", &ModelInfo::vocab_size)
      .def_readonly("file_bytes", &ModelInfo::file_bytes)
      .def_readonly("backend", &ModelInfo::backend, "'cpu' or 'cuda': where the model runs.");

  py::class_<EngineMetrics>(m, "EngineMetrics",
                            "A snapshot of the Engine's load (the AutoScaler's inputs).")
      .def_readonly("waiting", &EngineMetrics::waiting, "Queue depth.")
      .def_readonly("running", &EngineMetrics::running)
      .def_readonly("kv_blocks_total", &EngineMetrics::kv_blocks_total)
      .def_readonly("kv_blocks_used", &EngineMetrics::kv_blocks_used)
      .def_readonly("kv_blocks_cached", &EngineMetrics::kv_blocks_cached)
      .def_readonly("kv_blocks_free", &EngineMetrics::kv_blocks_free)
      .def_readonly("prefix_cache_queried_tokens", &EngineMetrics::prefix_cache_queried_tokens)
      .def_readonly("prefix_cache_hit_tokens", &EngineMetrics::prefix_cache_hit_tokens)
      .def_readonly("prefix_cache_hit_rate", &EngineMetrics::prefix_cache_hit_rate)
      .def_readonly("requests_submitted", &EngineMetrics::requests_submitted)
      .def_readonly("requests_finished", &EngineMetrics::requests_finished)
      .def_readonly("requests_cancelled", &EngineMetrics::requests_cancelled)
      .def_readonly("requests_deadline", &EngineMetrics::requests_deadline)
      .def_readonly("requests_failed", &EngineMetrics::requests_failed)
      .def_readonly("preemptions", &EngineMetrics::preemptions)
      .def_readonly("prompt_tokens", &EngineMetrics::prompt_tokens)
      .def_readonly("generated_tokens", &EngineMetrics::generated_tokens)
      .def_readonly("generated_tokens_per_s", &EngineMetrics::generated_tokens_per_s,
                    "Over the last 10 seconds.")
      .def_readonly("time_to_first_token_ms", &EngineMetrics::time_to_first_token_ms)
      .def_readonly("inter_token_latency_ms", &EngineMetrics::inter_token_latency_ms);
}

}  // namespace

void BindEngine(py::module_& m) {
  BindValueTypes(m);

  py::class_<Request>(m, "Request",
                      "A submitted request. Iterate it for the answer's text pieces as they "
                      "are generated; result() waits for the end. Dropping an unfinished "
                      "request cancels it.")
      .def_property_readonly("id", &Request::id)
      .def("__iter__", [](Request& self) -> Request& { return self; })
      .def("__next__", &Request::Next,
           "The next piece of text (whole UTF-8 characters); blocks until it is ready.")
      .def("cancel", &Request::Cancel,
           "Asks the request to stop (finish_reason 'cancelled'). FailedPreconditionError "
           "once it has finished.")
      .def("result", &Request::Result, py::return_value_policy::copy,
           "Waits for the request to finish and returns its Result (again on later calls). "
           "Re-raises an exception its on_token callback raised.");

  py::class_<Engine, EnginePtr>(
      m, "Engine",
      "One loaded model serving many requests at once (continuous batching over a paged KV "
      "cache). Every method may be called from any thread; blocking calls release the GIL, "
      "so requests from several Python threads are batched together.")
      .def(py::init(&CreateEngine), py::arg("model_path"), py::kw_only(),
           py::arg("threads") = 0, py::arg("context_length") = 0,
           py::arg("kv_cache_bytes") = 0, py::arg("kv_block_tokens") = 16,
           py::arg("max_batch_tokens") = 256, py::arg("max_sequences") = 64,
           py::arg("prefix_caching") = true, py::arg("backend") = "cpu", py::arg("device") = 0,
           py::arg("activations") = 16,
           "Loads a GGUF model (Llama family). backend: 'cpu', 'cuda' or 'auto' (the GPU "
           "where the build has CUDA and a device exists, else the CPU); device: the CUDA "
           "ordinal. activations: the CPU's activation precision in bits, 16 (100 % top-1 "
           "agreement with a float64 reference) or 8 (faster batches, ~97 %). "
           "threads=0: one per hardware thread; "
           "context_length=0: min(model's, 4096); kv_cache_bytes=0: room for max_sequences "
           "requests of 1,024 tokens.")
      .def("generate", &Generate, py::arg("prompt") = py::none(), py::kw_only(),
           py::arg("on_token") = py::none(),
           "Runs one request to the end and returns its Result. Give a raw `prompt` or "
           "`messages=[{'role': ..., 'content': ...}]` (the model's chat template). Options: "
           "max_tokens, temperature (0 = greedy), top_k, top_p, min_p, repetition_penalty, "
           "repetition_window, seed, stop, ignore_eos, priority, timeout (seconds). "
           "on_token(piece) is called with each piece of text; returning False stops.")
      .def("submit", &Submit, py::arg("prompt") = py::none(), py::kw_only(),
           py::arg("on_token") = py::none(),
           "Queues a request (same arguments as generate) and returns its Request at once.")
      .def(
          "stream",
          [](const EnginePtr& self, const std::optional<std::string>& prompt,
             const py::kwargs& options) { return Submit(self, prompt, py::none(), options); },
          py::arg("prompt") = py::none(),
          "submit() without a callback, under the name its use reads best: `for piece in engine.stream(...)`.")
      .def("metrics", &Engine::metrics, "A snapshot of the load; cheap, never blocks.")
      .def_property_readonly("model_info", &Engine::model_info)
      .def_property_readonly("load_ms", &Engine::load_ms,
                             "Milliseconds the load took (open, map, validate, tokenizer).")
      .def_property_readonly("threads", &Engine::threads)
      .def("close", &Engine::Shutdown, py::call_guard<py::gil_scoped_release>(),
           "Cancels unfinished requests and stops accepting new ones. Idempotent.")
      .def("__enter__", [](const EnginePtr& self) { return self; })
      .def("__exit__", [](Engine& self, const py::args&) {
        py::gil_scoped_release release;
        self.Shutdown();
      });
}

}  // namespace hearth::python
