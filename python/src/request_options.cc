#include "request_options.h"

#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "options.h"
#include "status.h"

namespace hearth::python {
namespace {

namespace py = pybind11;

const OptionTable<GenerateRequest>& Options() {
  using R = GenerateRequest;
  static const auto* table =
      &(new OptionTable<R>)
           ->Add("max_tokens", &R::max_tokens)
           .Add("temperature", [](R& r) -> float& { return r.sampling.temperature; })
           .Add("top_k", [](R& r) -> int& { return r.sampling.top_k; })
           .Add("top_p", [](R& r) -> float& { return r.sampling.top_p; })
           .Add("min_p", [](R& r) -> float& { return r.sampling.min_p; })
           .Add("repetition_penalty", [](R& r) -> float& { return r.sampling.repetition_penalty; })
           .Add("repetition_window", [](R& r) -> int& { return r.sampling.repetition_window; })
           .Add("seed", [](R& r) -> uint64_t& { return r.sampling.seed; })
           .Add("ignore_eos", &R::ignore_eos)
           .Add("priority", &R::priority);
  return *table;
}

std::vector<ChatMessage> MessagesFromPython(const py::handle& messages) {
  std::vector<ChatMessage> out;
  for (const py::handle& message : messages) {
    try {
      if (py::isinstance<py::dict>(message)) {
        py::dict fields = py::reinterpret_borrow<py::dict>(message);
        if (!fields.contains("role") || !fields.contains("content")) {
          throw py::value_error("each message needs 'role' and 'content'");
        }
        out.push_back(
            {fields["role"].cast<std::string>(), fields["content"].cast<std::string>()});
      } else {
        auto [role, content] = message.cast<std::pair<std::string, std::string>>();
        out.push_back({std::move(role), std::move(content)});
      }
    } catch (const py::cast_error&) {
      throw py::type_error(
          "each message is a {'role': str, 'content': str} dict or a (role, content) pair");
    }
  }
  return out;
}

// Pops `name` from `options`; None when absent.
py::object Pop(py::dict& options, const char* name) {
  return options.attr("pop")(name, py::none());
}

}  // namespace

GenerateRequest RequestFromPython(const std::optional<std::string>& prompt,
                                  const py::kwargs& kwargs, bool* seed_given) {
  py::dict options(kwargs);  // a copy: the special keywords are popped before the table
  py::object messages = Pop(options, "messages");
  py::object stop = Pop(options, "stop");
  py::object timeout = Pop(options, "timeout");
  if (seed_given != nullptr) *seed_given = options.contains("seed");
  GenerateRequest request = Options().Read(options);
  if (prompt) request.prompt = *prompt;
  if (!messages.is_none()) request.messages = MessagesFromPython(messages);
  if (py::isinstance<py::str>(stop)) {
    request.stop = {stop.cast<std::string>()};
  } else if (!stop.is_none()) {
    try {
      request.stop = stop.cast<std::vector<std::string>>();
    } catch (const py::cast_error&) {
      throw py::type_error("option 'stop' is a string or a sequence of strings");
    }
  }
  if (!timeout.is_none()) {
    const absl::Duration seconds = SecondsToDuration(timeout, "timeout");
    if (!(seconds > absl::ZeroDuration())) {
      throw StatusError(absl::InvalidArgumentError("timeout must be > 0 seconds"));
    }
    request.deadline = absl::Now() + seconds;
  }
  return request;
}

}  // namespace hearth::python
