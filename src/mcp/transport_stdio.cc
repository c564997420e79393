// The stdio transport: newline-delimited JSON-RPC on two file descriptors. stdout carries only
// protocol messages (diagnostics go to stderr through ServerOptions::log).
#include "mcp/transport_stdio.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <mutex>

#include "mcp/protocol.h"
#include "wasmcap/mcp.h"

namespace wasmcap::mcp {

void LineReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view part = bytes.substr(0, nl);
    if (!discarding_) {
      if (buf_.size() + part.size() > max_) {
        // Over the bound: drop this line whole, without holding more of it.
        discarding_ = true;
        buf_.clear();
        on_oversized_();
      } else {
        buf_.append(part);
      }
    }
    if (nl == std::string_view::npos) return;
    if (!discarding_) {
      std::string_view line = buf_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      // Blank lines between messages are tolerated.
      if (line.find_first_not_of(" \t") != std::string_view::npos) on_line_(line);
    }
    buf_.clear();
    discarding_ = false;
    bytes.remove_prefix(nl + 1);
  }
}

void LineReader::finish() {
  if (!discarding_ && buf_.find_first_not_of(" \t\r") != std::string::npos) on_line_(buf_);
  buf_.clear();
  discarding_ = false;
}

int serve_stdio(std::shared_ptr<ToolHost> host, int in_fd, int out_fd) {
  // A client that goes away must not kill the server with SIGPIPE mid-write; the failed write
  // is noticed instead and running calls are stopped.
  std::signal(SIGPIPE, SIG_IGN);
  auto out_mu = std::make_shared<std::mutex>();
  auto broken = std::make_shared<std::atomic<bool>>(false);
  Protocol::Settings settings;
  settings.session = true;
  // The connection is one session: its per_session workspace copies live as long as it does
  // (closed at EOF below: unchanged copies deleted, changed ones kept for review).
  settings.workspace_session = host->open_session(settings.principal).value_or("");
  Protocol proto(host, settings, [out_fd, out_mu, broken](const Outgoing& msg) {
    std::string line = msg.json + "\n";
    std::lock_guard<std::mutex> l(*out_mu);
    size_t off = 0;
    while (off < line.size() && !broken->load()) {
      ssize_t n = ::write(out_fd, line.data() + off, line.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        broken->store(true);
        break;
      }
      off += static_cast<size_t>(n);
    }
  });
  size_t max = host->options().max_message_bytes;
  LineReader bounded(
      max, [&](std::string_view line) { proto.handle(line); },
      [&] {
        std::string m = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":"
                        "\"message larger than " + std::to_string(max) + " bytes\"}}\n";
        std::lock_guard<std::mutex> l(*out_mu);
        ssize_t n = ::write(out_fd, m.data(), m.size());
        (void)n;
      });
  char buf[65536];
  for (;;) {
    if (broken->load()) break;
    ssize_t n = ::read(in_fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;
    bounded.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  bounded.finish();
  // EOF: the client is gone (or done). Stop whatever still runs; nothing may outlive it.
  proto.cancel_all_and_wait();
  if (!settings.workspace_session.empty()) (void)host->close_session(settings.workspace_session, settings.principal);
  return 0;
}

}  // namespace wasmcap::mcp
