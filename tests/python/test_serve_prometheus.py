"""A real Prometheus (Debian's package) scrapes `hearth serve` every second with the scrape
job of examples/kubernetes, its Kubernetes discovery replaced by the labels discovery
would give. What Prometheus stores must be what /metrics shows; the target must be up
with no scrape error; and the queries the HPA (through prometheus-adapter) and KEDA run
must return the server's values."""
import json
import pathlib
import shutil
import socket
import subprocess
import time
import urllib.parse

import pytest
import yaml

from serve_fixture import (HEARTH, SMOLLM2, HearthServer, http_get, metric_sum,
                           post_completion, scrape)

REPO = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "examples/kubernetes"
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
MODEL = "smollm2"
# What Kubernetes discovery would attach to the pod of examples/kubernetes/hearth.yaml.
POD_META = {
    "__meta_kubernetes_namespace": "hearth",
    "__meta_kubernetes_pod_name": "hearth-7d4b9c-x2k8p",
    "__meta_kubernetes_pod_label_app_kubernetes_io_name": "hearth",
    "__meta_kubernetes_pod_container_port_name": "http",
}
SETTLE_TIMEOUT_S = 30

pytestmark = [
    pytest.mark.skipif(PROMETHEUS is None,
                       reason="no prometheus binary (Debian package `prometheus`; "
                              "scripts/setup.sh installs it)"),
    pytest.mark.skipif(not HEARTH.exists() or not SMOLLM2.exists(),
                       reason=f"build the CLI ({HEARTH}) and run scripts/setup.sh"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_scrape_config(hearth_port):
    """The example job, every second, with static targets in place of pod discovery: the
    hearth server, and a decoy on another container port that the job must drop."""
    config = yaml.safe_load((MANIFESTS / "prometheus-scrape-config.yaml").read_text())
    (job,) = config["scrape_configs"]
    del job["kubernetes_sd_configs"]
    job["scrape_interval"] = "1s"
    job["static_configs"] = [
        {"targets": [f"127.0.0.1:{hearth_port}"], "labels": POD_META},
        {"targets": [f"127.0.0.1:{hearth_port}"],
         "labels": {**POD_META, "__meta_kubernetes_pod_container_port_name": "debug"}},
    ]
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    return config


class Prometheus:
    def __init__(self, config_path, storage):
        self.url = f"http://127.0.0.1:{free_port()}"
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config_path}", f"--storage.tsdb.path={storage}",
             f"--web.listen-address={self.url.removeprefix('http://')}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if http_get(self.url + "/-/ready", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prometheus did not become ready: {self.proc.stderr.read()}")

    def api(self, path, **params):
        status, _, body = http_get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        answer = json.loads(body)
        assert status == 200 and answer["status"] == "success", answer
        return answer["data"]

    def query(self, promql):
        """The instant vector of `promql` as [(labels, value)]."""
        data = self.api("query", query=promql)
        assert data["resultType"] == "vector", data
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def server():
    with HearthServer("--model", f"{MODEL}={SMOLLM2}", "--threads", "2") as s:
        yield s
    assert s.returncode == 0, s.stderr()


@pytest.fixture(scope="module")
def config_path(server, tmp_path_factory):
    path = tmp_path_factory.mktemp("prometheus") / "prometheus.yml"
    path.write_text(yaml.safe_dump(local_scrape_config(server.port)))
    return path


@pytest.fixture(scope="module")
def prometheus(config_path, tmp_path_factory):
    p = Prometheus(config_path, tmp_path_factory.mktemp("tsdb"))
    yield p
    p.stop()


@pytest.fixture(scope="module")
def served(server):
    """Three answered requests, so the labelled counters have series."""
    for k in range(3):
        status, answer = post_completion(server.url, MODEL, max_tokens=4 + k)
        assert status == 200, answer
    return 3


def until_equal(read_prometheus, read_server, what):
    """Polls until Prometheus holds what the server shows (it trails by a scrape)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        stored, shown = read_prometheus(), read_server()
        if stored == shown or time.monotonic() > deadline:
            assert stored == shown, f"{what}: Prometheus {stored}, /metrics {shown}"
            return stored
        time.sleep(0.25)


@pytest.mark.skipif(PROMTOOL is None, reason="no promtool (Debian package `prometheus`)")
def test_promtool_accepts_the_job(config_path):
    r = subprocess.run([PROMTOOL, "check", "config", str(config_path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_target_is_up_without_scrape_errors(server, prometheus, served):
    # Prometheus applies new targets every 5 s, then scrapes each second.
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        targets = prometheus.api("targets")
        active = targets["activeTargets"]
        if any(t["health"] == "up" for t in active) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert [(t["health"], t["lastError"]) for t in active] == [("up", "")], active
    (target,) = active
    assert target["scrapeUrl"] == f"http://127.0.0.1:{server.port}/metrics"
    # The job's relabelling: the labels the autoscaling queries select on.
    assert {k: target["labels"][k] for k in ("namespace", "pod", "app")} == {
        "namespace": "hearth", "pod": POD_META["__meta_kubernetes_pod_name"], "app": "hearth"}
    # The decoy on another container port is discovered and dropped by the keep rule.
    dropped = [t["discoveredLabels"] for t in targets["droppedTargets"]]
    assert [d["__meta_kubernetes_pod_container_port_name"] for d in dropped] == ["debug"]
    assert prometheus.query('up{job="hearth"}')[0][1] == 1
    # Samples Prometheus refused (unparsable, duplicate, out of order): none, as its own
    # /metrics counts them.
    own = scrape(prometheus.url)
    for refused in ("prometheus_target_scrapes_sample_duplicate_timestamp_total",
                    "prometheus_target_scrapes_sample_out_of_order_total",
                    "prometheus_target_scrapes_sample_out_of_bounds_total",
                    "prometheus_target_scrapes_exceeded_sample_limit_total"):
        assert metric_sum(own, refused) == 0, refused
    assert prometheus.query('scrape_samples_scraped{job="hearth"}')[0][1] > 0


def test_stored_counters_and_gauges_equal_the_server(server, prometheus, served):
    def stored_requests():
        return {(m["model"], m["code"]): v
                for m, v in prometheus.query('hearth_requests_total{job="hearth"}')}

    def shown_requests():
        samples = scrape(server.url)
        return {(dict(ls)["model"], dict(ls)["code"]): v
                for (name, ls), v in samples.items() if name == "hearth_requests_total"}

    requests = until_equal(stored_requests, shown_requests, "hearth_requests_total")
    assert requests.get((MODEL, "200"), 0) >= served

    until_equal(lambda: [v for _, v in prometheus.query('hearth_desired_replicas{job="hearth"}')],
                lambda: [metric_sum(scrape(server.url), "hearth_desired_replicas")],
                "hearth_desired_replicas")

    # The time-to-first-token histogram as Prometheus reads it: every answer counted, and
    # buckets a quantile can be computed from.
    ttft = "hearth_time_to_first_token_seconds"
    until_equal(lambda: [v for _, v in prometheus.query(f'{ttft}_count{{job="hearth"}}')],
                lambda: [metric_sum(scrape(server.url), f"{ttft}_count")], f"{ttft}_count")
    [(_, median)] = prometheus.query(f'histogram_quantile(0.5, {ttft}_bucket{{job="hearth"}})')
    assert 0 < median < 60, median


def adapter_query():
    """prometheus-adapter's metricsQuery as it renders it for hpa.yaml's metric: the series,
    the HPA's namespace and its selector as label matchers."""
    (values,) = yaml.safe_load_all((MANIFESTS / "prometheus-adapter-values.yaml").read_text())
    (rule,) = values["rules"]["external"]
    hpa = yaml.safe_load((MANIFESTS / "hpa.yaml").read_text())
    metric = hpa["spec"]["metrics"][0]["external"]["metric"]
    matchers = [f'namespace="{hpa["metadata"]["namespace"]}"'] + [
        f'{k}="{v}"' for k, v in metric["selector"]["matchLabels"].items()]
    return (rule["metricsQuery"].replace("<<.Series>>", metric["name"])
            .replace("<<.LabelMatchers>>", ",".join(matchers)))


def keda_queries():
    scaled = yaml.safe_load((MANIFESTS / "keda-scaledobject.yaml").read_text())
    return [t["metadata"]["query"] for t in scaled["spec"]["triggers"]]


def test_autoscaler_queries_return_the_server_values(server, prometheus, served):
    queries = [adapter_query(), *keda_queries()]
    assert len(queries) == 3
    for promql in queries:
        name = "hearth_queue_depth" if "hearth_queue_depth" in promql else "hearth_desired_replicas"

        def stored():
            # A list, so that an empty answer shows as such: KEDA needs exactly one value.
            return [v for _, v in prometheus.query(promql)]

        until_equal(stored, lambda: [metric_sum(scrape(server.url), name)], promql)
