// Pure transformations of sorted traces: time scaling, windows, overlay, sampling.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "hearth/trace.h"
#include "lib/sim/trace_random.h"

namespace hearth {
namespace {

// Arrivals finite, >= 0 and in order, as every reader returns them.
absl::Status CheckSorted(absl::Span<const TraceRequest> trace, absl::string_view what) {
  for (size_t i = 0; i < trace.size(); ++i) {
    if (!std::isfinite(trace[i].arrival_s) || trace[i].arrival_s < 0) {
      return absl::InvalidArgumentError(absl::StrCat(what, " request ", i, " arrival_s ",
                                                     trace[i].arrival_s,
                                                     " is not a finite number >= 0"));
    }
    if (i > 0 && trace[i].arrival_s < trace[i - 1].arrival_s) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " request ", i, " (arrival_s ", trace[i].arrival_s,
                       ") is earlier than the one before it: traces must be sorted"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> ScaleTime(absl::Span<const TraceRequest> trace,
                                                    double factor) {
  if (!std::isfinite(factor) || factor <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("time scale factor ", factor, " is not a finite number > 0"));
  }
  if (absl::Status s = CheckSorted(trace, "trace"); !s.ok()) return s;
  std::vector<TraceRequest> out(trace.begin(), trace.end());
  for (TraceRequest& r : out) r.arrival_s *= factor;
  return out;
}

absl::StatusOr<std::vector<TraceRequest>> SelectWindow(absl::Span<const TraceRequest> trace,
                                                       double start_s, double end_s) {
  if (!std::isfinite(start_s) || start_s < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("window start_s ", start_s, " is not a finite number >= 0"));
  }
  if (!(end_s > start_s)) {
    return absl::InvalidArgumentError(
        absl::StrCat("window end_s ", end_s, " is not after start_s ", start_s));
  }
  if (absl::Status s = CheckSorted(trace, "trace"); !s.ok()) return s;
  const auto before = [](const TraceRequest& r, double t) { return r.arrival_s < t; };
  const auto first = std::lower_bound(trace.begin(), trace.end(), start_s, before);
  const auto last = std::lower_bound(first, trace.end(), end_s, before);
  std::vector<TraceRequest> out(first, last);
  for (TraceRequest& r : out) r.arrival_s -= start_s;
  return out;
}

absl::StatusOr<std::vector<TraceRequest>> Overlay(absl::Span<const OverlayInput> inputs) {
  size_t total = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (absl::Status s = CheckSorted(inputs[i].trace, absl::StrCat("overlay input ", i, ":"));
        !s.ok()) {
      return s;
    }
    total += inputs[i].trace.size();
  }
  std::vector<TraceRequest> out;
  out.reserve(total);
  for (const OverlayInput& input : inputs) {
    for (const TraceRequest& r : input.trace) {
      out.push_back(r);
      if (!input.model.empty()) out.back().model = input.model;
      if (!input.tenant.empty()) out.back().tenant = input.tenant;
    }
  }
  // Stable: ties keep input order, and each input is already sorted.
  std::stable_sort(out.begin(), out.end(), [](const TraceRequest& a, const TraceRequest& b) {
    return a.arrival_s < b.arrival_s;
  });
  return out;
}

absl::StatusOr<std::vector<TraceRequest>> Sample(absl::Span<const TraceRequest> trace,
                                                 double fraction, uint64_t seed) {
  if (!(fraction >= 0 && fraction <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample fraction ", fraction, " is not in [0, 1]"));
  }
  if (absl::Status s = CheckSorted(trace, "trace"); !s.ok()) return s;
  trace_internal::TraceRng rng(seed);
  std::vector<TraceRequest> out;
  for (const TraceRequest& r : trace) {
    if (rng.Uniform() < fraction) out.push_back(r);
  }
  return out;
}

std::vector<TokenCounts> TokenCountsOf(absl::Span<const TraceRequest> trace) {
  std::vector<TokenCounts> out;
  out.reserve(trace.size());
  for (const TraceRequest& r : trace) out.push_back({r.prompt_tokens, r.output_tokens});
  return out;
}

}  // namespace hearth
