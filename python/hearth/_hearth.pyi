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

# --- Control plane. Times are seconds since the Unix epoch on the object's clock;
# durations are seconds (math.inf where a field takes an infinite duration).

class ManualClock:
    def __init__(self, start: float = 0.0) -> None: ...
    def now(self) -> float: ...
    def advance(self, seconds: float) -> None: ...
    def set(self, seconds: float) -> None: ...

class KeepAlive:
    def __init__(self, name: str) -> None: ...  # "fixed", "fixed:<s>", "immediate", "hybrid"
    @staticmethod
    def fixed(seconds: float = 600) -> KeepAlive: ...
    @staticmethod
    def immediate() -> KeepAlive: ...
    @staticmethod
    def hybrid(*, bin_s: float = 60.0, range_s: float = 14400.0, head_percentile: float = 5.0,
               tail_percentile: float = 99.0, margin: float = 0.1, min_samples: int = 10,
               min_cv: float = 2.0, max_out_of_bounds_share: float = 0.5,
               forecast_alpha: float = 0.5, forecast_margin: float = 0.15) -> KeepAlive: ...
    @property
    def name(self) -> str: ...

class PoolModel:
    def __init__(self, model_path: Union[str, os.PathLike[str]], *, kv_cache_bytes: int,
                 max_leases: int = 1, min_warm: int = 0, memory_bytes: int | None = None,
                 threads: int = 0, context_length: int = 0, kv_block_tokens: int = 16,
                 max_batch_tokens: int = 256, max_sequences: int = 64,
                 prefix_caching: bool = True) -> None: ...
    @property
    def model_path(self) -> str: ...
    @property
    def kv_cache_bytes(self) -> int: ...
    @property
    def max_leases(self) -> int: ...
    @property
    def min_warm(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...

class ModelPoolMetrics:
    provisioning: int
    loading: int
    idle: int
    busy: int
    draining: int
    leases: int
    waiting: int
    desired: int
    min_warm: int
    memory_bytes: int
    warm_hits: int
    cold_starts: int
    last_cold_start_ms: float

class PoolMetrics:
    warm_hits: int
    cold_starts: int
    failed_deadline: int
    failed_provisioner: int
    failed_other: int
    instances_started: int
    instances_failed: int
    instances_evicted: int
    instances_expired: int
    wait_time_ms: Histogram
    cold_start_ms: Histogram
    idle_instance_seconds: float
    idle_byte_seconds: float
    loaded_instance_seconds: float
    memory_bytes: int
    instances: int
    models: dict[str, ModelPoolMetrics]

class Lease:
    @property
    def model(self) -> str: ...
    @property
    def instance_id(self) -> int: ...
    @property
    def held(self) -> bool: ...
    @property
    def engine(self) -> Engine | None: ...  # owned by the pool: do not close() it
    def release(self) -> None: ...
    def __enter__(self) -> Lease: ...
    def __exit__(self, *exc: object) -> None: ...

class WarmPool:
    def __init__(self, models: Mapping[str, PoolModel], *, memory_budget_bytes: int,
                 max_instances: int, keep_alive: Union[KeepAlive, str] = "fixed",
                 clock: ManualClock | None = None) -> None: ...
    def acquire(self, model: str, *, timeout: float | None = None) -> Lease: ...
    def prewarm(self, model: str, count: int = 1) -> None: ...
    def set_desired_instances(self, model: str, count: int) -> None: ...
    def retire(self, instance_id: int) -> None: ...
    def tick(self) -> None: ...
    def next_wakeup(self) -> float | None: ...
    def metrics(self) -> PoolMetrics: ...

class ScalingDecision:
    desired_replicas: int
    reason: str

class ScalingPolicy:
    def __init__(self, name: str) -> None: ...
    @staticmethod
    def hpa(metric: str = "concurrency", *, target_per_replica: float = 70.0,
            tolerance: float = 0.1, sync_period_s: float = 15.0,
            scale_up_stabilization_s: float = 0.0, scale_down_stabilization_s: float = 300.0,
            min_replicas: int = 1) -> ScalingPolicy: ...
    @staticmethod
    def kpa(*, container_concurrency: float = 100.0, target_utilization: float = 0.7,
            tick_s: float = 2.0, stable_window_s: float = 60.0,
            panic_window_percentage: float = 10.0, panic_threshold: float = 2.0,
            max_scale_up_rate: float = 1000.0, max_scale_down_rate: float = 2.0,
            scale_to_zero_grace_s: float = 30.0) -> ScalingPolicy: ...
    @staticmethod
    def queue_depth(*, target_queue_depth: float = 10.0, scale_up_fraction: float = 0.8,
                    scale_down_fraction: float = 0.2, cooldown_s: float = 60.0) -> ScalingPolicy: ...
    @staticmethod
    def load_score(*, cpu_weight: float = 0.4, memory_weight: float = 0.3,
                   rps_weight: float = 0.3, rps_capacity_per_replica: float = 10.0,
                   alpha: float = 0.7, scale_up_score: float = 0.8,
                   scale_down_score: float = 0.3, growth: float = 10.0,
                   interval_s: float = 15.0) -> ScalingPolicy: ...
    @staticmethod
    def predictive(*, target_concurrency: float = 70.0, headroom: float = 1.1,
                   bin_s: float = 60.0, season_period_s: float = 86400.0,
                   level_smoothing: float = 0.5, trend_smoothing: float = 0.1,
                   season_smoothing: float = 0.3, service_time_smoothing: float = 0.05,
                   initial_service_time_s: float = 5.0, cold_start_s: float = 10.0,
                   scale_down_delay_s: float = 60.0) -> ScalingPolicy: ...
    @staticmethod
    def static(*, replicas: int = 1) -> ScalingPolicy: ...
    @property
    def name(self) -> str: ...

class AutoScaler:
    def __init__(self, policies: Sequence[Union[ScalingPolicy, str]], *, min_replicas: int = 0,
                 max_replicas: int = 100, clock: ManualClock | None = None) -> None: ...
    def observe(self, *, time: float | None = None, ready_replicas: int = 0,
                starting_replicas: int = 0, in_flight: float = 0, queue_depth: float = 0,
                arrival_rate: float = 0, tokens_per_s: float = 0, utilization: float = 0,
                memory_utilization: float = 0, ttft_p50_ms: float = 0,
                ttft_p99_ms: float = 0) -> None: ...
    def decide(self) -> ScalingDecision: ...
    def set_cold_start(self, seconds: float) -> None: ...
    @property
    def min_replicas(self) -> int: ...
    @property
    def max_replicas(self) -> int: ...
