"""libhearth.so from other languages, as they would use it: a C program that only dlopens
it, and a Python ctypes script without bindings, both on the real SmolLM2 model, plus the
exported symbol list (the C API and nothing else)."""
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("HEARTH_BUILD_DIR", REPO / "build"))
LIBRARY = BUILD / "capi/libhearth.so.0"
DLOPEN = BUILD / "examples/c_dlopen/hearth_dlopen"
CTYPES = REPO / "examples/python/ctypes_generate.py"
SMOLLM2 = REPO / "models/SmolLM2-135M-Instruct.Q4_1.gguf"

pytestmark = pytest.mark.skipif(not LIBRARY.exists() or not DLOPEN.exists(),
                                reason=f"build libhearth.so and the examples first ({BUILD})")
needs_model = pytest.mark.skipif(not SMOLLM2.exists(), reason="run scripts/setup.sh first")

PROMPT = "The capital of France is"


def run(*command):
    return subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


@needs_model
def test_c_program_through_dlopen_runs_the_real_model():
    r = run(DLOPEN, LIBRARY, SMOLLM2, PROMPT, 12)
    assert r.returncode == 0, r.stderr
    assert "Paris" in r.stdout
    assert "[finish length | prompt 5 tokens | completion 12 tokens]" in r.stdout


@needs_model
def test_ctypes_script_gives_the_same_greedy_answer():
    c = run(DLOPEN, LIBRARY, SMOLLM2, PROMPT, 12)
    py = run(sys.executable, CTYPES, LIBRARY, SMOLLM2, PROMPT, 12)
    assert py.returncode == 0, py.stderr
    assert py.stdout == c.stdout


@pytest.mark.parametrize("program", ["c", "python"])
def test_a_missing_model_is_the_librarys_message(program):
    command = ([DLOPEN, LIBRARY] if program == "c" else [sys.executable, CTYPES, LIBRARY])
    r = run(*command, "no/such/model.gguf", PROMPT)
    assert r.returncode == 1
    assert "cannot load the model" in r.stderr and "no/such/model.gguf" in r.stderr
    assert "Traceback" not in r.stderr


def test_only_the_c_api_is_exported():
    r = run("nm", "-D", "--defined-only", LIBRARY)
    assert r.returncode == 0, r.stderr
    names = [line.split()[-1].split("@")[0] for line in r.stdout.splitlines() if line.strip()]
    functions = [n for n in names if n != "HEARTH_0"]
    assert functions and all(n.startswith("hearth_") for n in functions), functions
    soname = run("readelf", "-d", LIBRARY).stdout
    assert "Library soname: [libhearth.so.0]" in soname
