"""hearth.WarmPool on the real tiny model: cold starts, warm hits, eviction, threads."""
import subprocess
import sys
import threading
import time

import pytest

import hearth

KV = 2 << 20  # bytes of KV cache per instance: small, the model's context is 512


@pytest.fixture
def model(tiny_model):
    """PoolModel(**options) of the tiny model."""
    def make(**options):
        options.setdefault("threads", 1)
        return hearth.PoolModel(tiny_model, kv_cache_bytes=KV, **options)
    return make


@pytest.fixture
def instance_bytes(tiny_model):
    """What one loaded instance holds: the file (mapped) and its KV cache."""
    return tiny_model.stat().st_size + KV


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


def test_cold_start_generates_then_warm_hit(model, instance_bytes):
    pool = hearth.WarmPool({"tiny": model()}, memory_budget_bytes=4 * instance_bytes,
                           max_instances=2)
    with pool.acquire("tiny", timeout=30) as lease:
        assert isinstance(lease.engine, hearth.Engine)
        result = lease.engine.generate("Once upon a time", max_tokens=8, temperature=0)
        assert result.completion_tokens == 8 and result.text
        first_instance = lease.instance_id
        busy = pool.metrics()
        assert busy.models["tiny"].busy == 1 and busy.models["tiny"].leases == 1
    metrics = pool.metrics()
    assert (metrics.cold_starts, metrics.warm_hits, metrics.instances_started) == (1, 0, 1)
    assert metrics.models["tiny"].idle == 1
    assert metrics.memory_bytes == instance_bytes
    assert metrics.cold_start_ms.count == 1 and metrics.models["tiny"].last_cold_start_ms > 0

    with pool.acquire("tiny") as lease:
        assert lease.instance_id == first_instance
        again = lease.engine.generate("Once upon a time", max_tokens=8, temperature=0)
        assert again.text == result.text
    metrics = pool.metrics()
    assert (metrics.cold_starts, metrics.warm_hits, metrics.instances_started) == (1, 1, 1)


def test_eviction_under_memory_budget(model, instance_bytes):
    # Room for one instance: the second model's cold start evicts the first, idle, one.
    pool = hearth.WarmPool({"a": model(), "b": model()},
                           memory_budget_bytes=instance_bytes * 3 // 2, max_instances=4)
    with pool.acquire("a", timeout=30):
        pass
    assert pool.metrics().models["a"].idle == 1
    with pool.acquire("b", timeout=30) as lease:
        assert lease.engine.generate("Hi", max_tokens=2, temperature=0).completion_tokens == 2
    metrics = pool.metrics()
    assert metrics.instances_evicted == 1
    assert metrics.instances == 1
    assert metrics.models["a"].idle == 0 and metrics.models["b"].idle == 1


def test_busy_instance_is_not_evicted_and_deadline_applies_on_manual_clock(model, instance_bytes):
    clock = hearth.ManualClock(1000)
    pool = hearth.WarmPool({"a": model(), "b": model()},
                           memory_budget_bytes=instance_bytes * 3 // 2, max_instances=4,
                           clock=clock)
    held = pool.acquire("a", timeout=30)
    outcome = []

    def acquire_b():
        try:
            pool.acquire("b", timeout=5)
            outcome.append("leased")
        except hearth.DeadlineExceededError as error:
            outcome.append(error)

    waiter = threading.Thread(target=acquire_b)
    waiter.start()
    wait_for(lambda: pool.metrics().models["b"].waiting == 1)
    clock.advance(4)
    pool.tick()
    assert pool.metrics().models["b"].waiting == 1  # not yet past its deadline
    clock.advance(2)
    pool.tick()
    waiter.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], TimeoutError)
    assert pool.metrics().failed_deadline == 1
    held.release()


def test_engine_taken_from_a_lease_keeps_its_instance_loaded(model, instance_bytes):
    clock = hearth.ManualClock()
    pool = hearth.WarmPool({"tiny": model()}, memory_budget_bytes=4 * instance_bytes,
                           max_instances=2, keep_alive="immediate", clock=clock)
    with pool.acquire("tiny", timeout=30) as lease:
        engine = lease.engine
    assert not lease.held
    with pytest.raises(hearth.FailedPreconditionError):
        lease.engine
    pool.tick()
    # The slot is still out while `engine` can be used...
    assert pool.metrics().models["tiny"].busy == 1
    assert engine.generate("Hi", max_tokens=3, temperature=0).completion_tokens == 3
    del engine
    # ...and the instance goes once the last reference does (immediate keep-alive).
    pool.tick()
    assert pool.metrics().instances == 0
    assert pool.metrics().instances_expired == 1


def test_prewarm_desired_instances_and_hybrid_keep_alive(model, instance_bytes):
    assert [k.name for k in (hearth.KeepAlive.fixed(12.5), hearth.KeepAlive("fixed"),
                             hearth.KeepAlive.immediate(), hearth.KeepAlive.hybrid(bin_s=30))
            ] == ["fixed:12.5", "fixed:600", "immediate", "hybrid"]
    clock = hearth.ManualClock()
    pool = hearth.WarmPool({"tiny": model(max_leases=2)},
                           memory_budget_bytes=4 * instance_bytes, max_instances=3,
                           keep_alive=hearth.KeepAlive.hybrid(bin_s=30, range_s=3600),
                           clock=clock)
    pool.prewarm("tiny")
    wait_for(lambda: pool.metrics().models["tiny"].idle == 1)
    pool.set_desired_instances("tiny", 3)
    wait_for(lambda: pool.metrics().models["tiny"].idle == 3)
    assert pool.metrics().models["tiny"].desired == 3
    with pool.acquire("tiny", timeout=0):  # a past deadline still takes a warm slot
        pass
    metrics = pool.metrics()
    assert metrics.warm_hits == 1 and metrics.cold_starts == 0
    with pytest.raises(hearth.ResourceExhaustedError):
        pool.prewarm("tiny", 1)  # max_instances reached

    # Without the target, the hybrid policy (fewer idle times than its min_samples) keeps
    # idle instances for its whole range, then lets them go.
    pool.set_desired_instances("tiny", 0)
    clock.advance(3500)
    pool.tick()
    assert pool.metrics().models["tiny"].idle == 3
    assert pool.next_wakeup() == pytest.approx(3600, abs=1)
    clock.advance(200)
    pool.tick()
    metrics = pool.metrics()
    assert metrics.instances == 0 and metrics.instances_expired == 3
    assert pool.next_wakeup() is None


def test_threads_acquire_and_generate_at_once(model, instance_bytes, tiny_model):
    prompts = ["Once upon a time", "The cat", "Lily and Tom", "One day"]
    reference = hearth.Engine(tiny_model, threads=1)
    expected = {p: reference.generate(p, max_tokens=12, temperature=0).text for p in prompts}
    reference.close()

    pool = hearth.WarmPool({"tiny": model(max_leases=2)},
                           memory_budget_bytes=4 * instance_bytes, max_instances=2)
    rounds = 3
    results, errors = [], []
    start = threading.Barrier(len(prompts))

    def worker(prompt):
        try:
            start.wait()
            for _ in range(rounds):
                with pool.acquire("tiny", timeout=60) as lease:
                    text = lease.engine.generate(prompt, max_tokens=12, temperature=0).text
                results.append((prompt, text))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(p,)) for p in prompts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert len(results) == rounds * len(prompts)
    assert all(text == expected[prompt] for prompt, text in results)
    metrics = pool.metrics()
    assert metrics.warm_hits + metrics.cold_starts == rounds * len(prompts)
    assert 1 <= metrics.instances_started <= 2
    assert metrics.models["tiny"].leases == 0


def test_bad_input(model, instance_bytes, tiny_model):
    budget = 4 * instance_bytes
    with pytest.raises(TypeError):
        hearth.PoolModel(tiny_model)  # kv_cache_bytes is required
    with pytest.raises(TypeError, match="threads"):
        hearth.PoolModel(tiny_model, kv_cache_bytes=KV, threads="two")
    with pytest.raises(TypeError, match="unexpected keyword argument 'thread'"):
        hearth.PoolModel(tiny_model, kv_cache_bytes=KV, thread=1)
    with pytest.raises(hearth.InvalidArgumentError, match="kv_cache_bytes"):
        hearth.WarmPool({"tiny": hearth.PoolModel(tiny_model, kv_cache_bytes=0)},
                        memory_budget_bytes=budget, max_instances=1)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.WarmPool({"tiny": model()}, memory_budget_bytes=0, max_instances=1)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.WarmPool({"tiny": model()}, memory_budget_bytes=budget, max_instances=1,
                        keep_alive="forever")
    with pytest.raises(hearth.InvalidArgumentError, match="margin"):
        hearth.KeepAlive.hybrid(margin=2)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.KeepAlive.fixed(-1)

    pool = hearth.WarmPool({"tiny": model(), "missing": hearth.PoolModel("no/such.gguf",
                                                                           kv_cache_bytes=KV)},
                           memory_budget_bytes=budget, max_instances=2)
    with pytest.raises(hearth.NotFoundError, match="nope"):
        pool.acquire("nope")
    with pytest.raises(LookupError):
        pool.acquire("missing", timeout=30)  # the Engine's load error reaches the acquirer
    assert pool.metrics().failed_provisioner == 1
    with pytest.raises(hearth.InvalidArgumentError):
        pool.set_desired_instances("tiny", -1)
    with pytest.raises(hearth.NotFoundError):
        pool.retire(12345)
    with pytest.raises(TypeError):
        pool.acquire("tiny", timeout="soon")


def test_control_plane_example_runs(repo, tiny_model):
    run = subprocess.run([sys.executable, repo / "examples/python/control_plane.py", tiny_model],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "pool: 1 cold starts, 11 warm hits" in run.stdout and "cache: 6 hits" in run.stdout
    assert "acme: 6 requests" in run.stdout and "globex: 6 requests" in run.stdout
    assert "hearth       served 2867/2867" in run.stdout
