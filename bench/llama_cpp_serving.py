"""Serve a closed-loop or Poisson load through llama.cpp's continuous batching.

Why: the serving comparison (bench/compare_serving.py) needs llama.cpp's batched
serving as the yardstick, on the same machine, model and workload as hearth's
bench_serving.  llama-cpp-python does not ship llama-server, so this script does,
through llama.cpp's C API, what `llama-server --parallel P --cont-batching` does
in its update loop (tools/server):

- P slots, one llama.cpp sequence each (non-unified KV cache: each sequence has
  its own cells, llama.cpp's recommendation when prompts share little);
- each step builds one llama_batch: the last sampled token of every generating
  slot, then prompt tokens of slots still in prefill, slot by slot, until n_batch
  tokens (a long prompt is split across steps); logits are requested only for
  decode tokens and for the last token of a prompt;
- one llama_decode per step, then greedy sampling (argmax) of every slot that
  produced logits; a slot is freed when it has sampled max_tokens tokens (EOS is
  ignored, as the workload asks);
- a new request goes to the idle slot whose cached tokens share the longest
  prefix with its prompt (llama-server's prompt cache: the KV of the common
  prefix is kept, the rest removed with llama_memory_seq_rm), else to the least
  recently used idle slot; requests with no idle slot wait in a FIFO queue.

The workload is shared with bench_serving.cc: request i is the chat-formatted
prompt i mod len(prompts) of bench/serving_prompts.jsonl (the model's own chat
template, rendered with jinja2; SmolLM2's adds its default system message);
Poisson arrivals come from SplitMix64 seeded with --seed (first request at t=0,
then exponential gaps), so both engines see the same arrival times.

Measurements (wall clock, time.perf_counter): a request's arrival is when its
client submits it (closed loop: the moment the client's previous request
finished; open loop: its scheduled arrival time).  TTFT = first token sampled -
arrival; inter-token latency = gaps between consecutive sampled tokens of a
request, pooled over requests; end-to-end = last token - arrival; throughput =
completion tokens / (last token of the run - first arrival).  Percentiles
interpolate linearly between order statistics (as numpy's default).  The last
stdout line is one JSON object with the same fields as bench_serving's.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_PROMPTS = REPO / "bench" / "serving_prompts.jsonl"

_MASK64 = (1 << 64) - 1


def load_prompts(path: Path) -> list[str]:
    """The user messages of the workload, in file order."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["prompt"] for line in f if line.strip()]


def poisson_arrivals(n: int, rate: float, seed: int) -> list[float]:
    """Arrival times in seconds: 0, then gaps -ln(1-u)/rate, u from SplitMix64.

    bench_serving.cc implements the same generator, so both engines get the same
    schedule for the same seed.
    """
    state = seed & _MASK64
    times, t = [], 0.0
    for i in range(n):
        if i > 0:
            state = (state + 0x9E3779B97F4A7C15) & _MASK64
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
            z ^= z >> 31
            u = (z >> 11) * 2.0**-53
            t += -math.log1p(-u) / rate
        times.append(t)
    return times


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p99": None, "mean": None}
    a = np.asarray(values, dtype=np.float64)
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "mean": float(a.mean())}


@dataclass
class Request:
    index: int
    tokens: list[int]
    arrival: float  # seconds on the run's clock
    cached: int = 0  # prompt tokens whose KV the slot already held
    times: list[float] = field(default_factory=list)  # when each token was sampled
    output: list[int] = field(default_factory=list)   # the sampled tokens


@dataclass
class Slot:
    seq: int
    cached: list[int] = field(default_factory=list)  # tokens whose KV the sequence holds
    request: Request | None = None
    n_prompt_done: int = 0  # prompt tokens in the KV cache
    next_token: int = -1    # sampled, not yet decoded
    last_used: int = 0


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class LlamaServer:
    """One model and a P-slot context: llama-server's batching loop, in-process."""

    def __init__(self, model: Path, threads: int, parallel: int, seq_tokens: int,
                 n_batch: int, n_ubatch: int):
        import llama_cpp

        self.lib = llama_cpp
        self.log: list[str] = []
        # Keep llama.cpp's log for the report (it names the CPU buffer types, e.g.
        # CPU_REPACK when weights were repacked for its AVX-512 kernels), not on stderr.
        self._log_cb = llama_cpp.llama_log_callback(
            lambda level, text, user: self.log.append(text.decode("utf-8", "replace")))
        llama_cpp.llama_log_set(self._log_cb, ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
        mparams = llama_cpp.llama_model_default_params()
        self.model = llama_cpp.llama_model_load_from_file(str(model).encode(), mparams)
        if not self.model:
            raise RuntimeError(f"cannot load {model}")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.parallel = parallel
        self.n_batch = n_batch
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = parallel * seq_tokens
        cparams.n_batch = n_batch
        cparams.n_ubatch = min(n_ubatch, n_batch)
        cparams.n_seq_max = parallel
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.kv_unified = False
        cparams.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            raise RuntimeError("cannot create the llama.cpp context")
        if llama_cpp.llama_n_ctx_seq(self.ctx) < seq_tokens:
            raise RuntimeError(f"context gives {llama_cpp.llama_n_ctx_seq(self.ctx)} tokens "
                               f"per sequence, {seq_tokens} needed")
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self.slots = [Slot(seq=i) for i in range(parallel)]
        self._use_counter = 0

    def close(self) -> None:
        self.lib.llama_batch_free(self.batch)
        self.lib.llama_free(self.ctx)
        self.lib.llama_model_free(self.model)

    def chat_template(self) -> str:
        template = self.lib.llama_model_chat_template(self.model, None)
        if not template:
            raise RuntimeError("the model has no chat template")
        return template.decode("utf-8")

    def tokenize(self, text: str) -> list[int]:
        """Tokens of already formatted text: special tokens parsed, no BOS added (the
        formatted text carries whatever the template puts there, as in hearth)."""
        data = text.encode("utf-8")
        buf = (self.lib.llama_token * (len(data) + 8))()
        n = self.lib.llama_tokenize(self.vocab, data, len(data), buf, len(buf), False, True)
        if n < 0:
            raise RuntimeError("tokenize failed")
        return list(buf[:n])

    def repacked(self) -> bool:
        return any("REPACK" in line for line in self.log)

    def reset(self) -> None:
        self.lib.llama_memory_clear(self.mem, True)
        self.slots = [Slot(seq=i) for i in range(self.parallel)]

    def _assign(self, slot: Slot, request: Request) -> None:
        # Keep the KV of the longest common prefix, but evaluate at least one prompt
        # token: its logits give the first output token.
        keep = min(common_prefix(slot.cached, request.tokens), len(request.tokens) - 1)
        if not self.lib.llama_memory_seq_rm(self.mem, slot.seq, keep, -1):
            raise RuntimeError("llama_memory_seq_rm failed")
        slot.cached = request.tokens[:keep]
        request.cached = keep
        slot.n_prompt_done = keep
        slot.request = request
        self._use_counter += 1
        slot.last_used = self._use_counter

    def _pick_slot(self, request: Request) -> Slot | None:
        idle = [s for s in self.slots if s.request is None]
        if not idle:
            return None
        best = max(idle, key=lambda s: common_prefix(s.cached, request.tokens))
        if common_prefix(best.cached, request.tokens) > 0:
            return best
        return min(idle, key=lambda s: s.last_used)

    def _add(self, n: int, token: int, pos: int, seq: int, logits: bool) -> None:
        b = self.batch
        b.token[n] = token
        b.pos[n] = pos
        b.n_seq_id[n] = 1
        b.seq_id[n][0] = seq
        b.logits[n] = logits

    def serve(self, requests: list[Request], max_tokens: int, closed_clients: int,
              clock_start: float) -> tuple[list[Request], int]:
        """Runs until every request has max_tokens tokens. Open loop (closed_clients ==
        0): requests arrive at their .arrival. Closed loop: closed_clients requests
        start at 0; each finished one releases the next, arriving at that moment.
        Returns (finished requests, errors)."""
        lib = self.lib

        def clock() -> float:
            return time.perf_counter() - clock_start

        pending = collections.deque(requests)
        if closed_clients:
            released = min(closed_clients, len(requests))
            for r in requests[:released]:
                r.arrival = 0.0
        else:
            released = len(requests)
        queue: collections.deque[Request] = collections.deque()
        finished: list[Request] = []
        errors = 0

        def release_next(t: float) -> None:
            nonlocal released
            if closed_clients and released < len(requests):
                requests[released].arrival = t
                released += 1

        while len(finished) + errors < len(requests):
            now = clock()
            while pending and pending[0].index < released and pending[0].arrival <= now:
                queue.append(pending.popleft())
            while queue:
                slot = self._pick_slot(queue[0])
                if slot is None:
                    break
                self._assign(slot, queue.popleft())
            active = [s for s in self.slots if s.request is not None]
            if not active:
                if pending and pending[0].index < released:
                    time.sleep(max(0.0, pending[0].arrival - clock()))
                continue

            n = 0
            outputs: list[Slot] = []
            for s in active:  # decode tokens first, as llama-server does
                if s.request.times:
                    self._add(n, s.next_token, len(s.cached), s.seq, True)
                    s.cached.append(s.next_token)
                    outputs.append(s)
                    n += 1
            for s in active:
                if s.request.times:
                    continue
                prompt = s.request.tokens
                while s.n_prompt_done < len(prompt) and n < self.n_batch:
                    last = s.n_prompt_done == len(prompt) - 1
                    self._add(n, prompt[s.n_prompt_done], s.n_prompt_done, s.seq, last)
                    s.cached.append(prompt[s.n_prompt_done])
                    s.n_prompt_done += 1
                    n += 1
                    if last:
                        outputs.append(s)
            self.batch.n_tokens = n
            rc = lib.llama_decode(self.ctx, self.batch)
            if rc != 0:
                # Never drop silently: fail every request in the batch and free its slot.
                for s in active:
                    errors += 1
                    s.request = None
                    s.cached = []
                    lib.llama_memory_seq_rm(self.mem, s.seq, 0, -1)
                    release_next(clock())
                print(f"llama_decode returned {rc}", file=sys.stderr)
                continue
            logits = lib.llama_get_logits(self.ctx)
            rows = np.ctypeslib.as_array(ctypes.cast(logits, ctypes.POINTER(ctypes.c_float)),
                                         shape=(len(outputs), self.n_vocab))
            tokens = rows.argmax(axis=1)
            t = clock()
            for s, token in zip(outputs, tokens):
                r = s.request
                r.times.append(t)
                r.output.append(int(token))
                s.next_token = int(token)
                if len(r.times) == max_tokens:
                    finished.append(r)
                    s.request = None
                    release_next(t)
        return finished, errors


def run_load(server: LlamaServer, prompts_tokens: list[list[int]], args: argparse.Namespace) -> dict:
    n = args.requests
    if args.mode == "closed":
        arrivals = [0.0] * n
    else:
        arrivals = poisson_arrivals(n, args.rate, args.seed)
    requests = [Request(index=i, tokens=prompts_tokens[i % len(prompts_tokens)], arrival=a)
                for i, a in enumerate(arrivals)]
    start = time.perf_counter()
    finished, errors = server.serve(requests, args.max_tokens,
                                    args.concurrency if args.mode == "closed" else 0, start)
    end = max((r.times[-1] for r in finished), default=time.perf_counter() - start)
    wall = end - min((r.arrival for r in requests), default=0.0)
    completion = sum(len(r.times) for r in finished)
    ttft = [1e3 * (r.times[0] - r.arrival) for r in finished]
    e2e = [1e3 * (r.times[-1] - r.arrival) for r in finished]
    itl = [1e3 * (b - a) for r in finished for a, b in zip(r.times, r.times[1:])]
    return {
        "engine": "llama.cpp", "mode": args.mode, "concurrency": args.concurrency,
        "parallel": server.parallel, "rate": args.rate if args.mode == "poisson" else None,
        "seed": args.seed, "requests": n, "completed": len(finished), "errors": errors,
        "max_tokens": args.max_tokens, "threads": args.threads,
        "prompt_tokens": sum(len(r.tokens) for r in finished),
        "cached_prompt_tokens": sum(r.cached for r in finished),
        "completion_tokens": completion, "wall_s": wall,
        "output_tok_s": completion / wall if wall > 0 else None,
        "ttft_ms": percentiles(ttft), "itl_ms": percentiles(itl), "e2e_ms": percentiles(e2e),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS)
    ap.add_argument("--mode", choices=["closed", "poisson"], default="closed")
    ap.add_argument("--concurrency", type=int, default=1, help="closed loop: clients")
    ap.add_argument("--parallel", type=int, default=0,
                    help="slots (llama-server --parallel); 0 = --concurrency in closed loop, 64 in poisson")
    ap.add_argument("--requests", type=int, default=0, help="0 = max(2 * concurrency, 8)")
    ap.add_argument("--rate", type=float, default=1.0, help="poisson: requests/s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-batch", type=int, default=2048, help="llama-server's default")
    ap.add_argument("--n-ubatch", type=int, default=512, help="llama-server's default")
    args = ap.parse_args()
    if args.requests <= 0:
        args.requests = max(2 * args.concurrency, 8)
    parallel = args.parallel or (args.concurrency if args.mode == "closed" else 64)

    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # Probe load: the template and the longest prompt size the real context.
    server = LlamaServer(args.model, args.threads, 1, 512, 512, 512)
    template = ImmutableSandboxedEnvironment().from_string(server.chat_template())
    texts = [template.render(messages=[{"role": "user", "content": p}], add_generation_prompt=True)
             for p in load_prompts(args.prompts)]
    prompts_tokens = [server.tokenize(t) for t in texts]
    server.close()
    seq_tokens = max(len(t) for t in prompts_tokens) + args.max_tokens + 1
    server = LlamaServer(args.model, args.threads, parallel, seq_tokens, args.n_batch, args.n_ubatch)

    # Warm-up (untimed): page in the weights, start llama.cpp's threads.
    warm = argparse.Namespace(**{**vars(args), "mode": "closed", "concurrency": 1, "requests": 1,
                                 "max_tokens": 8})
    run_load(server, prompts_tokens, warm)
    server.reset()

    result = run_load(server, prompts_tokens, args)
    result["llama_cpp_version"] = getattr(sys.modules.get("llama_cpp"), "__version__", None)
    result["repacked_weights"] = server.repacked()
    result["system_info"] = server.lib.llama_print_system_info().decode().strip()
    server.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
