// hearth.ManualClock.
#include <cmath>
#include <memory>
#include <optional>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "clock.h"
#include "options.h"
#include "status.h"

namespace hearth::python {

namespace py = pybind11;

ClockPtr ClockFromPython(const std::optional<ManualClockPtr>& clock) {
  if (clock && *clock) return *clock;
  // Not owned: RealClock() lives as long as the process.
  return ClockPtr(RealClock(), [](Clock*) {});
}

void BindClock(py::module_& m) {
  py::class_<ManualClock, ManualClockPtr>(
      m, "ManualClock",
      "Time that moves only when told to, for deterministic control planes: pass it as "
      "`clock=` to WarmPool, AutoScaler or CostOptimizer. Times are seconds since the Unix "
      "epoch; the clock never goes backwards (an earlier set() or a negative advance() is "
      "ignored). Safe to move from any thread.")
      .def(py::init([](double start) {
             if (!std::isfinite(start)) {
               throw StatusError(absl::InvalidArgumentError("start must be finite"));
             }
             return std::make_shared<ManualClock>(SecondsToTime(start));
           }),
           py::arg("start") = 0.0, "A clock reading `start` seconds since the Unix epoch.")
      .def("now", [](const ManualClock& self) { return TimeToSeconds(self.Now()); },
           "The current time, seconds since the Unix epoch.")
      .def(
          "advance",
          [](ManualClock& self, const py::handle& seconds) {
            self.Advance(SecondsToDuration(seconds, "seconds"));
          },
          py::arg("seconds"), "Moves the clock forward by `seconds`.")
      .def(
          "set",
          [](ManualClock& self, const py::handle& seconds) {
            self.Set(absl::UnixEpoch() + SecondsToDuration(seconds, "seconds"));
          },
          py::arg("seconds"), "Moves the clock to `seconds` since the epoch (forward only).")
      .def("__repr__", [](const ManualClock& self) {
        return "ManualClock(" + std::string(py::repr(py::float_(TimeToSeconds(self.Now())))) + ")";
      });
}

}  // namespace hearth::python
