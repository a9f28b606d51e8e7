#!/usr/bin/env python3
"""The Markdown summary of bench/gpu/run.sh: steps, kernel bandwidths, serving figures.

Reads the step list (steps.tsv), bench_cuda_kernels' Google Benchmark JSON and
bench_serving's objects (serving.jsonl, one per line with a "label"); any of them may be
missing or empty, and a figure that is not there is "n/a". Prints the table and writes it
to --out. Standard library only.
"""
import argparse
import json
import os
import re

GOAL_DECODE_B1 = 2000.0     # tokens/s, batch-1 decode on the GPU (the CUDA issue's goal)
GOAL_AGGREGATE = 50000.0    # output tokens/s at concurrency 256


def load_steps(path):
    steps = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if parts and parts[0]:
                    steps.append((parts[0], parts[1] if len(parts) > 1 else "",
                                  parts[2] if len(parts) > 2 else ""))
    return steps


def load_kernels(path):
    """name (without the /iterations:N and /manual_time suffixes) -> benchmark entry."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return {}, {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}, {}
    out = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = re.sub(r"/(iterations:\d+|manual_time|real_time)", "", b.get("name", ""))
        out[name] = b
    return out, data.get("context", {})


def load_serving(path):
    runs = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                runs[o.get("label", "?")] = o
    return runs


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def get(o, *keys):
    for k in keys:
        if not isinstance(o, dict) or o.get(k) is None:
            return None
        o = o[k]
    return o


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", required=True)
    ap.add_argument("--kernels", required=True)
    ap.add_argument("--serving", required=True)
    ap.add_argument("--gpu", default="n/a")
    ap.add_argument("--nvcc", default="n/a")
    ap.add_argument("--elapsed", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    steps = load_steps(a.steps)
    kernels, context = load_kernels(a.kernels)
    runs = load_serving(a.serving)
    lines = []
    w = lines.append

    w("## hearth CUDA backend: verification and benchmark")
    w("")
    w(f"GPU: {a.gpu}; nvcc {a.nvcc}; script wall time {a.elapsed} s")
    w("")
    w("### Steps")
    w("")
    w("| step | result | detail |")
    w("| --- | --- | --- |")
    for name, status, detail in steps:
        w(f"| {name} | {status} | {detail} |")
    w("")

    w("### Kernels (batch 1, CUDA events; weight bytes read / kernel time)")
    w("")
    copy = kernels.get("BM_CopyD2D/1GiB")
    copy_gbps = get(copy, "copy_GBps")
    w(f"Reference: device-to-device cudaMemcpy of 1 GiB: {fmt(copy_gbps)} GB/s counting read + "
      f"write ({fmt(get(copy, 'read_GBps'))} GB/s read alone).")
    w("")
    w("| kernel | shape | bytes/call | us/call | GB/s | % of copy GB/s |")
    w("| --- | --- | --- | --- | --- | --- |")
    for name, b in kernels.items():
        if not name.startswith("BM_"):
            continue
        if name.startswith("BM_CopyD2D"):
            continue
        gbps = b.get("GBps")
        pct = 100.0 * gbps / copy_gbps if gbps is not None and copy_gbps else None
        parts = name.split("/")
        kernel = parts[0][3:]
        shape = "/".join(parts[1:])
        bytes_call = b.get("weight_bytes")
        w(f"| {kernel} | {shape} | {fmt(bytes_call)} | {fmt(b.get('us_per_call'), 2)} | "
          f"{fmt(gbps)} | {fmt(pct, 1)} |")
    if not kernels:
        w("| (no kernel results) | n/a | n/a | n/a | n/a | n/a |")
    w("")

    w("### Serving: SmolLM2-135M-Instruct Q4_1, closed loop, greedy, EOS ignored")
    w("")
    w("| run | backend | concurrency | output tok/s | decode tok/s (1000 / ITL p50) | "
      "TTFT p50 ms | TTFT p99 ms | errors |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label in ("gpu_c1", "gpu_c64", "gpu_c256", "cpu_c1"):
        o = runs.get(label)
        itl = get(o, "itl_ms", "p50")
        decode = 1000.0 / itl if itl else None
        w(f"| {label} | {get(o, 'backend') or 'n/a'} | {get(o, 'concurrency') or 'n/a'} | "
          f"{fmt(get(o, 'output_tok_s'))} | {fmt(decode)} | {fmt(get(o, 'ttft_ms', 'p50'), 1)} | "
          f"{fmt(get(o, 'ttft_ms', 'p99'), 1)} | {fmt(get(o, 'errors'))} |")
    w("")

    b1_itl = get(runs.get("gpu_c1"), "itl_ms", "p50")
    b1 = 1000.0 / b1_itl if b1_itl else None
    agg = get(runs.get("gpu_c256"), "output_tok_s")
    cpu_itl = get(runs.get("cpu_c1"), "itl_ms", "p50")
    cpu = 1000.0 / cpu_itl if cpu_itl else None
    ran_on_gpu = get(runs.get("gpu_c1"), "backend") == "cuda"

    def verdict(v, goal):
        if v is None:
            return "n/a"
        return "met" if v >= goal else "NOT met"

    w("### The issue's goals")
    w("")
    w("| figure | measured | goal | verdict |")
    w("| --- | --- | --- | --- |")
    w(f"| GPU batch-1 decode tok/s | {fmt(b1)} | >= {fmt(GOAL_DECODE_B1)} | "
      f"{verdict(b1, GOAL_DECODE_B1)} |")
    w(f"| GPU aggregate output tok/s at 256 | {fmt(agg)} | >= {fmt(GOAL_AGGREGATE)} | "
      f"{verdict(agg, GOAL_AGGREGATE)} |")
    w(f"| CPU batch-1 decode tok/s (reference) | {fmt(cpu)} | - | - |")
    speedup = b1 / cpu if b1 and cpu else None
    w(f"| GPU / CPU batch-1 decode | {fmt(speedup, 1) + 'x' if speedup else 'n/a'} | - | - |")
    if runs.get("gpu_c1") is not None and not ran_on_gpu:
        w("")
        w("WARNING: the gpu_c1 run reports backend "
          f"'{get(runs.get('gpu_c1'), 'backend')}', not cuda.")
    w("")

    text = "\n".join(lines)
    print(text)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
