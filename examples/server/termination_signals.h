// SIGTERM and SIGINT as events the server waits for, so that it can drain (stop taking
// requests, finish the ones in flight) instead of dying mid-answer.
#ifndef HEARTH_EXAMPLES_SERVER_TERMINATION_SIGNALS_H_
#define HEARTH_EXAMPLES_SERVER_TERMINATION_SIGNALS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hearth_server {

// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it starts
// afterwards; call it before starting any. Also ignores SIGPIPE: a client that hangs up
// mid-stream is a failed write, not the end of the process.
absl::Status BlockTerminationSignals();
// Waits for SIGTERM or SIGINT (blocked beforehand); returns the signal's number.
absl::StatusOr<int> WaitForTerminationSignal();

}  // namespace hearth_server

#endif  // HEARTH_EXAMPLES_SERVER_TERMINATION_SIGNALS_H_
