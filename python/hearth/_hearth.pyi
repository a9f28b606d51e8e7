"""Type stubs for hearth's compiled core (hearth._hearth)."""
from __future__ import annotations

import os
from typing import Callable, Iterator, Mapping, Sequence, TypedDict, Union

from typing_extensions import Unpack

__version__: str

class Error(RuntimeError):
    """Base of every error hearth raises; `code` names the status ("not_found", ...)."""
    code: str

class CancelledError(Error): ...
class UnknownError(Error): ...
class InvalidArgumentError(Error, ValueError): ...
class DeadlineExceededError(Error, TimeoutError): ...
class NotFoundError(Error, LookupError): ...
class AlreadyExistsError(Error): ...
class PermissionDeniedError(Error): ...
class ResourceExhaustedError(Error): ...
class FailedPreconditionError(Error): ...
class AbortedError(Error): ...
class OutOfRangeError(Error): ...
class UnimplementedError(Error, NotImplementedError): ...
class InternalError(Error): ...
class UnavailableError(Error): ...
class DataLossError(Error): ...
class UnauthenticatedError(Error): ...

Message = Union[Mapping[str, str], tuple[str, str]]

class RequestOptions(TypedDict, total=False):
    """Keyword options of Engine.generate / submit / stream."""
    messages: Sequence[Message]  # instead of a prompt: chat turns, model's template
    max_tokens: int              # > 0; default 256
    temperature: float           # >= 0, 0 = greedy; default 0.8
    top_k: int                   # 0 = off; default 40
    top_p: float                 # (0, 1]; default 0.95
    min_p: float                 # [0, 1); default 0.05
    repetition_penalty: float    # > 0, 1 = off
    repetition_window: int       # last tokens the penalty looks at; default 64
    seed: int                    # same seed, same output
    stop: Union[str, Sequence[str]]  # generation ends before any of these
    ignore_eos: bool             # keep going past end-of-sequence
    priority: int                # larger runs first and is preempted last
    timeout: float               # seconds; unfinished then: finish_reason "deadline"

class Histogram:
    upper_bounds: list[float]
    counts: list[int]
    count: int
    sum: float
    def mean(self) -> float: ...
    def quantile(self, q: float) -> float: ...

class Timings:
    queue_ms: float
    prefill_ms: float
    first_token_ms: float
    decode_ms: float
    prefill_tokens_per_s: float
    decode_tokens_per_s: float

class Result:
    text: str
    tokens: list[int]
    finish_reason: str  # "stop", "length", "cancelled", "deadline" or "error"
    error: str | None
    prompt_tokens: int
    cached_prompt_tokens: int
    completion_tokens: int
    preemptions: int
    timings: Timings

class ModelInfo:
    name: str
    architecture: str
    parameters: int
    layers: int
    context_length: int
    vocab_size: int
    file_bytes: int

class EngineMetrics:
    waiting: int
    running: int
    kv_blocks_total: int
    kv_blocks_used: int
    kv_blocks_cached: int
    kv_blocks_free: int
    prefix_cache_queried_tokens: int
    prefix_cache_hit_tokens: int
    prefix_cache_hit_rate: float
    requests_submitted: int
    requests_finished: int
    requests_cancelled: int
    requests_deadline: int
    requests_failed: int
    preemptions: int
    prompt_tokens: int
    generated_tokens: int
    generated_tokens_per_s: float
    time_to_first_token_ms: Histogram
    inter_token_latency_ms: Histogram

class Request:
    @property
    def id(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    def __next__(self) -> str: ...
    def cancel(self) -> None: ...
    def result(self) -> Result: ...

class Engine:
    def __init__(self, model_path: Union[str, os.PathLike[str]], *, threads: int = 0,
                 context_length: int = 0, kv_cache_bytes: int = 0, kv_block_tokens: int = 16,
                 max_batch_tokens: int = 256, max_sequences: int = 64,
                 prefix_caching: bool = True) -> None: ...
    def generate(self, prompt: str | None = None, *,
                 on_token: Callable[[str], bool | None] | None = None,
                 **options: Unpack[RequestOptions]) -> Result: ...
    def submit(self, prompt: str | None = None, *,
               on_token: Callable[[str], bool | None] | None = None,
               **options: Unpack[RequestOptions]) -> Request: ...
    def stream(self, prompt: str | None = None, **options: Unpack[RequestOptions]) -> Request: ...
    def metrics(self) -> EngineMetrics: ...
    @property
    def model_info(self) -> ModelInfo: ...
    @property
    def load_ms(self) -> float: ...
    @property
    def threads(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Engine: ...
    def __exit__(self, *exc: object) -> None: ...
