#include "lib/engine/request_state.h"

namespace hearth {

bool RequestState::Deliver(StreamPiece piece) {
  if (on_token_) return on_token_(piece.text);
  absl::MutexLock lock(&mu_);
  pieces_.push_back(std::move(piece));
  return true;
}

void RequestState::Finish(GenerateResult result) {
  absl::MutexLock lock(&mu_);
  result_ = std::move(result);
  finished_ = true;
}

bool RequestState::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

std::optional<StreamPiece> RequestState::NextPiece() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](RequestState* self) {
        return self->finished_ || !self->pieces_.empty();
      },
      this));
  if (pieces_.empty()) return std::nullopt;
  StreamPiece piece = std::move(pieces_.front());
  pieces_.pop_front();
  return piece;
}

GenerateResult RequestState::TakeResult() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&finished_));
  return std::move(result_);
}

}  // namespace hearth
