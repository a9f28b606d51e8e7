#!/usr/bin/env python3
"""hearth's control plane from Python: a WarmPool of real Engines sized by an AutoScaler,
requests answered through the response cache and billed per tenant, all on a ManualClock
(a minute of traffic in a second); then the same decisions replayed on a real trace.

    python3 examples/python/control_plane.py models/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import argparse
import pathlib

import hearth

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"
OFFERING = "gcp-cloud-run-2vcpu-instance"  # what each loaded instance is billed at


def serve(model_path):
    clock = hearth.ManualClock()
    pool = hearth.WarmPool(
        {"chat": hearth.PoolModel(model_path, kv_cache_bytes=32 << 20, max_leases=4)},
        memory_budget_bytes=1 << 30, max_instances=4, keep_alive=hearth.KeepAlive.fixed(30),
        clock=clock)
    scaler = hearth.AutoScaler([hearth.ScalingPolicy.kpa(container_concurrency=4)],
                               max_replicas=3, clock=clock)
    optimizer = hearth.CostOptimizer(hearth.PriceCatalog.load(DATA / "prices/catalog-2026.json"),
                                     clock=clock)
    openings = ["Once upon a time", "The little dog", "One day", "Lily wanted", "Tom saw",
                "The sun"]

    for tick in range(30):  # one tick every 2 s of virtual time
        # Every 20 s each tenant asks two new questions; acme asks each twice (a cache hit).
        burst = openings[tick // 5:tick // 5 + 2] if tick % 10 == 0 else []
        questions = [("acme", p) for p in burst] * 2 + [("globex", p + ",") for p in burst]
        for tenant, prompt in questions:
            options = dict(max_tokens=16, temperature=0)
            if optimizer.cache.lookup("chat", prompt, **options) is not None:
                continue
            with pool.acquire("chat", timeout=60) as lease:
                result = lease.engine.generate(prompt, **options)
            optimizer.cache.insert("chat", prompt, response=result.text, **options)
            optimizer.ledger.record_request(tenant, "chat", prompt_tokens=result.prompt_tokens,
                                            output_tokens=result.completion_tokens)
        metrics = pool.metrics().models["chat"]
        loaded = metrics.idle + metrics.busy
        scaler.observe(ready_replicas=loaded, starting_replicas=metrics.provisioning + metrics.loading,
                       in_flight=metrics.leases, queue_depth=metrics.waiting)
        pool.set_desired_instances("chat", scaler.decide().desired_replicas)
        optimizer.ledger.record_instance_time("chat", OFFERING, 2 * loaded)
        clock.advance(2)
        pool.tick()

    metrics = pool.metrics()
    print(f"pool: {metrics.cold_starts} cold starts, {metrics.warm_hits} warm hits, "
          f"{metrics.instances} instances now; cache: {optimizer.cache.stats().hits} hits")
    for tenant in optimizer.ledger.report().tenants:
        print(f"  {tenant.tenant}: {tenant.requests} requests, ${tenant.total:.6f}")


def replay():
    results = hearth.simulate([DATA / "traces/AzureLLMInferenceTrace_conv_2023.csv"],
                              policy=["hearth", "kpa", "static_peak"], end_s=600,
                              profile=DATA / "profiles/smollm2-135m-q4_1-cpu.json",
                              catalog=DATA / "prices/catalog-2026.json")
    print("replay of 10 minutes of the Azure conv trace:")
    for name, r in results.items():
        print(f"  {name:<12} served {r.served}/{r.requests}  ${r.cost:.4f}  "
              f"TTFT p99 {r.ttft_p99_s:.2f} s  cold starts {r.cold_starts}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    serve(parser.parse_args().model)
    replay()


if __name__ == "__main__":
    try:
        main()
    except hearth.Error as error:
        raise SystemExit(f"hearth: {error}")
