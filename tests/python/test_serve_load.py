"""A bounded load test of `hearth serve` with locust (headless, in its own process) on
loopback: no failed request at a load the server can hold; beyond its rate limit and
queue, only clean 200/429/503 answers (the refusals with Retry-After), no connection
error, a server still healthy afterwards, and every request locust sent counted by the
server's /metrics.

The figures (requests/s, latency percentiles, outcomes, peak memory) are printed as one
JSON line per phase; `pytest -s tests/python/test_serve_load.py` shows them."""
import csv
import json
import os
import subprocess
import sys
import time

import pytest

from serve_fixture import HEARTH, SMOLLM2, HearthServer, http_get, post_completion, scrape

LOCUSTFILE = os.path.join(os.path.dirname(__file__), "serve_locustfile.py")
MODEL = "smollm2"

pytestmark = pytest.mark.skipif(not HEARTH.exists() or not SMOLLM2.exists(),
                                reason=f"build the CLI ({HEARTH}) and run scripts/setup.sh")


def run_locust(url, out_dir, users, seconds, max_tokens, wait_s):
    """Runs locust against `url`. Its final statistics by request name, and the failure
    messages it recorded."""
    prefix = os.path.join(out_dir, "load")
    env = {**os.environ, "HEARTH_LOAD_MODEL": MODEL, "HEARTH_LOAD_MAX_TOKENS": str(max_tokens),
           "HEARTH_LOAD_WAIT_S": str(wait_s)}
    r = subprocess.run(
        [sys.executable, "-m", "locust", "-f", LOCUSTFILE, "--headless", "--users", str(users),
         "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", url,
         # The JSON is written after the last request; the CSV only every second.
         "--json-file", prefix, "--csv", prefix, "--only-summary", "--loglevel", "WARNING",
         # Users finish the request they are in when the time is up: a request cut off on
         # the client side would still be counted by the server.
         "--stop-timeout", "60", "--exit-code-on-error", "0"],
        capture_output=True, text=True, timeout=seconds + 120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(prefix + ".json") as f:
        stats = {entry["name"]: entry for entry in json.load(f)}
    with open(prefix + "_failures.csv") as f:
        failures = [f"{row['Name']}: {row['Error']} x{row['Occurrences']}"
                    for row in csv.DictReader(f)]
    return stats, failures


def counted(url):
    """What the server has counted so far: answers by status code (hearth_requests_total
    over every model), refusals by reason (hearth_rejected_requests_total)."""
    samples = scrape(url)
    by_code, by_reason = {}, {}
    for (name, labels), value in samples.items():
        labels = dict(labels)
        if name == "hearth_requests_total":
            by_code[labels["code"]] = by_code.get(labels["code"], 0) + value
        elif name == "hearth_rejected_requests_total":
            by_reason[labels["reason"]] = value
    return by_code, by_reason


def counted_since(url, before):
    """counted(url) minus `before`, without the entries that did not move."""
    return tuple({k: v - was.get(k, 0) for k, v in now.items() if v != was.get(k, 0)}
                 for now, was in zip(counted(url), before))


def percentile(response_times, q):
    """The q-quantile (0..1) of locust's response-time histogram {ms: count}."""
    times = sorted((float(ms), n) for ms, n in response_times.items())
    rank, seen = q * sum(n for _, n in times), 0
    for ms, n in times:
        seen += n
        if seen >= rank:
            return ms
    return 0.0


def figures(entries):
    """Requests, failures, requests/s and p50/p95 latency over locust stats entries."""
    requests = sum(e["num_requests"] for e in entries)
    times = {}
    for e in entries:
        for ms, n in e["response_times"].items():
            times[ms] = times.get(ms, 0) + n
    span = (max(e["last_request_timestamp"] for e in entries) -
            min(e["start_time"] for e in entries))
    return {"requests": requests, "failures": sum(e["num_failures"] for e in entries),
            "rps": round(requests / span, 2), "p50_ms": percentile(times, 0.5),
            "p95_ms": percentile(times, 0.95)}


def test_load_the_server_holds_fails_nothing(tmp_path):
    with HearthServer("--model", f"{MODEL}={SMOLLM2}", "--threads", "2") as server:
        assert post_completion(server.url, MODEL, max_tokens=4)[0] == 200  # the cold start
        before = counted(server.url)
        stats, failures = run_locust(server.url, str(tmp_path), users=2, seconds=20,
                                     max_tokens=8, wait_s=0.2)
        answered, refused = counted_since(server.url, before)
        report = {"phase": "held", "users": 2, "max_tokens": 8,
                  **figures(stats.values()), "peak_rss_mib": server.peak_rss_bytes() >> 20}
        print(json.dumps(report))
        assert report["failures"] == 0, failures
        assert set(stats) == {"200"}, stats.keys()
        assert report["requests"] >= 10, report  # it did run for real
        assert answered == {"200": report["requests"]} and refused == {}, (answered, refused)
    assert server.returncode == 0, server.stderr()


def test_beyond_capacity_sheds_cleanly_and_loses_nothing(tmp_path):
    # 32 users against 10 requests/s and one waiting place: the burst at the start fills
    # the instance (8 at once) and the queue, the rest get 503; then the bucket paces
    # admissions and the surplus gets 429.
    with HearthServer("--model", f"{MODEL}={SMOLLM2}", "--threads", "2", "--rate", "10",
                      "--burst", "32", "--max-queue", "1") as server:
        before = counted(server.url)
        stats, failures = run_locust(server.url, str(tmp_path), users=32, seconds=15,
                                     max_tokens=32, wait_s=0.1)
        answered, refused = counted_since(server.url, before)
        outcomes = {name: e["num_requests"] for name, e in stats.items()}
        report = {"phase": "beyond", "users": 32, "max_tokens": 32, "outcomes": outcomes,
                  "answered": figures([stats["200"]]) if "200" in stats else None,
                  **figures(stats.values()), "peak_rss_mib": server.peak_rss_bytes() >> 20}
        print(json.dumps(report))
        # Every 429/503 had Retry-After; no other code, no connection error.
        assert report["failures"] == 0, failures
        assert set(outcomes) <= {"200", "429", "503"}, outcomes
        assert outcomes.get("200", 0) > 0 and outcomes.get("429", 0) > 0, outcomes
        assert outcomes.get("503", 0) > 0, outcomes
        # No lost request: each one locust sent is counted once under the code it got, and
        # each refusal under its reason.
        assert answered == outcomes, (answered, outcomes)
        assert refused == {"rate_limited": outcomes["429"], "queue_full": outcomes["503"]}, refused
        # Still healthy and serving once the load is gone (and the bucket has refilled).
        time.sleep(1)
        assert http_get(server.url + "/healthz")[0] == 200
        assert post_completion(server.url, MODEL, max_tokens=4)[0] == 200
    assert server.returncode == 0, server.stderr()
