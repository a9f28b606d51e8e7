#!/usr/bin/env python3
"""Every control-plane policy side by side on every real trace, in one run.

Runs `hearth simulate --policy all` on each trace of data/traces (the policies are the
presets of include/hearth/policy_presets.h), then writes, under --out:
  <trace>/comparison.{json,csv}, <trace>/<policy>.json, <trace>/<policy>_timeline.csv
  <trace>_replicas.png   load (requests/min) and ready replicas over time, per policy
  cost_vs_slo.png        total cost against SLO attainment, per policy and trace
  summary.md             the tables, and whether `hearth` Pareto-dominates each baseline
Usage (after building): python3 bench/compare_policies.py [--out DIR] [--quick]
--quick replays the first 10 minutes of the Azure traces only (for tests).
"""
import argparse
import csv
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# name, the trace flags, and what the trace exercises.
TRACES = [
    ("azure_code", ["--trace", "data/traces/AzureLLMInferenceTrace_code_2023.csv=code"],
     "Azure LLM code, 1 h: bursty, long prompts"),
    ("azure_conv", ["--trace", "data/traces/AzureLLMInferenceTrace_conv_2023.csv=conv"],
     "Azure LLM conversation, 1 h: steady"),
    ("mooncake", ["--trace", "data/traces/mooncake_conversation_trace.jsonl=kimi"],
     "Mooncake conversation, 1 h: very long prompts"),
    ("servegen_r1", ["--trace", "data/traces/servegen_client_rates_10min.csv.gz",
                     "--servegen_models", "deepseek-r1", "--servegen_rate_scale", "0.01"],
     "ServeGen deepseek-r1, 1 day, 73 tenants at 1 % volume: daily cycle"),
    ("azure_functions", ["--trace", "data/traces/azure_functions_2019_invitro_sample_1350fn_1day.csv",
                         "--functions_as_models", "--top", "10"],
     "Azure Functions 2019, 1 day, 10 busiest functions as 10 models: scale to zero"),
]
QUICK = [("azure_code", TRACES[0][1] + ["--end_s", "600"], TRACES[0][2]),
         ("azure_conv", TRACES[1][1] + ["--end_s", "600"], TRACES[1][2])]
BEST = "hearth"


def dominates(a, b):
    """a Pareto-dominates b: no worse on cost and SLO, strictly better on one."""
    no_worse = a["cost"] <= b["cost"] and a["slo_attainment"] >= b["slo_attainment"]
    better = a["cost"] < b["cost"] or a["slo_attainment"] > b["slo_attainment"]
    return no_worse and better


def simulate(hearth, name, flags, out, extra):
    folder = out / name
    command = [str(hearth), "simulate", *flags, "--policy", "all", "--out", str(folder), *extra]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    return json.loads((folder / "comparison.json").read_text())


def plot_timelines(name, folder, rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (load_ax, rep_ax) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for i, row in enumerate(rows):
        per_minute_arrivals, per_minute_ready = {}, {}
        with open(folder / f"{row['policy']}_timeline.csv") as f:
            for point in csv.DictReader(f):
                minute = int(float(point["time_s"]) // 60)
                per_minute_arrivals[minute] = per_minute_arrivals.get(minute, 0) + int(point["arrivals"])
                # Several models: sum their replicas; a minute's figure is its last tick's.
                per_minute_ready.setdefault(minute, {})[point["model"]] = int(point["ready"])
        minutes = sorted(per_minute_ready)
        hours = [m / 60 for m in minutes]
        if i == 0:
            load_ax.plot(hours, [per_minute_arrivals.get(m, 0) for m in minutes], color="black")
        rep_ax.plot(hours, [sum(per_minute_ready[m].values()) for m in minutes],
                    label=row["policy"], linewidth=2.2 if row["policy"] == BEST else 1.0)
    load_ax.set_ylabel("requests / minute")
    load_ax.set_title(f"{name}: load and ready replicas")
    rep_ax.set_ylabel("ready replicas")
    rep_ax.set_xlabel("hours from the trace start")
    rep_ax.legend(ncol=4, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_cost_vs_slo(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 4), squeeze=False)
    for ax, (name, rows) in zip(axes[0], results.items()):
        for row in rows:
            marker = "*" if row["policy"] == BEST else "o"
            ax.scatter(row["cost"], 100 * row["slo_attainment"], marker=marker,
                       s=160 if marker == "*" else 40)
            ax.annotate(row["policy"], (row["cost"], 100 * row["slo_attainment"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("total cost (USD)")
        ax.set_ylabel("SLO attainment (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def table(name, description, rows):
    best = next((r for r in rows if r["policy"] == BEST), None)
    lines = [f"### {name}: {description}", "",
             "| policy | cost $ | $/1k req | SLO % | TTFT p50 s | TTFT p99 s | cold-start % "
             "| instance-s | idle instance-s | rejected | hearth dominates |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        verdict = "" if r["policy"] == BEST or best is None else (
            "yes" if dominates(best, r) else "**no**")
        lines.append(
            f"| {r['policy']} | {r['cost']:.3f} | {r['cost_per_1k_requests']:.4f} | "
            f"{100 * r['slo_attainment']:.2f} | {r['ttft_p50_s']:.2f} | {r['ttft_p99_s']:.2f} | "
            f"{100 * r['cold_start_rate']:.2f} | {r['instance_seconds']:.0f} | "
            f"{r['idle_instance_seconds']:.0f} | {r['rejected']} | {verdict} |")
    events = sum(r["events"] for r in rows)
    wall = sum(r["wall_s"] for r in rows)
    lines += ["", f"{rows[0]['requests']} requests; {len(rows)} policies replayed in "
              f"{wall:.1f} s ({events / wall:,.0f} events/s).", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hearth", default=str(ROOT / "build/examples/cli/hearth"))
    parser.add_argument("--out", default=str(ROOT / "bench/results/policies"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("extra", nargs="*", help="more `hearth simulate` flags, after --")
    args = parser.parse_args()
    out = pathlib.Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results, sections = {}, []
    for name, flags, description in (QUICK if args.quick else TRACES):
        rows = simulate(args.hearth, name, flags, out, args.extra)
        results[name] = rows
        plot_timelines(name, out / name, rows, out / f"{name}_replicas.png")
        sections.append(table(name, description, rows))
    plot_cost_vs_slo(results, out / "cost_vs_slo.png")
    summary = "\n".join(sections)
    (out / "summary.md").write_text(summary)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
