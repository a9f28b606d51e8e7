// The parts of the `hearth._hearth` extension module, one per C++ object; module.cc
// calls each in turn.
#ifndef HEARTH_PYTHON_BINDINGS_H_
#define HEARTH_PYTHON_BINDINGS_H_

#include <pybind11/pybind11.h>

namespace hearth::python {

void BindEngine(pybind11::module_& module);
// The control plane. Each may use types the ones before it bound (Histogram, Engine,
// ManualClock, ModelTier, Offering, CostReport), so module.cc calls them in this order.
void BindClock(pybind11::module_& module);
void BindPool(pybind11::module_& module);
void BindAutoScaler(pybind11::module_& module);
void BindRouter(pybind11::module_& module);
void BindCost(pybind11::module_& module);
void BindPlanner(pybind11::module_& module);
void BindSimulate(pybind11::module_& module);

}  // namespace hearth::python

#endif  // HEARTH_PYTHON_BINDINGS_H_
