"""`hearth simulate` and the policy comparison as a user runs them, on real traces:
outputs that add up, every request accounted for, plots drawn, and a clear error with a
non-zero exit for bad input."""
import csv
import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
HEARTH = pathlib.Path(os.environ.get("HEARTH_BIN", REPO / "build/examples/cli/hearth"))
CONV = "data/traces/AzureLLMInferenceTrace_conv_2023.csv"

pytestmark = pytest.mark.skipif(not HEARTH.exists(), reason=f"build the CLI first ({HEARTH})")


def simulate(*args):
    return subprocess.run([str(HEARTH), "simulate", *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


def test_every_policy_accounts_for_every_request(tmp_path):
    r = simulate("--trace", f"{CONV}=conv", "--end_s", "300", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    rows = json.loads((tmp_path / "comparison.json").read_text())
    names = [row["policy"] for row in rows]
    assert names[0] == "static_peak" and names[-1] == "hearth" and len(set(names)) == len(names)
    requests = rows[0]["requests"]
    assert requests > 100
    for row in rows:
        assert row["requests"] == requests
        assert row["served"] + row["rejected"] == requests
        assert 0 <= row["slo_attainment"] <= 1
        assert row["cost"] > 0 and row["instance_seconds"] > 0
        assert row["idle_instance_seconds"] <= row["instance_seconds"]
        detail = json.loads((tmp_path / f"{row['policy']}.json").read_text())
        assert detail["overall"]["served"] == row["served"]
        with open(tmp_path / f"{row['policy']}_timeline.csv") as f:
            timeline = list(csv.DictReader(f))
        assert sum(int(p["arrivals"]) for p in timeline) == requests
    # The static presets run always on and are billed by the hour.
    assert rows[0]["billed_offering"] == "aws-ec2-m7g.large"
    assert "plan for the demand" in r.stdout


def test_same_inputs_same_results(tmp_path):
    a = simulate("--trace", f"{CONV}=conv", "--end_s", "120", "--policy", "kpa",
                 "--out", str(tmp_path / "a"))
    b = simulate("--trace", f"{CONV}=conv", "--end_s", "120", "--policy", "kpa",
                 "--out", str(tmp_path / "b"))
    assert a.returncode == 0 and b.returncode == 0
    for name in ("kpa.json", "kpa_timeline.csv"):
        first = (tmp_path / "a" / name).read_text()
        second = (tmp_path / "b" / name).read_text()
        if name.endswith(".json"):  # wall time differs between runs
            first, second = (json.loads(t) for t in (first, second))
            for d in (first, second):
                d.pop("wall_s", None)
                d.pop("events_per_s", None)
        assert first == second


def test_two_traces_overlay_as_two_models(tmp_path):
    r = simulate("--trace", f"{CONV}=chat,data/traces/AzureLLMInferenceTrace_code_2023.csv=code",
                 "--end_s", "120", "--policy", "hearth", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "2 model(s)" in r.stdout
    models = json.loads((tmp_path / "hearth.json").read_text())["models"]
    assert set(models) == {"chat", "code"}


@pytest.mark.parametrize("args, message", [
    (["--trace", "data/traces/missing.csv"], "missing.csv"),
    (["--trace", CONV, "--policy", "fastest"], "unknown policy 'fastest'"),
    (["--trace", CONV, "--profile", "data/profiles/none.json"], "none.json"),
    (["--trace", CONV, "--offering", "no-such-offering"], "no-such-offering"),
    (["--trace", CONV, "--time_scale", "-1"], "factor"),
    ([], "--trace is required"),
])
def test_bad_input_is_a_clear_error(args, message):
    r = simulate(*args)
    assert r.returncode == 1, r.stdout
    assert message in r.stderr
    assert "Traceback" not in r.stderr and "terminate" not in r.stderr


def test_comparison_script_draws_plots(tmp_path):
    r = subprocess.run([sys.executable, "bench/compare_policies.py", "--quick", "--out",
                        str(tmp_path), "--hearth", str(HEARTH)],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stderr
    for name in ("azure_code_replicas.png", "azure_conv_replicas.png", "cost_vs_slo.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (tmp_path / "summary.md").read_text()
    assert "### azure_conv" in summary and "| hearth |" in summary
