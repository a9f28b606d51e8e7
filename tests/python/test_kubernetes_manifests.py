"""examples/kubernetes: every manifest parses, the built-in objects carry only fields the
Kubernetes API knows, the objects point at each other consistently, and the Deployment's
container args start a real `hearth serve` whose /metrics has every metric the manifests
name and which drains within the pod's grace period."""
import json
import pathlib
import re
import threading
import time

import kubernetes.client
import pytest
import yaml

from serve_fixture import (HEARTH, SMOLLM2, HearthServer, http_get, metric_families,
                           metric_sum, parse_metrics, post_completion)

REPO = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "examples/kubernetes"
NAMESPACE = "hearth"

# Every object the directory holds; a new kind (or a changed apiVersion) is a deliberate
# edit here too.
OBJECT_KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("v1", "Service"): "V1Service",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2HorizontalPodAutoscaler",
    ("keda.sh/v1alpha1", "ScaledObject"): None,  # a KEDA CRD: no model in the client
}
CONFIG_FILES = {"prometheus-scrape-config.yaml", "prometheus-adapter-values.yaml"}


def yaml_documents(name):
    return [d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d is not None]


def objects():
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name not in CONFIG_FILES:
            found += yaml_documents(path.name)
    return found


def one(kind):
    matches = [o for o in objects() if o["kind"] == kind]
    assert len(matches) == 1, f"expected one {kind}, found {len(matches)}"
    return matches[0]


def container():
    (c,) = one("Deployment")["spec"]["template"]["spec"]["containers"]
    return c


def flag(args, name):
    """The value of --name=VALUE or --name VALUE in a container's args."""
    for k, a in enumerate(args):
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
        if a == f"--{name}":
            return args[k + 1]
    raise KeyError(name)


def test_every_file_parses_and_holds_known_objects():
    assert {p.name for p in MANIFESTS.glob("*.yaml")} >= CONFIG_FILES
    kinds = [(o["apiVersion"], o["kind"]) for o in objects()]
    assert sorted(kinds) == sorted(OBJECT_KINDS), kinds
    for o in objects():
        if o["kind"] != "Namespace":
            assert o["metadata"]["namespace"] == NAMESPACE, o["metadata"]
    assert one("Namespace")["metadata"]["name"] == NAMESPACE


@pytest.mark.parametrize("api_kind", [k for k, model in OBJECT_KINDS.items() if model],
                         ids=lambda api_kind: api_kind[1])
def test_built_in_objects_have_only_known_fields(api_kind):
    # The client's models (kubernetes >= 37) drop fields they do not know and refuse
    # missing required ones or wrong types; a manifest that survives the round trip
    # unchanged has no misspelt, misplaced or mistyped key.
    client = kubernetes.client.ApiClient()
    model = getattr(kubernetes.client, OBJECT_KINDS[api_kind])
    checked = 0
    for obj in objects():
        if (obj["apiVersion"], obj["kind"]) == api_kind:
            assert client.sanitize_for_serialization(model.from_dict(obj)) == obj
            checked += 1
    assert checked == 1


def test_objects_point_at_each_other():
    deployment, service = one("Deployment"), one("Service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"

    c = container()
    port_names = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    assert int(flag(c["args"], "port")) == port_names["http"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert flag(c["args"], "host") == "0.0.0.0"  # reachable from the Service, not loopback
    # Each worker thread needs a core of its own, or decode steps wait on each other.
    assert float(c["resources"]["requests"]["cpu"]) >= int(flag(c["args"], "threads"))

    for scaler in (one("HorizontalPodAutoscaler"), one("ScaledObject")):
        ref = scaler["spec"]["scaleTargetRef"]
        assert (ref["apiVersion"], ref["kind"], ref["name"]) == (
            "apps/v1", "Deployment", deployment["metadata"]["name"])


def test_drain_fits_in_the_grace_period():
    pod = one("Deployment")["spec"]["template"]["spec"]
    pre_stop = container()["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= int(pre_stop[1]) + 30


def test_autoscalers_scale_on_the_published_decision():
    hpa = one("HorizontalPodAutoscaler")
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "External"
    assert metric["external"]["metric"]["name"] == "hearth_desired_replicas"
    assert metric["external"]["target"] == {"type": "AverageValue", "averageValue": "1"}
    assert hpa["spec"]["minReplicas"] >= 1  # an HPA cannot go to zero; KEDA does that

    (adapter,) = yaml_documents("prometheus-adapter-values.yaml")
    (rule,) = adapter["rules"]["external"]
    assert rule["name"]["as"] == "hearth_desired_replicas"
    assert re.fullmatch(rule["name"]["matches"], "hearth_desired_replicas")
    assert rule["resources"]["overrides"]["namespace"] == {"resource": "namespace"}
    assert "<<.LabelMatchers>>" in rule["metricsQuery"]
    # The HPA's selector is matched against labels the scrape job attaches.
    assert set(metric["external"]["metric"]["selector"]["matchLabels"]) <= scrape_target_labels()

    scaled = one("ScaledObject")["spec"]
    assert scaled["minReplicaCount"] == 0
    assert scaled["maxReplicaCount"] == hpa["spec"]["maxReplicas"]
    queries = {}
    for trigger in scaled["triggers"]:
        assert trigger["type"] == "prometheus"
        meta = trigger["metadata"]
        # KEDA reads trigger metadata as strings; a bare YAML number is rejected.
        assert all(isinstance(v, str) for v in meta.values()), meta
        name = re.match(r"sum\((hearth_\w+)\{", meta["query"]).group(1)
        queries[name] = meta
        assert f'namespace="{NAMESPACE}"' in meta["query"]
    assert queries["hearth_desired_replicas"]["threshold"] == "1"
    # One queued request is enough to stay (or become) active.
    assert float(queries["hearth_queue_depth"]["activationThreshold"]) < 1
    assert queries["hearth_queue_depth"]["threshold"] == flag(container()["args"], "max-queue")


def scrape_target_labels():
    """The labels the example scrape job writes onto every hearth series."""
    (config,) = yaml_documents("prometheus-scrape-config.yaml")
    (job,) = config["scrape_configs"]
    return {r["target_label"] for r in job["relabel_configs"] if "target_label" in r}


def test_scrape_job_keeps_exactly_the_deployment_pods():
    (config,) = yaml_documents("prometheus-scrape-config.yaml")
    (job,) = config["scrape_configs"]
    keep = {tuple(r["source_labels"]): r["regex"] for r in job["relabel_configs"]
            if r.get("action") == "keep"}
    pod_labels = one("Deployment")["spec"]["template"]["metadata"]["labels"]
    app = pod_labels["app.kubernetes.io/name"]
    assert keep[("__meta_kubernetes_pod_label_app_kubernetes_io_name",)] == app
    assert keep[("__meta_kubernetes_pod_container_port_name",)] == "http"
    assert job["kubernetes_sd_configs"][0]["namespaces"]["names"] == [NAMESPACE]
    assert job["metrics_path"] == "/metrics"


def image_files():
    """{path in the image: path in the repository} for the Dockerfile's COPY lines that take
    a file from the build context."""
    copies = re.findall(r"^COPY (\S+) (/\S+)$", (MANIFESTS / "Dockerfile").read_text(), re.M)
    return {dst: REPO / src for src, dst in copies}


def test_image_holds_what_the_args_name():
    dockerfile = (MANIFESTS / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["[^"]*/hearth"\]', dockerfile, re.M)
    assert re.search(r"^USER 65532", dockerfile, re.M)
    assert container()["args"][0] == "serve"
    named = [p for a in container()["args"] for p in re.findall(r"=(/\S+)$", a)]
    assert len(named) >= 2  # the model and the price catalog
    for path in named:
        assert path in image_files(), f"{path} is named in the args but not copied in"
    for src in image_files().values():
        assert src.exists() or src == SMOLLM2, src


def referenced_metric_names():
    """Every hearth_* name in the manifests and the README (queries, comments, prose), so
    that no text promises a metric the server lacks."""
    names = set()
    for path in [*MANIFESTS.glob("*.yaml"), MANIFESTS / "README.md"]:
        names |= set(re.findall(r"\bhearth_[a-z_]+[a-z]", path.read_text()))
    return names


def local_args():
    """The Deployment's args, run here: loopback, any free port, and each file the image
    holds taken from the repository instead."""
    args = []
    for a in container()["args"][1:]:
        if a.startswith("--host="):
            a = "--host=127.0.0.1"
        elif a.startswith("--port="):
            a = "--port=0"
        for image_path, repo_path in image_files().items():
            if a.endswith("=" + image_path):
                a = a.removesuffix(image_path) + str(repo_path)
        args.append(a)
    return args


needs_server = pytest.mark.skipif(not HEARTH.exists() or not SMOLLM2.exists(),
                                  reason=f"build the CLI ({HEARTH}) and run scripts/setup.sh")


@needs_server
def test_deployment_args_start_a_server_with_every_named_metric():
    model = flag(container()["args"], "model").split("=", 1)[0]
    with HearthServer(*local_args()) as server:
        assert http_get(server.url + "/healthz")[0] == 200
        assert http_get(server.url + "/readyz")[0] == 200  # ready with no model loaded yet
        status, _, body = http_get(server.url + "/v1/models")
        assert status == 200 and model in [m["id"] for m in json.loads(body)["data"]]
        status, answer = post_completion(server.url, model, max_tokens=4)
        assert status == 200 and answer["usage"]["completion_tokens"] >= 1
        assert answer["usage"]["cost_usd"] > 0  # the catalog the args name was read

        status, _, text = http_get(server.url + "/metrics")
        assert status == 200
        missing = referenced_metric_names() - metric_families(text)
        assert not missing, f"named in examples/kubernetes, absent from /metrics: {missing}"


@needs_server
def test_sigterm_drains_within_the_grace_period():
    pod = one("Deployment")["spec"]["template"]["spec"]
    budget_s = pod["terminationGracePeriodSeconds"] - int(
        container()["lifecycle"]["preStop"]["exec"]["command"][1])
    model = flag(container()["args"], "model").split("=", 1)[0]
    server = HearthServer(*local_args()).start()
    answers = []
    worker = threading.Thread(
        target=lambda: answers.append(post_completion(server.url, model, max_tokens=48)))
    try:
        worker.start()
        # SIGTERM once the request is being served, not before it arrived.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not in_flight(server.url):
            time.sleep(0.01)
        assert in_flight(server.url), "the request never showed as in flight"
        began = time.monotonic()
        assert server.stop() == 0, server.stderr()
        drained_s = time.monotonic() - began
        worker.join(timeout=60)
    finally:
        server.kill()
    assert answers and answers[0][0] == 200, "the in-flight request was not finished"
    assert answers[0][1]["usage"]["completion_tokens"] >= 1
    assert drained_s < budget_s, f"drain took {drained_s:.1f} s, the pod has {budget_s} s"


def in_flight(url):
    samples = parse_metrics(http_get(url + "/metrics")[2])
    return metric_sum(samples, "hearth_requests_in_flight") + metric_sum(
        samples, "hearth_queue_depth") >= 1
