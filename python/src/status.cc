#include "status.h"

#include <array>
#include <string>

namespace hearth::python {
namespace {

namespace py = pybind11;

struct ExceptionSpec {
  absl::StatusCode code;
  const char* name;
  const char* code_name;
  PyObject* builtin;  // a second base, or nullptr
  const char* doc;
};

constexpr int kCodes = 17;

// Indexed by absl::StatusCode; slot 0 (OK) holds the common base, hearth.Error. The
// module holds references too; these live as long as the interpreter.
struct Registered {
  std::array<PyObject*, kCodes> types{};
  std::array<const char*, kCodes> code_names{};
};

Registered& Exceptions() {
  static Registered registered;
  return registered;
}

void Raise(const absl::Status& status) {
  const int code = static_cast<int>(status.code());
  const bool known = code > 0 && code < kCodes && Exceptions().types[code] != nullptr;
  PyObject* type = Exceptions().types[known ? code : 0];
  py::str message(status.message().data(), status.message().size());
  py::object instance =
      py::reinterpret_steal<py::object>(PyObject_CallOneArg(type, message.ptr()));
  if (!instance) return;  // the constructor's own error stays set
  instance.attr("code") = known ? Exceptions().code_names[code] : "unknown";
  PyErr_SetObject(type, instance.ptr());
}

}  // namespace

void RegisterExceptions(py::module_& module) {
  // Named as users import them (hearth.NotFoundError), not by the extension's module.
  const std::string prefix = "hearth.";
  auto make = [&](const char* name, PyObject* bases, const char* doc) {
    PyObject* type = PyErr_NewExceptionWithDoc((prefix + name).c_str(), doc, bases, nullptr);
    if (type == nullptr) throw py::error_already_set();
    module.add_object(name, py::reinterpret_borrow<py::object>(type));
    return type;
  };
  // Slot 0 (OK) holds the common base.
  Exceptions().types[0] = make("Error", PyExc_RuntimeError,
                             "Base of every error hearth raises; `code` names the status.");
  const ExceptionSpec specs[] = {
      {absl::StatusCode::kCancelled, "CancelledError", "cancelled", nullptr,
       "The operation was cancelled."},
      {absl::StatusCode::kUnknown, "UnknownError", "unknown", nullptr, "An unknown error."},
      {absl::StatusCode::kInvalidArgument, "InvalidArgumentError", "invalid_argument",
       PyExc_ValueError, "An argument is invalid (also a ValueError)."},
      {absl::StatusCode::kDeadlineExceeded, "DeadlineExceededError", "deadline_exceeded",
       PyExc_TimeoutError, "A deadline passed first (also a TimeoutError)."},
      {absl::StatusCode::kNotFound, "NotFoundError", "not_found", PyExc_LookupError,
       "A file, model, request or name does not exist (also a LookupError)."},
      {absl::StatusCode::kAlreadyExists, "AlreadyExistsError", "already_exists", nullptr,
       "The thing to create exists already."},
      {absl::StatusCode::kPermissionDenied, "PermissionDeniedError", "permission_denied",
       nullptr, "Permission denied."},
      {absl::StatusCode::kResourceExhausted, "ResourceExhaustedError", "resource_exhausted",
       nullptr, "A memory budget, quota or capacity is used up."},
      {absl::StatusCode::kFailedPrecondition, "FailedPreconditionError",
       "failed_precondition", nullptr,
       "The object is not in a state for this call (e.g. already shut down)."},
      {absl::StatusCode::kAborted, "AbortedError", "aborted", nullptr,
       "The operation was aborted."},
      {absl::StatusCode::kOutOfRange, "OutOfRangeError", "out_of_range", nullptr,
       "A value is outside its valid range."},
      {absl::StatusCode::kUnimplemented, "UnimplementedError", "unimplemented",
       PyExc_NotImplementedError, "Not supported (also a NotImplementedError)."},
      {absl::StatusCode::kInternal, "InternalError", "internal", nullptr,
       "An internal invariant failed: a bug in hearth."},
      {absl::StatusCode::kUnavailable, "UnavailableError", "unavailable", nullptr,
       "Temporarily unavailable; retrying may succeed."},
      {absl::StatusCode::kDataLoss, "DataLossError", "data_loss", nullptr,
       "Data is damaged or lost (e.g. a corrupt file)."},
      {absl::StatusCode::kUnauthenticated, "UnauthenticatedError", "unauthenticated", nullptr,
       "Not authenticated."},
  };
  for (const ExceptionSpec& spec : specs) {
    py::handle base(Exceptions().types[0]);
    py::tuple bases = spec.builtin ? py::tuple(py::make_tuple(base, py::handle(spec.builtin)))
                                   : py::tuple(py::make_tuple(base));
    const int code = static_cast<int>(spec.code);
    Exceptions().types[code] = make(spec.name, bases.ptr(), spec.doc);
    Exceptions().code_names[code] = spec.code_name;
  }
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const StatusError& error) {
      Raise(error.status());
    }
  });
}

}  // namespace hearth::python
