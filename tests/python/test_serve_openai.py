"""`hearth serve` against real clients on loopback: the official openai Python client
(chat and completions, streamed and not) and curl, for answers and for bad input."""
import json
import subprocess

import pytest

from serve_fixture import HEARTH, REPO, SMOLLM2, HearthServer, metric_sum, scrape

openai = pytest.importorskip("openai")

pytestmark = [
    pytest.mark.skipif(not HEARTH.exists(), reason=f"build the CLI first ({HEARTH})"),
    pytest.mark.skipif(not SMOLLM2.exists(), reason="run scripts/setup.sh to extract the model"),
]

MODEL = "smollm2"
CATALOG = REPO / "data/prices/catalog-2026.json"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def server():
    with HearthServer("--model", f"{MODEL}={SMOLLM2}", "--threads", "2", "--max-body-bytes",
                      "65536", "--catalog", str(CATALOG)) as s:
        yield s
    assert s.returncode == 0, s.stderr()


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)


def usage_of(response):
    return response.usage.model_dump()


def check_usage(usage, completion_tokens=None):
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] > 0
    if completion_tokens is not None:
        assert usage["completion_tokens"] == completion_tokens
    assert usage["cost_usd"] >= 0


def test_chat_answers_with_openai_client(client):
    r = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=16, temperature=0,
                                       seed=11)
    assert r.object == "chat.completion"
    assert r.model == MODEL
    assert r.choices[0].message.role == "assistant"
    assert "Paris" in r.choices[0].message.content
    assert r.choices[0].finish_reason in ("stop", "length")
    usage = usage_of(r)
    check_usage(usage)
    assert usage["cost_usd"] > 0 and usage["cached"] is False


def test_chat_stream_matches_whole_answer(client):
    messages = [{"role": "system", "content": "Answer in one sentence."},
                {"role": "user", "content": "Name a large animal that lives in the sea."}]
    stream = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=12,
                                            temperature=0, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["length"] or finish == ["stop"]
    usage = chunks[-1].usage.model_dump()
    assert not chunks[-1].choices
    check_usage(usage, 12 if finish == ["length"] else None)
    assert len(chunks) >= usage["completion_tokens"] // 2  # streamed piece by piece

    # The same deterministic request again, whole: the response cache's answer, identical.
    whole = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=12,
                                           temperature=0)
    assert whole.choices[0].message.content == text
    assert usage_of(whole)["cached"] is True
    assert usage_of(whole)["cost_usd"] == 0


def test_completions_streamed_and_whole_agree_for_a_seed(client):
    args = dict(model=MODEL, prompt="Once upon a time", temperature=0.9, seed=1234,
                extra_body={"ignore_eos": True})
    whole = client.completions.create(**args, max_tokens=10)
    assert whole.object == "text_completion"
    assert whole.choices[0].finish_reason == "length"
    check_usage(usage_of(whole), 10)
    # One token more, so that the cache cannot answer: the same seed draws the same first ten.
    pieces = list(client.completions.create(**args, max_tokens=11, stream=True))
    assert all(p.usage is None for p in pieces)  # no include_usage asked
    text = "".join(p.choices[0].text for p in pieces if p.choices)
    assert text.startswith(whole.choices[0].text) and len(text) > len(whole.choices[0].text)
    assert pieces[-1].choices[0].finish_reason == "length"


def test_max_tokens_and_stop(client):
    r = client.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=3, temperature=0)
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 3
    r = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=32, temperature=0,
                                       stop=["Paris"])
    assert r.choices[0].finish_reason == "stop"
    assert "Paris" not in r.choices[0].message.content
    assert r.choices[0].message.content.strip()


def test_models_health_and_readiness(client, server):
    assert [m.id for m in client.models.list()] == [MODEL]
    for path in ("/healthz", "/readyz"):
        out = curl(server, path)
        assert out["status"] == 200 and out["json"]["status"] in ("ok", "ready")


def test_cost_is_counted_per_tenant(client, server):
    tenant_client = client.with_options(default_headers={"X-Hearth-Tenant": "acme"})
    tenant_client.completions.create(model=MODEL, prompt="Hello", max_tokens=4, temperature=0.7)
    client.completions.create(model=MODEL, prompt="Hello", max_tokens=4, temperature=0.7,
                              user="globex")
    samples = scrape(server.url)
    assert metric_sum(samples, "hearth_cost_usd_total", tenant="acme") > 0
    assert metric_sum(samples, "hearth_cost_usd_total", tenant="globex") > 0
    assert metric_sum(samples, "hearth_requests_total", model=MODEL, code="200") >= 2


# --- curl ------------------------------------------------------------------------------

def curl(server, path, body=None, stream=False, raw=None, headers=()):
    """(status, headers, text and JSON if any) of curl against the server."""
    args = ["curl", "-s", "-i", "--max-time", "120"]
    if stream:
        args.append("-N")
    for h in headers:
        args += ["-H", h]
    if body is not None or raw is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    out = subprocess.run(args + [server.url + path], input=data, capture_output=True, text=True,
                         timeout=150)
    assert out.returncode == 0, out.stderr
    head, _, text = out.stdout.replace("\r\n", "\n").partition("\n\n")
    status = int(head.split()[1])
    parsed = None
    try:
        parsed = json.loads(text)
    except ValueError:
        pass
    return {"status": status, "head": head.lower(), "text": text, "json": parsed}


def test_curl_chat_and_stream(server):
    out = curl(server, "/v1/chat/completions",
               {"model": MODEL, "messages": QUESTION, "max_tokens": 8, "temperature": 0})
    assert out["status"] == 200
    assert out["json"]["choices"][0]["message"]["content"]
    out = curl(server, "/v1/completions",
               {"model": MODEL, "prompt": "The sky is", "max_tokens": 6, "stream": True,
                "temperature": 0.5}, stream=True)
    assert out["status"] == 200
    assert "content-type: text/event-stream" in out["head"]
    events = [e for e in out["text"].split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[len("data: "):]) for e in events[:-1]]
    assert all(c["object"] == "text_completion" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


BAD_INPUT = [
    ("malformed_json", "/v1/chat/completions", '{"model": "smollm2", "messages": [', 400, None),
    ("unknown_model", "/v1/chat/completions",
     {"model": "gpt-9", "messages": QUESTION}, 404, "model"),
    ("messages_not_list", "/v1/chat/completions",
     {"model": MODEL, "messages": "hello"}, 400, "messages"),
    ("missing_messages", "/v1/chat/completions", {"model": MODEL}, 400, "messages"),
    ("missing_prompt", "/v1/completions", {"model": MODEL}, 400, "prompt"),
    ("max_tokens_zero", "/v1/completions", {"model": MODEL, "prompt": "x", "max_tokens": 0}, 400,
     "max_tokens"),
    ("max_tokens_string", "/v1/completions", {"model": MODEL, "prompt": "x", "max_tokens": "5"},
     400, "max_tokens"),
    ("temperature_string", "/v1/completions",
     {"model": MODEL, "prompt": "x", "temperature": "hot"}, 400, "temperature"),
    ("n_two", "/v1/chat/completions", {"model": MODEL, "messages": QUESTION, "n": 2}, 400, "n"),
    ("oversized_body", "/v1/completions",
     {"model": MODEL, "prompt": "word " * 20000}, 413, None),
]


@pytest.mark.parametrize("name,path,body,status,param", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_openai_error(server, name, path, body, status, param):
    out = curl(server, path, raw=body if isinstance(body, str) else json.dumps(body))
    assert out["status"] == status, out["text"]
    error = out["json"]["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    assert error["param"] == param
    # The server keeps serving.
    assert curl(server, "/healthz")["status"] == 200


def test_openai_client_raises_typed_errors(client):
    with pytest.raises(openai.NotFoundError, match="gpt-9"):
        client.chat.completions.create(model="gpt-9", messages=QUESTION)
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        client.completions.create(model=MODEL, prompt="x", max_tokens=-1)


@pytest.mark.parametrize("args,exit_code,message", [
    (["--model", "missing=/nonexistent/model.gguf"], 1, "missing=/nonexistent/model.gguf"),
    (["--max-queue", "0"], 2, "--max-queue must be >= 1"),
    (["--port", "70000"], 2, "--port must be in [0, 65535]"),
    (["--route", "small"], 2, "expected SMALL,LARGE"),
    (["--autoscaler", "magic"], 2, "magic"),
], ids=["missing_model", "zero_queue", "bad_port", "bad_route", "unknown_policy"])
def test_bad_flags_fail_with_a_clear_message(args, exit_code, message):
    out = subprocess.run([str(HEARTH), "serve", "--port", "0", *args], capture_output=True,
                         text=True, timeout=60, cwd=REPO)
    assert out.returncode == exit_code, out.stderr
    assert message in out.stderr
    assert "listening" not in out.stdout
