// How `wasmcap mcp` shares itself among its clients (host config "mcp": {"tenancy": ...};
// docs/mcp.md "Tenants"): who a caller is (a principal), how many calls each principal and each
// plugin may run and keep waiting, in what order waiting calls get a slot, how long they may
// wait, and when a long call yields the CPU to short ones.
//
// Its own header, held by policy::McpConfig through a pointer: only the host config's parser
// and the MCP server include it, so growing it does not recompile everything that reads a plan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wasmcap::policy {

// Calls running and waiting at once for one principal or one plugin. Absent: the server's
// default for the kind (docs/mcp.md "Tenants").
struct TenantLimits {
  std::optional<size_t> max_running;
  std::optional<size_t> max_queued;
  // Principals only: result bytes (as sent, JSON) per second, averaged; a principal past a
  // second's worth has its next call wait until it is back within it. 0: no budget.
  std::optional<uint64_t> output_bytes_per_s;
  // Principals only: MCP sessions it may hold (each an `initialize` over HTTP), and per-session
  // workspace copies it may hold (its sessions' and its session-less calls' together).
  std::optional<size_t> max_sessions;
  std::optional<size_t> max_workspaces;
};

// Each principal's output budget when principals are named and the host config sets none:
// eight results at the default output bound (1 MiB) a second.
inline constexpr uint64_t kDefaultPrincipalOutputBytesPerS = 8ull << 20;

// Each principal's sessions when principals are named and the host config sets none: a quarter
// of the sessions the server remembers (mcp::kMaxSessions). Its workspace copies then default
// to half of --max-session-workspaces (at least one).
inline constexpr size_t kDefaultPrincipalMaxSessions = 1024;

// The principals every server knows without configuration: the peer on stdio, and an HTTP
// client that presents no token (a server without tokens) or the --token-file token.
inline constexpr const char* kPrincipalStdio = "stdio";
inline constexpr const char* kPrincipalAnonymous = "anonymous";
inline constexpr const char* kPrincipalToken = "token";

// The largest weight a principal may have: turns in a row before the next principal's.
inline constexpr unsigned kMaxPrincipalWeight = 100;

// A caller known by its bearer token ("mcp": {"tenancy": {"principals": {NAME: {...}}}}).
struct PrincipalConfig {
  std::string name;        // [a-z0-9._-], 1-64 bytes; not one of the built-in names above
  std::string token_file;  // its token: the file's first line (mcp::read_token_file's rules)
  unsigned weight = 1;     // 1..kMaxPrincipalWeight: calls started per turn while others wait
  TenantLimits limits;     // over per_principal's
};

struct TenancyConfig {
  std::vector<PrincipalConfig> principals;
  TenantLimits per_principal;  // every principal's, the built-in ones included
  TenantLimits per_plugin;     // every plugin's
  std::vector<std::pair<std::string, TenantLimits>> plugins;  // over per_plugin's, by plugin name
  // How long an admitted call may wait for a slot before it is answered "server busy".
  std::optional<uint64_t> queue_timeout_ms;
  // The guest memory the server's running calls may hold together (MiB): each call reserves
  // its memory cap when it starts and gives it back when it ends; a call that does not fit
  // waits. Absent: half of the machine's physical memory.
  std::optional<uint64_t> memory_budget_mb;
  // A running call whose thread has used this much CPU is lowered to the lowest CPU priority
  // (SCHED_IDLE, or nice 19) for the rest of its run, so calls that are still short are served first. 0: never.
  std::optional<uint64_t> demote_after_cpu_ms;
  // A principal whose calls used more than 1.5 times its weighted share of the guest CPU over
  // about this window (an exponentially decayed sum) has its next calls start at that lowest
  // priority, however short each is. 0: no CPU share by principal.
  std::optional<uint64_t> fair_cpu_window_ms;
  // The guests' CPU weight beside the host's other work: every call's thread starts at this
  // nice value (0-19; Linux CFS gives nice N about 1/1.25^N of nice 0's weight). Absent: 0.
  std::optional<int> guest_nice;
  // GET /metrics over HTTP (docs/mcp.md "Metrics"), answered only to this file's token (its
  // first line, as a principal's): what every principal and plugin runs, waits and has used.
  // Absent: no /metrics (404).
  std::optional<std::string> metrics_token_file;
};

}  // namespace wasmcap::policy
