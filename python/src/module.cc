// hearth._hearth: the compiled half of the `hearth` Python package (python/hearth
// re-exports it). Thin wrappers over the C++ objects; blocking calls release the GIL.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "hearth/c_api.h"
#include "status.h"

PYBIND11_MODULE(_hearth, module) {
  module.doc() = "hearth: serverless LLM inference (compiled core).";
  module.attr("__version__") = hearth_version_string();
  hearth::python::RegisterExceptions(module);
  hearth::python::BindEngine(module);
  hearth::python::BindClock(module);
  hearth::python::BindPool(module);
  hearth::python::BindAutoScaler(module);
  hearth::python::BindRouter(module);
  hearth::python::BindCost(module);
  hearth::python::BindPlanner(module);
  hearth::python::BindSimulate(module);
}
