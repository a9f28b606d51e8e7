"""Regenerate the teacher-forced golden fixtures in tests/data/reference/.

Why: hearth's engine is checked against logits from an independent NumPy
reference (llama_numpy.py).  This script tokenises a fixed public-domain
English passage with an independent tokenizer (llama.cpp's, through
llama-cpp-python), runs the reference over the whole sequence, and stores
per-position results as JSON.  It also runs llama.cpp itself on the same
tokens and records its perplexity and top-1 agreement with the reference:
those two numbers validate the reference (a RoPE-layout, shape or epsilon bug
shows up as a collapse in agreement) and are not used by hearth's tests.

Fixture fields (lists indexed by position i = 0 .. n-2, i.e. the prediction
made after reading tokens[0..i]):
  model, tokens, bos_added, argmax, top1_margin (reference top1 - top2
  logit), target_logprob, perplexity (exp(-mean(target_logprob))), top5,
  logits_head (first 16 logits of positions 0..3, unnormalised), reference,
  and the llama_cpp_* validation figures (see llama_cpp_check).
Floats: target_logprob and perplexity keep 10 significant digits so a re-run
can be compared at 1e-6; everything else is rounded to 6 significant digits.

Usage: python tests/reference/gen_fixtures.py [--only stories260K.gguf]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llama_numpy import LlamaReference, log_softmax  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "tests" / "data" / "reference"
TEXT_FILE = DATA_DIR / "english.txt"
REFERENCE_DESCRIPTION = "numpy float64 forward on gguf-dequantised weights"

# (model path relative to the repo, number of tokens kept incl. BOS if added)
MODELS = [
    ("tests/data/models/stories260K.gguf", 256),
    ("models/SmolLM2-135M-Instruct.Q4_1.gguf", 600),
]
N_CTX = 1024
N_THREADS = 2


def fixture_path(model_path: str | Path) -> Path:
    """tests/data/reference/<model stem>_teacher_forced.json."""
    return DATA_DIR / f"{Path(model_path).stem}_teacher_forced.json"


def tokenize(model_path: str | Path, text: str, n_tokens: int) -> tuple[list[int], bool]:
    """Tokenise with llama.cpp's tokenizer; prefix BOS iff the model asks for it."""
    from llama_cpp import Llama

    vocab = Llama(str(model_path), vocab_only=True, verbose=False)
    tokens = vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    add_bos = bool(vocab._model.add_bos_token())
    if add_bos:
        tokens = [vocab.token_bos()] + tokens
    if len(tokens) < n_tokens:
        raise ValueError(f"{TEXT_FILE.name} gives only {len(tokens)} tokens, need {n_tokens}")
    return tokens[:n_tokens], add_bos


def _round(values, digits: int):
    """Round floats (nested lists ok) to `digits` significant digits."""
    if isinstance(values, (list, tuple, np.ndarray)):
        return [_round(v, digits) for v in values]
    return float(f"{float(values):.{digits}g}")


def reference_fields(ref: LlamaReference, tokens: list[int]) -> tuple[dict, np.ndarray]:
    """Run the reference; return the per-position fixture fields and the raw logits."""
    logits = ref.forward(tokens)
    logprobs = log_softmax(logits[:-1])
    targets = np.asarray(tokens[1:])
    target_lp = logprobs[np.arange(len(targets)), targets]
    top5 = np.argsort(-logits[:-1], axis=-1, kind="stable")[:, :5]
    top2 = np.sort(logits[:-1], axis=-1)[:, -2:]
    return {
        "argmax": logits[:-1].argmax(axis=-1).tolist(),
        "top1_margin": _round(top2[:, 1] - top2[:, 0], 6),
        "target_logprob": _round(target_lp, 10),
        "perplexity": _round(np.exp(-target_lp.mean()), 10),
        "top5": top5.tolist(),
        "logits_head": _round(logits[:4, :16], 6),
    }, logits[:-1]


def llama_cpp_check(model_path: str | Path, tokens: list[int], fields: dict,
                    ref_logits: np.ndarray) -> dict:
    """Compare llama.cpp on the same tokens with the reference.

    The KV cache is kept in F32 (llama.cpp defaults to F16) so that, for an F32
    model such as stories260K, the only differences left are summation order:
    there the logits must agree to ~1e-4, which is the sharpest check we have
    that the reference is right.  For quantised models llama.cpp also rounds
    activations to 8 bits before each matmul, which flips near-tied top-1
    choices; llama_cpp_max_disagreement_margin records the largest reference
    top1-top2 logit gap at which that happened.
    """
    from llama_cpp import Llama

    f32 = 0  # GGML_TYPE_F32
    llm = Llama(str(model_path), n_ctx=N_CTX, n_batch=N_CTX, logits_all=True,
                n_threads=N_THREADS, type_k=f32, type_v=f32, verbose=False)
    llm.eval(tokens)
    logits = np.asarray(llm.scores[: len(tokens) - 1], dtype=np.float64)
    lp = log_softmax(logits)[np.arange(len(tokens) - 1), tokens[1:]]
    disagree = logits.argmax(axis=-1) != np.asarray(fields["argmax"])
    margins = np.asarray(fields["top1_margin"])[disagree]
    return {
        "llama_cpp_perplexity": _round(np.exp(-lp.mean()), 6),
        "llama_cpp_top1_agreement_with_reference": _round(1.0 - disagree.mean(), 6),
        "llama_cpp_max_abs_logit_diff": _round(np.abs(logits - ref_logits).max(), 6),
        "llama_cpp_max_disagreement_margin": _round(margins.max() if margins.size else 0.0, 6),
    }


def write_fixture(path: Path, fixture: dict) -> None:
    """One top-level key per line: compact, yet readable in a diff."""
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in fixture.items())
    path.write_text("{\n" + body + "\n}\n")


def generate(model_rel: str, n_tokens: int, text: str) -> dict:
    """Build, write and return the fixture for one model."""
    model_path = REPO / model_rel
    t0 = time.perf_counter()
    tokens, bos_added = tokenize(model_path, text, n_tokens)
    ref = LlamaReference(str(model_path))
    t1 = time.perf_counter()
    fields, logits = reference_fields(ref, tokens)
    t2 = time.perf_counter()
    check = llama_cpp_check(model_path, tokens, fields, logits)
    t3 = time.perf_counter()
    fixture = {"model": model_path.name, "tokens": tokens, "bos_added": bos_added, **fields,
               "reference": REFERENCE_DESCRIPTION, **check}
    out = fixture_path(model_path)
    write_fixture(out, fixture)
    print(f"{model_path.name}: {len(tokens)} tokens (bos_added={bos_added}), "
          f"reference ppl {fixture['perplexity']:.4f}, llama.cpp ppl {check['llama_cpp_perplexity']:.4f}, "
          f"top-1 agreement {check['llama_cpp_top1_agreement_with_reference']:.4f} "
          f"(max disagreement margin {check['llama_cpp_max_disagreement_margin']:.3f}, "
          f"max |logit diff| {check['llama_cpp_max_abs_logit_diff']:.2g}); "
          f"load {t1 - t0:.1f}s, reference forward {t2 - t1:.1f}s, llama.cpp {t3 - t2:.1f}s; "
          f"wrote {out.relative_to(REPO)} ({out.stat().st_size / 1024:.0f} KiB)")
    return fixture


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", metavar="FILE", help="regenerate only the model with this file name")
    args = ap.parse_args()
    text = TEXT_FILE.read_text(encoding="utf-8")
    selected = [m for m in MODELS if args.only in (None, Path(m[0]).name)]
    if not selected:
        ap.error(f"unknown model {args.only!r}; known: {[Path(m[0]).name for m in MODELS]}")
    for model_rel, n_tokens in selected:
        generate(model_rel, n_tokens, text)


if __name__ == "__main__":
    main()
