"""`hearth serve` started on a free loopback port for a test, and its /metrics read back.

Shared by the deployment tests (Kubernetes manifests, Prometheus, load). The binary is
$HEARTH_BIN, else build/examples/cli/hearth, as in test_cli.py.

    with HearthServer("--model", str(SMOLLM2), "--max-queue", "4") as server:
        requests.get(server.url + "/healthz")
        samples = scrape(server.url)
        metric_sum(samples, "hearth_requests_total", code="200")
"""
import json
import os
import pathlib
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
HEARTH = pathlib.Path(os.environ.get("HEARTH_BIN", REPO / "build/examples/cli/hearth"))
SMOLLM2 = REPO / "models/SmolLM2-135M-Instruct.Q4_1.gguf"

LISTENING = re.compile(r"^hearth serve: listening on (http://\S+:(\d+))$")
START_TIMEOUT_S = 60
DRAIN_TIMEOUT_S = 60


class HearthServer:
    """One `hearth serve` process. Starting waits for its `listening on` line; stopping
    sends SIGTERM (the graceful drain) and records the exit status."""

    def __init__(self, *args):
        port_given = any(a == "--port" or a.startswith("--port=") for a in args)
        self.args = [str(HEARTH), "serve", *([] if port_given else ["--port", "0"]), *args]
        self.url = ""
        self.port = 0
        self.returncode = None
        self.stdout_lines = []
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._stderr_text = ""
        self._lines = queue.Queue()
        self._proc = None

    @property
    def pid(self):
        return self._proc.pid

    def start(self):
        self._proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self._stderr,
                                      text=True, bufsize=1)
        # Drained to the end on a thread so the server never blocks on a full pipe.
        threading.Thread(target=self._read_stdout, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                if self._proc.poll() is not None:
                    break
                continue
            if line is None:
                break
            match = LISTENING.match(line)
            if match:
                self.url, self.port = match.group(1), int(match.group(2))
                return self
        self.kill()
        raise RuntimeError(f"hearth serve did not start: {self.args}\nstdout: "
                           f"{self.stdout_lines}\nstderr: {self.stderr()}")

    def _read_stdout(self):
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def stderr(self):
        if self._stderr.closed:
            return self._stderr_text
        self._stderr.seek(0)
        return self._stderr.read()

    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    def peak_rss_bytes(self):
        """The process's high-water resident memory (VmHWM), read while it runs."""
        for line in pathlib.Path(f"/proc/{self._proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM in /proc status")

    def stop(self):
        """SIGTERM, then the exit status once it has drained (SIGKILL past the timeout)."""
        if self._proc is None or self.returncode is not None:
            return self.returncode
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self._proc.wait(timeout=DRAIN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
        return self.returncode

    def kill(self):
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc is not None:
            self.returncode = self._proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self._stderr_text = self.stderr()  # still there for a failing test's message
        self._stderr.close()


def http_get(url, timeout=10):
    """(status, headers, body text) of a GET; 4xx/5xx answers are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def post_completion(url, model, max_tokens, prompt="The capital of France is"):
    """(status, parsed JSON answer) of a greedy POST /v1/completions."""
    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": max_tokens,
                       "temperature": 0}).encode()
    req = urllib.request.Request(url + "/v1/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text exposition -> {(name, ((label, value), ...)): float}. Also checks
    what Prometheus itself would reject: a sample line that does not parse, or a sample
    given twice."""
    samples = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        if not match:
            raise ValueError(f"not a Prometheus sample line: {line!r}")
        name, labels, value = match.groups()
        key = (name, tuple(sorted(LABEL.findall(labels or ""))))
        if key in samples:
            raise ValueError(f"sample given twice: {line!r}")
        samples[key] = float(value)
    return samples


def scrape(url):
    status, _, body = http_get(url + "/metrics")
    if status != 200:
        raise RuntimeError(f"GET /metrics: {status} {body[:200]}")
    return parse_metrics(body)


def metric_families(text):
    """Family names declared by `# TYPE` lines or seen in samples (histogram suffixes folded
    into their family): what a query may name, even before a labelled series has a sample."""
    names = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    for name, _ in parse_metrics(text):
        names |= {name, re.sub(r"_(bucket|sum|count)$", "", name)}
    return names


def metric_sum(samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))
