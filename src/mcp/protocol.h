// Internal: the MCP protocol layer over JSON-RPC 2.0, independent of the transport. One Protocol
// per connection (stdio) or per request (stateless HTTP); docs/mcp.md.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>

#include "common/json.h"
#include "mcp/scheduler.h"
#include "wasmcap/mcp.h"

namespace wasmcap::mcp {

// JSON-RPC 2.0 and MCP error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParamsCode = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kServerBusy = -32000;              // our own: concurrency limit reached
// Our own: a call needs a per-session workspace and its Mcp-Session-Id is not a live session
// this server issued (never issued, expired, or another replica's). The client starts a new
// session with initialize.
inline constexpr int kSessionNotFound = -32001;
// Codes the 2026-07-28 revision defines (schema/2026-07-28/schema.ts; renumbered from the draft's
// -32001/-32003/-32004 before the release).
inline constexpr int kHeaderMismatch = -32020;
inline constexpr int kMissingRequiredClientCapability = -32021;
inline constexpr int kUnsupportedProtocolVersion = -32022;
// Result freshness the 2026-07-28 revision requires on tools/list and server/discover
// (CacheableResult): the catalog is pinned for the server's lifetime, so a minute is safe;
// "private" because a shared cache must not hand one operator's tool list to another.
inline constexpr uint64_t kListTtlMs = 60000;

// JSON-RPC messages nested deeper than this are refused while parsing (src/common/json.h):
// every later step (copy, compare, dump, schema validation) walks a value recursively.
inline constexpr size_t kMaxJsonDepth = json::kMaxDepth;
// A "stdout": "json" tool's output: its value is sent as result.structuredContent, two levels
// below the response message, so every message the server sends stays within kMaxJsonDepth,
// the bound each later re-read of it (and a client like this server) applies.
inline constexpr size_t kMaxToolOutputDepth = kMaxJsonDepth - 2;

// An outgoing message and what it is, so that no transport has to read it again to find out
// (a tool's result can be megabytes of JSON).
struct Outgoing {
  std::string json;     // one JSON object, no newline
  bool response = false;  // answers a request (an "id", no "method")
  int error = 0;          // a response's JSON-RPC error code; 0: a result
};

class Protocol {
 public:
  // Receives every outgoing message. Called from several threads; must serialize itself.
  using Emit = std::function<void(const Outgoing& message)>;

  struct Settings {
    // The connection keeps state (stdio): requests other than ping need initialize first, and
    // logging/setLevel applies to later messages.
    bool session = true;
    std::string session_id;  // MCP session / correlation id for audit records ("" = none)
    // The session owning per_session workspace copies (CallContext::workspace_session).
    std::string workspace_session;
    // Who the peer is (docs/mcp.md "Tenants"): its calls are admitted, queued and audited as
    // this principal's.
    std::string principal = "stdio";
    // Admission and slots, shared by every Protocol of one server (stateless HTTP creates one
    // Protocol per request; the limits must hold across them). Null: this Protocol's own.
    std::shared_ptr<Scheduler> scheduler;
  };

  Protocol(std::shared_ptr<ToolHost> host, Settings settings, Emit emit);
  ~Protocol();  // cancels running calls and waits for them
  Protocol(const Protocol&) = delete;
  Protocol& operator=(const Protocol&) = delete;

  // Handles one incoming message (untrusted bytes). Replies through Emit; tool calls run on
  // their own threads (at most max_concurrency at once, max_queue waiting) and reply when done.
  void handle(std::string_view message);

  // Stops every running call (client gone) and waits until none is left.
  void cancel_all_and_wait();
  // Waits until no call is running or queued.
  void wait_idle();
  // No call is running or queued now.
  bool idle();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace wasmcap::mcp
