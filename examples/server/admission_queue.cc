#include "examples/server/admission_queue.h"

namespace hearth_server {

RequestSlot::RequestSlot(RequestSlot&& other) noexcept
    : queue_(other.queue_), running_(other.running_) {
  other.queue_ = nullptr;
}

RequestSlot::~RequestSlot() {
  if (queue_ != nullptr) queue_->Leave(running_);
}

void RequestSlot::Start() {
  if (queue_ == nullptr || running_) return;
  queue_->StartOne();
  running_ = true;
}

std::optional<RequestSlot> AdmissionQueue::TryEnter() {
  std::lock_guard<std::mutex> lock(mu_);
  if (queued_ >= max_queue_) return std::nullopt;
  ++queued_;
  return RequestSlot(this);
}

int AdmissionQueue::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
}

int AdmissionQueue::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

void AdmissionQueue::WaitUntilEmpty() {
  std::unique_lock<std::mutex> lock(mu_);
  empty_.wait(lock, [this] { return queued_ == 0 && in_flight_ == 0; });
}

void AdmissionQueue::StartOne() {
  std::lock_guard<std::mutex> lock(mu_);
  --queued_;
  ++in_flight_;
}

void AdmissionQueue::Leave(bool running) {
  std::lock_guard<std::mutex> lock(mu_);
  --(running ? in_flight_ : queued_);
  if (queued_ == 0 && in_flight_ == 0) empty_.notify_all();
}

}  // namespace hearth_server
