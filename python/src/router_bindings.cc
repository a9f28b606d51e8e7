// hearth.Router, hearth.ModelTier and what routing returns.
#include <memory>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "bindings.h"
#include "hearth/router.h"
#include "status.h"

namespace hearth::python {

namespace py = pybind11;

void BindRouter(py::module_& m) {
  py::class_<ModelTier>(m, "ModelTier",
                        "A model the Router may send requests to, with its price and the "
                        "hardest request (difficulty in [0, 1]) it is trusted with.")
      .def(py::init([](std::string name, std::string model, double price_per_1k_tokens,
                       double max_difficulty) {
             return ModelTier{std::move(name), std::move(model), price_per_1k_tokens,
                              max_difficulty};
           }),
           py::arg("name"), py::arg("model"), py::arg("price_per_1k_tokens"),
           py::arg("max_difficulty") = 1.0)
      .def_readonly("name", &ModelTier::name)
      .def_readonly("model", &ModelTier::model, "What the WarmPool loads.")
      .def_readonly("price_per_1k_tokens", &ModelTier::price_per_1k_tokens)
      .def_readonly("max_difficulty", &ModelTier::max_difficulty)
      .def("__repr__", [](const ModelTier& t) {
        return absl::StrCat("ModelTier('", t.name, "', '", t.model, "', ", t.price_per_1k_tokens,
                            ", max_difficulty=", t.max_difficulty, ")");
      });

  py::class_<RouteDecision>(m, "RouteDecision", "Where a request goes.")
      .def_readonly("tier", &RouteDecision::tier, "Index into Router.tiers (cheapest first).")
      .def_readonly("tier_name", &RouteDecision::tier_name)
      .def_readonly("model", &RouteDecision::model)
      .def_readonly("difficulty", &RouteDecision::difficulty)
      .def_readonly("escalated", &RouteDecision::escalated)
      .def_readonly("reason", &RouteDecision::reason)
      .def("__repr__", [](const RouteDecision& d) {
        return absl::StrCat("RouteDecision(tier_name='", d.tier_name, "', model='", d.model,
                            "', difficulty=", d.difficulty, ")");
      });

  py::class_<TierStats>(m, "TierStats", "Requests per tier so far.")
      .def_readonly("name", &TierStats::name)
      .def_readonly("routed", &TierStats::routed, "First choice of route().")
      .def_readonly("escalated_in", &TierStats::escalated_in)
      .def_readonly("escalated_out", &TierStats::escalated_out);

  py::class_<Router>(
      m, "Router",
      "Sends each request to the cheapest tier whose max_difficulty covers the request's "
      "estimated difficulty (a documented heuristic of prompt and answer length, reasoning "
      "and code cues); escalate() moves a low-confidence answer one tier up. Thread-safe.")
      .def(py::init([](std::vector<ModelTier> tiers, double escalate_below_logprob) {
             return ValueOrThrow(Router::Create({std::move(tiers), escalate_below_logprob}));
           }),
           py::arg("tiers"), py::kw_only(), py::arg("escalate_below_logprob") = -1.0,
           "tiers: a non-empty list of ModelTier with unique names.")
      .def(
          "route",
          [](Router& self, const std::string& prompt, int64_t prompt_tokens, int64_t max_tokens) {
            return self.Route({prompt, prompt_tokens, max_tokens});
          },
          py::arg("prompt"), py::kw_only(), py::arg("prompt_tokens") = 0,
          py::arg("max_tokens") = 0, "The RouteDecision for this request.")
      .def("escalate", [](Router& self, int from, double mean_logprob) {
             return ValueOrThrow(self.Escalate(from, mean_logprob));
           },
           py::arg("tier"), py::arg("mean_logprob"),
           "With the mean token log-probability of tier `tier`'s answer: the next tier up "
           "when below the threshold (escalated=True), else the same tier.")
      .def_static(
          "estimate_difficulty",
          [](const std::string& prompt, int64_t prompt_tokens, int64_t max_tokens) {
            return Router::EstimateDifficulty({prompt, prompt_tokens, max_tokens});
          },
          py::arg("prompt"), py::kw_only(), py::arg("prompt_tokens") = 0,
          py::arg("max_tokens") = 0, "The difficulty heuristic, in [0, 1].")
      .def_property_readonly("tiers", &Router::tiers, "Cheapest first.")
      .def("stats", &Router::stats, "A TierStats per tier.");
}

}  // namespace hearth::python
