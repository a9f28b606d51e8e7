// Errors from hearth's C++ API as Python exceptions.
//
// Every absl::StatusCode has its own exception type in the `hearth` module, all deriving
// from hearth.Error (a RuntimeError) and, where one fits, from the built-in a Python
// caller would catch: InvalidArgumentError is a ValueError, NotFoundError a LookupError,
// DeadlineExceededError a TimeoutError, UnimplementedError a NotImplementedError. Each
// exception carries the C++ message and its code name (`e.code == "not_found"`).
#ifndef HEARTH_PYTHON_STATUS_H_
#define HEARTH_PYTHON_STATUS_H_

#include <exception>
#include <string>
#include <utility>

#include <pybind11/pybind11.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hearth::python {

// Thrown by the helpers below; translated to the matching Python type at the boundary.
class StatusError : public std::exception {
 public:
  explicit StatusError(absl::Status status)
      : status_(std::move(status)), message_(status_.message()) {}
  const absl::Status& status() const { return status_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  absl::Status status_;
  std::string message_;
};

inline void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) throw StatusError(status);
}

template <typename T>
T ValueOrThrow(absl::StatusOr<T> value) {
  ThrowIfError(value.status());
  return *std::move(value);
}

// Creates the exception types in `module` and registers the translator.
void RegisterExceptions(pybind11::module_& module);

}  // namespace hearth::python

#endif  // HEARTH_PYTHON_STATUS_H_
