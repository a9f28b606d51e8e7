"""Many Python threads on one Engine: the GIL is released while requests run, so they
are batched together, and each answer is the one the request gets alone."""
import threading

import hearth

PROMPTS = [f"Write one sentence about the number {n}." for n in range(8)]


def test_threads_are_batched_and_answers_match_alone(smollm2):
    alone = [smollm2.generate(p, max_tokens=24, temperature=0, ignore_eos=True).text
             for p in PROMPTS]
    together = [None] * len(PROMPTS)
    errors = []
    most_running = 0
    done = threading.Event()

    def client(i):
        try:
            together[i] = smollm2.generate(PROMPTS[i], max_tokens=24, temperature=0,
                                           ignore_eos=True).text
        except Exception as error:  # reported below, with the thread's prompt
            errors.append((i, error))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(PROMPTS))]
    for t in threads:
        t.start()
    # The main thread keeps running Python while the clients wait in generate().
    while any(t.is_alive() for t in threads):
        most_running = max(most_running, smollm2.metrics().running)
        done.wait(0.005)
    for t in threads:
        t.join()
    assert not errors
    assert together == alone
    assert most_running >= 2


def test_streams_from_threads_with_a_canceller(tiny_model):
    with hearth.Engine(tiny_model, threads=2) as engine:
        requests = [engine.submit("Once upon a time", max_tokens=64, ignore_eos=True, seed=i)
                    for i in range(12)]
        texts = [None] * len(requests)

        def reader(i):
            texts[i] = "".join(requests[i])

        readers = [threading.Thread(target=reader, args=(i,)) for i in range(len(requests))]
        for t in readers:
            t.start()
        for request in requests[::3]:
            try:
                request.cancel()
            except hearth.FailedPreconditionError:
                pass  # it had finished already
        for t in readers:
            t.join()
        results = [r.result() for r in requests]
    # Leaving `with` closed the engine: its scheduler has published its last state.
    for text, result in zip(texts, results):
        assert text == result.text
        assert result.finish_reason in ("length", "cancelled")
    assert sum(r.finish_reason == "length" for r in results) >= len(results) - 4
    metrics = engine.metrics()
    assert metrics.requests_finished == len(requests)
    assert metrics.kv_blocks_used == 0
