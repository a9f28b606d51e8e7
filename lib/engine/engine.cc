#include "hearth/engine.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "lib/engine/batch_engine.h"
#include "lib/engine/forward_backend.h"
#include "lib/runtime/thread_pool.h"
#include "lib/snapshot/model_file.h"

namespace hearth {
namespace {

// A long default context costs nothing up front: KV blocks are touched only when used.
constexpr int64_t kDefaultContext = 4096;
// Tokens per request the default KV budget provides for, at max_sequences requests.
constexpr int64_t kDefaultTokensPerSequence = 1024;

absl::Status ValidateConfig(const EngineConfig& config) {
  if (config.model_path.empty()) return absl::InvalidArgumentError("model_path is empty");
  const auto out_of_range = [](std::string_view name, int64_t value, int64_t lo, int64_t hi) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s must be in [%d, %d] (got %d)", name, lo, hi, value));
  };
  if (config.device < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("device must be >= 0 (got %d)", config.device));
  }
  if (config.activation_precision != ActivationPrecision::k16Bit &&
      config.activation_precision != ActivationPrecision::k8Bit) {
    return absl::InvalidArgumentError(
        absl::StrFormat("activation_precision %d is neither 16-bit nor 8-bit",
                        static_cast<int>(config.activation_precision)));
  }
  if (config.threads < 0 || config.threads > 1024) {
    return out_of_range("threads", config.threads, 0, 1024);
  }
  if (config.context_length < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("context_length must be >= 0 (got %d)", config.context_length));
  }
  if (config.kv_cache_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("kv_cache_bytes must be >= 0 (got %d)", config.kv_cache_bytes));
  }
  if (config.kv_block_tokens < 1 || config.kv_block_tokens > 1024) {
    return out_of_range("kv_block_tokens", config.kv_block_tokens, 1, 1024);
  }
  if (config.max_sequences < 1 || config.max_sequences > 65536) {
    return out_of_range("max_sequences", config.max_sequences, 1, 65536);
  }
  // Every running request decodes one token per step, so the step must hold them all.
  if (config.max_batch_tokens < config.max_sequences || config.max_batch_tokens > 1 << 20) {
    return out_of_range("max_batch_tokens", config.max_batch_tokens, config.max_sequences,
                        1 << 20);
  }
  return absl::OkStatus();
}

// The backend config.backend asks for. kAuto falls back to the CPU only where CUDA is
// absent (not built, no device); a GPU that cannot hold the model is an error to report.
absl::StatusOr<std::unique_ptr<ForwardBackend>> MakeBackend(const EngineConfig& config,
                                                            const LlamaModel& model,
                                                            KvCacheShape kv, ThreadPool* pool) {
  const cpu::ActivationPrecision precision =
      config.activation_precision == ActivationPrecision::k8Bit ? cpu::ActivationPrecision::k8Bit
                                                                : cpu::ActivationPrecision::k16Bit;
  if (config.backend == Backend::kCpu) return MakeCpuBackend(model, kv, pool, precision);
  absl::StatusOr<std::unique_ptr<ForwardBackend>> cuda = MakeCudaBackend(model, kv, config.device);
  if (config.backend == Backend::kAuto && !cuda.ok() &&
      (absl::IsUnimplemented(cuda.status()) || absl::IsFailedPrecondition(cuda.status()))) {
    return MakeCpuBackend(model, kv, pool, precision);
  }
  return cuda;
}

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  LoadTimings load;
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  absl::StatusOr<OpenedModelFile> opened = OpenModelFile(config.model_path);
  if (!opened.ok()) return opened.status();
  absl::StatusOr<std::unique_ptr<LlamaModel>> model =
      LlamaModel::FromFile(std::move(opened->file));
  if (!model.ok()) return model.status();
  load.open_ms = MillisSince(start);

  // The weights are read in by every worker (a snapshot's verified in the same pass) while
  // the tokenizer is built beside them: on a cold start the read is the long pole, and the
  // forward pass would otherwise fault its pages in one at a time, layer by layer.
  auto pool = std::make_unique<ThreadPool>(config.threads);
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer;
  std::thread tokenizer_thread([&] {
    const auto tokenizer_start = std::chrono::steady_clock::now();
    tokenizer = Tokenizer::FromGguf((*model)->file());
    load.tokenizer_ms = MillisSince(tokenizer_start);
  });
  const auto page_in_start = std::chrono::steady_clock::now();
  const absl::Status read_in = opened->ReadIn(*pool);
  load.page_in_ms = MillisSince(page_in_start);
  tokenizer_thread.join();
  if (!read_in.ok()) return read_in;
  if (!tokenizer.ok()) return tokenizer.status();
  const LlamaConfig& c = (*model)->config();
  if ((*tokenizer)->n_vocab() != c.vocab_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the tokenizer has %d tokens but the model's embedding has %d rows",
        (*tokenizer)->n_vocab(), c.vocab_size));
  }
  int64_t context = std::min(c.context_length, kDefaultContext);
  if (config.context_length > 0) {
    if (config.context_length > c.context_length) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "context_length %d exceeds the model's trained context of %d", config.context_length,
          c.context_length));
    }
    context = config.context_length;
  }

  EngineLimits limits;
  limits.block_tokens = config.kv_block_tokens;
  // kAuto is sized for the CUDA cache, the larger: a fallback to the CPU stays within the
  // budget.
  const int64_t block_bytes = config.backend == Backend::kCpu
                                  ? PagedKvCache::BytesPerBlock(c, config.kv_block_tokens)
                                  : CudaKvBlockBytes(c, config.kv_block_tokens);
  const int64_t kv_bytes =
      config.kv_cache_bytes > 0
          ? config.kv_cache_bytes
          : config.max_sequences * std::min(context, kDefaultTokensPerSequence) *
                (block_bytes / config.kv_block_tokens);
  limits.kv_blocks = kv_bytes / block_bytes;
  if (limits.kv_blocks * config.kv_block_tokens < 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "kv_cache_bytes %d holds fewer than 2 tokens (a block of %d tokens takes %d bytes)",
        config.kv_cache_bytes, config.kv_block_tokens, block_bytes));
  }
  if (limits.kv_blocks > INT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrFormat("kv_cache_bytes %d makes more than 2^31 blocks", kv_bytes));
  }
  // One request alone can always grow to its limit: preemption frees the others' blocks.
  limits.context = std::min(context, limits.kv_blocks * config.kv_block_tokens);
  limits.scheduler = {config.max_batch_tokens, config.max_sequences};
  limits.prefix_caching = config.prefix_caching;
  const auto backend_start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<ForwardBackend>> backend =
      MakeBackend(config, **model, {limits.kv_blocks, limits.block_tokens}, pool.get());
  if (!backend.ok()) return backend.status();
  load.backend_ms = MillisSince(backend_start);
  load.total_ms = MillisSince(start);
  return std::unique_ptr<Engine>(new BatchEngine(*std::move(model), *std::move(tokenizer),
                                                 std::move(pool), *std::move(backend), limits,
                                                 load));
}

std::string_view BackendName(Backend backend) {
  switch (backend) {
    case Backend::kCpu: return "cpu";
    case Backend::kCuda: return "cuda";
    case Backend::kAuto: return "auto";
  }
  return "unknown";
}

absl::StatusOr<Backend> ParseBackend(std::string_view name) {
  for (Backend b : {Backend::kCpu, Backend::kCuda, Backend::kAuto}) {
    if (name == BackendName(b)) return b;
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown backend '%s' (cpu, cuda or auto)", name));
}

std::string_view ActivationPrecisionName(ActivationPrecision precision) {
  switch (precision) {
    case ActivationPrecision::k16Bit: return "16";
    case ActivationPrecision::k8Bit: return "8";
  }
  return "unknown";
}

absl::StatusOr<ActivationPrecision> ParseActivationPrecision(std::string_view bits) {
  for (ActivationPrecision p : {ActivationPrecision::k16Bit, ActivationPrecision::k8Bit}) {
    if (bits == ActivationPrecisionName(p)) return p;
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown activation precision '%s' (16 or 8 bits)", bits));
}

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kDeadline: return "deadline";
    case FinishReason::kError: return "error";
  }
  return "unknown";
}

}  // namespace hearth
