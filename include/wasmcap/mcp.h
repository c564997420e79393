// wasmcap as an MCP (Model Context Protocol) server: every installed, verified and granted
// plugin's declared tools (manifest "tools", docs/manifest.md#tools) become MCP tools; every call
// runs in a fresh sandbox with the plugin's grants from the host config (never more), per-call
// limits, and one `tool_call` audit record. Protocol, transports and limits: docs/mcp.md. The
// calling convention between server and plugin: docs/abi-tools.md.
//
// Layers (src/mcp/): tools.* (catalog + one call: validation, argv, run, result), protocol.*
// (JSON-RPC 2.0 + MCP methods, versions, concurrency, cancellation, progress),
// transport_stdio.* (one message per line). `wasmcap tool call` uses ToolHost::call directly,
// so the CLI and the server share one code path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/error.h"
#include "wasmcap/policy.h"

namespace wasmcap {
namespace shell {
class ThreadObserver;  // wasmcap/shell.h
}
namespace audit {
class Sink;
}
namespace mcp {

// Protocol versions this server speaks, newest first. 2026-07-28 is the stateless revision
// (server/discover, per-request _meta); the others use the initialize lifecycle.
inline constexpr const char* kStatelessVersion = "2026-07-28";
inline constexpr const char* kLatestSessionVersion = "2025-11-25";
std::vector<std::string> supported_versions();

// Bounds of the server, each with the threat it stops (docs/mcp.md#limits).
inline constexpr size_t kDefaultMaxMessageBytes = 4u << 20;     // one JSON-RPC message
inline constexpr uint64_t kDefaultCallTimeoutMs = policy::kDefaultTimeoutMs;  // per call, unless lower in grants
inline constexpr uint64_t kDefaultMaxOutputBytes = 1u << 20;    // guest stdout+stderr per call
inline constexpr size_t kDefaultMaxConcurrency = 4;             // calls running at once
inline constexpr size_t kDefaultMaxQueue = 16;                  // calls waiting for a slot
// A call's linear memory when neither its grants (limits.max_memory_mb) nor --max-memory-mb
// bound it: what it reserves from the server's guest-memory budget (docs/mcp.md "Tenants").
inline constexpr uint64_t kDefaultCallMaxMemoryMb = 64;
inline constexpr size_t kToolsPageSize = 50;                    // tools/list page
// Workspace copies made for per_session grants (docs/mcp.md#sessions-and-per-session-workspaces):
// each is a full copy of a project, so their number and total apparent size are capped (a
// client inventing session ids, or many sessions at once, cannot fill the disk), and a session
// idle this long expires (its unchanged copies are deleted).
inline constexpr size_t kDefaultMaxSessionWorkspaces = 16;
inline constexpr uint64_t kDefaultMaxSessionWorkspaceBytes = uint64_t{1} << 30;  // 1 GiB
inline constexpr uint64_t kDefaultSessionIdleTimeoutMs = 30 * 60 * 1000;          // 30 min

struct ServerOptions {
  std::string home;             // registry home ($WASMCAP_HOME); "" = registry::default_home()
  // Open the registry read-only (registry::Access::kReadOnly) whatever its permissions; also when
  // config.registry.read_only. Otherwise read-only only when it is not writable (kAuto).
  bool registry_read_only = false;
  policy::HostConfig config;    // the operator's grants (and trust, audit, network)
  std::string engine = "interp";
  AotOptions aot;
  // Per-call bounds: each narrows the plan's limit (smaller wins), never widens it.
  uint64_t call_timeout_ms = kDefaultCallTimeoutMs;
  std::optional<uint64_t> call_max_memory_mb;
  std::optional<uint64_t> call_fuel;
  // The write budget (MiB; wasi.h WriteBudget) of each plugin call, and of each bash session
  // (shared by its calls: docs/mcp.md "The bash tool"). Absent: the plan's, else the default.
  std::optional<uint64_t> call_max_write_mb;
  uint64_t max_output_bytes = kDefaultMaxOutputBytes;
  // Pins of every call's clocks and random (`--clock` / `--random`): they narrow each plan's
  // grant as `wasmcap run --clock/--random` do (runtime.h pin_clock; kHost: no pin).
  ClockSource call_clock;
  RandomSource call_random;
  // When set, every call gets a fresh, empty directory below it (removed afterwards) in place of
  // the host directory of each fs grant: calls cannot see each other's files. Access stays
  // what the grant says.
  std::string call_workspace_root;
  size_t max_concurrency = kDefaultMaxConcurrency;
  size_t max_queue = kDefaultMaxQueue;
  size_t max_message_bytes = kDefaultMaxMessageBytes;
  // Per-session workspace copies: live copies at once, their total apparent bytes, and the idle
  // time after which a session expires (0: never).
  size_t max_session_workspaces = kDefaultMaxSessionWorkspaces;
  uint64_t max_session_workspace_bytes = kDefaultMaxSessionWorkspaceBytes;
  uint64_t session_idle_timeout_ms = kDefaultSessionIdleTimeoutMs;
  uint64_t progress_interval_ms = 1000;  // between progress notifications of one call
  // Extra destination for audit records (tool_call and https events); the host config's
  // audit.file also gets them. May be null.
  std::shared_ptr<audit::Sink> audit_sink;
  // Diagnostics (never protocol output): one line each. Null: stderr.
  std::function<void(const std::string&)> log;
  // How an unknown tool's error says to find the tools: the MCP method for MCP clients;
  // `wasmcap tool call` says "wasmcap tool list".
  std::string list_tools_hint = "tools/list";
};

// What one call is about, for the audit record and cancellation.
struct CallContext {
  std::string request_id;  // the JSON-RPC id as JSON text ("" from the CLI)
  std::string session_id;  // MCP session / correlation id ("" when none)
  // The session whose per_session workspace copies this call uses: an id the host issued
  // (open_session); one it did not issue (or that expired) is refused when the call needs such
  // a copy. "": the call gets copies of its own, removed when it ends.
  std::string workspace_session;
  const std::atomic<bool>* cancel = nullptr;  // set to stop the running instance
  // Who asked (docs/mcp.md "Tenants": a principal's name); "" from the CLI. In the audit record.
  std::string principal;
  // When the server admitted the call: its deadline runs from here, time spent waiting for a
  // slot included. Unset (the epoch): from the start of the run.
  std::chrono::steady_clock::time_point admitted{};
  // Told of the threads the call starts beside its own (the `bash` tool's pipeline stages):
  // the server's scheduler counts their CPU as the call's and demotes them with it. Null: none.
  shell::ThreadObserver* threads = nullptr;
};

// The outcome of tools/call: either an MCP CallToolResult (result_json, isError inside) or a
// protocol error (JSON-RPC error code + message), e.g. an unknown tool.
struct CallOutcome {
  bool protocol_error = false;
  int error_code = 0;
  std::string error_message;
  std::string result_json;  // CallToolResult object when !protocol_error
  bool is_error = false;    // the result's isError
  bool cancelled = false;   // stopped by CallContext::cancel
};

// The tools of the installed bundles (highest version of each), pinned when the host is
// created: a bundle changed later is refused at call time rather than silently swapped in.
class ToolHost {
 public:
  // Opens the registry, resolves and verifies every installed bundle, and builds the catalog.
  // Bundles that fail verification or are not fully granted contribute no tools (each is named
  // through options.log). Errors: the registry or trust store cannot be opened; the audit file
  // cannot be opened.
  static Result<std::shared_ptr<ToolHost>> create(ServerOptions options);
  ~ToolHost();

  // MCP Tool objects, in name order, from `cursor` (an index as a string, "" = start), at most
  // `limit`. next_cursor is "" on the last page. invalid_argument for a bad cursor.
  struct Page {
    std::string tools_json;  // JSON array
    std::string next_cursor;
  };
  Result<Page> list(const std::string& cursor, size_t limit = kToolsPageSize) const;

  // Names of the available tools, and of those left out with the reason.
  std::vector<std::string> tool_names() const;
  std::vector<std::string> unavailable() const;

  // Runs one call: validates `arguments_json` (an object, or "" for none) against the tool's
  // input schema, renders the argv / stdin, runs a fresh instance, and builds the result.
  CallOutcome call(const std::string& name, const std::string& arguments_json,
                   const CallContext& context);

  const ServerOptions& options() const;
  // The plugin whose tool `name` is (a built-in tool's name for the built-in ones); "" for an
  // unknown name. The scheduler's per-plugin limits key on it.
  std::string plugin_of(const std::string& name) const;
  // The linear memory a call of tool `name` may use (MiB): its plan's limit narrowed by
  // --max-memory-mb, kDefaultCallMaxMemoryMb when neither sets one; for the `bash` tool the
  // memory its commands share (mcp.bash.memory_mb); 0 for an unknown tool and the other
  // built-ins. Every call runs with this cap, and the scheduler reserves it.
  uint64_t memory_cap_mb(const std::string& name) const;

  // Sessions (initialize over HTTP, the connection on stdio): mints and remembers an id that
  // may own per_session workspace copies, for `principal` alone (docs/mcp.md "Tenants": stdio's
  // is "stdio"); close_session ends it (unchanged copies deleted, changed ones kept for review)
  // when `principal` opened it, and says whether it did.
  Result<std::string> open_session(const std::string& principal);
  bool close_session(const std::string& id, const std::string& principal);
  // A session its client ends (HTTP DELETE): closed as above when `principal` opened it, and
  // its id remembered as ended (session_terminated), so that requests under it get 404.
  bool terminate_session(const std::string& id, const std::string& principal);
  bool session_terminated(const std::string& id) const;
  // What each principal holds in the session table now: {sessions, workspace copies}, by
  // principal (GET /metrics).
  std::map<std::string, std::pair<size_t, size_t>> sessions_by_principal() const;

 private:
  struct Impl;
  explicit ToolHost(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Serves MCP over stdio: reads JSON-RPC messages, one per line, from `in_fd`, writes responses and
// notifications to `out_fd` (nothing else is ever written there). Returns when `in_fd` reaches
// EOF (running calls are stopped first: a client that disconnects leaves nothing running).
int serve_stdio(std::shared_ptr<ToolHost> host, int in_fd, int out_fd);

// How the HTTP transport reads requests (docs/security-model.md, "HTTP request reading"). Every
// bound holds before authentication: a peer without the token costs at most one connection's
// fixed buffer for at most the header deadline, and never a worker thread.
//
// Request line and header lines together (431, or 414 for the request line alone): nginx's
// default total (4 x 8 KiB); an MCP client's headers are well under 2 KiB. Stops header floods.
inline constexpr size_t kHttpMaxHeaderBytes = 32 * 1024;
// Header lines per request (431): Apache's LimitRequestFields default. Stops header-count floods.
inline constexpr size_t kHttpMaxHeaderCount = 100;
// Open connections in total, and per client address; more are closed as they are accepted. They
// bound memory (each connection has a fixed buffer of 2 x kHttpMaxHeaderBytes) and stop one
// peer from taking every connection. Behind a proxy every connection comes from the proxy's
// address: lift the per-peer cap (`--max-connections-per-peer 0`). The per-peer cap is never
// below max_concurrency + max_queue + 4 (the calls the server admits at once, plus spare), so a
// client's legitimate burst meets "server busy" answers, not closed connections.
inline constexpr size_t kHttpMaxConnections = 256;
inline constexpr size_t kHttpMaxConnectionsPerPeer = 32;
// From accept (or the end of the previous response on a kept-alive connection) to the end of the
// request's headers; past it the connection is closed (slowloris). haproxy's
// `timeout http-request` plays this part.
inline constexpr uint32_t kHttpHeaderTimeoutMs = 5000;
// From the end of the headers to the end of the body (admitted requests only: an unauthenticated
// body is never read). 30 s carries the 4 MiB message bound at about 1 Mbit/s.
inline constexpr uint32_t kHttpBodyTimeoutMs = 30000;
// No progress at all, reading or writing (a client that stops reading its response): closed.
inline constexpr uint32_t kHttpIdleTimeoutS = 30;

struct HttpOptions {
  std::string host = "127.0.0.1";  // bind address; non-loopback needs allow_remote
  uint16_t port = 0;               // 0: any free port (reported through on_listening)
  bool allow_remote = false;       // bind a non-loopback address (put TLS and auth in front)
  std::string bearer_token;        // required "Authorization: Bearer ..." when non-empty
  // Origins accepted besides loopback ones ("https://agent.example.com"), and Host header
  // values accepted besides loopback names (a replica's service name behind a load balancer).
  std::vector<std::string> allowed_origins;
  std::vector<std::string> allowed_hosts;
  std::function<void(uint16_t port)> on_listening;  // called once the socket is bound
  // Request reading bounds (above). The body bound is ServerOptions::max_message_bytes (413).
  size_t max_header_bytes = kHttpMaxHeaderBytes;
  size_t max_header_count = kHttpMaxHeaderCount;
  size_t max_connections = kHttpMaxConnections;
  size_t max_connections_per_peer = kHttpMaxConnectionsPerPeer;  // 0: no per-peer cap
  uint32_t header_timeout_ms = kHttpHeaderTimeoutMs;
  uint32_t body_timeout_ms = kHttpBodyTimeoutMs;
  uint32_t idle_timeout_s = kHttpIdleTimeoutS;
};

// Serves the Streamable HTTP transport at /mcp: POST carries one JSON-RPC message (response as
// application/json, or as text/event-stream for tools/call when the client accepts it, with
// progress notifications); GET and DELETE are 405 (stateless server: no server-initiated
// stream, no session). Origin and Host are checked against DNS rebinding (403), the bearer token
// when configured (401). Runs until `stop` is set or the process ends. invalid_argument for a
// non-loopback bind without allow_remote; io_error when the port cannot be bound.
Result<void> serve_http(std::shared_ptr<ToolHost> host, const HttpOptions& options,
                        const std::atomic<bool>* stop = nullptr);

// Reads a bearer token file (first line, surrounding whitespace trimmed; at most 4 KiB; must be
// non-empty). Errors name the file, never its content.
Result<std::string> read_token_file(const std::string& path);

}  // namespace mcp
}  // namespace wasmcap
