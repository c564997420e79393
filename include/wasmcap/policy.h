// Permissions: a plugin manifest (what the plugin requests) × a host config (what the operator
// grants) → one fail-closed Plan (the intersection, plus a named reason for everything requested
// but not granted).
//
// Strings are parsed only here (src/policy/); everything a Plan holds is typed and normalized,
// so later stages (runtime, WASI, https) never re-parse policy text. File formats:
// docs/manifest.md and docs/host-config.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/error.h"
#include "wasmcap/wasi.h"

namespace wasmcap {
namespace policy {

// A manifest or host config larger than this is refused before parsing: both are small,
// hand-written documents, and the cap bounds the parser's memory on hostile input.
constexpr size_t kMaxDocumentBytes = size_t{1} << 20;
// Deeper nesting than this is never valid in either format; refusing it early keeps hostile
// documents from costing more than their size.
constexpr size_t kMaxNestingDepth = 16;
// wasm32 linear memory cannot exceed 4 GiB.
constexpr uint64_t kMaxMemoryMb = 4096;
// The largest write budget a manifest or host config may name (limits.max_write_mb): 16 TiB.
constexpr uint64_t kMaxWriteMb = 16ull << 20;

// Filesystem access, deliberately two-valued (see wasmtime's DirPerms/FilePerms advisories).
enum class Access : uint8_t { kReadOnly, kReadWrite };
std::string_view access_name(Access a);  // "ro" / "rw"

// One https allow rule. Hosts are lowercase ASCII without a trailing dot: an exact name, a
// leading-label wildcard "*.example.com" (any subdomain at any depth, not the apex) or "*" (any
// host). Methods are uppercase, distinct, in canonical order (GET HEAD POST PUT PATCH DELETE
// OPTIONS). path_prefix starts with '/' and is matched as a string prefix.
struct HttpsRule {
  std::string host;
  std::vector<std::string> methods;
  std::string path_prefix = "/";
};

// Limits, each optional: absent means "no opinion" (the other side's value or the runtime
// default applies).
struct Limits {
  std::optional<uint64_t> max_memory_mb;
  std::optional<uint64_t> timeout_ms;
  std::optional<uint64_t> fuel;
  // The write budget's bytes (wasi.h WriteBudget), in MiB; absent: WasiConfig's default.
  std::optional<uint64_t> max_write_mb;
};

// --- The plugin's side ------------------------------------------------------------------------

struct HttpsRequest {
  std::vector<HttpsRule> allow;      // non-empty
  std::vector<std::string> secrets;  // names, distinct
  // "optional": true — the plugin runs without these grants: what is not granted is listed in
  // Plan::optional_denied (not Plan::denied) and every such request is refused at call time
  // (grant_denied). For general-purpose runtimes (the python bundle) that cannot know their
  // hosts in advance.
  bool optional = false;
};

struct FsRequest {
  std::string guest;  // absolute, normalized guest path
  Access access = Access::kReadOnly;
};

// permissions.clocks: the clocks a plugin reads ("wall": WASI realtime and the *_NOW timestamp
// flags; "monotonic": monotonic and the CPU-time clocks). Unrequested clocks answer ENOTCAPABLE.
struct ClockRequest {
  bool wall = false;
  bool monotonic = false;
  bool any() const { return wall || monotonic; }
};

struct Permissions {
  std::optional<HttpsRequest> https;  // host_api.https
  std::vector<FsRequest> fs;          // distinct guest paths
  std::vector<std::string> env;       // variable names, distinct
  bool args = false;                  // the plugin accepts command-line arguments
  ClockRequest clocks;                // permissions.clocks
  bool random = false;                // permissions.random: the plugin calls random_get
};

// --- Tools (MCP): how a plugin is called as a tool; docs/manifest.md#tools, docs/abi-tools.md ---

// One element of a tool's argv template.
struct ArgvPart {
  enum class Kind : uint8_t {
    kLiteral,  // `text` as one word
    kArg,      // {"arg": A}: the value of argument A as one word (absent: nothing)
    kArgs,     // {"args": A}: each element of array argument A as one word
    kFlag,     // {"flag": TEXT, "if": A}: TEXT when boolean argument A is true
    kOption,   // {"option": TEXT, "arg": A}: TEXT and A's value, when A is present
  };
  Kind kind = Kind::kLiteral;
  std::string text;  // literal / flag / option word
  std::string arg;   // argument name
  // A literal "--" occurs earlier in the template: operands after it cannot be read as options,
  // so values starting with '-' are allowed there (refused before it: argument injection).
  bool after_dashdash = false;
};

// MCP tool annotations as the manifest declares them (absent = not declared). The server
// reports them only as far as the grants support them (docs/mcp.md#annotations).
struct ToolAnnotations {
  std::optional<bool> read_only;    // readOnlyHint: true is *enforced* (fs ro, safe https methods)
  std::optional<bool> destructive;  // destructiveHint
  std::optional<bool> idempotent;   // idempotentHint
  std::optional<bool> open_world;   // openWorldHint
};

struct Tool {
  std::string name;  // [A-Za-z0-9_-]{1,64}, distinct within the manifest
  std::string title;
  std::string description;
  std::string input_schema;   // compact JSON text of a schema in the accepted subset
  std::string output_schema;  // "" when absent
  ToolAnnotations annotations;
  std::vector<ArgvPart> argv;  // after argv[0]
  bool stdin_json = false;     // the arguments object is the guest's stdin (else stdin is empty)
  bool stdout_json = false;    // stdout is one JSON value (structuredContent), else text
};

// A read-only data tree shipped inside the bundle (docs/manifest.md#data): every regular file
// under `path` (relative to the manifest's directory) is packed and hashed like a module, and
// the directory is preopened read-only at `guest` when the plugin runs.
struct DataTree {
  std::string path;   // relative directory, a valid bundle entry name; holds no module
  std::string guest;  // absolute, normalized guest path; no fs request may use it
};

// One name `wasmcap sh` runs the bundle's module as (manifest "commands",
// docs/manifest.md#commands): `name` resolves to this module, which gets `argv0` as argv[0] (a
// multi-call module picks its tool by it).
struct ShellCommand {
  std::string name;   // policy::check_command_name: a word, none the shell keeps for itself
  std::string argv0;  // default: name
  // "fallback": true: the name resolves here only when no other installed bundle declares it
  // (a basic tool yielding to a fuller one), unless the host config's shell.bundle_order
  // names this bundle.
  bool fallback = false;
};

struct Manifest {
  std::string name;     // [a-z0-9][a-z0-9._-]{0,63}
  std::string version;  // SemVer 2.0.0
  std::string module;   // relative path of the .wasm, resolved against the manifest's directory
  std::string description;
  // "modules": module path → lowercase hex SHA-256, in path order. Written by `wasmcap bundle
  // pack`; a signed bundle's modules must match it exactly.
  std::vector<std::pair<std::string, std::string>> module_sha256;
  std::optional<DataTree> data;
  Permissions permissions;
  Limits limits;
  std::vector<Tool> tools;  // "tools": what the plugin offers as MCP tools (may be empty)
  std::vector<ShellCommand> commands;  // "commands": sorted by name (may be empty)
  // "component_tools" (docs/manifest.md#component_tools): the functions a component module
  // exports that are offered as MCP tools: every one (`true`), or those of the listed exported
  // interfaces and top-level functions (export names, e.g. "example:calc/ops@1.0.0", "add").
  bool component_tools_all = false;
  std::vector<std::string> component_tools;
};

// --- The operator's side ----------------------------------------------------------------------

// Where a secret's value comes from: only a file the operator names. (Never the host's
// environment: credentials must not be ambient.)
enum class SecretSource : uint8_t { kFile };

// Where a secret's value comes from. The value itself is never stored in policy objects and is
// never printed: only this reference is.
struct SecretRef {
  std::string name;
  SecretSource source = SecretSource::kFile;
  std::string ref;                 // absolute file path
  std::vector<std::string> hosts;  // the secret may be sent only to these hosts (normalized)
};

// Bounds on https use, enforced by the https host API. Absent = the default documented in
// docs/https.md (wasmcap/https.h kDefault*).
struct HttpsBounds {
  std::optional<uint64_t> max_redirects;
  std::optional<uint64_t> max_response_bytes;
  std::optional<uint64_t> timeout_ms;
  std::optional<uint64_t> max_requests;
  std::optional<uint64_t> max_request_bytes;           // request body
  std::optional<uint64_t> max_request_headers;         // header lines a plugin may send
  std::optional<uint64_t> max_request_header_bytes;    // their total size
  std::optional<uint64_t> max_url_bytes;               // URL length
  std::optional<uint64_t> max_response_header_bytes;   // response header block
  std::optional<uint64_t> connect_timeout_ms;          // each TCP + TLS connect
};

struct HttpsGrant {
  std::vector<HttpsRule> allow;
  std::vector<SecretRef> secrets;  // distinct names
  HttpsBounds bounds;
};

struct FsGrant {
  std::string guest;  // absolute, normalized guest path
  std::string host;   // absolute host path ("" when `workspace` is set)
  Access access = Access::kReadOnly;
  // A shadow workspace (docs/workspace.md) in place of a host directory: the mount is the
  // workspace's tree, found when the plan is bound (workspace::bind_plan). Exactly one of
  // `host` and `workspace` is set.
  std::string workspace{};
  // With `workspace`: each MCP session works on its own workspace, created on its first call
  // from the named workspace's source (workspace::bind_plan's session key).
  bool per_session = false;
};

struct Grants {
  std::optional<HttpsGrant> https;
  std::vector<FsGrant> fs;                                 // distinct guest paths
  std::vector<std::pair<std::string, std::string>> env;  // name → value, distinct names
  // grants.clocks / grants.random: how the requested clocks and randomness are served ("host",
  // "deny", "fixed=..." / "seed=N"). Absent: the host's (docs/host-config.md#clocks-and-random).
  std::optional<ClockSource> clocks;
  std::optional<RandomSource> random;
};

struct PluginConfig {
  Grants grants;
  Limits limits;
};

// An IPv4 or IPv6 address in network byte order (IPv4 uses the first 4 bytes).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  std::string to_string() const;
};

struct Cidr {
  IpAddress address;  // host bits are zero
  uint8_t prefix_len = 0;
  std::string to_string() const;
};

// Host-wide network settings (type-checked now; used by the https host API).
struct NetworkConfig {
  std::vector<std::pair<std::string, IpAddress>> resolve;  // pinned name → address
  std::vector<Cidr> allow_private;  // private ranges plugins may reach anyway
  std::optional<std::string> ca_file;  // absolute path of a PEM CA bundle
};

struct AuditConfig {
  std::optional<std::string> file;  // absolute path of the audit log
  // audit.on_failure (docs/host-config.md#audit): false = "refuse" (the default: no run, shell
  // command or tool call without its record), true = "continue" (warn and go on).
  bool continue_on_failure = false;
};

// Which bundle signers the host trusts (docs/host-config.md#trust, docs/bundles.md). Added to
// the keys in $WASMCAP_HOME/trust/; files are read by the registry, not here.
struct TrustConfig {
  std::vector<std::string> keys;  // absolute paths of public key files (*.pub), distinct
  // Revoked signers, distinct: a key id (16 lowercase hex digits, as `wasmcap bundle list`
  // shows), a whole public key (64 lowercase hex digits) or the absolute path of a *.pub file.
  // A revoked key is refused always, even when it is also listed as trusted.
  std::vector<std::string> revoked;
};

// How this host opens the bundle registry (docs/host-config.md#registry).
struct RegistryConfig {
  // true: never write the registry (read-only volume shared by replicas); install/remove fail.
  // false/absent: read-only only when the registry directory is not writable.
  bool read_only = false;
};

// `wasmcap sh` on this host (docs/host-config.md#shell).
struct ShellConfig {
  // shell.bundle_order: when installed bundles declare the same command, the one named earlier
  // here wins; bundles not named follow in bundle-name order (docs/shell.md "Commands").
  // Distinct plugin names.
  std::vector<std::string> bundle_order;
  // shell.user: the name of the sandbox's user (uid/gid 1000), given to the commands as USER and
  // LOGNAME, so `ls -l`, `id -un` and `whoami` show it; empty: the ids only (docs/host-config.md
  // #shell).
  std::string user;
};

// The AOT engine on this host (docs/host-config.md#aot, docs/aot.md "Cache" and "Background
// compile"); absent keys keep AotOptions' defaults.
struct AotConfig {
  // aot.cache_max_mb: the cache's size cap, applied after every compile (AotOptions::cache_max_bytes).
  std::optional<uint64_t> cache_max_mb;
  // aot.background_jobs: compilers at once in `--engine auto`'s background compile.
  std::optional<unsigned> background_jobs;
};

// The MCP server's `bash` tool (docs/host-config.md#mcp, docs/mcp.md "The bash tool"). Absent:
// the server offers no `bash`, `workspace_diff` or `workspace_apply` tool.
struct McpBashConfig {
  // The shadow workspace (`wasmcap ws create NAME DIR`) whose source each MCP session gets a
  // copy of, mounted at /work: the only host tree the tool's commands can reach.
  std::string workspace;
  // Offer `workspace_apply`: write a session's reviewed changes into the workspace's source
  // (the real tree). Off unless set.
  bool apply = false;
  // MiB of linear memory the commands of one `bash` call may hold together (pipeline stages,
  // $(...)), reserved from the server's memory budget when the call is admitted. Unset: four
  // times the call memory cap (256 MiB with the defaults). Each command also keeps its own cap.
  std::optional<uint64_t> memory_mb;
};

struct TenancyConfig;  // wasmcap/tenancy.h

struct McpConfig {
  std::optional<McpBashConfig> bash;
  // "mcp": {"tenancy": ...}: principals, per-principal and per-plugin limits, the queue's
  // timeout, CPU demotion (wasmcap/tenancy.h). Null when absent: the server's defaults.
  std::shared_ptr<const TenancyConfig> tenancy;
};

// The deadline of a `wasmcap run`, a `wasmcap sh` script or an MCP call that neither its
// command line, its plan nor the host config's defaults.timeout_ms bounds: nothing runs
// unbounded unless asked (docs/cli.md, --timeout-ms).
inline constexpr uint64_t kDefaultTimeoutMs = 60000;

// What a command gets when its command line and the plugin's plan leave a bound unset
// (docs/host-config.md#defaults).
struct DefaultsConfig {
  // defaults.timeout_ms: the deadline of a `wasmcap run`, a `wasmcap sh` script or an MCP tool
  // call given no --timeout-ms (and, for a plugin, no limits.timeout_ms); 0 = none. Absent: the
  // built-in 60 s.
  std::optional<uint64_t> timeout_ms;
};

struct HostConfig {
  std::vector<std::pair<std::string, PluginConfig>> plugins;  // distinct names
  NetworkConfig network;
  AuditConfig audit;
  TrustConfig trust;
  RegistryConfig registry;
  ShellConfig shell;
  McpConfig mcp;
  AotConfig aot;
  DefaultsConfig defaults;

  // The plugin's entry, or nullptr.
  const PluginConfig* find(std::string_view plugin) const;
};

// --- Parsing ----------------------------------------------------------------------------------
//
// Errors are manifest_invalid / config_invalid with "FILE: JSONPATH: problem", e.g.
// "config.json: $.plugins.gh-issues.grants.fs[0].host: must be an absolute path". Rejected:
// malformed JSON, duplicate object keys, unknown keys or permission kinds, wrong types,
// out-of-range numbers, invalid names/hosts/paths/methods/versions, duplicate entries, and
// documents larger than kMaxDocumentBytes or nested deeper than kMaxNestingDepth.
// `file_name` is used only in messages.

Result<Manifest> parse_manifest(std::string_view json_text, std::string_view file_name);
Result<HostConfig> parse_host_config(std::string_view json_text, std::string_view file_name);

// Reads and parses a file (io_error / not_found when unreadable; the same errors as above).
Result<Manifest> load_manifest(const std::string& path);
Result<HostConfig> load_host_config(const std::string& path);

// --- Grants written on one line (src/policy/grant_specs.cc) -----------------------------------
//
// The one-line forms of a grant that `wasmcap run`/`sh` flags and embedders take (docs/cli.md).
// Strict: a grant that is not exactly what the operator meant fails, never becomes something
// else. Errors are invalid_argument, "'SPEC': PROBLEM; use SYNTAX" (SPEC quoted as given, no
// flag named: the caller says where the text came from).

// HOST[::GUEST][:ro|:rw]: GUEST defaults to HOST; a guest path never holds ':'.
Result<Preopen> parse_dir_grant(std::string_view spec);
// NAME=VALUE, NAME a variable name and VALUE a variable value (the manifest and host config
// rules); VALUE may hold '='.
Result<std::pair<std::string, std::string>> parse_env_grant(std::string_view spec);
// HOST[/PREFIX][:METHOD,...]: "api.example.com", "api.example.com/v1/:GET,POST",
// "*.example.com:GET". Methods default to GET, the prefix to "/".
Result<HttpsRule> parse_https_grant(std::string_view spec);
// NAME=FILE@HOST[,HOST...]: a secret read from FILE (made absolute), sent only to the hosts.
Result<SecretRef> parse_secret_grant(std::string_view spec);

// --- Intersection rules (exposed for tests and for the https host API) ------------------------

// Normalizes a host pattern: lowercase, one trailing dot stripped, validated. `allow_wildcard`
// permits "*.suffix" and "*". Returns the normalized form or a description of the problem.
Result<std::string> normalize_host(std::string_view host, bool allow_wildcard);

// True when `pattern` (normalized) covers the concrete, normalized `host`: equal, "*", or
// "*.suffix" with host a strict subdomain of suffix.
bool host_matches(std::string_view pattern, std::string_view host);

// The hosts both patterns cover, when that is a single pattern: equal → it; "*" with x → x;
// a wildcard covering the other → the narrower one; otherwise none.
std::optional<std::string> intersect_hosts(std::string_view a, std::string_view b);

// The more specific of two nested prefixes; none when disjoint.
std::optional<std::string> intersect_path_prefixes(std::string_view a, std::string_view b);

// Methods both lists contain, in canonical order.
std::vector<std::string> intersect_methods(const std::vector<std::string>& a,
                                           const std::vector<std::string>& b);

// The weaker access (ro < rw).
Access weaker(Access a, Access b);

// The smaller of two optional limits; absent = the other's value.
std::optional<uint64_t> smaller_limit(std::optional<uint64_t> a, std::optional<uint64_t> b);

// --- The plan -----------------------------------------------------------------------------------

// One preopen of the plan. `denied` mounts were requested and not granted: they exist only so a
// --degrade run can show the guest an ENOTCAPABLE directory (host is empty then).
struct FsMount {
  std::string guest;
  std::string host;
  Access access = Access::kReadOnly;
  bool denied = false;
  bool data = false;  // the manifest's own data tree (read-only; not an operator grant)
  // Granted as a shadow workspace: `host` stays empty until workspace::bind_plan points it at
  // the workspace's tree; run_options_from_plan refuses an unbound one.
  std::string workspace{};
  bool per_session = false;  // FsGrant::per_session
};

struct HttpsPlan {
  std::vector<HttpsRule> allow;     // the effective rules (may be empty when all were denied)
  std::vector<SecretRef> secrets;   // references only; values are loaded by the https API
  HttpsBounds bounds;
};

// What a run of one plugin may do: the intersection of its manifest and the host config.
struct Plan {
  std::string plugin;
  std::string version;
  std::string module_path;  // the manifest's module resolved against its directory

  std::optional<HttpsPlan> https;  // present when the manifest requests host_api.https
  std::vector<FsMount> fs;
  std::vector<std::pair<std::string, std::string>> env;
  bool args = false;
  Limits limits;  // absent = runtime default
  // Clocks and random: requested and granted (clock_wall / clock_monotonic / random.kind !=
  // kDeny), and the source serving them. Unrequested or denied: kDeny (ENOTCAPABLE).
  ClockSource clock{ClockSource::Kind::kDeny};
  bool clock_wall = false;
  bool clock_monotonic = false;
  RandomSource random{RandomSource::Kind::kDeny};

  // Everything requested but not granted, one reason each, in manifest order, e.g.
  // "fs /work: requested ro, not granted",
  // "https api.github.com GET /repos/: no matching grant",
  // "env LANG: requested, not granted", "secret github_token: requested, not granted".
  std::vector<std::string> denied;
  // Granted with less than requested, not denied: "fs /work: requested rw, granted ro". The
  // directory is mounted read-only and writes fail (EROFS/ENOTCAPABLE) as on a read-only
  // mount. One rule for every front end (run, plan, mcp, sh): an operator's read-only grant
  // narrows a plugin; only a request with no grant at all is a denial (docs/manifest.md).
  std::vector<std::string> narrowed;
  // Requested as optional (host_api.https.optional) and not granted: the run goes ahead and such
  // requests are refused when made. Same wording as `denied`.
  std::vector<std::string> optional_denied;

  NetworkConfig network;
  AuditConfig audit;
  // The host config's defaults.timeout_ms: the deadline `wasmcap run` gives this plan's run when
  // limits.timeout_ms is unset (0: none); absent: kDefaultTimeoutMs. What `plan` shows.
  std::optional<uint64_t> default_timeout_ms;

  bool fully_granted() const { return denied.empty(); }
};

// Intersects `manifest` with `config`'s entry for the plugin (a plugin without an entry is
// granted nothing). `manifest_dir` is the directory module paths are relative to ("" = cwd).
// Never fails: what is not granted is listed in Plan::denied.
Plan make_plan(const Manifest& manifest, const HostConfig& config, std::string_view manifest_dir);

// Narrows the plan's limits by `bounds` (make_plan: the manifest's by the host config's):
// smaller_limit per limit. The operator's bounds on a run narrow the run, in bytes (runtime.h
// RunRequest::bounds, narrow_bounds), by the same rule.
void bound_limits(Plan& plan, const Limits& bounds);

// grant_denied naming every denial, unless the plan is fully granted.
Result<void> require_fully_granted(const Plan& plan);

// --- Capabilities and imports -----------------------------------------------------------------

// The capabilities a run of `plan` needs (WASI basics always; fs/env/args when used; each host
// API requested; each limit set below the runtime's "unlimited").
CapabilitySet required_capabilities(const Plan& plan);

// The host APIs the manifest requested (whether or not they were granted: a degraded run still
// links them, and each call is then refused).
CapabilitySet requested_host_apis(const Plan& plan);

// One line per capability in `required` that `engine` or the build (`build`, see
// host_build_capabilities()) lacks: "engine interp cannot provide limits.fuel",
// "this wasmcap build cannot provide host_api.https". Empty when all are available.
std::vector<std::string> unavailable_capabilities(CapabilitySet required, const Engine& engine,
                                                  CapabilitySet build);

// capability_unavailable naming each line of unavailable_capabilities(), or success.
Result<void> check_capabilities(CapabilitySet required, const Engine& engine, CapabilitySet build);

// The import module name a host API is served under ("wasmcap_https"), or "" for
// non-host-API capabilities.
std::string_view host_api_import_module(Capability c);

// Checks a module's imports against the requested host APIs: importing a host API module
// ("wasmcap_*") that was not requested, or that wasmcap does not know, is grant_denied.
// `no_plan_grant`: set for a run without a plan, it says how the caller's front end grants a
// host API (the CLI: its --allow-https flag; the C API: a plan), and the refusal names it
// instead of a manifest's permissions. Empty: the run has a plan, whose manifest is named.
Result<void> check_imports(const ModuleInfo& info, CapabilitySet requested_host_apis,
                           std::string_view no_plan_grant = {});

// --- Output -----------------------------------------------------------------------------------

// What `wasmcap plan` found beyond the plan itself.
struct PlanReport {
  std::string engine;                       // the engine the plan was checked against
  std::vector<std::string> unavailable;     // unavailable_capabilities() lines
  bool imports_checked = false;             // the module was read and its imports checked
  std::string imports_problem;              // check_imports() message when it failed
  std::string imports_note;                 // why imports were not checked
};

// Human-readable plan (what `wasmcap plan` prints). Never contains secret values.
std::string plan_to_text(const Plan& plan, const PlanReport& report);

// Machine-readable plan as one JSON object (schema in docs/manifest.md). Never contains secret
// values.
std::string plan_to_json(const Plan& plan, const PlanReport& report);

}  // namespace policy
}  // namespace wasmcap
