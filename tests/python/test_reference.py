"""Checks on the NumPy llama reference and its committed golden fixtures.

Why: hearth's C++ tests trust tests/data/reference/*_teacher_forced.json as
ground truth.  These tests make sure the fixtures are internally consistent
and that re-running the reference reproduces them (so the generator is
deterministic and the committed files were not hand-edited or produced by a
different version of the reference).

Re-running SmolLM2 (600 tokens, float64) takes ~20 s and ~2.5 GB of memory on
2 cores, so it is not marked slow; it is skipped when the git-ignored model
file is absent.  llama-cpp-python is not needed: tokens come from the fixture.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("gguf")

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "reference"))
from gen_fixtures import MODELS, fixture_path, reference_fields  # noqa: E402
from llama_numpy import LlamaReference  # noqa: E402

MAX_FIXTURE_BYTES = 500 * 1024
CASES = [pytest.param(model, n, id=Path(model).stem) for model, n in MODELS]


def load_fixture(model_rel: str) -> dict:
    return json.loads(fixture_path(model_rel).read_text())


@pytest.mark.parametrize("model_rel,n_tokens", CASES)
def test_fixture_is_consistent(model_rel: str, n_tokens: int) -> None:
    """Lengths, perplexity definition and field relations hold in the committed file."""
    path = fixture_path(model_rel)
    assert path.stat().st_size < MAX_FIXTURE_BYTES
    fx = load_fixture(model_rel)
    n = len(fx["tokens"])
    assert fx["model"] == Path(model_rel).name
    assert n == n_tokens
    for key in ("argmax", "top1_margin", "target_logprob", "top5"):
        assert len(fx[key]) == n - 1, key
    assert fx["perplexity"] == pytest.approx(math.exp(-np.mean(fx["target_logprob"])), rel=1e-8)
    assert all(lp <= 0.0 for lp in fx["target_logprob"])
    assert all(m >= 0.0 for m in fx["top1_margin"])
    assert all(len(t) == 5 and t[0] == a for t, a in zip(fx["top5"], fx["argmax"]))
    assert np.shape(fx["logits_head"]) == (4, 16)
    # The llama.cpp cross-check recorded at generation time validates the reference.
    assert fx["llama_cpp_perplexity"] == pytest.approx(fx["perplexity"], rel=0.01)
    assert fx["llama_cpp_top1_agreement_with_reference"] >= 0.95


@pytest.mark.parametrize("model_rel,n_tokens", CASES)
def test_reference_reproduces_fixture(model_rel: str, n_tokens: int) -> None:
    """Re-running the reference on the fixture's tokens gives the committed results."""
    model_path = REPO / model_rel
    if not model_path.exists():
        pytest.skip(f"{model_rel} not present (git-ignored model)")
    fx = load_fixture(model_rel)
    fields, _ = reference_fields(LlamaReference(str(model_path)), fx["tokens"])
    assert fields["argmax"] == fx["argmax"]
    assert fields["top5"] == fx["top5"]
    np.testing.assert_allclose(fields["target_logprob"], fx["target_logprob"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fields["top1_margin"], fx["top1_margin"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fields["logits_head"], fx["logits_head"], rtol=1e-5, atol=1e-5)
    assert fields["perplexity"] == pytest.approx(fx["perplexity"], rel=1e-8)
