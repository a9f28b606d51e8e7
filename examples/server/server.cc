#include "examples/server/server.h"

#include <sys/socket.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "examples/server/deployment.h"
#include "examples/server/http_routes.h"
#include "examples/server/termination_signals.h"
#include "httplib.h"

namespace hearth_server {
namespace {
// cpp-httplib runs one connection per worker thread, and a request holds its thread while
// it waits and runs: enough for every running and queued request, plus a few for
// /metrics, probes and the answers that turn requests away.
constexpr int kSpareHttpThreads = 8;
// How long an idle keep-alive connection is kept: short, because a drain waits for idle
// connections to time out before the process exits.
constexpr time_t kKeepAliveTimeoutS = 2;
// Debian's compiled cpp-httplib listens with a backlog of 5: a burst of new connections
// overflows it, and the kernel's SYN cookies then show clients connection resets. Linux
// takes a second listen() on the bound socket as a new backlog (capped by somaxconn).
constexpr int kListenBacklog = 1024;
}  // namespace

absl::Status RunServer(const ServerConfig& config) {
  if (absl::Status s = ValidateServerConfig(config); !s.ok()) return s;
  if (absl::Status s = BlockTerminationSignals(); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Deployment>> deployment = Deployment::Create(config);
  if (!deployment.ok()) return deployment.status();

  httplib::Server server;
  const size_t http_threads =
      static_cast<size_t>(config.max_concurrent) * config.models.size() + config.max_queue + kSpareHttpThreads;
  server.new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
  server.set_payload_max_length(static_cast<size_t>(config.max_body_bytes));
  server.set_keep_alive_timeout(kKeepAliveTimeoutS);
  // Small writes (SSE pieces, short JSON answers) on kept-alive connections otherwise wait
  // ~40 ms for Nagle and the peer's delayed ACK.
  server.set_tcp_nodelay(true);
  int listening_socket = -1;
  server.set_socket_options([&listening_socket](socket_t sock) {
    httplib::default_socket_options(sock);
    listening_socket = sock;
  });
  InstallRoutes(server, **deployment);

  int port = config.port;
  if (port == 0) {
    port = server.bind_to_any_port(config.host);
  } else if (!server.bind_to_port(config.host, port)) {
    port = -1;
  }
  if (port < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.host, ":", config.port,
                                               " (address in use, or not this machine's?)"));
  }
  if (::listen(listening_socket, kListenBacklog) != 0) {
    return absl::InternalError(absl::StrCat("cannot raise the listen backlog of ", config.host, ":", port));
  }
  std::thread listener([&server] { server.listen_after_bind(); });
  std::printf("hearth serve: listening on http://%s:%d\n", config.host.c_str(), port);
  std::fflush(stdout);

  absl::StatusOr<int> signal_number = WaitForTerminationSignal();
  (*deployment)->BeginDrain();
  std::fprintf(stderr, "hearth serve: signal %d, draining (finishing the requests in flight)\n",
               signal_number.ok() ? *signal_number : -1);
  (*deployment)->WaitUntilIdle();
  server.stop();
  listener.join();
  deployment->reset();
  std::fprintf(stderr, "hearth serve: drained, exiting\n");
  return signal_number.status();
}

}  // namespace hearth_server
