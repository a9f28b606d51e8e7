// A GenerateRequest from Python: a prompt and the keyword options of Engine.generate
// (RequestOptions in _hearth.pyi), for every binding that takes a request.
#ifndef HEARTH_PYTHON_REQUEST_OPTIONS_H_
#define HEARTH_PYTHON_REQUEST_OPTIONS_H_

#include <optional>
#include <string>

#include <pybind11/pybind11.h>

#include "hearth/engine.h"

namespace hearth::python {

// An unknown keyword or a value of the wrong type is a TypeError; messages need 'role'
// and 'content' (ValueError); a timeout <= 0 is InvalidArgument. `seed_given`, when not
// null, tells whether the caller chose the seed (the ResponseCache's determinism rule).
GenerateRequest RequestFromPython(const std::optional<std::string>& prompt,
                                  const pybind11::kwargs& options, bool* seed_given = nullptr);

}  // namespace hearth::python

#endif  // HEARTH_PYTHON_REQUEST_OPTIONS_H_
