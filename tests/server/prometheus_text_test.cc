#include "examples/server/prometheus_text.h"

#include <random>
#include <sstream>

#include "examples/server/server_metrics.h"
#include "gtest/gtest.h"

namespace hearth_server {
namespace {

TEST(PrometheusTextTest, CounterAndGaugeFamilies) {
  PrometheusText text;
  text.Counter("hearth_requests_total", "Completed requests.",
               {{{{"model", "smollm2"}, {"code", "200"}}, 12}, {{{"model", "smollm2"}, {"code", "429"}}, 3}});
  text.Gauge("hearth_queue_depth", "Waiting.", {{{}, 2.5}});
  EXPECT_EQ(text.str(),
            "# HELP hearth_requests_total Completed requests.\n"
            "# TYPE hearth_requests_total counter\n"
            "hearth_requests_total{model=\"smollm2\",code=\"200\"} 12\n"
            "hearth_requests_total{model=\"smollm2\",code=\"429\"} 3\n"
            "# HELP hearth_queue_depth Waiting.\n"
            "# TYPE hearth_queue_depth gauge\n"
            "hearth_queue_depth 2.5\n");
}

TEST(PrometheusTextTest, EscapesLabelValuesAndHelp) {
  PrometheusText text;
  text.Counter("c", "a \\ help\nline", {{{{"tenant", "a\"b\\c\nd"}}, 1}});
  EXPECT_EQ(text.str(),
            "# HELP c a \\\\ help\\nline\n"
            "# TYPE c counter\n"
            "c{tenant=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(PrometheusTextTest, SpecialValues) {
  EXPECT_EQ(PrometheusValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PrometheusValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(PrometheusValue(std::nan("")), "NaN");
  EXPECT_EQ(PrometheusValue(0.1), "0.10000000000000001");
  EXPECT_EQ(PrometheusValue(-3), "-3");
}

TEST(PrometheusTextTest, HistogramIsCumulativeAndMatchesRecordedSamples) {
  LatencyRecorder recorder({0.01, 0.1, 1});
  std::mt19937 rng(7);
  std::lognormal_distribution<double> seconds(-3, 1.5);
  std::vector<int> expected(4, 0);  // cumulative per le, +Inf last
  double sum = 0;
  const int n = 1000;
  for (int i = 0; i < n; ++i) {
    const double s = seconds(rng);
    recorder.Record(s);
    sum += s;
    const double bounds[] = {0.01, 0.1, 1};
    for (int b = 0; b < 3; ++b) expected[b] += s <= bounds[b] ? 1 : 0;
    expected[3] += 1;
  }
  PrometheusText text;
  text.Histogram("ttft_seconds", "TTFT.", recorder.Snapshot());
  std::istringstream lines(text.str());
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) got.push_back(line);
  ASSERT_EQ(got.size(), 2u + 4 + 2);
  EXPECT_EQ(got[1], "# TYPE ttft_seconds histogram");
  EXPECT_EQ(got[2], "ttft_seconds_bucket{le=\"0.01\"} " + std::to_string(expected[0]));
  EXPECT_EQ(got[3], "ttft_seconds_bucket{le=\"0.10000000000000001\"} " + std::to_string(expected[1]));
  EXPECT_EQ(got[4], "ttft_seconds_bucket{le=\"1\"} " + std::to_string(expected[2]));
  EXPECT_EQ(got[5], "ttft_seconds_bucket{le=\"+Inf\"} " + std::to_string(n));
  EXPECT_EQ(got[7], "ttft_seconds_count " + std::to_string(n));
  const double rendered_sum = std::stod(got[6].substr(got[6].find(' ') + 1));
  EXPECT_NEAR(rendered_sum, sum, 1e-9 * sum);
  EXPECT_LT(expected[0], expected[1]);  // the random data spans the buckets
  EXPECT_LT(expected[2], n);
}

}  // namespace
}  // namespace hearth_server
