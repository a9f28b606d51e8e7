#!/usr/bin/env python3
"""hearth's serving throughput with 16-bit and 8-bit activations, A/B in one run.

Runs build/bench/bench_serving (hearth's side of compare_serving.py: the same workload,
closed loop, fresh process per run, untimed warm-up) at each --concurrency with
--activations 16 and 8, the two modes alternating at every load and repetition so that
both see the same machine. A run during which others used more than --loaded-cores
(as compare_serving measures it) is repeated, at most --retries times, and the medians
take the quiet runs where there are any. Prints per mode and load the median aggregate
output tokens/s over --reps runs, the single-stream decode rate (1000 / mean inter-token
ms at C=1), the ratio of each load's throughput to it, and the CPU others used.

    python3 bench/ab_activations.py --concurrency 1 32 --reps 3 --out ab.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_serving import (DEFAULT_HEARTH, DEFAULT_MODEL, DEFAULT_PROMPTS,  # noqa: E402
                             busy_cpu_s, children_cpu_s, last_json_line, wait_for_quiet)

MODES = ("16", "8")


def run_quiet(args: argparse.Namespace, concurrency: int, bits: str) -> dict:
    """run_once, repeated while others used more than --loaded-cores; the last run."""
    for attempt in range(args.retries + 1):
        r = run_once(args, concurrency, bits)
        r["quiet"] = r["other_cores"] <= args.loaded_cores
        if r["quiet"]:
            break
        print(f"  {bits}-bit C={concurrency}: others used {r['other_cores']:.2f} cores"
              f"{', again' if attempt < args.retries else ''}", flush=True)
    return r


def run_once(args: argparse.Namespace, concurrency: int, bits: str) -> dict:
    cmd = [str(args.hearth_bin), "--mode=closed", f"--concurrency={concurrency}",
           f"--requests={max(2 * concurrency, args.min_requests)}",
           f"--max_tokens={args.max_tokens}", f"--threads={args.threads}",
           f"--model={args.model}", f"--prompts={args.prompts}", f"--activations={bits}"]
    wait_for_quiet(args.quiet_wait, args.quiet_cores)
    t0, busy0, own0 = time.perf_counter(), busy_cpu_s(), children_cpu_s()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.run_timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"bench_serving exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    out = last_json_line(proc.stdout)
    out["other_cores"] = max(0.0, (busy_cpu_s() - busy0) - (children_cpu_s() - own0)) / wall
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hearth-bin", type=Path, default=DEFAULT_HEARTH)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--min-requests", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--run-timeout", type=float, default=600)
    ap.add_argument("--quiet-wait", type=float, default=5)
    ap.add_argument("--quiet-cores", type=float, default=0.3)
    ap.add_argument("--loaded-cores", type=float, default=0.25)
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--out", type=Path, help="also write every run and the medians as JSON here")
    args = ap.parse_args()
    if not args.hearth_bin.is_file():
        sys.exit(f"{args.hearth_bin} not found: build the bench_serving target first")

    runs: dict[str, list[dict]] = {f"{bits}/C={c}": [] for bits in MODES for c in args.concurrency}
    for rep in range(args.reps):
        for c in args.concurrency:
            # Alternate which mode goes first, so neither always follows the other.
            for bits in MODES if rep % 2 == 0 else MODES[::-1]:
                r = run_quiet(args, c, bits)
                runs[f"{bits}/C={c}"].append(r)
                print(f"rep {rep} {bits}-bit C={c}: {r['output_tok_s']:.1f} tok/s, "
                      f"itl mean {r['itl_ms']['mean']:.2f} ms, others {r['other_cores']:.2f} "
                      f"cores", flush=True)

    medians = {}
    for key, all_runs in runs.items():
        rs = [r for r in all_runs if r["quiet"]] or all_runs
        medians[key] = {
            "quiet_runs": sum(r["quiet"] for r in all_runs),
            "output_tok_s": statistics.median(r["output_tok_s"] for r in rs),
            "itl_mean_ms": statistics.median(r["itl_ms"]["mean"] for r in rs),
            "ttft_p50_ms": statistics.median(r["ttft_ms"]["p50"] for r in rs),
            "other_cores": statistics.median(r["other_cores"] for r in rs),
        }
    print("\n| activations | load | tok/s (median) | / single-stream decode | TTFT p50 ms | "
          "others' cores | quiet runs |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for bits in MODES:
        base = medians.get(f"{bits}/C=1")
        single = 1e3 / base["itl_mean_ms"] if base else None
        for c in args.concurrency:
            m = medians[f"{bits}/C={c}"]
            ratio = f"{m['output_tok_s'] / single:.2f}" if single else "-"
            print(f"| {bits}-bit | C={c} | {m['output_tok_s']:.1f} | {ratio} | "
                  f"{m['ttft_p50_ms']:.0f} | {m['other_cores']:.2f} | "
                  f"{m['quiet_runs']}/{len(runs[f'{bits}/C={c}'])} |")
        if single:
            print(f"{bits}-bit single-stream decode (1000 / mean inter-token ms at C=1): "
                  f"{single:.1f} tok/s")
    if args.out:
        args.out.write_text(json.dumps({"runs": runs, "medians": medians}, indent=1) + "\n")


if __name__ == "__main__":
    main()
