// Internal: the MCP server's built-in `bash`, `workspace_diff` and `workspace_apply` tools
// (docs/mcp.md "The bash tool"). Offered only when the host config's mcp.bash names a shadow
// workspace (workspace_apply only with mcp.bash.apply). A thin caller of the shell library
// (include/wasmcap/shell.h): each MCP session keeps one shell::Session over its own copy of the
// workspace (Sessions: who owns copies, their caps and expiry), and every command line runs in
// it, every command a sandboxed WASI tool through the one run pipeline (runtime.h RunRequest).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wasmcap/mcp.h"
#include "wasmcap/policy.h"
#include "wasmcap/shell.h"

namespace wasmcap::mcp {

class Sessions;

// Bounds of the tool (docs/mcp.md "The bash tool"), each with the threat it stops.
// A command line's length in characters (≤ 4 bytes each): the shell parses it whole, in the
// session's memory budget; an agent's here-documents are far shorter.
inline constexpr uint64_t kMaxBashCommandChars = 65536;
// The memory each session's shell holds between and during calls (variables, functions, words
// being expanded): every live copy has one shell, so a client's `A=$A$A` loop takes at most this.
inline constexpr uint64_t kBashShellMemoryBytes = 16u << 20;
// A workspace_apply answer lists at most this many conflicts (then "and N more").
inline constexpr size_t kMaxConflictsShown = 100;

inline constexpr const char* kBashTool = "bash";
inline constexpr const char* kDiffTool = "workspace_diff";
inline constexpr const char* kApplyTool = "workspace_apply";

// What one built-in call answers; tools.cc turns it into the CallToolResult and the audit record.
struct BuiltinAnswer {
  bool is_error = false;
  bool cancelled = false;
  std::vector<std::string> texts;
  nlohmann::json structured;  // null: none
  std::string outcome = "ok";
  std::optional<int32_t> exit_code;
  uint64_t bytes_out = 0;
  std::string message;  // for the audit record: no output, no arguments
  int rpc_code = 0;     // non-zero: answered as this JSON-RPC error (message), not as a result
};

class BashTools {
 public:
  struct Options {
    std::string home;  // $WASMCAP_HOME: the workspaces live below it
    policy::McpBashConfig config;
    Sessions* sessions = nullptr;  // the server's (copies, caps, expiry)
    // What every session's shell starts from: the command table, engine, pins, audit sink.
    shell::Options shell;
    uint64_t call_timeout_ms = 0;   // the server's --timeout-ms (0: none)
    uint64_t max_output_bytes = 0;  // the server's --max-output-bytes (0: none)
    // The linear memory one call's commands hold together (a pool per shell; calls of a
    // session take turns, so it is the running call's), reserved by the scheduler at
    // admission (ToolHost::memory_cap_mb). 0: none.
    uint64_t memory_mb = 0;
  };
  explicit BashTools(Options options);
  ~BashTools();

  // The MCP Tool objects of the offered built-ins (name, description, inputSchema, annotations).
  std::vector<nlohmann::json> listed() const;

  // `args` has been validated against the listed inputSchema.
  BuiltinAnswer call(const std::string& tool, const nlohmann::json& args, const CallContext& ctx,
                     const std::string& invocation_id);

  // A session ended (stdio EOF): its shell goes (its copy is Sessions').
  void close_session(const std::string& id);

  // Options::memory_mb: what the scheduler reserves for a `bash` call.
  uint64_t memory_mb() const;

  // Shells kept for sessions now (tests).
  size_t live_shells();

 private:
  struct Shell;
  BuiltinAnswer bash(const nlohmann::json& args, const CallContext& ctx,
                     const std::string& invocation_id);
  BuiltinAnswer diff(const CallContext& ctx, const std::string& invocation_id);
  BuiltinAnswer apply(const nlohmann::json& args, const CallContext& ctx,
                      const std::string& invocation_id);
  // The session's shell state (made on first use); forgets shells of sessions that ended.
  std::shared_ptr<Shell> shell_for(const std::string& session);

  Options o_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Shell>> shells_;  // by session id
};

}  // namespace wasmcap::mcp
