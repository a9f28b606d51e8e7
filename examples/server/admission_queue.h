// AdmissionQueue — the server's bound on requests it has accepted: at most max_queue wait
// (for a lease on an instance, including one held for a cold start) while others run.
//
// A request that passes the rate limit asks for a RequestSlot; when max_queue requests
// already wait, it is refused (503 queue_full). The slot counts as queued until Start(),
// then as in flight, and frees itself when destroyed. WaitUntilEmpty() is the drain: it
// returns once every slot is gone.
//
// Thread-safety: every method may be called from any thread; a RequestSlot belongs to the
// one request that holds it.
#ifndef HEARTH_EXAMPLES_SERVER_ADMISSION_QUEUE_H_
#define HEARTH_EXAMPLES_SERVER_ADMISSION_QUEUE_H_

#include <condition_variable>
#include <mutex>
#include <optional>

namespace hearth_server {

class AdmissionQueue;

class RequestSlot {
 public:
  RequestSlot(RequestSlot&& other) noexcept;
  RequestSlot& operator=(RequestSlot&&) = delete;
  RequestSlot(const RequestSlot&) = delete;
  ~RequestSlot();

  // Queued → in flight (idempotent).
  void Start();

 private:
  friend class AdmissionQueue;
  explicit RequestSlot(AdmissionQueue* queue) : queue_(queue) {}

  AdmissionQueue* queue_;  // nullptr once moved from
  bool running_ = false;
};

class AdmissionQueue {
 public:
  // max_queue >= 1 (the caller validates its flag).
  explicit AdmissionQueue(int max_queue) : max_queue_(max_queue) {}

  // A queued slot, or nullopt when max_queue requests already wait.
  std::optional<RequestSlot> TryEnter();

  int queued() const;
  int in_flight() const;
  // Blocks until no slot is left.
  void WaitUntilEmpty();

 private:
  friend class RequestSlot;
  void StartOne();
  void Leave(bool running);

  const int max_queue_;
  mutable std::mutex mu_;
  std::condition_variable empty_;
  int queued_ = 0;     // guarded by mu_
  int in_flight_ = 0;  // guarded by mu_
};

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_ADMISSION_QUEUE_H_
