// `wasmcap mcp` (serve installed plugins' tools over MCP) and `wasmcap tool list|call` (the same
// tools from the command line, with exactly the server's semantics). docs/mcp.md, docs/cli.md.
#include "cli/cli_mcp.h"
#include "cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/json.h"
#include "wasmcap/audit.h"
#include "wasmcap/mcp.h"
#include "wasmcap/registry.h"
#include "wasmcap/workspace.h"

namespace wasmcap::cli {

struct McpCommands {
  CLI::App* mcp = nullptr;
  CLI::App* tool_list = nullptr;
  CLI::App* tool_call = nullptr;
  std::string config, engine = "interp", workspace_root, listen;
  uint64_t timeout_ms = mcp::kDefaultCallTimeoutMs, max_memory_mb = 0, fuel = 0, max_write_mb = 0;
  bool timeout_given = false;  // --timeout-ms given: the host config's defaults.timeout_ms does not apply
  uint64_t max_output_bytes = mcp::kDefaultMaxOutputBytes;
  size_t max_concurrency = mcp::kDefaultMaxConcurrency, max_queue = mcp::kDefaultMaxQueue;
  bool audit_stderr = false, list_json = false, registry_read_only = false;
  std::string tool_name, tool_json;
  std::string token_file;
  std::vector<std::string> allowed_origins, allowed_hosts;
  bool allow_remote = false;
  size_t max_connections = mcp::kHttpMaxConnections;
  size_t max_connections_per_peer = mcp::kHttpMaxConnectionsPerPeer;
  std::string clock, random;  // --clock / --random pins of every call
  size_t max_session_workspaces = mcp::kDefaultMaxSessionWorkspaces;
  uint64_t max_session_workspace_mb = mcp::kDefaultMaxSessionWorkspaceBytes >> 20;
  uint64_t session_idle_timeout_ms = mcp::kDefaultSessionIdleTimeoutMs;
};

namespace {

void add_server_flags(CLI::App* c, McpCommands& m) {
  c->add_option("--config", m.config, "Host config (JSON): the grants every call runs with");
  c->add_option("--engine", m.engine,
                "Engine: interp (default: wasmcap's own interpreter), aot or auto; as for "
                "wasmcap run")
      ->check(CLI::IsMember(engine_names()));
  c->add_option("--timeout-ms", m.timeout_ms,
                "Deadline of each call in ms (default: the host config's defaults.timeout_ms, else "
                "60000; the grants' timeout wins when lower; 0 = only the grants')")
      ->each([&m](const std::string&) { m.timeout_given = true; });
  c->add_option("--max-memory-mb", m.max_memory_mb, "Memory cap of each call in MiB (0 = grants')")
      ->check(CLI::Range(uint64_t{0}, uint64_t{4096}));
  c->add_option("--fuel", m.fuel, "Instruction budget of each call (0 = grants')");
  c->add_option("--max-write-mb", m.max_write_mb,
                "Write budget in MiB of each call, and of each bash session over all its calls "
                "(0 = the grants', else 4096)")
      ->check(CLI::Range(uint64_t{0}, policy::kMaxWriteMb));
  c->add_option("--max-output-bytes", m.max_output_bytes,
                "Cap on a call's stdout+stderr (default 1 MiB)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30));
  c->add_option("--call-workspaces", m.workspace_root,
                "Give every call a fresh empty directory below DIR in place of each granted "
                "directory (removed after the call)");
  c->add_option("--max-session-workspaces", m.max_session_workspaces,
                "Live copies for per_session workspace grants, sessions' and per-call ones "
                "together (default 16); beyond it calls needing a new copy get `server busy`")
      ->check(CLI::Range(size_t{1}, size_t{1024}));  // well below mcp::kMaxSessions
  c->add_option("--max-session-workspace-mb", m.max_session_workspace_mb,
                "Total apparent size of those copies in MiB (default 1024)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30));
  c->add_option("--session-idle-timeout-ms", m.session_idle_timeout_ms,
                "A session unused this long expires: its unchanged workspace copies are deleted, "
                "changed ones kept for review (default 1800000 = 30 min; 0 = never)");
  c->add_flag("--audit-stderr", m.audit_stderr,
              "Also write audit records (tool_call, https_request) to stderr");
  c->add_option("--clock", m.clock,
                "Pin every call's clocks: fixed=YYYY-MM-DDTHH:MM:SSZ[,step=1us] or deny (as "
                "`wasmcap run --clock`; only narrows the grants)");
  c->add_option("--random", m.random,
                "Pin every call's random_get: seed=N or deny (as `wasmcap run --random`)");
  c->add_flag("--registry-read-only", m.registry_read_only,
              "Never write the registry ($WASMCAP_HOME): for replicas sharing a read-only volume "
              "(automatic when the registry directory is not writable)");
}

int fail(const Error& e) {
  std::fprintf(stderr, "wasmcap: error: %s\n", e.to_string().c_str());
  return error_exit_code(e.code);
}

// The command's own name ("mcp" or "tool") starts each line the host logs on stderr (plugins it
// offers no tools from, ...), and `wasmcap tool` points an unknown tool to `wasmcap tool list`
// rather than the MCP method.
Result<std::shared_ptr<mcp::ToolHost>> make_host(const McpCommands& m, std::string_view command) {
  mcp::ServerOptions o;
  std::string prefix = "wasmcap " + std::string(command) + ": ";
  if (command == "tool") o.list_tools_hint = "wasmcap tool list";
  o.log = [prefix = std::move(prefix)](const std::string& line) {
    std::string l = prefix + line + "\n";
    std::fwrite(l.data(), 1, l.size(), stderr);
    std::fflush(stderr);
  };
  if (!m.config.empty()) {
    WASMCAP_TRY_ASSIGN(o.config, policy::load_host_config(m.config));
    apply_aot_config(o.config, o.aot);
  }
  o.engine = m.engine;
  o.registry_read_only = m.registry_read_only;
  o.call_timeout_ms = m.timeout_ms;
  if (!m.timeout_given && o.config.defaults.timeout_ms) o.call_timeout_ms = *o.config.defaults.timeout_ms;
  if (m.max_memory_mb != 0) o.call_max_memory_mb = m.max_memory_mb;
  if (m.fuel != 0) o.call_fuel = m.fuel;
  if (m.max_write_mb != 0) o.call_max_write_mb = m.max_write_mb;
  o.max_output_bytes = m.max_output_bytes;
  o.call_workspace_root = m.workspace_root;
  o.max_session_workspaces = m.max_session_workspaces;
  o.max_session_workspace_bytes = m.max_session_workspace_mb << 20;
  o.session_idle_timeout_ms = m.session_idle_timeout_ms;
  if (!m.clock.empty()) {
    auto c = parse_clock_source(m.clock);
    if (!c) return make_error(c.error().code, "--clock: " + c.error().message);
    o.call_clock = *c;
  }
  if (!m.random.empty()) {
    auto r = parse_random_source(m.random);
    if (!r) return make_error(r.error().code, "--random: " + r.error().message);
    o.call_random = *r;
  }
  o.max_concurrency = std::max<size_t>(1, m.max_concurrency);
  o.max_queue = m.max_queue;
  if (m.audit_stderr) o.audit_sink = audit::stderr_sink();
  return mcp::ToolHost::create(std::move(o));
}

}  // namespace

std::shared_ptr<McpCommands> add_mcp_commands(CLI::App& app) {
  auto m = std::make_shared<McpCommands>();
  m->mcp = app.add_subcommand(
      "mcp", "Serve the installed plugins' tools over the Model Context Protocol (docs/mcp.md)");
  add_server_flags(m->mcp, *m);
  m->mcp->add_option("--max-concurrency", m->max_concurrency, "Calls running at once (default 4)")
      ->check(CLI::Range(size_t{1}, size_t{256}));
  m->mcp->add_option("--max-queue", m->max_queue, "Calls waiting for a slot (default 16)")
      ->check(CLI::Range(size_t{0}, size_t{4096}));
  m->mcp->add_option("--listen", m->listen,
                     "Serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio "
                     "(e.g. 127.0.0.1:8808; PORT 0 picks a free port)");
  m->mcp->add_option("--token-file", m->token_file,
                     "HTTP: require 'Authorization: Bearer TOKEN' (TOKEN: the file's first line)");
  m->mcp->add_option("--allow-origin", m->allowed_origins,
                     "HTTP: accept this Origin besides loopback ones. Repeatable.")
      ->allow_extra_args(false);
  m->mcp->add_option("--allow-host", m->allowed_hosts,
                     "HTTP: accept this Host header besides loopback names. Repeatable.")
      ->allow_extra_args(false);
  m->mcp->add_flag("--allow-remote", m->allow_remote,
                   "HTTP: allow a non-loopback --listen address");
  m->mcp->add_option("--max-connections", m->max_connections,
                     "HTTP: open connections at most (default 256; more are closed on accept)")
      ->check(CLI::Range(size_t{1}, size_t{65536}));
  m->mcp->add_option("--max-connections-per-peer", m->max_connections_per_peer,
                     "HTTP: open connections per client address (default 32; 0: no cap). Behind "
                     "a proxy, set it to --max-connections")
      ->check(CLI::Range(size_t{0}, size_t{65536}));
  CLI::App* tool = app.add_subcommand("tool", "The installed plugins' tools (as `wasmcap mcp` serves them)");
  tool->require_subcommand(1);
  m->tool_list = tool->add_subcommand("list", "List the tools and why some plugins offer none");
  add_server_flags(m->tool_list, *m);
  m->tool_list->add_flag("--json", m->list_json, "Print the MCP Tool objects as a JSON array");
  m->tool_call = tool->add_subcommand(
      "call", "Call one tool; prints the MCP CallToolResult as JSON (exit 1 when isError)");
  add_server_flags(m->tool_call, *m);
  m->tool_call->add_option("name", m->tool_name, "Tool name (or PLUGIN.TOOL)")->required();
  m->tool_call->add_option("--json", m->tool_json, "The arguments, a JSON object (default {})");
  return m;
}

std::optional<int> run_mcp_commands(const McpCommands& m) {
  if (*m.mcp) {
    // The bash tool's sessions' private /tmp directories are removed on SIGINT, SIGTERM and
    // SIGHUP too (cli.cc main: platform/signal_cleanup.h).
    auto host = make_host(m, "mcp");
    if (!host) return fail(host.error());
    // A server with no tools answers every client, so a mistake in its configuration would go
    // unseen from the client's side: say why on stderr (the server's log) and keep serving.
    if (auto first = (*host)->list("", 1); first && first->tools_json == "[]") {
      std::fprintf(stderr, "wasmcap mcp: serving no tools: %s\n",
                   m.config.empty()
                       ? "no --config given, so no plugin is granted anything; pass the host "
                         "config that grants your plugins (docs/mcp.md, \"Client configuration\")"
                       : "no installed plugin is fully granted by the host config (reasons above; "
                         "`wasmcap bundle list` shows what is installed)");
    }
    if (m.listen.empty()) return mcp::serve_stdio(*host, STDIN_FILENO, STDOUT_FILENO);
    mcp::HttpOptions ho;
    // HOST:PORT, with [v6]:PORT for IPv6.
    size_t colon = m.listen.rfind(':');
    std::string h = colon == std::string::npos ? "" : m.listen.substr(0, colon);
    std::string p = colon == std::string::npos ? "" : m.listen.substr(colon + 1);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    bool digits = !p.empty() && p.size() <= 5 &&
                  std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (h.empty() || !digits || std::stoul(p) > 65535) {
      return fail(Error(ErrorCode::kInvalidArgument,
                        "--listen '" + m.listen + "': expected HOST:PORT, e.g. 127.0.0.1:8808"));
    }
    ho.host = h;
    ho.port = static_cast<uint16_t>(std::stoul(p));
    ho.allow_remote = m.allow_remote;
    ho.allowed_origins = m.allowed_origins;
    ho.allowed_hosts = m.allowed_hosts;
    ho.max_connections = m.max_connections;
    ho.max_connections_per_peer = m.max_connections_per_peer;
    if (!m.token_file.empty()) {
      auto t = mcp::read_token_file(m.token_file);
      if (!t) return fail(t.error());
      ho.bearer_token = *t;
    }
    ho.on_listening = [h](uint16_t port) {
      std::fprintf(stderr, "wasmcap mcp: listening on http://%s:%u/mcp\n",
                   h.find(':') != std::string::npos ? ("[" + h + "]").c_str() : h.c_str(), port);
    };
    if (auto r = mcp::serve_http(*host, ho); !r) return fail(r.error());
    return 0;
  }
  if (*m.tool_list) {
    auto host = make_host(m, "tool");
    if (!host) return fail(host.error());
    std::string cursor;
    nlohmann::json all = nlohmann::json::array();
    for (;;) {
      auto page = (*host)->list(cursor);
      if (!page) return fail(page.error());
      // The host's own listing, re-read (the decoder bounds every parse).
      const std::string& text = page->tools_json;
      auto tools = json::parse(text, json::Limits{text.size(), json::kMaxDepth});
      if (!tools || !tools->is_array()) return fail(Error(ErrorCode::kInternal, "tools/list: unreadable page"));
      for (auto& t : *tools) all.push_back(t);
      if (page->next_cursor.empty()) break;
      cursor = page->next_cursor;
    }
    if (m.list_json) {
      std::printf("%s\n", all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      for (const auto& t : all) {
        std::printf("%-20s %-24s %s\n", t["name"].get<std::string>().c_str(),
                    (t["_meta"]["io.wasmcap/plugin"].get<std::string>() + "@" +
                     t["_meta"]["io.wasmcap/version"].get<std::string>())
                        .c_str(),
                    t["annotations"]["readOnlyHint"].get<bool>() ? "read-only" : "may write");
      }
    }
    return 0;
  }
  if (*m.tool_call) {
    auto host = make_host(m, "tool");
    if (!host) return fail(host.error());
    mcp::CallContext ctx;
    auto out = (*host)->call(m.tool_name, m.tool_json, ctx);
    if (out.protocol_error) {
      return fail(Error(ErrorCode::kInvalidArgument, out.error_message));
    }
    std::printf("%s\n", out.result_json.c_str());
    return out.is_error ? 1 : 0;
  }
  return std::nullopt;
}

}  // namespace wasmcap::cli
