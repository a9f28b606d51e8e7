"""hearth.PriceCatalog, CostOptimizer (ledger, cache, router) and CapacityPlanner, checked
against figures worked out by hand from data/prices/catalog-2026.json."""
import math

import pytest

import hearth


@pytest.fixture(scope="module")
def catalog(repo):
    return hearth.PriceCatalog.load(repo / "data/prices/catalog-2026.json")


def test_offerings_priced_by_hand(catalog):
    assert len(catalog) == len(catalog.offerings) == 13

    run = catalog.find("gcp-cloud-run-4vcpu-16gib")
    assert run.kind == "serverless" and run.resources.vcpus == 4
    # 4 vCPU x $0.000024 + 16 GiB x $0.0000025 = $0.000136 per second, billed per 0.1 s.
    assert run.price_per_second() == pytest.approx(0.000136)
    assert run.billed_seconds(2.53) == pytest.approx(2.6)
    assert run.run_cost(2.53) == pytest.approx(0.0003536)
    assert run.run_cost(0.01) == pytest.approx(0.0000136)  # the 0.1 s minimum
    assert run.per_request == pytest.approx(0.0000004)

    lam = catalog.find("aws-lambda-x86-10gb")
    # 10 GiB x $0.0000166667 per second, at least 1 ms.
    assert lam.run_cost(0.0004) == pytest.approx(0.000166667 * 0.001)

    modal = catalog.find("modal-cpu-8core")
    # 8 cores x $0.0000131, billed per whole second: 2.2 s -> 3 s.
    assert modal.run_cost(2.2) == pytest.approx(8 * 0.0000131 * 3)

    ec2 = catalog.find("aws-ec2-m7g.large")
    # $0.0816 an hour, billed exactly.
    assert ec2.kind == "on_demand" and ec2.hourly == pytest.approx(0.0816)
    assert ec2.billed_seconds(1800) == 1800 and ec2.run_cost(1800) == pytest.approx(0.0408)

    spot = catalog.find("coreweave-hgx-h100-spot")
    assert spot.kind == "spot" and spot.interruption_rate_per_hour is None
    assert spot.resources.accelerator_count == 8 and spot.source.startswith("https://")


def test_ledger_shares_cost_per_tenant(catalog):
    clock = hearth.ManualClock(1_700_000_000)
    optimizer = hearth.CostOptimizer(catalog, output_token_weight=3, clock=clock)
    ledger = optimizer.ledger
    ledger.set_budget("acme", 0.05, period_s=86400, thresholds=[0.5, 1.0])
    ledger.record_instance_time("smollm2", "aws-ec2-m7g.large", 3600)  # $0.0816
    ledger.record_request("acme", "smollm2", prompt_tokens=300, output_tokens=10,
                          offering="gcp-cloud-run-4vcpu-16gib")
    ledger.record_request("globex", "smollm2", prompt_tokens=100, output_tokens=100)
    ledger.record_instance_time("unused", "aws-ec2-m7g.large", 900)  # $0.0204, no tokens

    report = ledger.report()
    # Weighted tokens: acme 300 + 3 x 10 = 330, globex 100 + 3 x 100 = 400.
    acme, globex = report.tenants
    assert (acme.tenant, globex.tenant) == ("acme", "globex")
    assert acme.instance_share == pytest.approx(0.0816 * 330 / 730)
    assert globex.instance_share == pytest.approx(0.0816 * 400 / 730)
    assert acme.request_fees == pytest.approx(0.0000004) and globex.request_fees == 0
    assert acme.total == pytest.approx(0.0816 * 330 / 730 + 0.0000004)
    assert acme.models[0].weighted_tokens == 330
    assert report.unattributed == pytest.approx(0.0204)
    assert report.total == pytest.approx(0.0816 + 0.0204 + 0.0000004)
    assert [m.model for m in report.models] == ["smollm2", "unused"]
    assert report.models[0].offerings[0].instance_seconds == 3600

    # acme spends $0.0369 of its $0.05 now, but when its request was recorded it was the
    # model's only tenant and bore the whole $0.0816: both alerts were raised then, and
    # stay raised for the period.
    assert ledger.period_spend("acme") == pytest.approx(acme.total)
    alerts = ledger.alerts()
    assert [(a.tenant, a.threshold) for a in alerts] == [("acme", 0.5), ("acme", 1.0)]
    assert alerts[1].spent == pytest.approx(0.0816 + 0.0000004)
    assert alerts[1].budget == 0.05 and alerts[1].raised_at == pytest.approx(1_700_000_000)


def test_response_cache(catalog):
    clock = hearth.ManualClock()
    cache = hearth.CostOptimizer(catalog, cache_ttl_s=60, clock=clock).cache
    request = dict(temperature=0, max_tokens=16)
    assert cache.lookup("smollm2", "What is 2+2?", **request) is None
    cache.insert("smollm2", "What is 2+2?", response="4", **request)
    assert cache.lookup("smollm2", "  What   is 2+2? ", **request) == "4"  # whitespace runs
    assert cache.lookup("smollm2", "What is 2+2?", temperature=0, max_tokens=17) is None
    assert cache.lookup("other-model", "What is 2+2?", **request) is None
    # Chat messages are keys too; a seed the caller chose makes sampling deterministic.
    chat = [{"role": "user", "content": "Hi"}]
    cache.insert("smollm2", messages=chat, seed=7, response="Hello!")
    assert cache.lookup("smollm2", messages=chat, seed=7) == "Hello!"
    assert cache.lookup("smollm2", messages=chat) is None  # default seed: not deterministic
    with pytest.raises(hearth.FailedPreconditionError):
        cache.insert("smollm2", "Tell me a story", response="...")
    clock.advance(60)  # the TTL
    assert cache.lookup("smollm2", "What is 2+2?", **request) is None
    stats = cache.stats()
    assert (stats.hits, stats.insertions, stats.expirations, stats.uncacheable) == (2, 2, 1, 2)


def test_router(catalog):
    tiers = [hearth.ModelTier("large", "llama-8b", 0.004),
             hearth.ModelTier("small", "smollm2", 0.0002, max_difficulty=0.3)]
    optimizer = hearth.CostOptimizer(catalog, tiers=tiers)
    router = optimizer.router
    assert [t.name for t in router.tiers] == ["small", "large"]  # cheapest first
    easy = router.route("Say hi", prompt_tokens=3, max_tokens=8)
    assert (easy.tier, easy.model) == (0, "smollm2")
    # 0.35 x 20/4096 + 0.25 x 512/1024 + 0.20 (reasoning: "step by step") = 0.3267
    hard = router.route("Explain why the sky is blue, step by step", prompt_tokens=20,
                        max_tokens=512)
    assert hard.difficulty == pytest.approx(0.35 * 20 / 4096 + 0.25 * 0.5 + 0.2)
    assert hard.model == "llama-8b"
    up = router.escalate(easy.tier, -2.0)
    assert up.escalated and up.tier_name == "large"
    assert not router.escalate(easy.tier, -0.5).escalated
    stats = {s.name: s for s in router.stats()}
    assert (stats["small"].routed, stats["small"].escalated_out) == (1, 1)
    assert (stats["large"].routed, stats["large"].escalated_in) == (1, 1)
    assert hearth.CostOptimizer(catalog).router is None


def test_capacity_planner_by_hand(catalog):
    serverless = catalog.find("gcp-cloud-run-2vcpu-instance")  # 2 x $0.000018 per second
    always_on = catalog.find("aws-ec2-m7g.large")              # $0.0816 an hour
    planner = hearth.CapacityPlanner(serverless, always_on, cold_start_s=10)
    # An hour: 50 minutes at 0.1 busy replicas, then 10 at 2.
    series = hearth.DemandSeries([0.1] * 50 + [2.0] * 10, [6] * 50 + [120] * 10)
    plan = planner.plan(series, p95_latency_s=1)
    assert plan.always_on_replicas == 2
    assert plan.always_on_cost == pytest.approx(2 * 0.0816)
    # 1,500 busy replica-seconds + 2 cold starts of 10 s (0 -> 1, then 1 -> 2), at $0.000036.
    assert plan.serverless_cost == pytest.approx((1500 + 20) * 0.000036)
    # One reserved replica for the hour, the 600 s above it and its one cold start serverless.
    assert plan.hybrid[1].total == pytest.approx(0.0816 + (600 + 10) * 0.000036)
    assert (plan.best_reserved, plan.recommendation) == (0, "serverless")
    assert plan.best_cost == pytest.approx(plan.serverless_cost)
    assert planner.price_hybrid(series, 2).total == pytest.approx(2 * 0.0816)

    # r* = 86,400 x (0.0816 / 3600) / (2 s x 0.000036) = 27,200 requests a day.
    crossover = planner.find_crossover(2, 1)
    assert crossover.requests_per_day == pytest.approx(27200) and crossover.valid

    per_minute = hearth.DemandSeries.from_requests([30, 60], request_duration_s=4,
                                                   concurrency_per_replica=2)
    assert per_minute.busy_replicas == pytest.approx([1.0, 2.0])


def test_bad_input(catalog, repo, tmp_path):
    with pytest.raises(hearth.NotFoundError):
        hearth.PriceCatalog.load(tmp_path / "missing.json")
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.PriceCatalog.parse('{"offerings": [{"name": "x"}]}')
    with pytest.raises(LookupError, match="aws-ec2-m7g.large"):  # lists the known names
        catalog.find("aws-ec2-m99")
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.CostOptimizer(catalog, cache_ttl_s=0)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.CostOptimizer(catalog, output_token_weight=-1)
    ledger = hearth.CostOptimizer(catalog).ledger
    with pytest.raises(hearth.NotFoundError):
        ledger.record_instance_time("m", "no-such-offering", 1)
    with pytest.raises(hearth.InvalidArgumentError):
        ledger.record_request("", "m")
    with pytest.raises(hearth.InvalidArgumentError):
        ledger.record_request("acme", "m", prompt_tokens=-1)
    with pytest.raises(TypeError):
        ledger.record_request("acme", "m", prompt_tokens="many")
    with pytest.raises(hearth.InvalidArgumentError):
        ledger.set_budget("acme", 0)
    with pytest.raises(hearth.NotFoundError):
        ledger.period_spend("nobody")
    cache = hearth.CostOptimizer(catalog, cache_capacity_bytes=64).cache
    with pytest.raises(hearth.ResourceExhaustedError):
        cache.insert("m", "hello", temperature=0, response="x" * 100)
    with pytest.raises(TypeError, match="temprature"):
        cache.lookup("m", "hello", temprature=0)
    with pytest.raises(TypeError, match="message"):
        cache.lookup("m", messages=[("user", 5)], temperature=0)
    with pytest.raises(TypeError, match="stop"):
        cache.lookup("m", "hello", stop=[1, 2], temperature=0)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.Router([hearth.ModelTier("a", "m", 1), hearth.ModelTier("a", "n", 2)])
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.Router([hearth.ModelTier("a", "m", 1)]).escalate(5, -2.0)
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.CapacityPlanner(catalog.find("aws-ec2-m7g.large"), catalog.find("aws-ec2-m7g.large"))
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.DemandSeries([1.0, 2.0], [1.0])
    with pytest.raises(hearth.InvalidArgumentError):
        hearth.DemandSeries.from_requests([1.0], request_duration_s=1, concurrency_per_replica=0)
    with pytest.raises(hearth.InvalidArgumentError, match="run_s"):
        catalog.find("aws-ec2-m7g.large").run_cost(math.nan)
