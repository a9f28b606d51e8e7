"""Compare hearth's prefill/decode speed with llama.cpp on the same GGUF model.

Why: llama.cpp is the yardstick for CPU inference; measuring both engines in
one run, on the same machine, model, prompt and thread counts, makes the
hearth/llama.cpp ratio meaningful.  The two engines are run alternately
(llama.cpp, hearth, llama.cpp, ...) so that drifts in machine load or clock
speed hit both alike, and medians over the runs are reported.

llama.cpp side (llama-cpp-python, model loaded once per thread count, not
timed): each run resets the context, evaluates the prompt in one batch, then
generates greedily (argmax of the logits) by evaluating one token at a time,
never stopping at EOS.  Timing is wall-clock (time.perf_counter) around
`Llama.eval`: prefill tok/s = prompt tokens / prompt eval time; decode tok/s =
(generated - 1) / time of the single-token evals (the first generated token
comes from the prefill logits).  This includes llama-cpp-python's per-call
overhead (tens of microseconds against milliseconds per token); llama.cpp's
own counters (llama_perf_context) are recorded in --out JSON as a cross-check.

hearth side: one process per run,
  HEARTH generate --model M --prompt P --max-tokens N --threads T
                  --temperature 0 --json [--hearth-extra-args]
whose last stdout line is a JSON object with prefill_tok_s and decode_tok_s.
If the binary is missing or fails, the llama.cpp figures are still reported.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import shlex
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_HEARTH = REPO / "build" / "examples" / "cli" / "hearth"
DEFAULT_PROMPT = ("The old lighthouse keeper climbed the winding stairs every evening, "
                  "and tonight, as the storm rolled in from the sea, he noticed")


@dataclass
class RunResult:
    """One generation: throughput figures and token counts."""

    prefill_tok_s: float
    decode_tok_s: float
    prompt_tokens: int
    completion_tokens: int
    extra: dict


class LlamaCppRunner:
    """A llama-cpp-python model held open for repeated timed generations."""

    def __init__(self, model: Path, threads: int, n_ctx: int):
        import llama_cpp

        self.lib = llama_cpp
        self.llm = llama_cpp.Llama(str(model), n_ctx=n_ctx, n_batch=n_ctx, n_threads=threads,
                                   n_threads_batch=threads, verbose=False)
        self.n_vocab = self.llm.n_vocab()

    def tokenize(self, prompt: str) -> list[int]:
        """Prompt tokens, with BOS if the model's metadata asks for it."""
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=False)
        if self.llm._model.add_bos_token():
            tokens = [self.llm.token_bos()] + tokens
        return tokens

    def _greedy(self) -> int:
        logits = self.lib.llama_get_logits_ith(self.llm.ctx, -1)
        row = np.ctypeslib.as_array(ctypes.cast(logits, ctypes.POINTER(ctypes.c_float)),
                                    shape=(self.n_vocab,))
        return int(row.argmax())

    def run(self, prompt_tokens: list[int], gen_tokens: int) -> RunResult:
        self.llm.reset()
        self.lib.llama_perf_context_reset(self.llm.ctx)
        t0 = time.perf_counter()
        self.llm.eval(prompt_tokens)
        t1 = time.perf_counter()
        token = self._greedy()
        for _ in range(gen_tokens - 1):
            self.llm.eval([token])
            token = self._greedy()
        t2 = time.perf_counter()
        perf = self.lib.llama_perf_context(self.llm.ctx)
        return RunResult(
            prefill_tok_s=len(prompt_tokens) / (t1 - t0),
            decode_tok_s=(gen_tokens - 1) / (t2 - t1),
            prompt_tokens=len(prompt_tokens),
            completion_tokens=gen_tokens,
            extra={
                "perf_prefill_tok_s": 1e3 * perf.n_p_eval / perf.t_p_eval_ms if perf.t_p_eval_ms else None,
                "perf_decode_tok_s": 1e3 * perf.n_eval / perf.t_eval_ms if perf.t_eval_ms else None,
            },
        )


def run_hearth(args: argparse.Namespace, threads: int) -> RunResult:
    """Run the hearth CLI once and parse its final JSON line."""
    cmd = [str(args.hearth_bin), "generate", "--model", str(args.model), "--prompt", args.prompt,
           "--max-tokens", str(args.gen_tokens), "--threads", str(threads),
           "--temperature", "0", "--json", *shlex.split(args.hearth_extra_args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"no JSON line in output: {proc.stdout[-300:]!r}")
    out = json.loads(lines[-1])
    return RunResult(prefill_tok_s=float(out["prefill_tok_s"]), decode_tok_s=float(out["decode_tok_s"]),
                     prompt_tokens=int(out["prompt_tokens"]),
                     completion_tokens=int(out["completion_tokens"]),
                     extra={k: out.get(k) for k in ("load_ms", "ttft_ms", "finish_reason")})


def median(runs: list[RunResult], field: str) -> float | None:
    return statistics.median(getattr(r, field) for r in runs) if runs else None


def fmt(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--hearth-bin", type=Path, default=DEFAULT_HEARTH)
    ap.add_argument("--hearth-extra-args", default="--ignore-eos",
                    help="extra flags for the hearth CLI (default: %(default)s)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=5, help="runs per engine and thread count")
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--prompt", default=DEFAULT_PROMPT)
    ap.add_argument("--out", type=Path, help="also write all runs and medians as JSON here")
    args = ap.parse_args()

    hearth_ok = args.hearth_bin.is_file()
    if not hearth_ok:
        print(f"hearth binary not found at {args.hearth_bin}: reporting llama.cpp only")

    results: dict = {"model": args.model.name, "prompt": args.prompt, "gen_tokens": args.gen_tokens,
                     "runs": args.runs, "timing": "wall-clock around llama_cpp.Llama.eval", "configs": []}
    for threads in args.threads:
        runner = LlamaCppRunner(args.model, threads, n_ctx=512)
        prompt_tokens = runner.tokenize(args.prompt)
        results["llama_cpp_prompt_tokens"] = len(prompt_tokens)
        runner.run(prompt_tokens, 8)  # warm-up: first-touch of weights, thread pool start
        llama_runs: list[RunResult] = []
        hearth_runs: list[RunResult] = []
        hearth_error = None
        for _ in range(args.runs):
            llama_runs.append(runner.run(prompt_tokens, args.gen_tokens))
            if hearth_ok and hearth_error is None:
                try:
                    hearth_runs.append(run_hearth(args, threads))
                except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError) as err:
                    hearth_error = str(err)
                    print(f"hearth failed at {threads} thread(s): {hearth_error}")
        del runner
        cfg = {"threads": threads,
               "llama_cpp": {"prefill_tok_s": median(llama_runs, "prefill_tok_s"),
                             "decode_tok_s": median(llama_runs, "decode_tok_s"),
                             "runs": [asdict(r) for r in llama_runs]},
               "hearth": {"prefill_tok_s": median(hearth_runs, "prefill_tok_s"),
                          "decode_tok_s": median(hearth_runs, "decode_tok_s"),
                          "runs": [asdict(r) for r in hearth_runs], "error": hearth_error}}
        results["configs"].append(cfg)

    print(f"\nModel {args.model.name}; prompt {results['llama_cpp_prompt_tokens']} tokens "
          f"(llama.cpp tokenizer), {args.gen_tokens} generated greedily; medians of {args.runs} runs.\n")
    print("| threads | llama.cpp prefill tok/s | hearth prefill tok/s | ratio | "
          "llama.cpp decode tok/s | hearth decode tok/s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for cfg in results["configs"]:
        lc, he = cfg["llama_cpp"], cfg["hearth"]
        print(f"| {cfg['threads']} | {fmt(lc['prefill_tok_s'])} | {fmt(he['prefill_tok_s'])} | "
              f"{fmt(ratio(he['prefill_tok_s'], lc['prefill_tok_s']), 2)} | {fmt(lc['decode_tok_s'])} | "
              f"{fmt(he['decode_tok_s'])} | {fmt(ratio(he['decode_tok_s'], lc['decode_tok_s']), 2)} |")
    print("\nratio = hearth / llama.cpp")
    for cfg in results["configs"]:
        if cfg["hearth"]["runs"]:
            first = cfg["hearth"]["runs"][0]
            print(f"hearth at {cfg['threads']} thread(s): {first['prompt_tokens']} prompt tokens, "
                  f"{first['completion_tokens']} generated")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
