// Owning C++ objects whose destructor may block from Python.
#ifndef HEARTH_PYTHON_GIL_H_
#define HEARTH_PYTHON_GIL_H_

#include <memory>

#include <pybind11/pybind11.h>

namespace hearth::python {

// Takes ownership of `object` and deletes it without the GIL. For objects whose
// destructor joins threads that may be waiting for the GIL themselves (an Engine's
// scheduler inside a Python on_token callback; a WarmPool or a Lease that unloads an
// instance, i.e. destroys its Engine): deleting them under the GIL would deadlock. The
// last reference may go from Python (GIL held) or from a C++ thread (not held).
template <typename T>
std::shared_ptr<T> ShareReleasingGil(std::unique_ptr<T> object) {
  return std::shared_ptr<T>(object.release(), [](T* doomed) {
    if (PyGILState_Check()) {
      pybind11::gil_scoped_release release;
      delete doomed;
    } else {
      delete doomed;
    }
  });
}

}  // namespace hearth::python

#endif  // HEARTH_PYTHON_GIL_H_
