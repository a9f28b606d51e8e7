"""Type stubs for hearth's compiled core (hearth._hearth)."""
from __future__ import annotations

import os
from typing import Callable, Iterator, Mapping, Sequence, Literal, TypedDict, Union, overload

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

class ModelTier:
    name: str
    model: str
    price_per_1k_tokens: float
    max_difficulty: float
    def __init__(self, name: str, model: str, price_per_1k_tokens: float,
                 max_difficulty: float = 1.0) -> None: ...

class RouteDecision:
    tier: int
    tier_name: str
    model: str
    difficulty: float
    escalated: bool
    reason: str

class TierStats:
    name: str
    routed: int
    escalated_in: int
    escalated_out: int

class Router:
    def __init__(self, tiers: Sequence[ModelTier], *,
                 escalate_below_logprob: float = -1.0) -> None: ...
    def route(self, prompt: str, *, prompt_tokens: int = 0,
              max_tokens: int = 0) -> RouteDecision: ...
    def escalate(self, tier: int, mean_logprob: float) -> RouteDecision: ...
    @staticmethod
    def estimate_difficulty(prompt: str, *, prompt_tokens: int = 0,
                            max_tokens: int = 0) -> float: ...
    @property
    def tiers(self) -> list[ModelTier]: ...
    def stats(self) -> list[TierStats]: ...

class InstanceResources:
    vcpus: float
    memory_gib: float
    accelerator: str
    accelerator_count: int

class Offering:
    name: str
    kind: str  # "serverless", "on_demand", "reserved" or "spot"
    provider: str
    region: str
    resources: InstanceResources
    per_vcpu_second: float
    per_gib_second: float
    per_accelerator_second: float
    per_request: float
    billing_granularity_s: float
    minimum_billed_s: float
    hourly: float
    term_s: float
    interruption_rate_per_hour: float | None
    currency: str
    price_date: str
    source: str
    note: str
    def price_per_second(self) -> float: ...
    def billed_seconds(self, run_s: float) -> float: ...
    def run_cost(self, run_s: float) -> float: ...

class PriceCatalog:
    @staticmethod
    def load(path: Union[str, os.PathLike[str]]) -> PriceCatalog: ...
    @staticmethod
    def parse(json: str) -> PriceCatalog: ...
    def find(self, name: str) -> Offering: ...
    @property
    def offerings(self) -> list[Offering]: ...
    def __len__(self) -> int: ...

class OfferingUsage:
    offering: str
    instance_seconds: float
    cost: float

class ModelCost:
    model: str
    offerings: list[OfferingUsage]
    instance_cost: float
    request_fees: float
    requests: int
    prompt_tokens: int
    output_tokens: int

class TenantModelCost:
    model: str
    weighted_tokens: float
    instance_share: float
    request_fees: float

class TenantCost:
    tenant: str
    models: list[TenantModelCost]
    instance_share: float
    request_fees: float
    total: float
    requests: int
    prompt_tokens: int
    output_tokens: int

class CostReport:
    models: list[ModelCost]
    tenants: list[TenantCost]
    instance_cost: float
    request_fees: float
    unattributed: float
    total: float

class BudgetAlert:
    tenant: str
    threshold: float
    spent: float
    budget: float
    period_start: float
    raised_at: float

class CostLedger:
    def record_instance_time(self, model: str, offering: str, seconds: float) -> None: ...
    def record_request(self, tenant: str, model: str, *, prompt_tokens: int = 0,
                       output_tokens: int = 0, offering: str = "") -> None: ...
    def set_budget(self, tenant: str, amount: float, *, period_s: float = 2592000.0,
                   thresholds: Sequence[float] = (0.5, 0.8, 1.0)) -> None: ...
    def period_spend(self, tenant: str) -> float: ...
    def alerts(self) -> list[BudgetAlert]: ...
    def report(self) -> CostReport: ...

class ResponseCacheStats:
    hits: int
    misses: int
    uncacheable: int
    insertions: int
    evictions: int
    expirations: int
    refused: int
    entries: int
    bytes: int

class ResponseCache:
    def lookup(self, model: str, prompt: str | None = None,
               **options: Unpack[RequestOptions]) -> str | None: ...
    def insert(self, model: str, prompt: str | None = None, *, response: str,
               **options: Unpack[RequestOptions]) -> None: ...
    def stats(self) -> ResponseCacheStats: ...

class CostOptimizer:
    def __init__(self, catalog: PriceCatalog, *, output_token_weight: float = 1.0,
                 tiers: Sequence[ModelTier] = (), escalate_below_logprob: float = -1.0,
                 cache_capacity_bytes: int = 67108864, cache_ttl_s: float = 600.0,
                 clock: ManualClock | None = None) -> None: ...
    @property
    def catalog(self) -> PriceCatalog: ...
    @property
    def ledger(self) -> CostLedger: ...
    @property
    def router(self) -> Router | None: ...
    @property
    def cache(self) -> ResponseCache: ...

class DemandSeries:
    def __init__(self, busy_replicas: Sequence[float], requests: Sequence[float], *,
                 interval_s: float = 60.0) -> None: ...
    @staticmethod
    def from_requests(requests: Sequence[float], *, interval_s: float = 60.0,
                      request_duration_s: float, concurrency_per_replica: int) -> DemandSeries: ...
    @property
    def interval_s(self) -> float: ...
    busy_replicas: list[float]
    requests: list[float]

class HybridCost:
    reserved: int
    reserved_cost: float
    serverless_cost: float
    request_fees: float
    total: float

class PlanResult:
    always_on_cost: float
    always_on_replicas: int
    serverless_cost: float
    hybrid: list[HybridCost]
    best_reserved: int
    best_cost: float
    seed_reserved: int
    seed_cost: float
    daily_requests: float
    recommendation: str  # "always_on", "serverless", "reserved" or "hybrid"

class Crossover:
    requests_per_day: float
    always_on_cost_per_day: float
    valid: bool

class CapacityPlanner:
    def __init__(self, serverless: Offering, always_on: Offering, *,
                 reserved: Offering | None = None, cold_start_s: float = 0.0) -> None: ...
    def plan(self, series: DemandSeries, *, p95_latency_s: float = 0.0) -> PlanResult: ...
    def price_hybrid(self, series: DemandSeries, reserved: int) -> HybridCost: ...
    def find_crossover(self, request_duration_s: float,
                       concurrency_per_replica: int) -> Crossover: ...

class SimulationTotals:
    requests: int
    served: int
    rejected: int
    rejected_by_reason: dict[str, int]
    truncated: int
    cold_starts: int
    cold_start_rate: float
    ttft_p50_s: float
    ttft_p99_s: float
    e2e_p50_s: float
    e2e_p95_s: float
    e2e_p99_s: float
    slo_met: int
    slo_attainment: float
    prompt_tokens: int
    output_tokens: int
    instances_started: int
    instance_seconds: float
    loaded_instance_seconds: float
    idle_instance_seconds: float
    cost: float
    cost_per_1k_requests: float

class SimulationResult:
    policy: str
    # The overall totals, as SimulationTotals has them:
    requests: int
    served: int
    rejected: int
    rejected_by_reason: dict[str, int]
    truncated: int
    cold_starts: int
    cold_start_rate: float
    ttft_p50_s: float
    ttft_p99_s: float
    e2e_p50_s: float
    e2e_p95_s: float
    e2e_p99_s: float
    slo_met: int
    slo_attainment: float
    prompt_tokens: int
    output_tokens: int
    instances_started: int
    instance_seconds: float
    loaded_instance_seconds: float
    idle_instance_seconds: float
    cost: float
    cost_per_1k_requests: float
    models: dict[str, SimulationTotals]
    billed_offering: str
    cost_report: CostReport
    alerts: list[BudgetAlert]
    duration_s: float
    events: int
    wall_s: float
    pool_cold_starts: int
    pool_warm_hits: int
    def to_dict(self) -> dict[str, object]: ...
    def timeline_csv(self) -> str: ...

TracePath = Union[str, os.PathLike[str]]

class SimulateOptions(TypedDict, total=False):
    """Keyword options of simulate(), as `hearth simulate`'s flags."""
    speedup: float
    offering: str                 # default "gcp-cloud-run-2vcpu-instance"
    always_on_offering: str       # default "aws-ec2-m7g.large"
    servegen_models: Sequence[str]
    servegen_rate_scale: float
    top: int
    functions_as_models: bool
    time_scale: float
    start_s: float
    end_s: float                  # default 0: to the end
    sample: float
    provisioning_overhead_s: float
    slo_ttft_s: float
    max_queue_wait_s: float
    max_instances: int
    max_replicas: int
    seed: int                     # default 0, as the CLI's --seed

@overload
def simulate(traces: Sequence[Union[TracePath, tuple[TracePath, str]]], *,
             policy: Literal["all"], profile: TracePath, catalog: TracePath,
             **options: Unpack[SimulateOptions]) -> dict[str, SimulationResult]: ...
@overload
def simulate(traces: Sequence[Union[TracePath, tuple[TracePath, str]]], *, policy: str = "hearth",
             profile: TracePath, catalog: TracePath,
             **options: Unpack[SimulateOptions]) -> SimulationResult: ...
@overload
def simulate(traces: Sequence[Union[TracePath, tuple[TracePath, str]]], *,
             policy: Sequence[str], profile: TracePath, catalog: TracePath,
             **options: Unpack[SimulateOptions]) -> dict[str, SimulationResult]: ...
