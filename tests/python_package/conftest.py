"""Fixtures of the `hearth` package's tests. They run against the installed package
(`pip install .` into a clean virtual environment, as scripts/test.sh does), never
against the source tree."""
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _required(path):
    if not path.exists():
        pytest.fail(f"{path.relative_to(REPO)} is missing: run scripts/setup.sh first")
    return path


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def tiny_model():
    """stories260K: a real model small enough to load in milliseconds."""
    return _required(REPO / "tests/data/models/stories260K.gguf")


@pytest.fixture(scope="session")
def smollm2_path():
    return _required(REPO / "models/SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    import hearth
    with hearth.Engine(smollm2_path, threads=2) as engine:
        yield engine
