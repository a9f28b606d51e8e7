"""hearth.simulate on windows of the real Azure LLM traces."""
import csv
import datetime

import pytest

import hearth


@pytest.fixture(scope="module")
def data(repo):
    return repo / "data"


@pytest.fixture(scope="module")
def run(data):
    """hearth.simulate with the repository's replica profile and price catalog."""
    def simulate(traces, **options):
        return hearth.simulate(traces, profile=data / "profiles/smollm2-135m-q4_1-cpu.json",
                               catalog=data / "prices/catalog-2026.json", **options)
    return simulate


def requests_in_window(path, start_s, end_s):
    """Counts the trace's rows in [start_s, end_s) seconds after its first row, read here
    independently of hearth's reader."""
    with open(path, newline="") as f:
        stamps = [datetime.datetime.fromisoformat(row["TIMESTAMP"][:26])
                  for row in csv.DictReader(f)]
    offsets = [(s - stamps[0]).total_seconds() for s in stamps]
    return sum(start_s <= t < end_s for t in offsets)


def test_every_request_of_a_real_window_is_served_or_rejected(run, data):
    conv = data / "traces/AzureLLMInferenceTrace_conv_2023.csv"
    expected = requests_in_window(conv, 600, 900)
    assert expected > 1000
    result = run([conv], policy="hearth", start_s=600, end_s=900)
    assert isinstance(result, hearth.SimulationResult) and result.policy == "hearth"
    assert result.requests == expected
    assert result.served + result.rejected == expected
    assert result.served > 0.9 * expected
    assert sum(result.rejected_by_reason.values()) == result.rejected
    assert 0 < result.ttft_p50_s <= result.ttft_p99_s
    assert result.cost > 0 and result.instances_started >= 1
    assert result.duration_s >= 300 and result.events > expected

    summary = result.to_dict()
    assert summary["policy"] == "hearth"
    assert summary["overall"]["served"] == result.served
    assert summary["overall"]["cost"] == pytest.approx(result.cost)
    assert result.timeline_csv().startswith("time_s,model,arrivals,")


def test_policies_compared_on_two_traces_as_two_models(run, data):
    traces = [(data / "traces/AzureLLMInferenceTrace_conv_2023.csv", "chat"),
              (data / "traces/AzureLLMInferenceTrace_code_2023.csv", "coder")]
    results = run(traces, policy=["static_peak", "kpa"], end_s=240, max_queue_wait_s=30)
    assert list(results) == ["static_peak", "kpa"]
    static, kpa = results.values()
    assert set(static.models) == {"chat", "coder"}
    for result in results.values():
        assert sum(m.requests for m in result.models.values()) == result.requests
        assert result.served + result.rejected == result.requests
    assert static.requests == kpa.requests
    # Same requests, different bills: always-on hourly against per-second serverless.
    assert static.billed_offering != kpa.billed_offering and static.cost != kpa.cost


def test_bad_input(run, data, tmp_path):
    conv = data / "traces/AzureLLMInferenceTrace_conv_2023.csv"
    with pytest.raises(hearth.InvalidArgumentError, match="no_such_policy"):
        run([tmp_path / "not-read.csv"], policy="no_such_policy")  # checked before reading
    with pytest.raises(hearth.NotFoundError):
        run([tmp_path / "missing.csv"])
    with pytest.raises(hearth.NotFoundError):
        hearth.simulate([conv], profile=tmp_path / "missing.json",
                        catalog=data / "prices/catalog-2026.json")
    with pytest.raises(hearth.NotFoundError, match="no-such-offering"):
        run([conv], end_s=60, offering="no-such-offering")
    with pytest.raises(hearth.InvalidArgumentError):
        run([conv], start_s=100, end_s=50)
    with pytest.raises(hearth.InvalidArgumentError, match="no request"):
        run([conv], start_s=1e6)  # past the trace's hour
    with pytest.raises(hearth.InvalidArgumentError):
        run([])
    with pytest.raises(TypeError, match="traces"):
        run(str(conv))
    with pytest.raises(TypeError, match="max_queue_wait"):
        run([conv], max_queue_wait=5)
    with pytest.raises(TypeError, match="end_s"):
        run([conv], end_s="soon")
