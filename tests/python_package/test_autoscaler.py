"""hearth.AutoScaler on a ManualClock: scale up under load, down to zero after the grace."""
import pytest

import hearth


def run(scaler, clock, seconds, ready, step=2, **load):
    """Observes `load` every `step` seconds for `seconds`, the ready replicas following the
    decisions at once (a fleet without cold starts); returns the decisions."""
    decisions = []
    for _ in range(int(seconds / step)):
        clock.advance(step)
        scaler.observe(ready_replicas=ready, **load)
        ready = scaler.decide().desired_replicas
        decisions.append(ready)
    return decisions


def seconds_to_zero(grace_s):
    """A KPA scaler taken to 10 replicas, then left without load: the seconds until it
    decides 0 (observing every 2 s), and its decisions until then."""
    clock = hearth.ManualClock(1_000_000)
    kpa = hearth.ScalingPolicy.kpa(container_concurrency=10, scale_to_zero_grace_s=grace_s)
    scaler = hearth.AutoScaler([kpa], max_replicas=20, clock=clock)
    assert scaler.decide().desired_replicas == 0  # nothing observed yet

    # 70 requests against a target of 10 x 0.7 = 7 per replica: 10 replicas.
    up = run(scaler, clock, 20, ready=1, in_flight=70)
    assert up[-1] == 10
    decision = scaler.decide()
    assert decision.desired_replicas == 10 and "kpa" in decision.reason

    idle = run(scaler, clock, 160, ready=10, in_flight=0)
    first_zero = idle.index(0)
    assert all(d > 0 for d in idle[:first_zero]) and not any(idle[first_zero:])
    return 2 * (first_zero + 1), idle[:first_zero]


def test_kpa_scales_up_under_load_and_to_zero_after_the_grace():
    # Without a grace, zero comes as the 60 s stable window stops seeing requests...
    no_grace, _ = seconds_to_zero(0)
    assert no_grace == 60
    # ...with 30 s of grace, that much after the last non-zero recommendation (one 2-s
    # tick before), having scaled down step by step meanwhile.
    with_grace, decisions = seconds_to_zero(30)
    assert no_grace + 30 - 2 <= with_grace <= no_grace + 30
    assert decisions[-1] == 1 and 1 < decisions[len(decisions) // 2] <= 10


def test_wake_up_from_zero_and_clamping():
    clock = hearth.ManualClock()
    scaler = hearth.AutoScaler(["kpa"], min_replicas=0, max_replicas=3, clock=clock)
    clock.advance(1)
    scaler.observe(queue_depth=1)  # nothing ready or starting, a request waits
    assert scaler.decide().desired_replicas == 1
    clock.advance(2)
    scaler.observe(ready_replicas=1, in_flight=10_000)
    assert scaler.decide().desired_replicas == 3  # clamped to max_replicas

    static = hearth.AutoScaler([hearth.ScalingPolicy.static(replicas=5)], min_replicas=2,
                               max_replicas=4, clock=clock)
    assert static.decide().desired_replicas == 4
    assert (static.min_replicas, static.max_replicas) == (2, 4)


def test_every_policy_builds_and_the_largest_wins():
    clock = hearth.ManualClock()
    policies = [
        hearth.ScalingPolicy.hpa("concurrency", target_per_replica=10),
        hearth.ScalingPolicy.kpa(),
        hearth.ScalingPolicy.queue_depth(target_queue_depth=5, cooldown_s=0),
        hearth.ScalingPolicy.load_score(),
        hearth.ScalingPolicy.predictive(target_concurrency=10),
        hearth.ScalingPolicy.static(replicas=2),
        "hpa",
    ]
    assert [p if isinstance(p, str) else p.name for p in policies] == [
        "hpa", "kpa", "queue_depth", "load_score", "predictive", "static", "hpa"]
    scaler = hearth.AutoScaler(policies, max_replicas=50, clock=clock)
    clock.advance(15)
    scaler.observe(ready_replicas=2, in_flight=100, arrival_rate=20)
    # HPA on concurrency: 100 / 10 = 10 replicas, capped by its rate policy (+4 pods or
    # +100 %: from 2, at most 6) — more than static's 2.
    decision = scaler.decide()
    assert decision.desired_replicas > 2
    assert decision.reason


def test_bad_input():
    clock = hearth.ManualClock(100)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.AutoScaler([], clock=clock)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.AutoScaler(["no_such_policy"], clock=clock)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.AutoScaler(["kpa"], min_replicas=3, max_replicas=2, clock=clock)
    with pytest.raises(hearth.InvalidArgumentError, match="tick"):
        hearth.ScalingPolicy.kpa(tick_s=0)
    with pytest.raises(hearth.InvalidArgumentError, match="metric"):
        hearth.ScalingPolicy.hpa("gpu_temperature")
    with pytest.raises(TypeError, match="unexpected keyword argument 'concurrency'"):
        hearth.ScalingPolicy.kpa(concurrency=5)
    with pytest.raises(TypeError):
        hearth.AutoScaler([42], clock=clock)
    scaler = hearth.AutoScaler(["kpa"], clock=clock)
    with pytest.raises(hearth.InvalidArgumentError, match="utilization"):
        scaler.observe(utilization=1.5)
    with pytest.raises(TypeError, match="ready_replicas"):
        scaler.observe(ready_replicas=1.5)
    scaler.observe(time=50, in_flight=1)
    with pytest.raises(hearth.InvalidArgumentError):
        scaler.observe(time=40)  # older than the previous sample


def test_manual_clock():
    clock = hearth.ManualClock(100)
    clock.advance(2.5)
    assert clock.now() == 102.5
    clock.advance(-10)  # never backwards
    clock.set(50)
    assert clock.now() == 102.5
    clock.set(200)
    assert clock.now() == 200
    with pytest.raises(hearth.InvalidArgumentError):
        clock.advance(float("nan"))
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.ManualClock(float("inf"))
    with pytest.raises(TypeError):
        clock.advance("1s")
