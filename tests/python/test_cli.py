"""The `hearth` command as a user runs it: streamed answer, metrics line, --json, and a
clear message with a non-zero exit for every kind of bad input (never a crash)."""
import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
HEARTH = pathlib.Path(os.environ.get("HEARTH_BIN", REPO / "build/examples/cli/hearth"))
TINY = REPO / "tests/data/models/stories260K.gguf"
SMOLLM2 = REPO / "models/SmolLM2-135M-Instruct.Q4_1.gguf"

pytestmark = pytest.mark.skipif(not HEARTH.exists(), reason=f"build the CLI first ({HEARTH})")


def run(*args, env=None):
    return subprocess.run([str(HEARTH), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_streams_answer_and_prints_metrics():
    r = run("generate", "--model", str(TINY), "--prompt", "Once upon a time",
            "--max-tokens", "24", "--temperature", "0", "--threads", "1")
    assert r.returncode == 0, r.stderr
    answer, _, metrics = r.stdout.rpartition("\n\n[")
    assert len(answer.split()) >= 5
    for field in ("load", "time to first token", "prefill", "decode", "tokens/s"):
        assert field in metrics


def test_json_output_and_model_from_environment():
    r = run("generate", "--prompt", "Once upon a time", "--max-tokens", "16", "--temperature",
            "0", "--json", env={"HEARTH_MODEL": str(TINY)})
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["completion_tokens"] == 16
    assert out["finish_reason"] == "length"
    for key in ("text", "load_ms", "ttft_ms", "prefill_tok_s", "decode_tok_s", "prompt_tokens"):
        assert key in out
    assert out["backend"] == "cpu"


def test_auto_backend_runs_where_cuda_is_absent():
    r = run("generate", "--model", str(TINY), "--prompt", "Once upon a time", "--max-tokens",
            "4", "--backend", "auto", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["backend"] in ("cpu", "cuda")


def test_same_seed_same_text():
    args = ("generate", "--model", str(TINY), "--prompt", "Once upon a time", "--max-tokens",
            "24", "--temperature", "1.0", "--seed", "5", "--json")
    assert json.loads(run(*args).stdout)["text"] == json.loads(run(*args).stdout)["text"]


@pytest.mark.skipif(not SMOLLM2.exists(), reason="run scripts/setup.sh to extract the model")
def test_default_model_answers_chat_question():
    r = run("generate", "--chat", "--prompt", "What is the capital of France? Answer in one word.",
            "--temperature", "0", "--max-tokens", "16", "--json", env={"HEARTH_MODEL": ""})
    assert r.returncode == 0, r.stderr
    assert "Paris" in json.loads(r.stdout)["text"]


@pytest.mark.parametrize("args, message", [
    (("--model", "/no/such.gguf", "--prompt", "hi"), "/no/such.gguf"),
    (("--model", str(REPO / "tests/data/models/ggml-vocab-gpt-2.gguf"), "--prompt", "hi"),
     "architecture 'gpt2' is not supported"),
    (("--model", str(TINY), "--prompt", "hi", "--temperature", "-1"), "temperature"),
    (("--model", str(TINY), "--prompt", "hi", "--top-p", "1.5"), "top_p"),
    (("--model", str(TINY), "--prompt", "hi", "--max-tokens", "0"), "max_tokens"),
    (("--model", str(TINY), "--prompt", "word " * 600, "--ctx", "64"), "context"),
    (("--model", str(TINY), "--prompt", ""), "--prompt"),
    (("--model", str(TINY), "--prompt", "hi", "--backend", "tpu"), "unknown backend 'tpu'"),
])
def test_bad_input_gets_clear_error(args, message):
    r = run("generate", *args)
    assert r.returncode != 0
    assert message in r.stderr
    assert r.returncode < 128  # an error exit, not a signal


def test_truncated_model_is_rejected(tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(TINY.read_bytes()[:5000])
    r = run("generate", "--model", str(cut), "--prompt", "hi")
    assert r.returncode == 1
    assert "truncated" in r.stderr


@pytest.mark.parametrize("model", [TINY, SMOLLM2], ids=["stories260K", "SmolLM2"])
def test_pack_round_trip_generates_the_same_text(tmp_path, model):
    if not model.exists():
        pytest.skip(f"{model} is not extracted (scripts/setup.sh)")
    snap = tmp_path / "model.hearth"
    r = run("pack", str(model), "-o", str(snap))
    assert r.returncode == 0, r.stderr
    assert "packed" in r.stdout and str(snap) in r.stdout
    assert snap.read_bytes()[:8] == b"HEARTHSN"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.hearth"]
    args = ("--prompt", "Once upon a time", "--max-tokens", "24", "--temperature", "0", "--json")
    want = run("generate", "--model", str(model), *args)
    got = run("generate", "--model", str(snap), *args)
    assert want.returncode == 0 and got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["text"] == json.loads(want.stdout)["text"]


def test_pack_bad_input_gets_clear_error(tmp_path):
    snap = tmp_path / "tiny.hearth"
    assert run("pack", str(TINY), "-o", str(snap)).returncode == 0
    # A damaged snapshot: one flipped byte in the weights.
    data = bytearray(snap.read_bytes())
    data[len(data) - 5000] ^= 0x01
    bad = tmp_path / "bad.hearth"
    bad.write_bytes(bytes(data))
    r = run("generate", "--model", str(bad), "--prompt", "hi")
    assert r.returncode == 1
    assert "chunk 0 of 1" in r.stderr and "re-pack" in r.stderr
    # A truncated one.
    cut = tmp_path / "cut.hearth"
    cut.write_bytes(snap.read_bytes()[:10000])
    r = run("generate", "--model", str(cut), "--prompt", "hi")
    assert r.returncode == 1
    assert "truncated" in r.stderr
    # Packing errors: missing input, missing output directory, onto itself, full disk.
    for args, message in [
        (("pack", str(tmp_path / "none.gguf"), "-o", str(tmp_path / "x.hearth")), "none.gguf"),
        (("pack", str(TINY), "-o", str(tmp_path / "no/dir/x.hearth")), "no/dir/x.hearth"),
        (("pack", str(snap), "-o", str(snap)), "onto itself"),
        (("pack", str(TINY), "-o", "/dev/full"), "/dev/full"),
    ]:
        r = run(*args)
        assert r.returncode == 1, args
        assert message in r.stderr, (args, r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.hearth", "cut.hearth", "tiny.hearth"]
    # Usage errors.
    assert run("pack", str(TINY)).returncode == 2
    assert run("pack", "-o", str(snap)).returncode == 2
