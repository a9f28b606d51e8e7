#!/usr/bin/env python3
"""hearth from Python through its package (`pip install .`): stream an answer, then serve
several questions at once from threads — the Engine batches them.

    python3 examples/python/generate.py models/SmolLM2-135M-Instruct.Q4_1.gguf "What is the capital of France?"
"""
import argparse
import concurrent.futures

import hearth


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("question")
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args()

    with hearth.Engine(args.model) as engine:
        request = engine.stream(messages=[{"role": "user", "content": args.question}],
                                max_tokens=args.max_tokens, temperature=0)
        for piece in request:
            print(piece, end="", flush=True)
        result = request.result()
        print(f"\n[{result.finish_reason} | prompt {result.prompt_tokens} tokens | "
              f"completion {result.completion_tokens} tokens | "
              f"first token {result.timings.first_token_ms:.0f} ms]")

        topics = ["the sea", "mountains", "bread", "bicycles"]
        with concurrent.futures.ThreadPoolExecutor(len(topics)) as pool:
            answers = pool.map(
                lambda topic: engine.generate(f"Write one sentence about {topic}.",
                                              max_tokens=24, temperature=0), topics)
            for topic, answer in zip(topics, answers):
                print(f"{topic}: {answer.text.strip()}")
        metrics = engine.metrics()
        print(f"[served {metrics.requests_finished} requests, "
              f"p50 time to first token {metrics.time_to_first_token_ms.quantile(0.5):.0f} ms]")


if __name__ == "__main__":
    try:
        main()
    except hearth.Error as error:
        raise SystemExit(f"hearth: {error}")
