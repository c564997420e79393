// Plan output for `wasmcap plan`: human text and JSON. Secret values never appear: policy
// objects only hold references to them.
#include <nlohmann/json.hpp>

#include "wasmcap/policy.h"

namespace wasmcap::policy {

namespace {

using OJson = nlohmann::ordered_json;

std::string limit_text(const std::optional<uint64_t>& v, const std::string& dflt) {
  return v ? std::to_string(*v) : dflt;
}

// The deadline a run of the plan gets when its limits set none: the host config's
// defaults.timeout_ms, else kDefaultTimeoutMs; 0 is none.
std::string default_timeout_text(const Plan& plan) {
  if (!plan.default_timeout_ms) return std::to_string(kDefaultTimeoutMs) + "(default)";
  if (*plan.default_timeout_ms == 0) return "unlimited(defaults.timeout_ms=0)";
  return std::to_string(*plan.default_timeout_ms) + "(defaults.timeout_ms)";
}
OJson default_timeout_json(const Plan& plan) {
  uint64_t ms = plan.default_timeout_ms.value_or(kDefaultTimeoutMs);
  return ms == 0 ? OJson(nullptr) : OJson(ms);
}

std::string secret_source(const SecretRef& s) {
  return "file " + s.ref;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool report_ok(const Plan& plan, const PlanReport& report) {
  return plan.denied.empty() && report.unavailable.empty() && report.imports_problem.empty();
}

OJson opt(const std::optional<uint64_t>& v) { return v ? OJson(*v) : OJson(nullptr); }

std::string clocks_text(const Plan& plan) {
  if (!plan.clock_wall && !plan.clock_monotonic) return "none (every clock read: ENOTCAPABLE)";
  std::string kinds = plan.clock_wall ? (plan.clock_monotonic ? "wall, monotonic" : "wall")
                                      : "monotonic";
  return kinds + " from " + clock_source_string(plan.clock) +
         (plan.clock.kind == ClockSource::Kind::kFixed ? " (pinned)" : "");
}

std::string random_text(const Plan& plan) {
  switch (plan.random.kind) {
    case RandomSource::Kind::kHost: return "host (getrandom)";
    case RandomSource::Kind::kSeed: return random_source_string(plan.random) + " (pinned: ChaCha20 stream)";
    default: return "none (random_get: ENOTCAPABLE)";
  }
}

}  // namespace

std::string plan_to_text(const Plan& plan, const PlanReport& report) {
  std::string o;
  o += "plugin  " + plan.plugin + " " + plan.version + "\n";
  o += "module  " + plan.module_path + "\n";
  if (!report.engine.empty()) o += "engine  " + report.engine + "\n";
  o += "\ngranted:\n";
  if (plan.https) {
    o += "  host_api.https\n";
    if (plan.https->allow.empty()) o += "    allow   (nothing)\n";
    for (const auto& r : plan.https->allow) {
      o += "    allow   " + r.host + " " + join(r.methods, ",") + " " + r.path_prefix + "\n";
    }
    for (const auto& s : plan.https->secrets) {
      o += "    secret  " + s.name + " from " + secret_source(s) + ", sent only to " +
           join(s.hosts, ", ") + "\n";
    }
    const HttpsBounds& b = plan.https->bounds;
    std::string bounds;
    if (b.max_redirects) bounds += " max_redirects=" + std::to_string(*b.max_redirects);
    if (b.max_response_bytes) bounds += " max_response_bytes=" + std::to_string(*b.max_response_bytes);
    if (b.timeout_ms) bounds += " timeout_ms=" + std::to_string(*b.timeout_ms);
    if (b.max_requests) bounds += " max_requests=" + std::to_string(*b.max_requests);
    if (b.max_request_bytes) bounds += " max_request_bytes=" + std::to_string(*b.max_request_bytes);
    if (b.max_request_headers) {
      bounds += " max_request_headers=" + std::to_string(*b.max_request_headers);
    }
    if (b.max_request_header_bytes) {
      bounds += " max_request_header_bytes=" + std::to_string(*b.max_request_header_bytes);
    }
    if (b.max_url_bytes) bounds += " max_url_bytes=" + std::to_string(*b.max_url_bytes);
    if (b.max_response_header_bytes) {
      bounds += " max_response_header_bytes=" + std::to_string(*b.max_response_header_bytes);
    }
    if (b.connect_timeout_ms) bounds += " connect_timeout_ms=" + std::to_string(*b.connect_timeout_ms);
    if (!bounds.empty()) o += "    bounds " + bounds + "\n";
  }
  for (const auto& m : plan.fs) {
    if (m.denied) {
      o += "  fs      " + m.guest + " (denied: every operation fails with ENOTCAPABLE under --degrade)\n";
    } else {
      o += "  fs      " + m.guest + " -> " + m.host + " (" + std::string(access_name(m.access)) +
           (m.data ? ", the bundle's data tree" : "") + ")\n";
    }
  }
  for (const auto& [k, v] : plan.env) o += "  env     " + k + "=" + v + "\n";
  o += std::string("  args    ") + (plan.args ? "yes" : "no (only argv[0])") + "\n";
  o += "  clocks  " + clocks_text(plan) + "\n";
  o += "  random  " + random_text(plan) + "\n";
  o += "  limits  max_memory_mb=" + limit_text(plan.limits.max_memory_mb, "4096(default)") +
       " timeout_ms=" + limit_text(plan.limits.timeout_ms, default_timeout_text(plan)) +
       " fuel=" + limit_text(plan.limits.fuel, "unlimited") +
       " max_write_mb=" + limit_text(plan.limits.max_write_mb, "4096(default)") + "\n";
  if (!plan.network.resolve.empty() || !plan.network.allow_private.empty() || plan.network.ca_file) {
    o += "\nnetwork:\n";
    for (const auto& [h, ip] : plan.network.resolve) o += "  resolve " + h + " -> " + ip.to_string() + "\n";
    for (const auto& c : plan.network.allow_private) o += "  allow_private " + c.to_string() + "\n";
    if (plan.network.ca_file) o += "  ca_file " + *plan.network.ca_file + "\n";
  }
  if (plan.audit.file) o += "\naudit:\n  file " + *plan.audit.file + "\n";

  if (!plan.denied.empty()) {
    o += "\ndenied (requested, not granted):\n";
    for (const auto& d : plan.denied) o += "  " + d + "\n";
  }
  if (!plan.narrowed.empty()) {
    o += "\nnarrowed (granted with less access: writes fail as on a read-only mount):\n";
    for (const auto& d : plan.narrowed) o += "  " + d + "\n";
  }
  if (!plan.optional_denied.empty()) {
    o += "\nnot granted, optional (such requests are refused when made):\n";
    for (const auto& d : plan.optional_denied) o += "  " + d + "\n";
  }
  if (!report.unavailable.empty()) {
    o += "\nunavailable:\n";
    for (const auto& u : report.unavailable) o += "  " + u + "\n";
  }
  o += "\nimports: ";
  if (!report.imports_problem.empty()) {
    o += "refused: " + report.imports_problem + "\n";
  } else if (report.imports_checked) {
    o += "ok\n";
  } else {
    o += "not checked (" + report.imports_note + ")\n";
  }
  size_t problems = plan.denied.size() + report.unavailable.size() +
                    (report.imports_problem.empty() ? 0 : 1);
  o += report_ok(plan, report) ? "\nresult: ok\n"
                               : "\nresult: refused (" + std::to_string(problems) + " problem" +
                                     (problems == 1 ? "" : "s") + ")\n";
  return o;
}

std::string plan_to_json(const Plan& plan, const PlanReport& report) {
  OJson j;
  j["plugin"] = plan.plugin;
  j["version"] = plan.version;
  j["module"] = plan.module_path;
  j["engine"] = report.engine;
  j["ok"] = report_ok(plan, report);
  j["denied"] = plan.denied;
  j["optional_denied"] = plan.optional_denied;
  j["narrowed"] = plan.narrowed;
  j["unavailable"] = report.unavailable;
  j["imports"] = {{"checked", report.imports_checked},
                  {"problem", report.imports_problem.empty() ? OJson(nullptr) : OJson(report.imports_problem)},
                  {"note", report.imports_note.empty() ? OJson(nullptr) : OJson(report.imports_note)}};
  OJson grants = OJson::object();
  if (plan.https) {
    OJson https;
    https["allow"] = OJson::array();
    for (const auto& r : plan.https->allow) {
      https["allow"].push_back({{"host", r.host}, {"methods", r.methods}, {"path_prefix", r.path_prefix}});
    }
    https["secrets"] = OJson::array();
    for (const auto& s : plan.https->secrets) {
      OJson sj;
      sj["name"] = s.name;
      sj["file"] = s.ref;
      sj["hosts"] = s.hosts;
      https["secrets"].push_back(sj);
    }
    const HttpsBounds& b = plan.https->bounds;
    https["max_redirects"] = opt(b.max_redirects);
    https["max_response_bytes"] = opt(b.max_response_bytes);
    https["timeout_ms"] = opt(b.timeout_ms);
    https["max_requests"] = opt(b.max_requests);
    https["max_request_bytes"] = opt(b.max_request_bytes);
    https["max_request_headers"] = opt(b.max_request_headers);
    https["max_request_header_bytes"] = opt(b.max_request_header_bytes);
    https["max_url_bytes"] = opt(b.max_url_bytes);
    https["max_response_header_bytes"] = opt(b.max_response_header_bytes);
    https["connect_timeout_ms"] = opt(b.connect_timeout_ms);
    grants["host_api"]["https"] = https;
  } else {
    grants["host_api"] = OJson::object();
  }
  grants["fs"] = OJson::array();
  for (const auto& m : plan.fs) {
    grants["fs"].push_back({{"guest", m.guest},
                            {"host", m.denied ? OJson(nullptr) : OJson(m.host)},
                            {"access", std::string(access_name(m.access))},
                            {"denied", m.denied},
                            {"data", m.data}});
    if (!m.workspace.empty()) {
      grants["fs"].back()["workspace"] = m.workspace;
      grants["fs"].back()["per_session"] = m.per_session;
    }
  }
  grants["env"] = OJson::object();
  for (const auto& [k, v] : plan.env) grants["env"][k] = v;
  grants["args"] = plan.args;
  grants["clocks"] = {{"wall", plan.clock_wall},
                      {"monotonic", plan.clock_monotonic},
                      {"source", plan.clock_wall || plan.clock_monotonic
                                     ? OJson(clock_source_string(plan.clock))
                                     : OJson(nullptr)}};
  grants["random"] = plan.random.kind == RandomSource::Kind::kDeny
                         ? OJson(nullptr)
                         : OJson(random_source_string(plan.random));
  j["grants"] = grants;
  j["limits"] = {{"max_memory_mb", opt(plan.limits.max_memory_mb)},
                 {"timeout_ms", opt(plan.limits.timeout_ms)},
                 {"default_timeout_ms", plan.limits.timeout_ms ? OJson(nullptr) : default_timeout_json(plan)},
                 {"fuel", opt(plan.limits.fuel)},
                 {"max_write_mb", opt(plan.limits.max_write_mb)}};
  OJson caps = OJson::array();
  for (Capability c : required_capabilities(plan).list()) caps.push_back(std::string(capability_name(c)));
  j["capabilities"] = caps;
  OJson net;
  net["resolve"] = OJson::object();
  for (const auto& [h, ip] : plan.network.resolve) net["resolve"][h] = ip.to_string();
  net["allow_private"] = OJson::array();
  for (const auto& c : plan.network.allow_private) net["allow_private"].push_back(c.to_string());
  net["ca_file"] = plan.network.ca_file ? OJson(*plan.network.ca_file) : OJson(nullptr);
  j["network"] = net;
  j["audit"] = {{"file", plan.audit.file ? OJson(*plan.audit.file) : OJson(nullptr)}};
  // Replace invalid UTF-8 rather than throw: every string here was validated, but the dump must
  // never be the place a policy error turns into an exception.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace wasmcap::policy
