#include "examples/server/termination_signals.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace hearth_server {
namespace {
sigset_t TerminationSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}
}  // namespace

absl::Status BlockTerminationSignals() {
  const sigset_t set = TerminationSet();
  if (const int error = pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0) {
    return absl::InternalError(absl::StrCat("pthread_sigmask: ", std::strerror(error)));
  }
  if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
    return absl::InternalError(absl::StrCat("signal(SIGPIPE): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> WaitForTerminationSignal() {
  const sigset_t set = TerminationSet();
  int signal_number = 0;
  if (const int error = sigwait(&set, &signal_number); error != 0) {
    return absl::InternalError(absl::StrCat("sigwait: ", std::strerror(error)));
  }
  return signal_number;
}

}  // namespace hearth_server
