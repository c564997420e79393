// Manifest × host config → Plan: the intersection, and a named reason for everything requested
// but not granted. Rules: docs/manifest.md ("How requests meet grants").
#include <algorithm>

#include "policy/json_doc.h"
#include "policy/syntax.h"
#include "wasmcap/policy.h"

namespace wasmcap::policy {

namespace {

bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
bool is_wildcard(std::string_view h) { return h.size() > 2 && starts_with(h, "*."); }

// True when every host `b` covers is also covered by `a`.
bool covers(std::string_view a, std::string_view b) {
  if (a == b || a == "*") return true;
  if (b == "*") return false;
  if (!is_wildcard(a)) return false;
  if (is_wildcard(b)) return ends_with(b.substr(1), a.substr(1));
  return host_matches(a, b);
}

// Adds `method` for (host, prefix) to `allow`, merging rules that differ only in methods.
void add_rule(std::vector<HttpsRule>& allow, const std::string& host, const std::string& method,
              const std::string& prefix) {
  for (auto& r : allow) {
    if (r.host == host && r.path_prefix == prefix) {
      if (std::find(r.methods.begin(), r.methods.end(), method) == r.methods.end()) {
        r.methods.push_back(method);
        std::sort(r.methods.begin(), r.methods.end(), [](const auto& x, const auto& y) {
          return method_rank(x) < method_rank(y);
        });
      }
      return;
    }
  }
  allow.push_back(HttpsRule{host, {method}, prefix});
}

std::string join_path(std::string_view dir, std::string_view rel) {
  if (dir.empty()) return std::string(rel);
  std::string out(dir);
  if (out.back() != '/') out += '/';
  return out + std::string(rel);
}

// Clocks and random: the manifest requests them, the host config's entry says how they are
// served (absent: the host's; "deny": a denial). A plugin without an entry (pc == nullptr) is
// granted nothing, these included.
void plan_clocks_and_random(const Permissions& want, const PluginConfig* pc, Plan& plan) {
  if (want.clocks.any()) {
    std::string kinds = want.clocks.wall ? (want.clocks.monotonic ? "wall,monotonic" : "wall")
                                         : "monotonic";
    ClockSource src = pc != nullptr && pc->grants.clocks ? *pc->grants.clocks : ClockSource{};
    if (pc == nullptr || src.kind == ClockSource::Kind::kDeny) {
      plan.denied.push_back("clocks " + kinds + ": requested, not granted");
    } else {
      plan.clock = src;
      plan.clock_wall = want.clocks.wall;
      plan.clock_monotonic = want.clocks.monotonic;
    }
  }
  if (want.random) {
    RandomSource src = pc != nullptr && pc->grants.random ? *pc->grants.random : RandomSource{};
    if (pc == nullptr || src.kind == RandomSource::Kind::kDeny) {
      plan.denied.push_back("random: requested, not granted");
    } else {
      plan.random = src;
    }
  }
}

}  // namespace

std::string_view access_name(Access a) { return a == Access::kReadWrite ? "rw" : "ro"; }

bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern == "*") return true;
  if (is_wildcard(pattern)) {
    // "*.example.com" covers strict subdomains at any depth, never "example.com" itself.
    std::string_view suffix = pattern.substr(1);
    return host.size() > suffix.size() && ends_with(host, suffix);
  }
  return pattern == host;
}

std::optional<std::string> intersect_hosts(std::string_view a, std::string_view b) {
  if (covers(a, b)) return std::string(b);
  if (covers(b, a)) return std::string(a);
  return std::nullopt;
}

std::optional<std::string> intersect_path_prefixes(std::string_view a, std::string_view b) {
  if (starts_with(b, a)) return std::string(b);
  if (starts_with(a, b)) return std::string(a);
  return std::nullopt;
}

std::vector<std::string> intersect_methods(const std::vector<std::string>& a,
                                           const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& m : a) {
    if (std::find(b.begin(), b.end(), m) != b.end() &&
        std::find(out.begin(), out.end(), m) == out.end()) {
      out.push_back(m);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& x, const auto& y) { return method_rank(x) < method_rank(y); });
  return out;
}

Access weaker(Access a, Access b) {
  return (a == Access::kReadOnly || b == Access::kReadOnly) ? Access::kReadOnly
                                                           : Access::kReadWrite;
}

std::optional<uint64_t> smaller_limit(std::optional<uint64_t> a, std::optional<uint64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

Plan make_plan(const Manifest& manifest, const HostConfig& config, std::string_view manifest_dir) {
  static const PluginConfig kNothing;
  Plan plan;
  plan.plugin = manifest.name;
  plan.version = manifest.version;
  plan.module_path = join_path(manifest_dir, manifest.module);
  plan.network = config.network;
  plan.audit = config.audit;
  plan.default_timeout_ms = config.defaults.timeout_ms;

  const PluginConfig* pc = config.find(manifest.name);
  if (pc == nullptr) {
    // The operator never approved this plugin: it is granted nothing, and says so first.
    plan.denied.push_back("plugin " + manifest.name + ": no entry in the host config");
    pc = &kNothing;
  }
  const Permissions& want = manifest.permissions;
  const Grants& have = pc->grants;

  if (want.https) {
    HttpsPlan hp;
    std::vector<std::string>& https_denied = want.https->optional ? plan.optional_denied : plan.denied;
    static const HttpsGrant kNoHttps;
    const HttpsGrant& g = have.https ? *have.https : kNoHttps;
    // Each requested (rule, method) must meet at least one grant rule. Scope may narrow (a
    // concrete host for a wildcard, a longer path prefix): that is the operator's choice. A
    // method with no grant at all is a denial.
    for (const auto& req : want.https->allow) {
      for (const auto& method : req.methods) {
        bool granted = false;
        for (const auto& gr : g.allow) {
          if (std::find(gr.methods.begin(), gr.methods.end(), method) == gr.methods.end()) continue;
          auto host = intersect_hosts(req.host, gr.host);
          auto prefix = intersect_path_prefixes(req.path_prefix, gr.path_prefix);
          if (!host || !prefix) continue;
          add_rule(hp.allow, *host, method, *prefix);
          granted = true;
        }
        if (!granted) {
          https_denied.push_back("https " + req.host + " " + method + " " + req.path_prefix +
                                 ": no matching grant");
        }
      }
    }
    for (const auto& name : want.https->secrets) {
      if (name == "*") {  // every secret the operator grants (none is a denial of nothing)
        for (const auto& s : g.secrets) {
          bool have = std::any_of(hp.secrets.begin(), hp.secrets.end(),
                                  [&](const SecretRef& x) { return x.name == s.name; });
          if (!have) hp.secrets.push_back(s);
        }
        continue;
      }
      auto it = std::find_if(g.secrets.begin(), g.secrets.end(),
                             [&](const SecretRef& s) { return s.name == name; });
      if (it == g.secrets.end()) {
        https_denied.push_back("secret " + name + ": requested, not granted");
      } else if (std::none_of(hp.secrets.begin(), hp.secrets.end(),
                              [&](const SecretRef& x) { return x.name == name; })) {
        hp.secrets.push_back(*it);
      }
    }
    hp.bounds = g.bounds;
    plan.https = std::move(hp);
  }

  // The bundle's own read-only data tree: not a grant (its bytes are covered by the signature
  // and re-verified before a run), always read-only, never writable by any grant.
  if (manifest.data) {
    plan.fs.push_back(FsMount{manifest.data->guest, join_path(manifest_dir, manifest.data->path),
                              Access::kReadOnly, false, true});
  }
  for (const auto& req : want.fs) {
    auto it = std::find_if(have.fs.begin(), have.fs.end(),
                           [&](const FsGrant& g) { return g.guest == req.guest; });
    if (it == have.fs.end()) {
      plan.denied.push_back("fs " + req.guest + ": requested " +
                            std::string(access_name(req.access)) + ", not granted");
      plan.fs.push_back(FsMount{req.guest, "", req.access, true});
      continue;
    }
    Access access = weaker(req.access, it->access);
    if (access != req.access) {
      plan.narrowed.push_back("fs " + req.guest + ": requested " +
                            std::string(access_name(req.access)) + ", granted " +
                            std::string(access_name(access)));
    }
    plan.fs.push_back(FsMount{req.guest, it->host, access, false, false, it->workspace,
                              it->per_session});
  }

  for (const auto& name : want.env) {
    auto it = std::find_if(have.env.begin(), have.env.end(),
                           [&](const auto& kv) { return kv.first == name; });
    if (it == have.env.end()) {
      plan.denied.push_back("env " + name + ": requested, not granted");
    } else {
      plan.env.push_back(*it);  // the value comes from the host config only
    }
  }

  plan.args = want.args;
  plan_clocks_and_random(want, pc == &kNothing ? nullptr : pc, plan);
  // The manifest's limits, narrowed by the host config's (the rule runs use too: runtime.h
  // narrow_bounds).
  plan.limits = manifest.limits;
  bound_limits(plan, pc->limits);
  return plan;
}

void bound_limits(Plan& plan, const Limits& bounds) {
  plan.limits.max_memory_mb = smaller_limit(plan.limits.max_memory_mb, bounds.max_memory_mb);
  plan.limits.timeout_ms = smaller_limit(plan.limits.timeout_ms, bounds.timeout_ms);
  plan.limits.fuel = smaller_limit(plan.limits.fuel, bounds.fuel);
  plan.limits.max_write_mb = smaller_limit(plan.limits.max_write_mb, bounds.max_write_mb);
}

Result<void> require_fully_granted(const Plan& plan) {
  if (plan.denied.empty()) return {};
  std::string msg = "plugin " + plan.plugin + ": " + std::to_string(plan.denied.size()) +
                    (plan.denied.size() == 1 ? " request" : " requests") + " not granted: ";
  for (size_t i = 0; i < plan.denied.size(); ++i) {
    if (i) msg += "; ";
    msg += plan.denied[i];
  }
  return make_error(ErrorCode::kGrantDenied, msg);
}

CapabilitySet required_capabilities(const Plan& plan) {
  CapabilitySet s;
  // WASI's stdio, clocks and random are linked into every run.
  s.add(Capability::kWasiStdio).add(Capability::kWasiClocks).add(Capability::kWasiRandom);
  if (plan.args) s.add(Capability::kWasiArgs);
  if (!plan.env.empty()) s.add(Capability::kWasiEnv);
  if (!plan.fs.empty()) s.add(Capability::kWasiFs);
  if (plan.https) s.add(Capability::kHostApiHttps);
  if (plan.limits.fuel) s.add(Capability::kLimitFuel);
  if (plan.limits.timeout_ms) s.add(Capability::kLimitTimeout);
  if (plan.limits.max_memory_mb && *plan.limits.max_memory_mb < kMaxMemoryMb) {
    s.add(Capability::kLimitMemory);
  }
  return s;
}

CapabilitySet requested_host_apis(const Plan& plan) {
  CapabilitySet s;
  if (plan.https) s.add(Capability::kHostApiHttps);
  return s;
}

std::vector<std::string> unavailable_capabilities(CapabilitySet required, const Engine& engine,
                                                  CapabilitySet build) {
  std::vector<std::string> out;
  CapabilitySet on_engine = engine.capabilities();
  for (Capability c : required.list()) {
    if (is_host_capability(c) && !build.has(c)) {
      out.push_back("this wasmcap build cannot provide " + std::string(capability_name(c)));
    } else if (!on_engine.has(c)) {
      out.push_back("engine " + std::string(engine.name()) + " cannot provide " +
                    std::string(capability_name(c)));
    }
  }
  return out;
}

Result<void> check_capabilities(CapabilitySet required, const Engine& engine, CapabilitySet build) {
  auto missing = unavailable_capabilities(required, engine, build);
  if (missing.empty()) return {};
  std::string msg;
  for (const auto& m : missing) msg += (msg.empty() ? "" : "; ") + m;
  return make_error(ErrorCode::kCapabilityUnavailable,
                    msg + " (the run needs it; wasmcap never runs without a capability it "
                          "was asked to provide)");
}

std::string_view host_api_import_module(Capability c) {
  return c == Capability::kHostApiHttps ? "wasmcap_https" : "";
}

Result<void> check_imports(const ModuleInfo& info, CapabilitySet requested_host_apis,
                           std::string_view no_plan_grant) {
  for (const auto& imp : info.imports) {
    if (!starts_with(imp.module, "wasmcap_")) continue;  // host API modules only
    std::string what = "module imports " + quote(imp.module + "." + imp.name);
    std::optional<Capability> api;
    for (Capability c : CapabilitySet::all().list()) {
      if (!host_api_import_module(c).empty() && host_api_import_module(c) == imp.module) api = c;
    }
    if (!api) {
      return make_error(ErrorCode::kGrantDenied,
                        what + ", which is not a host API wasmcap provides (known: wasmcap_https)");
    }
    if (!requested_host_apis.has(*api) && !no_plan_grant.empty()) {
      return make_error(ErrorCode::kGrantDenied, what + " but the run grants no " +
                                                     std::string(capability_name(*api)) + " (" +
                                                     std::string(no_plan_grant) + ")");
    }
    if (!requested_host_apis.has(*api)) {
      return make_error(ErrorCode::kGrantDenied,
                        what + " but the plan does not request " +
                            std::string(capability_name(*api)) +
                            " (a plugin must list it under permissions.host_api in its manifest)");
    }
  }
  return {};
}

}  // namespace wasmcap::policy
