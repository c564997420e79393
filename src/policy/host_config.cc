// The host config: what the operator grants each plugin, plus host-wide settings.
// Format: docs/host-config.md.
#include <algorithm>
#include <limits>

#include "policy/fields.h"
#include "wasmcap/tenancy.h"

namespace wasmcap::policy {

namespace {

// Bounds accepted for the https grant's numeric settings (enforced by the https host API).
constexpr uint64_t kMaxRedirectsCap = 20;              // browsers stop at about 20 too
constexpr uint64_t kMaxResponseBytesCap = 1ull << 30;  // 1 GiB: beyond is not a tool call
constexpr uint64_t kMaxRequestsCap = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kMaxRequestBytesCap = 1ull << 30;   // 1 GiB request body
constexpr uint64_t kMaxRequestHeadersCap = 1024;       // header lines a plugin may send
constexpr uint64_t kMaxHeaderBytesCap = 1ull << 20;    // 1 MiB of header text either way
constexpr uint64_t kMinTextBytes = 64;  // below this not even a short URL or a status line fits
constexpr uint64_t kMaxUrlBytesCap = 1ull << 16;       // 64 KiB: far beyond what servers accept

Result<SecretRef> read_secret(const Doc& d, const Json& v, const std::string& path,
                              const std::string& name) {
  // "env" is recognised only to explain why it is refused: a credential read from the host's
  // environment is ambient (every child of the host inherits it), so secrets come from files.
  WASMCAP_TRY(d.object(v, path, {"file", "env", "hosts"}));
  SecretRef s;
  s.name = name;
  if (member(v, "env") != nullptr) {
    return d.fail(member_path(path, "env"),
                  "secrets are not read from the host environment; put the value in a file "
                  "readable only by wasmcap and name it with \"file\"");
  }
  const Json* file = nullptr;
  WASMCAP_TRY_ASSIGN(file, d.required(v, path, "file"));
  s.source = SecretSource::kFile;
  WASMCAP_TRY_ASSIGN(s.ref, checked_string(d, *file, member_path(path, "file"), check_host_path));
  const Json* hosts = nullptr;
  WASMCAP_TRY_ASSIGN(hosts, d.required(v, path, "hosts"));
  std::string hpath = member_path(path, "hosts");
  WASMCAP_TRY(d.array(*hosts, hpath));
  if (hosts->empty()) return d.fail(hpath, "must list at least one host the secret may be sent to");
  for (size_t i = 0; i < hosts->size(); ++i) {
    std::string ipath = index_path(hpath, i);
    std::string h;
    WASMCAP_TRY_ASSIGN(h, read_host(d, (*hosts)[i], ipath, true));
    // A secret bound to every host is not bound at all.
    if (h == "*") return d.fail(ipath, "a secret cannot be bound to every host ('*')");
    if (std::find(s.hosts.begin(), s.hosts.end(), h) != s.hosts.end()) {
      return d.fail(ipath, "duplicate host " + quote(h));
    }
    s.hosts.push_back(std::move(h));
  }
  return s;
}

Result<HttpsGrant> read_https_grant(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"allow", "secrets", "max_redirects", "max_response_bytes",
                                 "timeout_ms", "max_requests", "max_request_bytes",
                                 "max_request_headers", "max_request_header_bytes",
                                 "max_url_bytes", "max_response_header_bytes",
                                 "connect_timeout_ms"}));
  HttpsGrant g;
  const Json* allow = nullptr;
  WASMCAP_TRY_ASSIGN(allow, d.required(v, path, "allow"));
  WASMCAP_TRY_ASSIGN(g.allow, read_https_rules(d, *allow, member_path(path, "allow"), true));
  if (const Json* secrets = member(v, "secrets")) {
    std::string spath = member_path(path, "secrets");
    WASMCAP_TRY(d.map(*secrets, spath));
    for (const auto& [name, ref] : secrets->items()) {
      std::string npath = member_path(spath, name);
      if (Problem p = check_secret_name(name)) return d.fail(npath, "invalid secret name: " + *p);
      SecretRef s;
      WASMCAP_TRY_ASSIGN(s, read_secret(d, ref, npath, name));
      g.secrets.push_back(std::move(s));
    }
  }
  if (const Json* n = member(v, "max_redirects")) {
    WASMCAP_TRY_ASSIGN(g.bounds.max_redirects,
                       d.uint(*n, member_path(path, "max_redirects"), 0, kMaxRedirectsCap));
  }
  if (const Json* n = member(v, "max_response_bytes")) {
    WASMCAP_TRY_ASSIGN(g.bounds.max_response_bytes,
                       d.uint(*n, member_path(path, "max_response_bytes"), 1, kMaxResponseBytesCap));
  }
  if (const Json* n = member(v, "timeout_ms")) {
    WASMCAP_TRY_ASSIGN(g.bounds.timeout_ms,
                       d.uint(*n, member_path(path, "timeout_ms"), 1, kMaxTimeoutMs));
  }
  if (const Json* n = member(v, "max_requests")) {
    WASMCAP_TRY_ASSIGN(g.bounds.max_requests,
                       d.uint(*n, member_path(path, "max_requests"), 1, kMaxRequestsCap));
  }
  if (const Json* n = member(v, "max_request_bytes")) {
    WASMCAP_TRY_ASSIGN(g.bounds.max_request_bytes,
                       d.uint(*n, member_path(path, "max_request_bytes"), 0, kMaxRequestBytesCap));
  }
  if (const Json* n = member(v, "max_request_headers")) {
    WASMCAP_TRY_ASSIGN(g.bounds.max_request_headers,
                       d.uint(*n, member_path(path, "max_request_headers"), 0, kMaxRequestHeadersCap));
  }
  if (const Json* n = member(v, "max_request_header_bytes")) {
    WASMCAP_TRY_ASSIGN(g.bounds.max_request_header_bytes,
                       d.uint(*n, member_path(path, "max_request_header_bytes"), 0,
                              kMaxHeaderBytesCap));
  }
  if (const Json* n = member(v, "max_url_bytes")) {
    WASMCAP_TRY_ASSIGN(g.bounds.max_url_bytes,
                       d.uint(*n, member_path(path, "max_url_bytes"), kMinTextBytes, kMaxUrlBytesCap));
  }
  if (const Json* n = member(v, "max_response_header_bytes")) {
    WASMCAP_TRY_ASSIGN(g.bounds.max_response_header_bytes,
                       d.uint(*n, member_path(path, "max_response_header_bytes"), kMinTextBytes,
                              kMaxHeaderBytesCap));
  }
  if (const Json* n = member(v, "connect_timeout_ms")) {
    WASMCAP_TRY_ASSIGN(g.bounds.connect_timeout_ms,
                       d.uint(*n, member_path(path, "connect_timeout_ms"), 1, kMaxTimeoutMs));
  }
  return g;
}

// grants.clocks: "host" | "deny" | "fixed=INSTANT[,step=DURATION]" (docs/host-config.md).
Result<ClockSource> read_clock_grant(const Doc& d, const Json& v, const std::string& path) {
  std::string spec;
  WASMCAP_TRY_ASSIGN(spec, d.string(v, path));
  auto c = parse_clock_source(spec);
  if (!c) return d.fail(path, c.error().message);
  return *c;
}

// grants.random: "host" | "deny" | "seed=N".
Result<RandomSource> read_random_grant(const Doc& d, const Json& v, const std::string& path) {
  std::string spec;
  WASMCAP_TRY_ASSIGN(spec, d.string(v, path));
  auto r = parse_random_source(spec);
  if (!r) return d.fail(path, r.error().message);
  return *r;
}

Result<Grants> read_grants(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"host_api", "fs", "env", "clocks", "random"}, "grant kind"));
  Grants g;
  if (const Json* host_api = member(v, "host_api")) {
    std::string hpath = member_path(path, "host_api");
    WASMCAP_TRY(d.object(*host_api, hpath, {"https"}, "host API"));
    if (const Json* https = member(*host_api, "https")) {
      WASMCAP_TRY_ASSIGN(g.https, read_https_grant(d, *https, member_path(hpath, "https")));
    }
  }
  if (const Json* fs = member(v, "fs")) {
    std::string fpath = member_path(path, "fs");
    WASMCAP_TRY(d.array(*fs, fpath));
    for (size_t i = 0; i < fs->size(); ++i) {
      const Json& e = (*fs)[i];
      std::string epath = index_path(fpath, i);
      WASMCAP_TRY(d.object(e, epath, {"guest", "host", "workspace", "per_session", "access"}));
      FsGrant gr;
      const Json* x = nullptr;
      WASMCAP_TRY_ASSIGN(x, d.required(e, epath, "guest"));
      std::string gpath = member_path(epath, "guest");
      WASMCAP_TRY_ASSIGN(gr.guest, checked_string(d, *x, gpath, check_guest_path));
      for (const auto& prev : g.fs) {
        if (prev.guest == gr.guest) return d.fail(gpath, "duplicate guest path " + quote(gr.guest));
      }
      // A host directory or a shadow workspace, exactly one.
      const Json* host = member(e, "host");
      const Json* ws = member(e, "workspace");
      if ((host == nullptr) == (ws == nullptr)) {
        return d.fail(epath, "needs exactly one of \"host\" (a directory) and \"workspace\" "
                             "(a shadow workspace name)");
      }
      if (host != nullptr) {
        WASMCAP_TRY_ASSIGN(gr.host, checked_string(d, *host, member_path(epath, "host"), check_host_path));
      } else {
        WASMCAP_TRY_ASSIGN(gr.workspace, checked_string(d, *ws, member_path(epath, "workspace"),
                                                        check_workspace_name));
      }
      if (const Json* ps = member(e, "per_session")) {
        std::string ppath = member_path(epath, "per_session");
        if (!ps->is_boolean()) return d.fail(ppath, "must be true or false");
        if (ws == nullptr) return d.fail(ppath, "applies to a \"workspace\" grant only");
        gr.per_session = ps->get<bool>();
      }
      WASMCAP_TRY_ASSIGN(x, d.required(e, epath, "access"));
      WASMCAP_TRY_ASSIGN(gr.access, read_access(d, *x, member_path(epath, "access")));
      g.fs.push_back(std::move(gr));
    }
  }
  if (const Json* env = member(v, "env")) {
    std::string epath = member_path(path, "env");
    WASMCAP_TRY(d.map(*env, epath));
    for (const auto& [name, value] : env->items()) {
      std::string npath = member_path(epath, name);
      if (Problem p = check_env_name(name)) return d.fail(npath, *p);
      std::string val;
      WASMCAP_TRY_ASSIGN(val, checked_string(d, value, npath, check_env_value));
      g.env.emplace_back(name, std::move(val));
    }
  }
  if (const Json* clocks = member(v, "clocks")) {
    WASMCAP_TRY_ASSIGN(g.clocks, read_clock_grant(d, *clocks, member_path(path, "clocks")));
  }
  if (const Json* random = member(v, "random")) {
    WASMCAP_TRY_ASSIGN(g.random, read_random_grant(d, *random, member_path(path, "random")));
  }
  return g;
}

Result<NetworkConfig> read_network(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"resolve", "allow_private", "ca_file"}));
  NetworkConfig n;
  if (const Json* resolve = member(v, "resolve")) {
    std::string rpath = member_path(path, "resolve");
    WASMCAP_TRY(d.map(*resolve, rpath));
    for (const auto& [name, addr] : resolve->items()) {
      std::string npath = member_path(rpath, name);
      auto host = normalize_host(name, false);
      if (!host) return d.fail(npath, "invalid host name: " + host.error().message);
      for (const auto& prev : n.resolve) {
        if (prev.first == *host) return d.fail(npath, "duplicate host " + quote(*host));
      }
      std::string text;
      WASMCAP_TRY_ASSIGN(text, d.string(addr, npath));
      auto ip = parse_ip(text);
      if (!ip) return d.fail(npath, "must be an IPv4 or IPv6 address, got " + quote(text));
      n.resolve.emplace_back(*host, *ip);
    }
  }
  if (const Json* priv = member(v, "allow_private")) {
    std::string ppath = member_path(path, "allow_private");
    WASMCAP_TRY(d.array(*priv, ppath));
    for (size_t i = 0; i < priv->size(); ++i) {
      std::string ipath = index_path(ppath, i);
      std::string text;
      WASMCAP_TRY_ASSIGN(text, d.string((*priv)[i], ipath));
      auto cidr = parse_cidr(text);
      if (!cidr) return d.fail(ipath, cidr.error().message);
      n.allow_private.push_back(*cidr);
    }
  }
  if (const Json* ca = member(v, "ca_file")) {
    WASMCAP_TRY_ASSIGN(n.ca_file, checked_string(d, *ca, member_path(path, "ca_file"), check_host_path));
  }
  return n;
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<TrustConfig> read_trust(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"keys", "revoked"}));
  TrustConfig t;
  if (const Json* keys = member(v, "keys")) {
    std::string kpath = member_path(path, "keys");
    WASMCAP_TRY(d.array(*keys, kpath));
    for (size_t i = 0; i < keys->size(); ++i) {
      std::string ipath = index_path(kpath, i);
      std::string k;
      WASMCAP_TRY_ASSIGN(k, checked_string(d, (*keys)[i], ipath, check_host_path));
      if (std::find(t.keys.begin(), t.keys.end(), k) != t.keys.end()) {
        return d.fail(ipath, "duplicate key " + quote(k));
      }
      t.keys.push_back(std::move(k));
    }
  }
  if (const Json* revoked = member(v, "revoked")) {
    std::string rpath = member_path(path, "revoked");
    WASMCAP_TRY(d.array(*revoked, rpath));
    for (size_t i = 0; i < revoked->size(); ++i) {
      std::string ipath = index_path(rpath, i);
      std::string r;
      WASMCAP_TRY_ASSIGN(r, d.string((*revoked)[i], ipath));
      // A revocation that names nothing recognizable would silently revoke nothing.
      bool id = (r.size() == 16 || r.size() == 64) && is_lower_hex(r);
      if (!id && check_host_path(r)) {
        return d.fail(ipath, "must be a key id (16 lowercase hex digits), a public key (64 "
                             "lowercase hex digits) or the absolute path of a .pub file, got " +
                                 quote(r));
      }
      if (std::find(t.revoked.begin(), t.revoked.end(), r) != t.revoked.end()) {
        return d.fail(ipath, "duplicate entry " + quote(r));
      }
      t.revoked.push_back(std::move(r));
    }
  }
  return t;
}

// "shell": {"bundle_order": [PLUGIN, ...], "user": NAME}. Bounded like the plugins a host can hold: a longer
// list can only name bundles that are not installed.
Result<ShellConfig> read_shell(const Doc& d, const Json& v, const std::string& path) {
  constexpr size_t kMaxBundleOrder = 1024;
  WASMCAP_TRY(d.object(v, path, {"bundle_order", "user"}));
  ShellConfig c;
  if (const Json* user = member(v, "user")) {
    WASMCAP_TRY_ASSIGN(c.user, checked_string(d, *user, member_path(path, "user"), check_user_name));
  }
  if (const Json* order = member(v, "bundle_order")) {
    std::string opath = member_path(path, "bundle_order");
    WASMCAP_TRY(d.array(*order, opath));
    if (order->size() > kMaxBundleOrder) {
      return d.fail(opath, "at most " + std::to_string(kMaxBundleOrder) + " bundles");
    }
    for (size_t i = 0; i < order->size(); ++i) {
      std::string ipath = index_path(opath, i);
      std::string name;
      WASMCAP_TRY_ASSIGN(name, checked_string(d, (*order)[i], ipath, check_plugin_name));
      // A name listed twice would make its first position silently win.
      if (std::find(c.bundle_order.begin(), c.bundle_order.end(), name) != c.bundle_order.end()) {
        return d.fail(ipath, "duplicate bundle " + quote(name));
      }
      c.bundle_order.push_back(std::move(name));
    }
  }
  return c;
}

// Calls running / waiting at once for one principal or plugin: 1 to 4096 each (the server's
// own totals, --max-concurrency and --max-queue, bound them further).
// A principal's entry also has its token_file and weight.
// `principal`: a principal's entry (its token and weight too); `output`: a principal's limits
// (per_principal, or an entry), which may set an output budget, sessions and workspace copies.
Result<TenantLimits> read_tenant_limits(const Doc& d, const Json& v, const std::string& path,
                                        bool principal = false, bool output = false) {
  if (principal) {
    WASMCAP_TRY(d.object(v, path, {"max_running", "max_queued", "output_bytes_per_s", "max_sessions",
                                   "max_workspaces", "token_file", "weight"}));
  } else if (output) {
    WASMCAP_TRY(d.object(v, path, {"max_running", "max_queued", "output_bytes_per_s", "max_sessions",
                                   "max_workspaces"}));
  } else {
    WASMCAP_TRY(d.object(v, path, {"max_running", "max_queued"}));
  }
  TenantLimits l;
  if (const Json* n = member(v, "output_bytes_per_s")) {
    WASMCAP_TRY_ASSIGN(l.output_bytes_per_s, d.uint(*n, member_path(path, "output_bytes_per_s"), 0, uint64_t{1} << 40));
  }
  if (const Json* n = member(v, "max_sessions")) {
    WASMCAP_TRY_ASSIGN(l.max_sessions, d.uint(*n, member_path(path, "max_sessions"), 1, 4096));
  }
  if (const Json* n = member(v, "max_workspaces")) {
    WASMCAP_TRY_ASSIGN(l.max_workspaces, d.uint(*n, member_path(path, "max_workspaces"), 1, 4096));
  }
  if (const Json* n = member(v, "max_running")) {
    WASMCAP_TRY_ASSIGN(l.max_running, d.uint(*n, member_path(path, "max_running"), 1, 4096));
  }
  if (const Json* n = member(v, "max_queued")) {
    WASMCAP_TRY_ASSIGN(l.max_queued, d.uint(*n, member_path(path, "max_queued"), 1, 4096));
  }
  return l;
}

// "mcp": {"tenancy": {...}} (wasmcap/tenancy.h, docs/host-config.md#mcp).
Result<TenancyConfig> read_tenancy(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"principals", "per_principal", "per_plugin", "plugins",
                                 "queue_timeout_ms", "demote_after_cpu_ms", "fair_cpu_window_ms", "guest_nice",
                                 "memory_budget_mb",
                                 "metrics_token_file"}));
  TenancyConfig c;
  if (const Json* ps = member(v, "principals")) {
    std::string ppath = member_path(path, "principals");
    WASMCAP_TRY(d.map(*ps, ppath));
    for (const auto& [name, entry] : ps->items()) {
      std::string epath = member_path(ppath, name);
      if (Problem p = check_plugin_name(name)) return d.fail(epath, "invalid principal name: " + *p);
      if (name == kPrincipalStdio || name == kPrincipalAnonymous || name == kPrincipalToken) {
        return d.fail(epath, "the principal name '" + name + "' is built in (the stdio peer, a "
                             "client without a token, the --token-file token); choose another");
      }
      PrincipalConfig pc;
      pc.name = name;
      WASMCAP_TRY_ASSIGN(pc.limits, read_tenant_limits(d, entry, epath, true, true));
      const Json* tf = nullptr;
      WASMCAP_TRY_ASSIGN(tf, d.required(entry, epath, "token_file"));
      WASMCAP_TRY_ASSIGN(pc.token_file, checked_string(d, *tf, member_path(epath, "token_file"), check_host_path));
      if (const Json* w = member(entry, "weight")) {
        uint64_t weight = 1;
        WASMCAP_TRY_ASSIGN(weight, d.uint(*w, member_path(epath, "weight"), 1, kMaxPrincipalWeight));
        pc.weight = static_cast<unsigned>(weight);
      }
      c.principals.push_back(std::move(pc));
    }
  }
  if (const Json* l = member(v, "per_principal")) {
    WASMCAP_TRY_ASSIGN(c.per_principal, read_tenant_limits(d, *l, member_path(path, "per_principal"), false, true));
  }
  if (const Json* l = member(v, "per_plugin")) {
    WASMCAP_TRY_ASSIGN(c.per_plugin, read_tenant_limits(d, *l, member_path(path, "per_plugin")));
  }
  if (const Json* ps = member(v, "plugins")) {
    std::string ppath = member_path(path, "plugins");
    WASMCAP_TRY(d.map(*ps, ppath));
    for (const auto& [name, entry] : ps->items()) {
      std::string epath = member_path(ppath, name);
      if (Problem p = check_plugin_name(name)) return d.fail(epath, "invalid plugin name: " + *p);
      TenantLimits l;
      WASMCAP_TRY_ASSIGN(l, read_tenant_limits(d, entry, epath));
      c.plugins.emplace_back(name, l);
    }
  }
  if (const Json* t = member(v, "queue_timeout_ms")) {
    WASMCAP_TRY_ASSIGN(c.queue_timeout_ms, d.uint(*t, member_path(path, "queue_timeout_ms"), 1, kMaxTimeoutMs));
  }
  if (const Json* t = member(v, "memory_budget_mb")) {
    WASMCAP_TRY_ASSIGN(c.memory_budget_mb, d.uint(*t, member_path(path, "memory_budget_mb"), 1, uint64_t{1} << 30));
  }
  if (const Json* t = member(v, "guest_nice")) {
    uint64_t nice = 0;
    WASMCAP_TRY_ASSIGN(nice, d.uint(*t, member_path(path, "guest_nice"), 0, 19));
    c.guest_nice = static_cast<int>(nice);
  }
  if (const Json* t = member(v, "fair_cpu_window_ms")) {
    WASMCAP_TRY_ASSIGN(c.fair_cpu_window_ms, d.uint(*t, member_path(path, "fair_cpu_window_ms"), 0, 3600 * 1000));
  }
  if (const Json* t = member(v, "demote_after_cpu_ms")) {
    WASMCAP_TRY_ASSIGN(c.demote_after_cpu_ms, d.uint(*t, member_path(path, "demote_after_cpu_ms"), 0, kMaxTimeoutMs));
  }
  if (const Json* t = member(v, "metrics_token_file")) {
    WASMCAP_TRY_ASSIGN(c.metrics_token_file,
                       checked_string(d, *t, member_path(path, "metrics_token_file"), check_host_path));
  }
  return c;
}

// "mcp": {"bash": {"workspace": NAME, "apply": BOOL, "memory_mb": N}}: the `bash` tool is
// offered only when this names a workspace, and `workspace_apply` only with "apply": true.
// memory_mb: what one call's commands may hold together, 1 MiB .. 64 GiB.
Result<McpConfig> read_mcp(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"bash", "tenancy"}));
  McpConfig c;
  if (const Json* t = member(v, "tenancy")) {
    TenancyConfig tc;
    WASMCAP_TRY_ASSIGN(tc, read_tenancy(d, *t, member_path(path, "tenancy")));
    c.tenancy = std::make_shared<const TenancyConfig>(std::move(tc));
  }
  if (const Json* bash = member(v, "bash")) {
    std::string bpath = member_path(path, "bash");
    WASMCAP_TRY(d.object(*bash, bpath, {"workspace", "apply", "memory_mb"}));
    McpBashConfig b;
    const Json* ws = nullptr;
    WASMCAP_TRY_ASSIGN(ws, d.required(*bash, bpath, "workspace"));
    WASMCAP_TRY_ASSIGN(b.workspace, checked_string(d, *ws, member_path(bpath, "workspace"),
                                                   check_workspace_name));
    if (const Json* apply = member(*bash, "apply")) {
      WASMCAP_TRY_ASSIGN(b.apply, d.boolean(*apply, member_path(bpath, "apply")));
    }
    if (const Json* mem = member(*bash, "memory_mb")) {
      WASMCAP_TRY_ASSIGN(b.memory_mb, d.uint(*mem, member_path(bpath, "memory_mb"), 1, uint64_t{1} << 16));
    }
    c.bash = std::move(b);
  }
  return c;
}

}  // namespace

const PluginConfig* HostConfig::find(std::string_view plugin) const {
  for (const auto& [name, cfg] : plugins) {
    if (name == plugin) return &cfg;
  }
  return nullptr;
}

Result<HostConfig> parse_host_config(std::string_view json_text, std::string_view file_name) {
  Doc d(file_name, ErrorCode::kConfigInvalid);
  Json doc;
  WASMCAP_TRY_ASSIGN(doc, d.parse(json_text));
  WASMCAP_TRY(d.object(doc, "$", {"plugins", "network", "audit", "trust", "registry", "shell", "mcp",
                                   "aot", "defaults"}));
  HostConfig c;
  if (const Json* plugins = member(doc, "plugins")) {
    WASMCAP_TRY(d.map(*plugins, "$.plugins"));
    for (const auto& [name, entry] : plugins->items()) {
      std::string ppath = member_path("$.plugins", name);
      if (Problem p = check_plugin_name(name)) return d.fail(ppath, "invalid plugin name: " + *p);
      WASMCAP_TRY(d.object(entry, ppath, {"grants", "limits"}));
      PluginConfig pc;
      if (const Json* grants = member(entry, "grants")) {
        WASMCAP_TRY_ASSIGN(pc.grants, read_grants(d, *grants, member_path(ppath, "grants")));
      }
      if (const Json* limits = member(entry, "limits")) {
        WASMCAP_TRY_ASSIGN(pc.limits, read_limits(d, *limits, member_path(ppath, "limits")));
      }
      c.plugins.emplace_back(name, std::move(pc));
    }
  }
  if (const Json* network = member(doc, "network")) {
    WASMCAP_TRY_ASSIGN(c.network, read_network(d, *network, "$.network"));
  }
  if (const Json* audit = member(doc, "audit")) {
    WASMCAP_TRY(d.object(*audit, "$.audit", {"file", "on_failure"}));
    if (const Json* file = member(*audit, "file")) {
      WASMCAP_TRY_ASSIGN(c.audit.file, checked_string(d, *file, "$.audit.file", check_host_path));
    }
    if (const Json* on_failure = member(*audit, "on_failure")) {
      // An explicit choice only: losing records is never a default or a typo's result.
      std::string v;
      WASMCAP_TRY_ASSIGN(v, d.string(*on_failure, "$.audit.on_failure"));
      if (v != "refuse" && v != "continue") {
        return d.fail("$.audit.on_failure",
                      "must be \"refuse\" (no work without its audit record; the default) or "
                      "\"continue\" (warn and go on without the record)");
      }
      c.audit.continue_on_failure = v == "continue";
    }
  }
  if (const Json* trust = member(doc, "trust")) {
    WASMCAP_TRY_ASSIGN(c.trust, read_trust(d, *trust, "$.trust"));
  }
  if (const Json* shell = member(doc, "shell")) {
    WASMCAP_TRY_ASSIGN(c.shell, read_shell(d, *shell, "$.shell"));
  }
  if (const Json* mcp = member(doc, "mcp")) {
    WASMCAP_TRY_ASSIGN(c.mcp, read_mcp(d, *mcp, "$.mcp"));
  }
  if (const Json* aot = member(doc, "aot")) {
    // Bounded on both sides: a cap is a size (at least 1 MiB, at most 1 PiB), and a job count
    // at most the 64 compilers a compile ever runs.
    WASMCAP_TRY(d.object(*aot, "$.aot", {"cache_max_mb", "background_jobs"}));
    if (const Json* cap = member(*aot, "cache_max_mb")) {
      WASMCAP_TRY_ASSIGN(c.aot.cache_max_mb, d.uint(*cap, "$.aot.cache_max_mb", 1, 1ull << 30));
    }
    if (const Json* jobs = member(*aot, "background_jobs")) {
      uint64_t j = 0;
      WASMCAP_TRY_ASSIGN(j, d.uint(*jobs, "$.aot.background_jobs", 1, 64));
      c.aot.background_jobs = static_cast<unsigned>(j);
    }
  }
  if (const Json* defaults = member(doc, "defaults")) {
    WASMCAP_TRY(d.object(*defaults, "$.defaults", {"timeout_ms"}));
    if (const Json* t = member(*defaults, "timeout_ms")) {
      // 0 is an operator's explicit "no default deadline"; otherwise the limits' range.
      WASMCAP_TRY_ASSIGN(c.defaults.timeout_ms, d.uint(*t, "$.defaults.timeout_ms", 0, kMaxTimeoutMs));
    }
  }
  if (const Json* reg = member(doc, "registry")) {
    WASMCAP_TRY(d.object(*reg, "$.registry", {"read_only"}));
    if (const Json* ro = member(*reg, "read_only")) {
      WASMCAP_TRY_ASSIGN(c.registry.read_only, d.boolean(*ro, "$.registry.read_only"));
    }
  }
  return c;
}

Result<HostConfig> load_host_config(const std::string& path) {
  std::string text;
  WASMCAP_TRY_ASSIGN(text, read_document(path));
  return parse_host_config(text, path);
}

}  // namespace wasmcap::policy
