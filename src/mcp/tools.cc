// The tool layer: a catalog of installed plugins' tools and one call = one fresh sandbox.
// Shared by `wasmcap mcp` and `wasmcap tool call` (docs/mcp.md, docs/abi-tools.md).
#include "mcp/tools.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "common/json.h"
#include "mcp/bash_tool.h"
#include "mcp/protocol.h"
#include "mcp/output_budget.h"
#include "mcp/scheduler.h"
#include "mcp/sessions.h"
#include "policy/json_doc.h"
#include "policy/json_schema.h"
#include "policy/tools.h"
#include "runtime/prepare_reuse.h"
#include "shell/commands.h"
#include "wasmcap/audit.h"
#include "wasmcap/audit_events.h"
#include "wasmcap/https.h"
#include "wasmcap/mcp.h"
#include "wasmcap/registry.h"
#include "wasmcap/runtime.h"
#include "wasmcap/workspace.h"

namespace wasmcap::mcp {

std::vector<std::string> supported_versions() {
  return {kStatelessVersion, kLatestSessionVersion, "2025-06-18"};
}

namespace {

// JSON-RPC error codes (JSON-RPC 2.0 §5.1).
constexpr int kInvalidParams = -32602;

// What a message may echo of untrusted text: bounded and escaped (policy::quote).
std::string q(std::string_view s) { return policy::quote(s); }

// Safe serialization: invalid UTF-8 in guest output becomes U+FFFD instead of throwing.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool is_safe_method(const std::string& m) { return m == "GET" || m == "HEAD" || m == "OPTIONS"; }

// A word rendered from an argument value (validated against the schema already).
Result<std::string> value_word(const Json& v, const std::string& name, bool after_dashdash) {
  std::string w;
  if (v.is_string()) {
    w = v.get<std::string>();
  } else if (v.is_number_integer() || v.is_number_unsigned()) {
    w = v.dump();
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    // Integral floats (1.0, valid as "integer") print as integers; others in JSON's form.
    if (d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9e15) {
      w = std::to_string(static_cast<int64_t>(d));
    } else {
      w = v.dump();
    }
  } else {
    return make_error(ErrorCode::kInvalidArgument,
                      "argument " + q(name) + ": must be a string or a number");
  }
  if (w.find('\0') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "argument " + q(name) + ": contains NUL");
  }
  // An operand that starts with '-' before any "--" would be parsed as an option of the tool:
  // the caller could turn a path into `-rf` or a URL into `-d BODY`.
  if (!after_dashdash && !w.empty() && w[0] == '-') {
    return make_error(ErrorCode::kInvalidArgument,
                      "argument " + q(name) + ": must not start with '-' (it would be read as an "
                                              "option)");
  }
  return w;
}

}  // namespace

Result<std::string> random_id() { return make_invocation_id(); }

Result<std::vector<std::string>> render_argv(const std::vector<policy::ArgvPart>& parts,
                                             const Json& args) {
  using K = policy::ArgvPart::Kind;
  std::vector<std::string> out;
  for (const auto& p : parts) {
    const Json* v = args.is_object() && args.contains(p.arg) ? &args.at(p.arg) : nullptr;
    switch (p.kind) {
      case K::kLiteral:
        out.push_back(p.text);
        break;
      case K::kFlag:
        if (v != nullptr && v->is_boolean() && v->get<bool>()) out.push_back(p.text);
        break;
      case K::kOption:
        if (v != nullptr) {
          std::string w;
          // The word after an option is its value, whatever it starts with.
          WASMCAP_TRY_ASSIGN(w, value_word(*v, p.arg, true));
          out.push_back(p.text);
          out.push_back(std::move(w));
        }
        break;
      case K::kArg:
        if (v != nullptr) {
          std::string w;
          WASMCAP_TRY_ASSIGN(w, value_word(*v, p.arg, p.after_dashdash));
          out.push_back(std::move(w));
        }
        break;
      case K::kArgs:
        if (v != nullptr) {
          if (!v->is_array()) {
            return make_error(ErrorCode::kInvalidArgument, "argument " + q(p.arg) + ": must be an array");
          }
          for (const Json& e : *v) {
            std::string w;
            WASMCAP_TRY_ASSIGN(w, value_word(e, p.arg, p.after_dashdash));
            out.push_back(std::move(w));
          }
        }
        break;
    }
  }
  return out;
}

void narrow_read_only(policy::Plan& plan) {
  for (auto& m : plan.fs) m.access = policy::Access::kReadOnly;
  if (plan.https) {
    auto& rules = plan.https->allow;
    for (auto& r : rules) {
      r.methods.erase(std::remove_if(r.methods.begin(), r.methods.end(),
                                     [](const std::string& m) { return !is_safe_method(m); }),
                      r.methods.end());
    }
    rules.erase(std::remove_if(rules.begin(), rules.end(),
                               [](const policy::HttpsRule& r) { return r.methods.empty(); }),
                rules.end());
  }
}

Json effective_annotations(const policy::Tool& tool, const policy::Plan& plan) {
  bool can_write = false;
  for (const auto& m : plan.fs) {
    if (!m.denied && m.access == policy::Access::kReadWrite) can_write = true;
  }
  bool network = false;
  if (plan.https) {
    for (const auto& r : plan.https->allow) {
      network = true;
      for (const auto& m : r.methods) can_write = can_write || !is_safe_method(m);
    }
  }
  // readOnly: what the grants make true (a declared readOnlyHint is enforced by
  // narrow_read_only before this runs, so it shows up here as "cannot write").
  bool read_only = !can_write;
  Json a = Json::object();
  a["readOnlyHint"] = read_only;
  // A tool that can write can destroy: a declared destructiveHint:false is not believed unless the
  // grants make the tool read-only (the hint clients use to skip confirmation).
  a["destructiveHint"] = !read_only;
  // Repeating a call is harmless only when nothing can change.
  a["idempotentHint"] = read_only;
  // Reaching beyond the sandbox is what an https grant allows; a declared true is kept (it only
  // makes clients more careful).
  a["openWorldHint"] = network || tool.annotations.open_world.value_or(false);
  return a;
}

// --- The catalog --------------------------------------------------------------------------------

namespace {

struct Entry {
  std::string name;  // as listed (the tool's name, or plugin.tool when two plugins share it)
  // The server's own `bash`, `workspace_diff` or `workspace_apply` (bash_tool.h): no plugin,
  // no plan; `name` and `input_schema` only.
  bool builtin = false;
  std::string plugin, version, manifest_sha256, module_sha256;
  policy::Tool tool;
  Json input_schema, output_schema;  // output_schema null when absent
  std::shared_ptr<const policy::Plan> plan;  // narrowed (read-only tools); bounded per call
  Json listed;                               // the MCP Tool object
  // A tool derived from a component's export (manifest "component_tools"): the export called
  // (`name` or `iface#name`); its arguments are the function's parameters by name.
  std::string component_export;
};

// The MCP name of a component tool: the function's name, after its interface's own name for a
// function of an exported interface ("example:calc/ops@1.0.0#add" -> "ops_add"; WIT names have
// no '_', so the two parts stay apart). "" when that is no valid tool name.
std::string component_tool_name(const std::string& export_name) {
  std::string n = export_name;
  if (size_t hash = n.find('#'); hash != std::string::npos) {
    std::string iface = n.substr(0, hash), fn = n.substr(hash + 1);
    if (size_t at = iface.find('@'); at != std::string::npos) iface.resize(at);
    if (size_t slash = iface.rfind('/'); slash != std::string::npos) iface = iface.substr(slash + 1);
    n = iface + "_" + fn;
  }
  return policy::valid_tool_name(n) ? n : "";
}

// A component function's result as an MCP outputSchema, which must describe an object: the
// result is its "result" member. Null for a function without a result.
Json component_output_schema(const Json& result_schema) {
  Json r = result_schema;
  if (r.is_object()) r.erase("$schema");
  if (r == Json{{"type", "null"}}) return nullptr;
  return Json{{"$schema", "https://json-schema.org/draft/2020-12/schema"},
              {"type", "object"},
              {"properties", {{"result", r}}},
              {"required", {"result"}},
              {"additionalProperties", false}};
}

// Guest output of one call, capped by WasiConfig::max_output_bytes (the runtime stops the guest
// with output_limit beyond it), so the strings never outgrow that bound.
struct Captured {
  std::mutex mu;
  std::string out, err;
};

}  // namespace

struct ToolHost::Impl {
  ServerOptions options;
  std::mutex registry_mu;  // one SQLite handle: calls resolve one at a time
  std::optional<registry::Registry> reg;
  std::vector<Entry> entries;  // by name
  std::vector<std::string> unavailable;
  std::shared_ptr<audit::Sink> audit;
  std::unique_ptr<Sessions> sessions;  // per_session workspace copies
  std::unique_ptr<BashTools> bash;     // host config mcp.bash: the built-in shell tools

  // Loaded modules, by their verified sha256 (docs/mcp.md "Calls"): on the interpreter
  // a call runs a fresh instance of the module loaded by the first call of it (PreparedModule;
  // the functions an earlier call translated are not translated again), instead of decoding it
  // per call. Every call still re-verifies the stored bundle first (resolve: signature, trust,
  // revocation, the module's hash): only bytes that hash to the key run from it. At most one
  // per catalog entry (a module whose hash is not the catalog's is refused before), so the
  // memory it holds is bounded by the installed modules; a module that does not prepare is
  // remembered as such and runs as before. A component is prepared too: decoded once, its core
  // modules loaded by its first call, and its calls' arguments checked against that decoding.
  std::mutex prepared_mu;
  std::map<std::string, std::shared_ptr<const PreparedModule>> prepared;  // null: not preparable
  // The module loaded for `sha256` by an earlier call, or null (nothing is loaded here).
  std::shared_ptr<const PreparedModule> loaded_module(const std::string& sha256) {
    std::lock_guard<std::mutex> lock(prepared_mu);
    auto it = prepared.find(sha256);
    return it == prepared.end() ? nullptr : it->second;
  }
  std::shared_ptr<const PreparedModule> prepared_module(const registry::Resolved& r,
                                                        const RunOptions& o) {
    if (o.engine != "interp") return nullptr;  // aot maps its object once per process already
    {
      std::lock_guard<std::mutex> lock(prepared_mu);
      if (auto it = prepared.find(r.module_sha256); it != prepared.end()) return it->second;
    }
    // Loaded outside the lock (another module's calls do not wait for it); two first calls of
    // one module may both load it, and the first stored is kept.
    Reusable made = prepare_for_reuse(r.module_bytes, o.max_memory_bytes, r.module_sha256);
    if (made.retry) return nullptr;  // refused by this call's limit: nothing kept
    std::lock_guard<std::mutex> lock(prepared_mu);
    return prepared.emplace(r.module_sha256, std::move(made.module)).first->second;
  }
  // The operator's per-call limits (--timeout-ms, --max-memory-mb, --fuel): each call's run
  // is narrowed by them (runtime.h RunRequest::bounds).
  RunBounds call_bounds() const {
    policy::Limits l;
    l.timeout_ms = options.call_timeout_ms != 0 ? std::optional<uint64_t>(options.call_timeout_ms) : std::nullopt;
    l.max_memory_mb = options.call_max_memory_mb;
    l.fuel = options.call_fuel;
    l.max_write_mb = options.call_max_write_mb;
    return bounds_of(l);
  }

  // A call's memory cap (ToolHost::memory_cap_mb): the plan's, narrowed by the server's, the
  // default when neither has one.
  uint64_t memory_cap_mb(const policy::Plan& plan) const {
    return policy::smaller_limit(plan.limits.max_memory_mb, options.call_max_memory_mb).value_or(kDefaultCallMaxMemoryMb);
  }

  void add_component_tools(const registry::Resolved& r, const policy::Plan& base,
                           const std::string& bundle, std::vector<Entry>& entries);

  void log(const std::string& line) const {
    if (options.log) {
      options.log(line);
    } else {
      std::string l = "wasmcap mcp: " + line + "\n";
      ssize_t n = ::write(2, l.data(), l.size());
      (void)n;
    }
  }

  const Entry* find(const std::string& name) const {
    for (const auto& e : entries) {
      if (e.name == name || (!e.builtin && e.plugin + "." + e.tool.name == name)) return &e;
    }
    return nullptr;
  }

  // The tool_call_start record: written before the call does any work (record or refuse,
  // docs/audit.md); the call does not run when it fails.
  Result<void> write_audit_start(const Entry* e, const std::string& tool, const CallContext& ctx,
                                 const std::string& invocation_id) const {
    if (!audit) return {};
    auto cut = [](const std::string& s) { return s.substr(0, 256); };
    Json j;
    j["time"] = audit::now_rfc3339();
    j["event"] = "tool_call_start";
    j["tool"] = cut(tool);
    const bool plugin = !e->builtin;  // the built-in tools run no plugin
    j["plugin"] = plugin ? Json(e->plugin) : Json(nullptr);
    j["version"] = plugin ? Json(e->version) : Json(nullptr);
    j["module_sha256"] = plugin ? Json(e->module_sha256) : Json(nullptr);
    j["invocation_id"] = invocation_id;
    j["request_id"] = ctx.request_id.empty() ? Json(nullptr) : Json(cut(ctx.request_id));
    j["session_id"] = ctx.session_id.empty() ? Json(nullptr) : Json(cut(ctx.session_id));
    j["principal"] = ctx.principal.empty() ? Json(nullptr) : Json(cut(ctx.principal));
    return audit->append(dump(j));
  }

  Result<void> write_audit(const Entry* e, const std::string& tool, const CallContext& ctx,
                           const std::string& invocation_id, double ms, const std::string& outcome,
                           std::optional<int32_t> exit_code, uint64_t bytes_in, uint64_t bytes_out,
                           const std::string& message) const {
    if (!audit) return {};
    auto cut = [](const std::string& s) { return s.substr(0, 256); };
    Json j;
    j["time"] = audit::now_rfc3339();
    j["event"] = "tool_call";
    j["tool"] = cut(tool);
    const bool plugin = e != nullptr && !e->builtin;
    j["plugin"] = plugin ? Json(e->plugin) : Json(nullptr);
    j["version"] = plugin ? Json(e->version) : Json(nullptr);
    j["module_sha256"] = plugin ? Json(e->module_sha256) : Json(nullptr);
    j["invocation_id"] = invocation_id;
    j["request_id"] = ctx.request_id.empty() ? Json(nullptr) : Json(cut(ctx.request_id));
    j["session_id"] = ctx.session_id.empty() ? Json(nullptr) : Json(cut(ctx.session_id));
    j["principal"] = ctx.principal.empty() ? Json(nullptr) : Json(cut(ctx.principal));
    j["duration_ms"] = ms;
    j["outcome"] = outcome;
    j["exit_code"] = exit_code ? Json(*exit_code) : Json(nullptr);
    j["bytes_in"] = bytes_in;
    j["bytes_out"] = bytes_out;
    j["message"] = cut(message);
    return audit->append(dump(j));
  }
};

ToolHost::ToolHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ToolHost::~ToolHost() = default;
const ServerOptions& ToolHost::options() const { return impl_->options; }
uint64_t ToolHost::memory_cap_mb(const std::string& name) const {
  const Entry* e = impl_->find(name);
  if (e != nullptr && e->builtin && e->name == kBashTool && impl_->bash) {
    return impl_->bash->memory_mb();  // the pool its commands share
  }
  if (e == nullptr || e->builtin || !e->plan) return 0;
  return impl_->memory_cap_mb(*e->plan);
}
std::string ToolHost::plugin_of(const std::string& name) const {
  const Entry* e = impl_->find(name);
  if (e == nullptr) return "";
  return e->builtin ? e->name : e->plugin;
}
Result<std::string> ToolHost::open_session(const std::string& principal) {
  return impl_->sessions->open(principal);
}
bool ToolHost::close_session(const std::string& id, const std::string& principal) {
  if (!impl_->sessions->close(id, principal)) return false;
  if (impl_->bash) impl_->bash->close_session(id);
  return true;
}
bool ToolHost::terminate_session(const std::string& id, const std::string& principal) {
  if (!impl_->sessions->terminate(id, principal)) return false;
  if (impl_->bash) impl_->bash->close_session(id);
  return true;
}
bool ToolHost::session_terminated(const std::string& id) const { return impl_->sessions->terminated(id); }
std::map<std::string, std::pair<size_t, size_t>> ToolHost::sessions_by_principal() const {
  return impl_->sessions->held_by_principal();
}

Result<std::shared_ptr<ToolHost>> ToolHost::create(ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  ServerOptions& o = impl->options;
  if (o.home.empty()) WASMCAP_TRY_ASSIGN(o.home, registry::default_home());
  std::shared_ptr<audit::Sink> file;
  WASMCAP_TRY_ASSIGN(file, audit::open_configured_sink(o.config.audit));
  impl->audit = audit::tee_sink(file, o.audit_sink);
  Sessions::Options so;
  so.home = o.home;
  so.max_copies = o.max_session_workspaces;
  so.max_bytes = o.max_session_workspace_bytes;
  so.idle_timeout_ms = o.session_idle_timeout_ms;
  so.log = [im = impl.get()](const std::string& line) { im->log(line); };
  so.caps = principal_session_caps(o);
  impl->sessions = std::make_unique<Sessions>(std::move(so));
  bundle::TrustStore trust;
  WASMCAP_TRY_ASSIGN(trust, registry::load_trust_store(o.home, &o.config.trust));
  // Replicas share one registry volume and only read it (docs/mcp.md#many-replicas-stateless-http).
  WASMCAP_TRY_ASSIGN(impl->reg, registry::Registry::open(
                                    o.home, o.registry_read_only || o.config.registry.read_only
                                                ? registry::Access::kReadOnly
                                                : registry::Access::kAuto));
  std::vector<registry::Installed> all;
  WASMCAP_TRY_ASSIGN(all, impl->reg->list());
  std::vector<std::string> names;
  for (const auto& i : all) {
    if (std::find(names.begin(), names.end(), i.name) == names.end()) names.push_back(i.name);
  }
  std::vector<Entry> entries;
  for (const auto& name : names) {
    auto r = impl->reg->resolve(name, std::nullopt, trust);  // the highest version, verified
    if (!r) {
      impl->unavailable.push_back(name + ": " + r.error().to_string());
      continue;
    }
    const bool component_tools = r->manifest.component_tools_all || !r->manifest.component_tools.empty();
    if (r->manifest.tools.empty() && !component_tools) continue;
    policy::Plan base = registry::plan_for_installed(*r, o.config);
    if (!base.fully_granted()) {
      // Tools run with exactly their grants or not at all (no --degrade for agents).
      std::string why;
      for (const auto& d : base.denied) why += (why.empty() ? "" : "; ") + d;
      impl->unavailable.push_back(name + ": not fully granted by the host config: " + why);
      continue;
    }
    for (const auto& t : r->manifest.tools) {
      Entry e;
      e.name = t.name;
      e.plugin = r->manifest.name;
      e.version = r->manifest.version;
      e.manifest_sha256 = r->installed.manifest_sha256;
      e.module_sha256 = r->module_sha256;
      e.tool = t;
      // The schemas policy read from the manifest (policy bounds), re-read through the decoder.
      const json::Limits schema{policy::kMaxDocumentBytes, policy::kMaxNestingDepth};
      auto in = json::parse(t.input_schema, schema);
      auto out = t.output_schema.empty() ? json::parse("null", schema) : json::parse(t.output_schema, schema);
      if (!in || !out) {
        impl->unavailable.push_back(name + ": tool " + t.name + ": schema unreadable: " +
                                    (!in ? in.error() : out.error()).to_string());
        continue;
      }
      e.input_schema = std::move(*in);
      e.output_schema = std::move(*out);
      auto plan = std::make_shared<policy::Plan>(base);
      if (t.annotations.read_only.value_or(false)) narrow_read_only(*plan);
      e.plan = plan;
      Json& l = e.listed;
      l["name"] = e.name;
      if (!t.title.empty()) l["title"] = t.title;
      l["description"] = t.description;
      l["inputSchema"] = e.input_schema;
      if (!e.output_schema.is_null()) l["outputSchema"] = e.output_schema;
      l["annotations"] = effective_annotations(t, *plan);
      l["_meta"] = {{"io.wasmcap/plugin", e.plugin}, {"io.wasmcap/version", e.version}};
      entries.push_back(std::move(e));
    }
    if (component_tools) impl->add_component_tools(*r, base, name, entries);
  }
  // The built-in shell tools (host config mcp.bash; bash_tool.h), offered only when the
  // configured workspace exists: a thin caller of the shell library, with the command table
  // `wasmcap sh` builds (every installed, trusted bundle's commands), pinned like the catalog.
  std::vector<Entry> builtins;
  if (o.config.mcp.bash) {
    const policy::McpBashConfig& bc = *o.config.mcp.bash;
    auto base = workspace::open(o.home, bc.workspace);
    auto table = shell::command_table_from_registry(*impl->reg, trust, o.config.shell.bundle_order);
    if (!base) {
      impl->unavailable.push_back("bash (host config mcp.bash): workspace " + bc.workspace + ": " +
                                  base.error().to_string() + " (create it with `wasmcap ws create " +
                                  bc.workspace + " DIR`)");
    } else if (!table) {
      impl->unavailable.push_back("bash (host config mcp.bash): " + table.error().to_string());
    } else {
      BashTools::Options bo;
      bo.home = o.home;
      bo.config = bc;
      bo.sessions = impl->sessions.get();
      bo.shell.commands = std::move(table->commands);
      bo.shell.user = o.config.shell.user;
      bo.shell.engine = o.engine;
      bo.shell.aot = o.aot;
      bo.shell.clock = o.call_clock;
      bo.shell.random = o.call_random;
      bo.shell.audit = impl->audit;
      // One call's commands share bc.memory_mb (default 4 x the call cap; docs/mcp.md "The
      // bash tool"); each command keeps --max-memory-mb, else the shell's cap, within it.
      bo.memory_mb = bc.memory_mb.value_or(
          4 * o.call_max_memory_mb.value_or(kDefaultCallMaxMemoryMb));
      if (o.call_max_memory_mb) bo.shell.max_memory_bytes = *o.call_max_memory_mb << 20;
      bo.shell.max_memory_bytes = std::min<uint64_t>(bo.shell.max_memory_bytes, bo.memory_mb << 20);
      if (o.call_max_write_mb) bo.shell.max_write_bytes = *o.call_max_write_mb << 20;
      bo.call_timeout_ms = o.call_timeout_ms;
      bo.max_output_bytes = o.max_output_bytes;
      impl->bash = std::make_unique<BashTools>(std::move(bo));
      for (Json& l : impl->bash->listed()) {
        Entry e;
        e.builtin = true;
        e.name = l["name"].get<std::string>();
        e.input_schema = l["inputSchema"];
        e.output_schema = nullptr;
        e.listed = std::move(l);
        builtins.push_back(std::move(e));
      }
    }
  }
  // Two plugins offering the same tool name: both are listed as PLUGIN.TOOL, so no call ever
  // reaches a plugin the caller did not name. So is a plugin's tool named as a built-in one.
  for (auto& e : entries) {
    size_t same = std::count_if(entries.begin(), entries.end(),
                                [&](const Entry& x) { return x.tool.name == e.tool.name; });
    bool builtin_name = std::any_of(builtins.begin(), builtins.end(),
                                    [&](const Entry& b) { return b.name == e.tool.name; });
    if (same > 1 || builtin_name) {
      e.name = e.plugin + "." + e.tool.name;
      e.listed["name"] = e.name;
    }
  }
  for (auto& b : builtins) entries.push_back(std::move(b));
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  impl->entries = std::move(entries);
  for (const auto& u : impl->unavailable) impl->log("no tools from " + u);
  return std::shared_ptr<ToolHost>(new ToolHost(std::move(impl)));
}

// The tools of a component's exports (manifest "component_tools", docs/mcp.md "Component
// tools"): one per exported function selected, its schemas derived from the function's type
// (the same mapping as `wasmcap call --json`). They come from the verified module whose hash the
// signed manifest pins, and a call refuses a module that no longer has that hash.
void ToolHost::Impl::add_component_tools(const registry::Resolved& r, const policy::Plan& base,
                                         const std::string& bundle, std::vector<Entry>& entries) {
  const policy::Manifest& m = r.manifest;
  auto fns = component_functions(r.module_bytes->data(), r.module_bytes->size());
  if (!fns) {
    unavailable.push_back(bundle + ": component_tools: " + fns.error().to_string());
    return;
  }
  std::vector<std::string> matched;
  auto plan = std::make_shared<const policy::Plan>(base);
  const json::Limits schema{policy::kMaxDocumentBytes, kMaxJsonDepth};
  for (const ComponentFunction& f : *fns) {
    size_t hash = f.name.find('#');
    std::string iface = hash == std::string::npos ? "" : f.name.substr(0, hash);
    auto listed = [&](const std::string& n) {
      return !n.empty() && std::find(m.component_tools.begin(), m.component_tools.end(), n) !=
                               m.component_tools.end();
    };
    if (!m.component_tools_all && !listed(f.name) && !listed(iface)) continue;
    matched.push_back(listed(f.name) ? f.name : iface);
    Entry e;
    e.name = component_tool_name(f.name);
    auto in = json::parse(f.params_schema, schema);
    auto out = json::parse(f.result_schema, schema);
    bool taken = std::any_of(entries.begin(), entries.end(), [&](const Entry& x) {
      return x.plugin == m.name && x.tool.name == e.name;
    });
    if (e.name.empty() || taken || !in || !out) {
      unavailable.push_back(bundle + ": component_tools: " + q(f.name) + ": " +
                            (e.name.empty() ? "its name makes no MCP tool name ([A-Za-z0-9_-]{1,64})"
                             : taken        ? "its tool name " + q(e.name) + " is taken"
                                            : "a schema too large to list"));
      continue;
    }
    e.plugin = m.name;
    e.version = m.version;
    e.manifest_sha256 = r.installed.manifest_sha256;
    e.module_sha256 = r.module_sha256;
    e.tool.name = e.name;
    e.tool.description = "Calls " + f.name + f.signature + ", exported by the component of " +
                         m.name + "@" + m.version + ".";
    e.component_export = f.name;
    e.input_schema = std::move(*in);
    e.output_schema = component_output_schema(*out);
    e.plan = plan;
    Json& l = e.listed;
    l["name"] = e.name;
    l["description"] = e.tool.description;
    l["inputSchema"] = e.input_schema;
    if (!e.output_schema.is_null()) l["outputSchema"] = e.output_schema;
    l["annotations"] = effective_annotations(e.tool, *plan);
    l["_meta"] = {{"io.wasmcap/plugin", e.plugin},
                  {"io.wasmcap/version", e.version},
                  {"io.wasmcap/export", f.name}};
    entries.push_back(std::move(e));
  }
  for (const std::string& n : m.component_tools) {
    if (std::find(matched.begin(), matched.end(), n) == matched.end()) {
      unavailable.push_back(bundle + ": component_tools: the component exports no function or "
                            "interface " + q(n) + " (`wasmcap call MODULE --list` lists them)");
    }
  }
}

Result<ToolHost::Page> ToolHost::list(const std::string& cursor, size_t limit) const {
  size_t start = 0;
  if (!cursor.empty()) {
    // Cursors are opaque to clients; ours is a decimal index, checked strictly.
    bool digits = cursor.size() <= 9 && std::all_of(cursor.begin(), cursor.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoul(cursor) > impl_->entries.size()) {
      return make_error(ErrorCode::kInvalidArgument, "invalid cursor " + q(cursor));
    }
    start = std::stoul(cursor);
  }
  if (limit == 0) limit = kToolsPageSize;
  Json arr = Json::array();
  size_t end = std::min(impl_->entries.size(), start + limit);
  for (size_t i = start; i < end; ++i) arr.push_back(impl_->entries[i].listed);
  Page p;
  p.tools_json = dump(arr);
  if (end < impl_->entries.size()) p.next_cursor = std::to_string(end);
  return p;
}

std::vector<std::string> ToolHost::tool_names() const {
  std::vector<std::string> n;
  for (const auto& e : impl_->entries) n.push_back(e.name);
  return n;
}

std::vector<std::string> ToolHost::unavailable() const { return impl_->unavailable; }

namespace {

Json text_content(const std::string& text) { return Json{{"type", "text"}, {"text", text}}; }

std::string tool_result(const std::vector<std::string>& texts, bool is_error,
                        const Json* structured) {
  Json r;
  r["content"] = Json::array();
  for (const auto& t : texts) r["content"].push_back(text_content(t));
  if (structured != nullptr) r["structuredContent"] = *structured;
  r["isError"] = is_error;
  return dump(r);
}

// A memfd holding `data`, positioned at 0: the guest's stdin (fd closed by the caller).
Result<int> stdin_from(const std::string& data) {
  int fd = memfd_create("wasmcap-tool-stdin", MFD_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kIo, std::string("memfd_create: ") + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return make_error(ErrorCode::kIo, std::string("write: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace

CallOutcome ToolHost::call(const std::string& name, const std::string& arguments_json,
                           const CallContext& ctx) {
  Impl& im = *impl_;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  std::string invocation_id = random_id().value_or("");
  CallOutcome out;
  const Entry* e = im.find(name);
  uint64_t bytes_in = arguments_json.size();
  auto protocol_error = [&](const std::string& msg, const std::string& outcome,
                            int code = kInvalidParams) {
    out.protocol_error = true;
    out.error_code = code;
    out.error_message = msg;
    (void)im.write_audit(e, name, ctx, invocation_id, elapsed(), outcome, std::nullopt, bytes_in, 0, msg);
    return out;
  };
  auto tool_error = [&](const std::string& msg, const std::string& outcome) {
    out.is_error = true;
    out.result_json = tool_result({msg}, true, nullptr);
    (void)im.write_audit(e, name, ctx, invocation_id, elapsed(), outcome, std::nullopt, bytes_in, 0, msg);
    return out;
  };
  if (e == nullptr) return protocol_error("unknown tool " + q(name) + " (see " + im.options.list_tools_hint + ")",
                                        "unknown_tool");
  // Cancelled while it waited for a concurrency slot: it never runs, but it is recorded.
  if (ctx.cancel != nullptr && ctx.cancel->load()) {
    out.cancelled = true;
    (void)im.write_audit(e, name, ctx, invocation_id, elapsed(), "cancelled", std::nullopt,
                         bytes_in, 0, "cancelled before it started");
    return out;
  }

  // Arguments: an object (MCP), parsed with the same strictness as our documents.
  Json args = Json::object();
  if (!arguments_json.empty()) {
    auto parsed = json::parse(arguments_json, json::Limits{im.options.max_message_bytes, kMaxJsonDepth});
    if (!parsed || !parsed->is_object()) {
      return protocol_error("arguments must be a JSON object" +
                                (parsed ? std::string() : " (" + parsed.error().to_string() + ")"),
                            "invalid_arguments");
    }
    args = std::move(*parsed);
  }
  // Schema violations are tool errors (isError), so a model can read them and correct itself.
  // A component tool's arguments are checked by their conversion to the function's parameters
  // (check_component_call below: the derived schema is JSON Schema beyond the manifest subset).
  if (e->component_export.empty()) {
    if (auto problem = policy::validate_against_schema(e->input_schema, args)) {
      return tool_error("invalid arguments: " + *problem, "invalid_arguments");
    }
  }
  if (e->builtin) {
    // Record or refuse, as for a plugin's tool; then the shell library does the work.
    if (auto rec = im.write_audit_start(e, name, ctx, invocation_id); !rec) {
      out.is_error = true;
      out.result_json = tool_result({rec.error().message + "; the tool was not run"}, true, nullptr);
      im.log("error: " + rec.error().message + "; tool " + q(name) + " was not run");
      return out;
    }
    BuiltinAnswer a = im.bash->call(e->name, args, ctx, invocation_id);
    if (a.rpc_code != 0) return protocol_error(a.message, a.outcome, a.rpc_code);
    out.is_error = a.is_error;
    out.cancelled = a.cancelled;
    const Json* structured = a.structured.is_null() ? nullptr : &a.structured;
    if (auto rec = im.write_audit(e, name, ctx, invocation_id, elapsed(), a.outcome, a.exit_code,
                                  bytes_in, a.bytes_out, a.message);
        !rec) {
      out.is_error = true;
      a.texts.push_back("the tool ran, but its audit record was not written: " + rec.error().message);
      structured = nullptr;
      im.log("warning: tool " + q(name) + " ran, but its tool_call " + rec.error().message);
    }
    out.result_json = tool_result(a.texts, out.is_error, structured);
    return out;
  }
  auto argv_tail = render_argv(e->tool.argv, args);
  if (!argv_tail) return tool_error("invalid arguments: " + argv_tail.error().message, "invalid_arguments");
  std::optional<ComponentCall> component_call;
  if (!e->component_export.empty()) {
    component_call.emplace();
    component_call->function = e->component_export;
    component_call->args_json = dump(args);
  }

  // Re-verify what is stored now (signature, trust and revocation as they are now, module hash)
  // and insist it is the very manifest the catalog was built from.
  Result<registry::Resolved> resolved = make_error(ErrorCode::kInternal, "not resolved");
  {
    std::lock_guard<std::mutex> lock(im.registry_mu);
    auto trust = registry::load_trust_store(im.options.home, &im.options.config.trust);
    if (!trust) return tool_error("cannot load the trust store: " + trust.error().to_string(), "bundle_invalid");
    resolved = im.reg->resolve(e->plugin, e->version, *trust);
  }
  if (!resolved) {
    return tool_error("plugin " + e->plugin + "@" + e->version + " no longer verifies: " +
                          resolved.error().to_string(),
                      std::string(error_code_name(resolved.error().code)));
  }
  if (resolved->installed.manifest_sha256 != e->manifest_sha256 ||
      resolved->module_sha256 != e->module_sha256) {
    return tool_error("plugin " + e->plugin + "@" + e->version +
                          " changed since the server started; restart the server to use it",
                      "bundle_changed");
  }
  if (component_call) {
    // The arguments converted before anything is recorded or instantiated: a refusal names the
    // JSON path ("$.a: expected u32 ..."), and costs no run. Against the decoding an earlier call
    // prepared when there is one (the same bytes: the key is their verified hash), else decoded.
    auto loaded = im.loaded_module(resolved->module_sha256);
    if (auto c = loaded && loaded->is_component()
                     ? loaded->check_call(*component_call)
                     : check_component_call(resolved->module_bytes->data(), resolved->module_bytes->size(),
                                            *component_call);
        !c) {
      return tool_error("invalid arguments: " + c.error().message, "invalid_arguments");
    }
  }

  // Record or refuse: nothing of the call happens (no workspace, no run) before this record.
  if (auto rec = im.write_audit_start(e, name, ctx, invocation_id); !rec) {
    out.is_error = true;
    out.result_json = tool_result({rec.error().message + "; the tool was not run"}, true, nullptr);
    im.log("error: " + rec.error().message + "; tool " + q(name) + " was not run");
    return out;
  }

  auto plan = std::make_shared<policy::Plan>(*e->plan);
  // Per-call workspaces: a fresh empty directory in place of each granted host directory. The
  // bundle's own read-only data tree is not a grant and stays (a runtime's standard library).
  std::string workspace;
  if (!im.options.call_workspace_root.empty() && !invocation_id.empty()) {
    workspace = im.options.call_workspace_root + "/" + invocation_id;
    std::error_code ec;
    for (size_t i = 0; i < plan->fs.size(); ++i) {
      if (plan->fs[i].data) continue;  // the bundle's own read-only data tree
      if (!plan->fs[i].workspace.empty()) continue;  // a shadow workspace is kept for review
      std::string dir = workspace + "/" + std::to_string(i);
      std::filesystem::create_directories(dir, ec);
      if (ec) return tool_error("cannot create the call's workspace: " + ec.message(), "io_error");
      std::filesystem::permissions(workspace, std::filesystem::perms::owner_all, ec);
      plan->fs[i].host = dir;
    }
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    }
  } cleanup{workspace};

  // Workspace grants (host config grants.fs[].workspace): the mount is the shadow's tree. A
  // per_session one is a copy of the shadow's source owned by the session the server issued
  // (stdio: the connection), or, for a call without a session, a copy of its own that goes
  // when the call ends (sessions.h: who may own a copy, caps, expiry). The holds keep `ws apply`
  // out of every tree the call uses until it has finished.
  auto lease = im.sessions->bind(*plan, ctx.workspace_session, invocation_id, ctx.principal);
  if (!lease) {
    const Sessions::Refusal& r = lease.error();
    if (r.rpc_code != 0) {
      return protocol_error(r.error.message,
                            r.rpc_code == kSessionNotFound ? "session_not_found" : "server_busy",
                            r.rpc_code);
    }
    return tool_error(r.error.to_string(), std::string(error_code_name(r.error.code)));
  }
  std::vector<workspace::ToolHold> workspace_holds;
  for (const std::string& name : (*lease)->names()) {
    auto h = workspace::hold_for_tools(im.options.home, name);
    if (!h) return tool_error(h.error().to_string(), std::string(error_code_name(h.error().code)));
    workspace_holds.push_back(std::move(*h));
  }
  if (auto b = workspace::bind_plan(*plan, im.options.home, "", &workspace_holds); !b) {
    return tool_error(b.error().to_string(), std::string(error_code_name(b.error().code)));
  }

  // The library's run pipeline (runtime.h RunRequest): the tool's plan, narrowed by the
  // server's per-call limits and pins, under this call's invocation id.
  RunRequest request;
  request.plan = plan;
  request.argv = {e->plugin};  // argv[0]: the plugin name, as `wasmcap run NAME`
  request.argv.insert(request.argv.end(), argv_tail->begin(), argv_tail->end());
  request.bounds = im.call_bounds();
  // Always bounded: the cap the scheduler reserved for it (the default when nothing sets one).
  request.bounds.max_memory_bytes = im.memory_cap_mb(*plan) << 20;
  request.clock_pin = im.options.call_clock;
  request.random_pin = im.options.call_random;
  request.options.engine = im.options.engine;
  request.options.aot = im.options.aot;
  request.options.module_sha256 = resolved->module_sha256;
  request.options.interrupt = ctx.cancel;
  request.options.invocation_id = invocation_id;
  request.options.record_run = false;  // the call's own records (tool_call_start, tool_call) stand for it
  request.options.component_call = component_call;
  auto opts = resolve_run(std::move(request));
  if (!opts) return tool_error(opts.error().to_string(), std::string(error_code_name(opts.error().code)));
  const uint64_t timeout_ms = opts->timeout_ms;
  // The deadline runs from admission (docs/mcp.md "Tenants"): what the call waited for a slot
  // is taken from its run, so a caller never waits longer than the deadline it was given.
  opts->timeout_ms = deadline_after_wait(timeout_ms, ctx);
  auto cap = std::make_shared<Captured>();
  opts->wasi.stdout_sink = [cap](const uint8_t* d, size_t n) {
    std::lock_guard<std::mutex> l(cap->mu);
    cap->out.append(reinterpret_cast<const char*>(d), n);
    return true;
  };
  opts->wasi.stderr_sink = [cap](const uint8_t* d, size_t n) {
    std::lock_guard<std::mutex> l(cap->mu);
    cap->err.append(reinterpret_cast<const char*>(d), n);
    return true;
  };
  opts->wasi.max_output_bytes = im.options.max_output_bytes;
  int stdin_fd = -1;
  if (e->tool.stdin_json) {
    std::string in = dump(args);
    bytes_in = in.size();
    auto fd = stdin_from(in);
    if (!fd) return tool_error(fd.error().to_string(), "io_error");
    stdin_fd = *fd;
    opts->wasi.stdin_fd = stdin_fd;
  }
  struct FdCloser {
    int fd;
    ~FdCloser() {
      if (fd >= 0) ::close(fd);
    }
  } closer{stdin_fd};
  if (plan->https) {
    // Our own client, so its https events carry this call's invocation id (the join key with
    // the tool_call record).
    https::ClientOptions co;
    co.plugin = plan->plugin;
    co.invocation_id = invocation_id;
    co.audit = im.audit;
    auto client = https::Client::create(*plan->https, plan->network, std::move(co));
    if (!client) return tool_error(client.error().to_string(), std::string(error_code_name(client.error().code)));
    opts->https_client = std::shared_ptr<https::Client>(std::move(*client));
  }

  auto prepared = im.prepared_module(*resolved, *opts);
  auto report = prepared ? prepared->run(std::move(*opts))
                         : run_module(*resolved->module_bytes, std::move(*opts));
  std::string stdout_text, stderr_text;
  {
    std::lock_guard<std::mutex> l(cap->mu);
    stdout_text = std::move(cap->out);
    stderr_text = std::move(cap->err);
  }
  uint64_t bytes_out = stdout_text.size() + stderr_text.size();
  // The output bound holds for what the texts take as JSON (output_budget.h): the guest's raw
  // bytes are within it (the runtime stops it past it), their escaped form may not be. Stdout
  // first; stderr, when it is sent, gets what is left.
  uint64_t budget = json_budget(im.options.max_output_bytes);
  const bool stdout_cut = cut_to_json_budget(stdout_text, budget);
  bool stderr_cut = false;
  auto json_limit = [&] {
    return "the tool's output takes more than " + std::to_string(im.options.max_output_bytes) +
           " bytes as JSON text (a control character takes 6 bytes there; a quote, backslash or "
           "line break 2; a byte that is not UTF-8 3) and was cut; raise --max-output-bytes";
  };
  std::optional<int32_t> exit_code;
  std::string outcome = "ok";
  std::string message;
  std::vector<std::string> texts;
  const Json* structured = nullptr;
  Json parsed;
  if (!report) {
    const Error& err = report.error();
    out.is_error = true;
    if (err.code == ErrorCode::kDeadlineExceeded && ctx.cancel != nullptr && ctx.cancel->load()) {
      out.cancelled = true;
      outcome = "cancelled";
      message = "the call was cancelled";
    } else if (err.code == ErrorCode::kDeadlineExceeded) {
      outcome = "timeout";
      message = "the tool did not finish within its deadline (" +
                std::to_string(timeout_ms) + " ms)";
    } else {
      outcome = std::string(error_code_name(err.code));
      message = err.to_string();
    }
    stderr_cut = cut_to_json_budget(stderr_text, budget);
    if (!stdout_text.empty()) texts.push_back(stdout_text);
    if (!stderr_text.empty()) texts.push_back(stderr_text);
    if (stdout_cut || stderr_cut) message += "; " + json_limit();
    texts.push_back(message);
  } else {
    exit_code = report->exit_code;
    out.is_error = report->exit_code != 0;
    if (stdout_cut) {
      out.is_error = true;
      outcome = "output_limit";
      message = json_limit();
    } else if (component_call && !report->result_json.empty()) {
      // The function's result (RunReport::result_json, one line of JSON the mapping wrote within
      // its bounds): as text, and as structuredContent {"result": ...} (outputSchema), both
      // within the output bound. An err case of a result<T, E> exits 1: isError, the error value
      // in both.
      const std::string& result = report->result_json;
      uint64_t cost = json_text_size(result) + result.size();
      if (cost > budget) {
        out.is_error = true;
        outcome = "output_limit";
        message = "the function's result takes " + std::to_string(cost) +
                  " bytes as JSON (text and structuredContent), more than the output bound " +
                  std::to_string(im.options.max_output_bytes) + "; raise --max-output-bytes";
      } else {
        budget -= cost;
        auto decoded = json::parse(result, json::Limits{result.size(), kMaxToolOutputDepth});
        if (!decoded) {
          out.is_error = true;
          outcome = "bad_output";
          message = "the function's result is refused: " + decoded.error().to_string();
        } else {
          parsed = Json{{"result", std::move(*decoded)}};
          if (!e->output_schema.is_null()) structured = &parsed;
          texts.push_back(result);
          if (out.is_error) {
            outcome = "tool_error";
            message = "the function returned its error case";
          }
        }
      }
    } else if (e->tool.stdout_json) {
      // Bounded while parsing (src/common/json.h): an output nested deeper than
      // kMaxToolOutputDepth is a tool error here, never a value whose copy or serialisation
      // could exhaust the server's stack. Its size is the output bound (--max-output-bytes;
      // 0: the operator set none, and the output is what it is).
      size_t max_bytes = im.options.max_output_bytes != 0 ? im.options.max_output_bytes : stdout_text.size();
      auto decoded = json::parse(stdout_text, json::Limits{max_bytes, kMaxToolOutputDepth});
      if (!decoded) {
        out.is_error = true;
        outcome = "bad_output";
        message = decoded.error().kind == json::ParseError::Kind::kTooDeep
                      ? "the tool's JSON output is refused: " + decoded.error().to_string() +
                            " (the limit for \"stdout\": \"json\" tools)"
                      : "the tool's output is not valid JSON (it declares \"stdout\": \"json\")";
      } else if ((parsed = std::move(*decoded)).is_object()) {
        if (!out.is_error && !e->output_schema.is_null()) {
          if (auto p = policy::validate_against_schema(e->output_schema, parsed)) {
            out.is_error = true;
            outcome = "bad_output";
            message = "the tool's output does not match its output_schema: " + *p;
          }
        }
        if (outcome == "ok") structured = &parsed;
      }
    }
    if (!stdout_text.empty()) texts.push_back(stdout_text);
    if (out.is_error && (stderr_cut = cut_to_json_budget(stderr_text, budget)) && outcome == "ok") {
      outcome = "output_limit";
      message = json_limit();
    }
    if (out.is_error && !stderr_text.empty()) texts.push_back(stderr_text);
    if (outcome == "ok" && out.is_error) {
      outcome = "tool_error";
      message = "exit status " + std::to_string(report->exit_code);
    }
    if (!message.empty()) texts.push_back(message);
    if (texts.empty()) texts.push_back("");
  }
  // The record goes before the answer; a call that ran but whose record failed is answered as
  // an error (isError) that says so, and the server warns on its log.
  if (auto rec = im.write_audit(e, name, ctx, invocation_id, elapsed(), outcome, exit_code,
                                bytes_in, bytes_out, message);
      !rec) {
    out.is_error = true;
    texts.push_back("the tool ran, but its audit record was not written: " + rec.error().message);
    structured = nullptr;
    im.log("warning: tool " + q(name) + " ran, but its tool_call " + rec.error().message);
  }
  out.result_json = tool_result(texts, out.is_error, structured);
  return out;
}

}  // namespace wasmcap::mcp
