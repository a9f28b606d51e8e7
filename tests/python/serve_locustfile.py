"""Locust users for test_serve_load.py: sampled completions against `hearth serve`
(temperature > 0 and no seed: not deterministic, so every one is generated rather than
served from the response cache).

Each answer is reported under its status code as the request name ("200", "429", ...),
so the CSV statistics give per-outcome counts and latencies. A 200 must carry a usable
completion; a 429 or 503 must carry Retry-After; anything else (other codes, connection
errors: code 0) is a failure.

    HEARTH_LOAD_MODEL=smollm2 HEARTH_LOAD_MAX_TOKENS=8 HEARTH_LOAD_WAIT_S=0.1 \\
      locust -f tests/python/serve_locustfile.py --headless -u 4 -r 4 -t 20s \\
      --host http://127.0.0.1:8080 --csv out/load
"""
import os

from locust import HttpUser, constant, task

MODEL = os.environ.get("HEARTH_LOAD_MODEL", "smollm2")
MAX_TOKENS = int(os.environ.get("HEARTH_LOAD_MAX_TOKENS", "8"))
PROMPTS = [
    "The capital of France is",
    "The sea is",
    "List three colours:",
    "Once upon a time",
]


def complete_answer(answer):
    """One choice, a known finish_reason, and usage that agrees with it (the model may
    sample end-of-sequence at once: 0 tokens with "stop" is an answer)."""
    (choice,) = answer["choices"]
    tokens = answer["usage"]["completion_tokens"]
    if choice["finish_reason"] == "length":
        return tokens == MAX_TOKENS
    return choice["finish_reason"] == "stop" and 0 <= tokens < MAX_TOKENS


class CompletionUser(HttpUser):
    wait_time = constant(float(os.environ.get("HEARTH_LOAD_WAIT_S", "0")))

    def on_start(self):
        self.turn = 0

    @task
    def complete(self):
        self.turn += 1
        body = {"model": MODEL, "prompt": PROMPTS[self.turn % len(PROMPTS)],
                "max_tokens": MAX_TOKENS, "temperature": 0.8}
        with self.client.post("/v1/completions", json=body, catch_response=True) as r:
            r.request_meta["name"] = str(r.status_code)
            if r.status_code == 200:
                if complete_answer(r.json()):
                    r.success()
                else:
                    r.failure(f"200 without a complete answer: {r.text[:300]}")
            elif r.status_code in (429, 503):
                if r.headers.get("Retry-After", "").isdigit():
                    r.success()
                else:
                    r.failure(f"{r.status_code} without a Retry-After in seconds")
            else:
                r.failure(f"status {r.status_code}: {r.error or r.text[:200]}")
