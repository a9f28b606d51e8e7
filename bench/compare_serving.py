"""Compare hearth's serving throughput and latency with llama.cpp's batched serving.

Why: the Engine batches concurrent requests (continuous batching, paged KV); the
question is how aggregate output tokens/s grow with concurrency and what time to
first token looks like under a random arrival load, measured against llama.cpp's
own batched serving on the same machine, model, threads and workload, in one run.

What runs (each run a fresh process, untimed warm-up inside):
- hearth:    bench_serving (bench/bench_serving.cc, in-process Engine);
- llama.cpp: bench/llama_cpp_serving.py (llama-server's --parallel/--cont-batching
             loop over llama.cpp's C API; slots = concurrency in the closed loop,
             64 under Poisson load, as hearth's default max_sequences).
Both send the same requests: chat-formatted prompts from bench/serving_prompts.jsonl,
greedy, exactly --max-tokens tokens each (EOS ignored), 2 threads by default.

1. Closed loop at each --concurrency C: C clients, each submitting its next
   request when the previous finishes, max(2C, --min-requests) requests.
2. One Poisson load: --poisson-requests arrivals at --rate requests/s (default:
   --load-fraction of hearth's best closed-loop capacity measured above, i.e.
   tok/s / max_tokens), the same seeded schedule for both engines.

Runs are interleaved (llama.cpp, hearth, at each level, for every repetition) so
that drifts in machine load hit both alike; medians over --reps are reported.
The machine is shared: before each run the script waits (at most --quiet-wait s)
for other processes to use less than --quiet-cores cores, and it measures the
cores they used during the run (busy CPU time from /proc/stat minus the run's
own).  A run during which they used more than --loaded-cores is kept in --out
but repeated (at most --retries times), and medians are taken over the quiet
runs (over all, marked *, if none was quiet).  This matters more for llama.cpp:
its threads (an OpenMP build) spin at every barrier, so sharing the cores slows
it down far more than the cores lost; hearth's workers spin briefly, then sleep.
Prints a markdown table; --out writes every run as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_PROMPTS = REPO / "bench" / "serving_prompts.jsonl"
DEFAULT_HEARTH = REPO / "build" / "bench" / "bench_serving"
LLAMA_SCRIPT = REPO / "bench" / "llama_cpp_serving.py"


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (user, system, irq, steal)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for_quiet(max_wait: float, max_cores: float) -> float:
    """Waits until others use fewer than max_cores over one second, or max_wait
    seconds; returns the cores they used in the last second."""
    deadline = time.monotonic() + max_wait
    while True:
        b0, t0 = busy_cpu_s(), time.monotonic()
        time.sleep(1.0)
        cores = (busy_cpu_s() - b0) / (time.monotonic() - t0)
        if cores < max_cores or time.monotonic() >= deadline:
            return cores


def last_json_line(stdout: str) -> dict:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"no JSON line in output: {stdout[-300:]!r}")
    return json.loads(lines[-1])


def run_engine(engine: str, args: argparse.Namespace, load: dict) -> dict:
    """One run of one engine; load has mode, concurrency, requests and rate."""
    common = {"mode": load["mode"], "concurrency": load["concurrency"],
              "requests": load["requests"], "rate": load["rate"], "seed": args.seed,
              "max-tokens": args.max_tokens, "threads": args.threads,
              "model": args.model, "prompts": args.prompts}
    if engine == "hearth":
        cmd = [str(args.hearth_bin)] + [f"--{k.replace('-', '_')}={v}" for k, v in common.items()]
    else:
        cmd = [sys.executable, str(LLAMA_SCRIPT)] + [f"--{k}={v}" for k, v in common.items()]
    cores_before = wait_for_quiet(args.quiet_wait, args.quiet_cores)
    t0, busy0, own0 = time.perf_counter(), busy_cpu_s(), children_cpu_s()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.run_timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    out = last_json_line(proc.stdout)
    out["process_s"] = wall
    out["other_cores_before"] = cores_before
    out["other_cores"] = max(0.0, (busy_cpu_s() - busy0) - (children_cpu_s() - own0)) / wall
    return out


def med(runs: list[dict], *path: str) -> float | None:
    values = []
    for r in runs:
        v = r
        for key in path:
            v = v.get(key) if isinstance(v, dict) else None
        if v is not None:
            values.append(v)
    return statistics.median(values) if values else None


def fmt(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def used(median: dict) -> str:
    """Runs behind a median; * when they were all loaded."""
    return f"{median['runs_used']}{'' if median['quiet'] else '*'}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def summary(all_runs: list[dict]) -> dict:
    quiet = [r for r in all_runs if not r["loaded"]]
    runs = quiet or all_runs
    return {"runs_used": len(runs), "quiet": bool(quiet) or not all_runs,
            "output_tok_s": med(runs, "output_tok_s"),
            "ttft_p50": med(runs, "ttft_ms", "p50"), "ttft_p99": med(runs, "ttft_ms", "p99"),
            "itl_mean": med(runs, "itl_ms", "mean"), "itl_p99": med(runs, "itl_ms", "p99"),
            "e2e_p50": med(runs, "e2e_ms", "p50"), "e2e_p99": med(runs, "e2e_ms", "p99"),
            "errors": sum(r.get("errors", 0) for r in all_runs),
            "other_cores": med(runs, "other_cores"),
            "prompt_tokens": med(runs, "prompt_tokens"),
            "cached_prompt_tokens": med(runs, "cached_prompt_tokens")}


def run_interleaved(args: argparse.Namespace, loads: list[dict], results: dict) -> None:
    """Every repetition runs every load, llama.cpp then hearth, repeating loaded runs;
    failures are recorded."""
    for rep in range(args.reps):
        for load in loads:
            for engine in ("llama_cpp", "hearth"):
                entry = results[load["key"]][engine]
                for _ in range(1 + args.retries):
                    try:
                        run = run_engine(engine, args, load)
                    except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError,
                            TypeError) as err:
                        entry["failures"].append(str(err))
                        print(f"[rep {rep + 1}/{args.reps}] {load['key']} {engine} failed: {err}",
                              flush=True)
                        break
                    run["loaded"] = run["other_cores"] > args.loaded_cores
                    entry["runs"].append(run)
                    print(f"[rep {rep + 1}/{args.reps}] {load['key']:>8} {engine:>9}: "
                          f"{run['output_tok_s']:.1f} tok/s, TTFT p50 {run['ttft_ms']['p50']:.0f} ms, "
                          f"errors {run['errors']}, other cores {run['other_cores']:.2f}"
                          f"{' (loaded: again)' if run['loaded'] else ''}", flush=True)
                    if not run["loaded"]:
                        break


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS)
    ap.add_argument("--hearth-bin", type=Path, default=DEFAULT_HEARTH)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 32, 64])
    ap.add_argument("--min-requests", type=int, default=8,
                    help="closed loop: requests = max(2 * C, this)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--poisson-requests", type=int, default=64)
    ap.add_argument("--rate", type=float, default=0.0,
                    help="Poisson arrivals/s; 0 = --load-fraction of hearth's measured capacity")
    ap.add_argument("--load-fraction", type=float, default=0.65)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--run-timeout", type=float, default=600)
    ap.add_argument("--quiet-wait", type=float, default=10,
                    help="most seconds to wait before a run for the machine to calm down")
    ap.add_argument("--quiet-cores", type=float, default=0.3,
                    help="cores others may use before a run for the machine to count as quiet")
    ap.add_argument("--loaded-cores", type=float, default=0.25,
                    help="cores others may use during a run before it counts as loaded")
    ap.add_argument("--retries", type=int, default=2, help="repeats of a loaded run")
    ap.add_argument("--out", type=Path, help="also write every run and the medians as JSON here")
    args = ap.parse_args()
    if not args.hearth_bin.is_file():
        sys.exit(f"{args.hearth_bin} not found: build the bench_serving target first")

    started = time.perf_counter()
    closed = [{"key": f"C={c}", "mode": "closed", "concurrency": c,
               "requests": max(2 * c, args.min_requests), "rate": 1.0}
              for c in args.concurrency]
    results: dict = {load["key"]: {"load": load,
                                   "llama_cpp": {"runs": [], "failures": []},
                                   "hearth": {"runs": [], "failures": []}} for load in closed}
    run_interleaved(args, closed, results)

    rate = args.rate
    if rate <= 0:
        capacity = max((summary(results[load["key"]]["hearth"]["runs"])["output_tok_s"] or 0)
                       for load in closed)
        if capacity <= 0:
            sys.exit("hearth produced no closed-loop figure to size the Poisson load on")
        rate = round(args.load_fraction * capacity / args.max_tokens, 2)
    poisson = {"key": "poisson", "mode": "poisson", "concurrency": 64,
               "requests": args.poisson_requests, "rate": rate}
    results["poisson"] = {"load": poisson, "llama_cpp": {"runs": [], "failures": []},
                          "hearth": {"runs": [], "failures": []}}
    run_interleaved(args, [poisson], results)
    elapsed = time.perf_counter() - started

    for entry in results.values():
        for engine in ("llama_cpp", "hearth"):
            entry[engine]["median"] = summary(entry[engine]["runs"])

    base = results.get("C=1", {}).get("hearth", {}).get("median", {})
    print(f"\nModel {args.model.name}; {args.threads} threads each; {args.max_tokens} tokens "
          f"per request (greedy, EOS ignored); medians of {args.reps} interleaved runs; "
          f"{elapsed / 60:.1f} min in all.\n")
    print("| load | hearth tok/s | llama.cpp tok/s | hearth / llama.cpp | hearth / hearth C=1 | "
          "hearth TTFT p50 / p99 ms | llama.cpp TTFT p50 / p99 ms | runs used hearth / llama.cpp |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key, entry in results.items():
        he, lc = entry["hearth"]["median"], entry["llama_cpp"]["median"]
        label = key if key != "poisson" else f"Poisson {rate:g}/s, {args.poisson_requests} req"
        print(f"| {label} | {fmt(he['output_tok_s'], 1)} | {fmt(lc['output_tok_s'], 1)} | "
              f"{fmt(ratio(he['output_tok_s'], lc['output_tok_s']), 2)} | "
              f"{fmt(ratio(he['output_tok_s'], base.get('output_tok_s')), 2) if key != 'poisson' else '-'} | "
              f"{fmt(he['ttft_p50'])} / {fmt(he['ttft_p99'])} | "
              f"{fmt(lc['ttft_p50'])} / {fmt(lc['ttft_p99'])} | "
              f"{used(he)} / {used(lc)} |")
    p_he, p_lc = results["poisson"]["hearth"]["median"], results["poisson"]["llama_cpp"]["median"]
    print("\nPoisson tok/s is bounded by the arrival rate: it shows whether an engine kept up.")
    print(f"Poisson end-to-end p50 / p99 ms: hearth {fmt(p_he['e2e_p50'])} / "
          f"{fmt(p_he['e2e_p99'])}, llama.cpp {fmt(p_lc['e2e_p50'])} / {fmt(p_lc['e2e_p99'])}")
    single_decode = 1e3 / base["itl_mean"] if base.get("itl_mean") else None
    print(f"hearth single-stream decode (1000 / mean inter-token ms at C=1): "
          f"{fmt(single_decode, 1)} tok/s")
    if "C=32" in results:
        he32 = results["C=32"]["hearth"]["median"]["output_tok_s"]
        lc32 = results["C=32"]["llama_cpp"]["median"]["output_tok_s"]
        print(f"goal at C=32: hearth / single-stream decode = {fmt(ratio(he32, single_decode), 2)} "
              f"(>= 4), hearth / llama.cpp = {fmt(ratio(he32, lc32), 2)} (> 1)")
    for key, entry in results.items():
        for engine in ("llama_cpp", "hearth"):
            if entry[engine]["median"]["errors"] or entry[engine]["failures"]:
                print(f"{key} {engine}: {entry[engine]['median']['errors']} request errors, "
                      f"failed runs: {entry[engine]['failures']}")
        he_p, lc_p = entry["hearth"]["median"]["prompt_tokens"], entry["llama_cpp"]["median"]["prompt_tokens"]
        if he_p is not None and lc_p is not None and he_p != lc_p:
            print(f"{key}: prompt tokens differ (hearth {he_p}, llama.cpp {lc_p}): "
                  f"the engines did not see the same token sequences")
    if args.out:
        meta = {"model": args.model.name, "threads": args.threads, "max_tokens": args.max_tokens,
                "reps": args.reps, "poisson_rate": rate, "elapsed_s": elapsed}
        args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
