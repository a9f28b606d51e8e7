#include "lib/engine/request_state.h"

namespace hearth {

bool RequestState::Deliver(StreamPiece piece) {
  if (on_token_) return on_token_(piece.text);
  {
    std::lock_guard lock(mu_);
    pieces_.push_back(std::move(piece));
  }
  changed_.notify_all();
  return true;
}

void RequestState::Finish(GenerateResult result) {
  {
    std::lock_guard lock(mu_);
    result_ = std::move(result);
    finished_ = true;
  }
  changed_.notify_all();
}

bool RequestState::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

std::optional<StreamPiece> RequestState::NextPiece() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return finished_ || !pieces_.empty(); });
  if (pieces_.empty()) return std::nullopt;
  StreamPiece piece = std::move(pieces_.front());
  pieces_.pop_front();
  return piece;
}

GenerateResult RequestState::TakeResult() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return finished_; });
  return std::move(result_);
}

}  // namespace hearth
