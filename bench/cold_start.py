#!/usr/bin/env python3
"""Cold start in one run: hearth on the .gguf and on its .hearth snapshot, llama.cpp on the
same .gguf, and the machine's read bandwidth for the same bytes.

    python3 bench/cold_start.py [--runs 5] [--threads 2] [--out cold_start.json]

Every measurement is a fresh process spawned by this script, alternating the engines so
that drifts in machine load hit all alike; medians are reported.

- cold: the model file is dropped from the page cache first (`hearth generate --evict`,
  posix_fadvise DONTNEED; the report says how much of the file was still resident, which
  must be ~0); warm: the file is in the page cache (a process that has just read it).
- hearth: `hearth generate --cold-report --json` with the spawn time passed in
  HEARTH_SPAWN_MONOTONIC_NS, so that the report covers spawn -> first token; stages come
  from Engine::load_timings().
- llama.cpp (llama-cpp-python, its CPU build): a child Python process that imports
  llama_cpp (not timed), drops the file from the cache itself for the cold case, then
  times Llama(model) and the first token (prompt eval + argmax); the spawn and import of
  Python are excluded, so the comparison is load -> first token for both engines, and
  hearth's spawn -> first token is reported beside it.
- read limit: the file dropped from the cache, then read sequentially in 16 MiB reads;
  limit = bytes / that bandwidth.
- warm instance: a second request on a loaded hearth Engine (the `hearth` CLI's first
  request pays one-time costs; bench_serving's closed loop at concurrency 1 gives the
  steady TTFT for a short prompt).

Goals (issue): cold TTFT <= 1.5 x (bytes / read bandwidth + first-token compute); >= 2x
faster than llama.cpp's cold start; a warm instance's TTFT for a short prompt < 20 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_HEARTH = REPO / "build" / "examples" / "cli" / "hearth"
PROMPT = "Once upon a time"

LLAMA_CHILD = r"""
import json, os, sys, time
import numpy as np
import llama_cpp
path, threads, prompt, evict = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
if evict:
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
start = time.perf_counter()
llm = llama_cpp.Llama(model_path=path, n_threads=threads, n_ctx=512, verbose=False)
loaded = time.perf_counter()
tokens = llm.tokenize(prompt.encode(), add_bos=True)
llm.eval(tokens)
first = int(np.argmax(llm.scores[llm.n_tokens - 1]))
done = time.perf_counter()
print(json.dumps({"load_ms": 1e3 * (loaded - start), "first_token_ms": 1e3 * (done - loaded),
                  "load_to_first_token_ms": 1e3 * (done - start), "token": first}))
"""


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_bandwidth(path: Path) -> float:
    """Bytes per second of one sequential read of the whole file, after dropping it."""
    evict(path)
    start = time.perf_counter()
    total = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(16 << 20):
            total += len(chunk)
    return total / (time.perf_counter() - start)


def run_hearth(hearth: Path, model: Path, threads: int, cold: bool) -> dict:
    args = [str(hearth), "generate", "--model", str(model), "--prompt", PROMPT,
            "--max-tokens", "1", "--temperature", "0", "--threads", str(threads),
            "--cold-report", "--json"] + (["--evict"] if cold else [])
    env = {**os.environ, "HEARTH_SPAWN_MONOTONIC_NS": str(time.monotonic_ns())}
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"hearth failed: {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])["cold_start"]


def run_llama(model: Path, threads: int, cold: bool) -> dict:
    r = subprocess.run([sys.executable, "-c", LLAMA_CHILD, str(model), str(threads), PROMPT,
                        "1" if cold else "0"], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"llama.cpp failed: {r.stderr.strip()[-500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


SHORT_PROMPTS = ["Hi!", "Hello there.", "What is 2+2?", "Name a colour.", "Say yes.",
                 "Good morning!", "Who are you?", "Tell me a word."]


def warm_instance_ttft(bench_serving: Path, model: Path, threads: int) -> float | None:
    """Median TTFT of short chat requests on a loaded Engine (closed loop, one client;
    the chat template's system message is shared, so the prefix cache holds it)."""
    if not bench_serving.exists():
        return None
    prompts = REPO / "build" / "cold_start_short_prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in SHORT_PROMPTS))
    out = REPO / "build" / "cold_start_warm.json"
    r = subprocess.run([str(bench_serving), "--model", str(model), "--prompts", str(prompts),
                        "--concurrency", "1", "--requests", "24", "--max_tokens", "1",
                        "--threads", str(threads), "--json_out", str(out)],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        print(f"bench_serving failed: {r.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return json.loads(out.read_text())["ttft_ms"]["p50"]


def median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--hearth", type=Path, default=DEFAULT_HEARTH)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    load_before = os.getloadavg()
    snapshot = args.model.with_suffix(".hearth")
    subprocess.run([str(args.hearth), "pack", str(args.model), "-o", str(snapshot)],
                   check=True, capture_output=True)
    try:
        import llama_cpp  # noqa: F401  (only to know whether the comparison can run)
        have_llama = True
    except ImportError:
        have_llama = False
        print("llama-cpp-python is not installed (scripts/setup.sh --bench): llama.cpp "
              "columns skipped", file=sys.stderr)

    results: dict[str, list[dict]] = {}
    bandwidth = []
    for _ in range(args.runs):
        bandwidth.append(read_bandwidth(args.model))
        for cold in (True, False):
            state = "cold" if cold else "warm"
            for name, path in (("hearth .gguf", args.model), ("hearth .hearth", snapshot)):
                if not cold:
                    run_hearth(args.hearth, path, args.threads, cold=False)  # warm the cache
                results.setdefault(f"{name} {state}", []).append(
                    run_hearth(args.hearth, path, args.threads, cold))
            if have_llama:
                if not cold:
                    run_llama(args.model, args.threads, cold=False)
                results.setdefault(f"llama.cpp {state}", []).append(
                    run_llama(args.model, args.threads, cold))

    file_bytes = args.model.stat().st_size
    bw = statistics.median(bandwidth)
    read_ms = 1e3 * file_bytes / bw
    compute_ms = median(results["hearth .gguf warm"], "first_token_ms")
    limit_ms = read_ms + compute_ms
    warm_ttft = warm_instance_ttft(args.hearth.parents[2] / "bench" / "bench_serving",
                                   args.model, args.threads)

    print(f"\nmodel {args.model.name}: {file_bytes / 1e6:.1f} MB; sequential read after "
          f"eviction {bw / 1e9:.2f} GB/s -> {read_ms:.1f} ms; first-token compute (warm) "
          f"{compute_ms:.1f} ms; limit {limit_ms:.1f} ms; {args.threads} threads, medians of "
          f"{args.runs} runs\n")
    print("| engine | page cache | resident at load | load ms | load -> first token ms | "
          "spawn -> first token ms | vs limit |")
    print("|---|---|---:|---:|---:|---:|---:|")
    summary = {"file_bytes": file_bytes, "read_gb_s": bw / 1e9, "read_ms": read_ms,
               "first_token_compute_ms": compute_ms, "limit_ms": limit_ms,
               "warm_instance_ttft_ms": warm_ttft, "loadavg_before": load_before,
               "loadavg_after": os.getloadavg(), "runs": results}
    for key, rows in results.items():
        engine, state = key.rsplit(" ", 1)
        ttft = median(rows, "load_to_first_token_ms")
        spawn = (f"{median(rows, 'spawn_to_first_token_ms'):.1f}"
                 if "spawn_to_first_token_ms" in rows[0] else "—")
        resident = f"{100 * median(rows, 'resident_before'):.0f} %" if "resident_before" in rows[0] else "—"
        print(f"| {engine} | {state} | {resident} | {median(rows, 'load_ms'):.1f} | {ttft:.1f} | "
              f"{spawn} | {ttft / limit_ms:.2f}x |")
    if any(key.endswith(" cold") and median(rows, "resident_before") > 0.05
           for key, rows in results.items() if "resident_before" in rows[0]):
        print("WARNING: the file stayed resident after eviction (another process maps it?): "
              "the cold rows are not cold; run on a private copy with --model", file=sys.stderr)
    print("\n| hearth stages (medians, ms) | open | page-in | tokenizer (beside it) | "
          "first token |")
    print("|---|---:|---:|---:|---:|")
    for key, rows in results.items():
        if key.startswith("hearth"):
            print(f"| {key} | {median(rows, 'open_ms'):.1f} | {median(rows, 'page_in_ms'):.1f} | "
                  f"{median(rows, 'tokenizer_ms'):.1f} | {median(rows, 'first_token_ms'):.1f} |")
    print()
    for state in ("cold", "warm"):
        if f"llama.cpp {state}" in results:
            llama = median(results[f"llama.cpp {state}"], "load_to_first_token_ms")
            for name in ("hearth .gguf", "hearth .hearth"):
                ours = median(results[f"{name} {state}"], "load_to_first_token_ms")
                print(f"{state}: llama.cpp / {name} = {llama / ours:.2f}x")
                summary[f"llama_over_{name.split()[1][1:]}_{state}"] = llama / ours
    if warm_ttft is not None:
        print(f"warm instance, short chat prompt: TTFT p50 {warm_ttft:.1f} ms")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")
    snapshot.unlink()
    print(f"load average (1 min, 5 min): {load_before[0]:.2f} {load_before[1]:.2f} before, "
          f"{summary['loadavg_after'][0]:.2f} {summary['loadavg_after'][1]:.2f} after",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
