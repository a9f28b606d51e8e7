// Sequence: the scheduler's view of one request in flight — its tokens so far, how many
// of them have keys and values in the cache, and the blocks that hold them.
#ifndef HEARTH_LIB_ENGINE_SEQUENCE_H_
#define HEARTH_LIB_ENGINE_SEQUENCE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "lib/engine/request_state.h"
#include "lib/engine/text_stream.h"
#include "lib/sampler/sampler.h"

namespace hearth {

struct Sequence {
  Sequence(std::shared_ptr<RequestState> request, uint64_t arrival_order, int64_t length_limit)
      : state(std::move(request)),
        tokens(state->prompt()),
        prompt_length(static_cast<int64_t>(tokens.size())),
        max_length(length_limit),
        arrival(arrival_order),
        priority(state->request().priority),
        sampler(state->request().sampling),
        stream(state->request().stop) {}

  int64_t length() const { return static_cast<int64_t>(tokens.size()); }
  // Tokens still to run through the model before the next token can be sampled.
  int64_t uncomputed() const { return length() - computed; }
  int64_t generated() const { return length() - prompt_length; }

  std::shared_ptr<RequestState> state;
  std::vector<int32_t> tokens;  // prompt, then generated tokens
  const int64_t prompt_length;
  const int64_t max_length;     // context limit: prompt + generated
  const uint64_t arrival;       // submission order, for fairness among equal priorities
  const int priority;
  int64_t computed = 0;         // leading tokens whose keys and values are cached
  std::vector<int32_t> block_table;
  bool admitted_once = false;   // prefix-cache hits count toward the result once
  bool preempted_this_step = false;

  Sampler sampler;
  TextStream stream;
  size_t streamed_tokens = 0;   // generated tokens already handed out in pieces
  GenerateResult result;        // filled as the sequence runs

  Clock::time_point first_scheduled{};
  Clock::time_point prompt_done{};
  Clock::time_point first_token{};
  Clock::time_point last_token{};
};

}  // namespace hearth

#endif  // HEARTH_LIB_ENGINE_SEQUENCE_H_
