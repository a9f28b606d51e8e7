// PrometheusText — writes metric families in the Prometheus text exposition format 0.0.4
// (what GET /metrics returns with Content-Type "text/plain; version=0.0.4").
//
// Each family gets its # HELP and # TYPE lines, then one sample per label set. Label
// values are escaped (\\, \", \n); values print as integers when whole, +Inf/-Inf/NaN as
// the format spells them. A histogram is written from a hearth::Histogram whose bounds are
// already in the family's unit: cumulative _bucket{le=...} lines ending with le="+Inf",
// then _sum and _count.
//
// Usage:
//   PrometheusText text;
//   text.Counter("hearth_requests_total", "Completed requests.", {{{{"code", "200"}}, 12}});
//   text.Gauge("hearth_queue_depth", "Requests waiting.", {{{}, 3}});
//   std::string body = text.str();
#ifndef HEARTH_EXAMPLES_SERVER_PROMETHEUS_TEXT_H_
#define HEARTH_EXAMPLES_SERVER_PROMETHEUS_TEXT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hearth/histogram.h"

namespace hearth_server {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  Labels labels;
  double value = 0;
};

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

class PrometheusText {
 public:
  void Counter(std::string_view name, std::string_view help, const std::vector<Sample>& samples);
  void Gauge(std::string_view name, std::string_view help, const std::vector<Sample>& samples);
  void Histogram(std::string_view name, std::string_view help, const hearth::Histogram& histogram);

  const std::string& str() const { return out_; }

 private:
  void Family(std::string_view name, std::string_view help, std::string_view type,
              const std::vector<Sample>& samples);
  void Line(std::string_view name, const Labels& labels, double value);

  std::string out_;
};

// The value as the format spells it.
std::string PrometheusValue(double value);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_PROMETHEUS_TEXT_H_
