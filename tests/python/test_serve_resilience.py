"""`hearth serve` as a serverless endpoint under stress, each case on its own server:
scale to zero and back, the SIGTERM drain with a stream in flight, a client that hangs up
mid-stream, the rate limit (429), the bounded queue (503), the circuit breaker around a
model whose file disappears, the response cache and routing between two models."""
import json
import os
import shutil
import signal
import socket
import threading
import time
import urllib.parse

import pytest

from serve_fixture import HEARTH, REPO, SMOLLM2, HearthServer, http_get, metric_sum, scrape

TINY = REPO / "tests/data/models/stories260K.gguf"

pytestmark = [
    pytest.mark.skipif(not HEARTH.exists(), reason=f"build the CLI first ({HEARTH})"),
    pytest.mark.skipif(not SMOLLM2.exists(), reason="run scripts/setup.sh to extract the model"),
]


def post(url, body, path="/v1/completions", timeout=120):
    """(status, headers, parsed JSON body) of a POST; 4xx/5xx answers are returned."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


class RawStream:
    """A streamed completion over a bare socket, so the test decides when the client
    hangs up."""

    def __init__(self, url, body):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=120)
        payload = json.dumps({**body, "stream": True}).encode()
        self.sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: "
                          + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        self.received = b""

    def read_until(self, marker):
        while marker not in self.received:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.received += chunk
        return marker in self.received

    def read_events(self):
        """Every server-sent event to the end of the stream, the chunked framing removed."""
        self.read_until(b"data: [DONE]")
        head, _, body = self.received.decode(errors="replace").partition("\r\n\r\n")
        assert "transfer-encoding: chunked" in head.lower()
        return [line for line in body.splitlines() if line.startswith("data: ")]

    def close(self):
        self.sock.close()


def wait_for(predicate, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def metric(server, name, **labels):
    return metric_sum(scrape(server.url), name, **labels)


def long_request(model, tokens):
    # ignore_eos: exactly `tokens` tokens, so the stream lasts long enough to act on.
    return {"model": model, "prompt": "Once upon a time", "max_tokens": tokens, "ignore_eos": True,
            "temperature": 0.8}


def test_scale_to_zero_and_wake_on_request():
    with HearthServer("--model", f"tiny={TINY}", "--keep-alive-s", "0.3", "--threads", "1") as s:
        assert metric(s, "hearth_loaded_instances", model="tiny") == 0
        assert http_get(s.url + "/readyz")[0] == 200  # ready while scaled to zero
        status, _, answer = post(s.url, {"model": "tiny", "prompt": "Once", "max_tokens": 8})
        assert status == 200 and answer["usage"]["completion_tokens"] > 0
        assert metric(s, "hearth_cold_starts_total", model="tiny") == 1
        wait_for(lambda: metric(s, "hearth_loaded_instances", model="tiny") == 0, what="unload")
        assert metric(s, "hearth_warm_pool_idle_instances", model="tiny") == 0
        # The next request wakes the model: held through the cold start, not dropped.
        status, _, answer = post(s.url, {"model": "tiny", "prompt": "Once", "max_tokens": 8})
        assert status == 200 and answer["choices"][0]["text"]
        samples = scrape(s.url)
        assert metric_sum(samples, "hearth_cold_starts_total", model="tiny") == 2
        assert metric_sum(samples, "hearth_cold_start_seconds", model="tiny") > 0
        assert metric_sum(samples, "hearth_time_to_first_token_seconds_count") == 2
    assert s.returncode == 0


def test_sigterm_drains_a_stream_in_flight():
    with HearthServer("--model", f"smollm2={SMOLLM2}", "--threads", "2") as s:
        stream = RawStream(s.url, {**long_request("smollm2", 100),
                                   "stream_options": {"include_usage": True}})
        assert stream.read_until(b"data: {")
        os.kill(s.pid, signal.SIGTERM)
        wait_for(lambda: http_get(s.url + "/readyz")[0] == 503, timeout=5, what="readyz 503")
        status, headers, error = post(s.url, {"model": "smollm2", "prompt": "Hi", "max_tokens": 2})
        assert status == 503 and error["error"]["code"] == "draining"
        assert headers["Retry-After"]
        events = stream.read_events()
        stream.close()
        assert events[-1] == "data: [DONE]"
        last = json.loads(events[-2][len("data: "):])
        assert last["usage"]["completion_tokens"] == 100
    assert s.returncode == 0, s.stderr()


def test_client_hanging_up_mid_stream_cancels_the_request():
    with HearthServer("--model", f"smollm2={SMOLLM2}", "--threads", "2") as s:
        stream = RawStream(s.url, long_request("smollm2", 2000))
        assert stream.read_until(b"data: {")
        wait_for(lambda: metric(s, "hearth_engine_running_requests", model="smollm2") == 1,
                 what="the request running in the Engine")
        stream.close()
        wait_for(lambda: metric(s, "hearth_requests_total", code="499") == 1, what="499 counted")
        samples = scrape(s.url)
        assert metric_sum(samples, "hearth_engine_running_requests", model="smollm2") == 0
        assert metric_sum(samples, "hearth_engine_kv_blocks_used", model="smollm2") == 0
        assert metric_sum(samples, "hearth_requests_in_flight") == 0
        # Far fewer than 2000 tokens were generated for it.
        assert metric_sum(samples, "hearth_inter_token_latency_seconds_count") < 1000
        status, _, answer = post(s.url, {"model": "smollm2", "prompt": "Hello", "max_tokens": 4})
        assert status == 200 and answer["usage"]["completion_tokens"] == 4
    assert s.returncode == 0


def test_rate_limit_answers_429_with_retry_after():
    with HearthServer("--model", f"tiny={TINY}", "--rate", "1", "--burst", "2") as s:
        answers = [post(s.url, {"model": "tiny", "prompt": "Once", "max_tokens": 2})
                   for _ in range(6)]
        codes = [a[0] for a in answers]
        assert codes[:2] == [200, 200]
        limited = [a for a in answers if a[0] == 429]
        assert len(limited) >= 3 and set(codes) <= {200, 429}
        for _, headers, body in limited:
            assert int(headers["Retry-After"]) >= 1
            assert body["error"]["code"] == "rate_limit_exceeded"
        assert metric(s, "hearth_rejected_requests_total", reason="rate_limited") == len(limited)
        time.sleep(1.1)
        assert post(s.url, {"model": "tiny", "prompt": "Once", "max_tokens": 2})[0] == 200


def test_full_queue_answers_503_with_retry_after():
    with HearthServer("--model", f"smollm2={SMOLLM2}", "--threads", "2", "--max-concurrent", "1",
                      "--max-queue", "1") as s:
        running = RawStream(s.url, long_request("smollm2", 2000))
        assert running.read_until(b"data: {")
        queued = {}
        waiter = threading.Thread(target=lambda: queued.update(
            answer=post(s.url, {"model": "smollm2", "prompt": "Hi", "max_tokens": 3})))
        waiter.start()
        wait_for(lambda: metric(s, "hearth_queue_depth") == 1, what="one request queued")
        status, headers, body = post(s.url, {"model": "smollm2", "prompt": "Hi", "max_tokens": 3})
        assert status == 503
        assert body["error"]["code"] == "queue_full"
        assert int(headers["Retry-After"]) >= 1
        assert metric(s, "hearth_rejected_requests_total", reason="queue_full") == 1
        running.close()  # frees the slot: the queued request runs
        waiter.join(timeout=60)
        assert queued["answer"][0] == 200
    assert s.returncode == 0


def test_circuit_breaker_opens_on_a_missing_model_and_closes_after_a_probe(tmp_path):
    model = tmp_path / "tiny.gguf"
    shutil.copy(TINY, model)
    with HearthServer("--model", f"tiny={model}", "--keep-alive-s", "0", "--circuit-failures", "2",
                      "--circuit-open-s", "1.5") as s:
        assert post(s.url, {"model": "tiny", "prompt": "Once", "max_tokens": 2})[0] == 200
        wait_for(lambda: metric(s, "hearth_loaded_instances", model="tiny") == 0, what="unload")
        model.rename(tmp_path / "moved.gguf")  # the next cold starts fail
        for _ in range(2):
            status, _, body = post(s.url, {"model": "tiny", "prompt": "Once", "max_tokens": 2})
            assert status == 503 and "could not be loaded" in body["error"]["message"]
        assert metric(s, "hearth_circuit_state", model="tiny") == 1
        started = time.monotonic()
        status, headers, body = post(s.url, {"model": "tiny", "prompt": "Once", "max_tokens": 2})
        assert time.monotonic() - started < 0.5  # answered at once, no load attempted
        assert status == 503 and body["error"]["code"] == "circuit_open"
        assert int(headers["Retry-After"]) >= 1
        samples = scrape(s.url)
        assert metric_sum(samples, "hearth_rejected_requests_total", reason="circuit_open") == 1
        assert metric_sum(samples, "hearth_cold_start_failures_total", model="tiny") == 2
        (tmp_path / "moved.gguf").rename(model)
        time.sleep(1.6)
        status, _, body = post(s.url, {"model": "tiny", "prompt": "Once", "max_tokens": 2})
        assert status == 200, body  # the half-open probe
        assert metric(s, "hearth_circuit_state", model="tiny") == 0
    assert s.returncode == 0


def test_response_cache_and_routing_between_two_models():
    with HearthServer("--model", f"small={TINY}", "--model", f"large={SMOLLM2}", "--route",
                      "small,large", "--threads", "2") as s:
        assert {m["id"] for m in json.loads(http_get(s.url + "/v1/models")[2])["data"]} == {
            "small", "large", "auto"}
        easy = {"model": "auto", "prompt": "Once upon a time", "max_tokens": 6, "temperature": 0}
        status, _, first = post(s.url, easy)
        assert status == 200 and first["model"] == "small"
        tokens_before = metric(s, "hearth_inter_token_latency_seconds_count")
        status, _, again = post(s.url, easy)
        assert status == 200
        assert again["usage"]["cached"] is True and again["usage"]["cost_usd"] == 0
        assert again["choices"][0]["text"] == first["choices"][0]["text"]
        samples = scrape(s.url)
        assert metric_sum(samples, "hearth_response_cache_hits_total") == 1
        assert metric_sum(samples, "hearth_inter_token_latency_seconds_count") == tokens_before
        # Reasoning, code and several questions: past the small model's difficulty.
        hard = {"model": "auto", "max_tokens": 4, "temperature": 0,
                "prompt": "Explain why this fails, step by step: ```int f();``` Why? How? What? When?"}
        status, _, answer = post(s.url, hard)
        assert status == 200 and answer["model"] == "large"
        assert metric(s, "hearth_cold_starts_total", model="large") == 1
