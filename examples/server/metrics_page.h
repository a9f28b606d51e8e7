// The body of GET /metrics: the fixed hearth_* metric families (README lists them) from
// the front end's counters and the Deployment's pool, engines, breakers, AutoScaler and
// cache, in the Prometheus text format.
#ifndef HEARTH_EXAMPLES_SERVER_METRICS_PAGE_H_
#define HEARTH_EXAMPLES_SERVER_METRICS_PAGE_H_

#include <string>

#include "examples/server/deployment.h"

namespace hearth_server {

std::string RenderMetricsPage(Deployment& deployment);

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_METRICS_PAGE_H_
