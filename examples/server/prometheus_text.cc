#include "examples/server/prometheus_text.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hearth_server {
namespace {

std::string Escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string PrometheusValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrFormat("%.0f", value);
  }
  return absl::StrFormat("%.17g", value);
}

void PrometheusText::Counter(std::string_view name, std::string_view help,
                             const std::vector<Sample>& samples) {
  Family(name, help, "counter", samples);
}

void PrometheusText::Gauge(std::string_view name, std::string_view help,
                           const std::vector<Sample>& samples) {
  Family(name, help, "gauge", samples);
}

void PrometheusText::Histogram(std::string_view name, std::string_view help,
                               const hearth::Histogram& histogram) {
  const std::string family(name);
  absl::StrAppend(&out_, "# HELP ", family, " ", Escape(help, false), "\n# TYPE ", family, " histogram\n");
  const std::string bucket = family + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < histogram.upper_bounds.size(); ++i) {
    cumulative += i < histogram.counts.size() ? histogram.counts[i] : 0;
    Line(bucket, {{"le", PrometheusValue(histogram.upper_bounds[i])}}, static_cast<double>(cumulative));
  }
  Line(bucket, {{"le", "+Inf"}}, static_cast<double>(histogram.count));
  Line(family + "_sum", {}, histogram.sum);
  Line(family + "_count", {}, static_cast<double>(histogram.count));
}

void PrometheusText::Family(std::string_view name, std::string_view help, std::string_view type,
                            const std::vector<Sample>& samples) {
  absl::StrAppend(&out_, "# HELP ", std::string(name), " ", Escape(help, false), "\n# TYPE ", std::string(name),
                  " ", std::string(type), "\n");
  for (const Sample& sample : samples) Line(name, sample.labels, sample.value);
}

void PrometheusText::Line(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      absl::StrAppend(&out_, i == 0 ? "" : ",", labels[i].first, "=\"",
                      Escape(labels[i].second, true), "\"");
    }
    out_ += '}';
  }
  absl::StrAppend(&out_, " ", PrometheusValue(value), "\n");
}

}  // namespace hearth_server
