#include "policy/fields.h"

#include <algorithm>
#include <limits>

namespace wasmcap::policy {

Result<std::string> checked_string(const Doc& d, const Json& v, const std::string& path,
                                   Problem (*check)(std::string_view)) {
  std::string s;
  WASMCAP_TRY_ASSIGN(s, d.string(v, path));
  if (Problem p = check(s)) return d.fail(path, *p);
  return s;
}

Result<std::string> read_host(const Doc& d, const Json& v, const std::string& path,
                              bool allow_wildcard) {
  std::string s;
  WASMCAP_TRY_ASSIGN(s, d.string(v, path));
  auto h = normalize_host(s, allow_wildcard);
  if (!h) return d.fail(path, h.error().message);
  return *h;
}

Result<HttpsRule> read_https_rule(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"host", "methods", "path_prefix"}));
  HttpsRule rule;
  const Json* host = nullptr;
  WASMCAP_TRY_ASSIGN(host, d.required(v, path, "host"));
  WASMCAP_TRY_ASSIGN(rule.host, read_host(d, *host, member_path(path, "host"), true));

  const Json* methods = nullptr;
  WASMCAP_TRY_ASSIGN(methods, d.required(v, path, "methods"));
  std::string mpath = member_path(path, "methods");
  WASMCAP_TRY(d.array(*methods, mpath));
  // No default method set: an absent or empty list would have to mean "all" or "none", and
  // either guess is wrong for someone.
  if (methods->empty()) return d.fail(mpath, "must list at least one method");
  for (size_t i = 0; i < methods->size(); ++i) {
    std::string ipath = index_path(mpath, i);
    std::string m;
    WASMCAP_TRY_ASSIGN(m, d.string((*methods)[i], ipath));
    auto norm = normalize_method(m);
    if (!norm) return d.fail(ipath, norm.error().message);
    if (std::find(rule.methods.begin(), rule.methods.end(), *norm) != rule.methods.end()) {
      return d.fail(ipath, "duplicate method " + *norm);
    }
    rule.methods.push_back(*norm);
  }
  std::sort(rule.methods.begin(), rule.methods.end(),
            [](const std::string& a, const std::string& b) { return method_rank(a) < method_rank(b); });

  if (const Json* prefix = member(v, "path_prefix")) {
    WASMCAP_TRY_ASSIGN(rule.path_prefix,
                       checked_string(d, *prefix, member_path(path, "path_prefix"), check_path_prefix));
  }
  return rule;
}

Result<std::vector<HttpsRule>> read_https_rules(const Doc& d, const Json& v,
                                                const std::string& path, bool allow_empty) {
  WASMCAP_TRY(d.array(v, path));
  if (v.empty() && !allow_empty) return d.fail(path, "must list at least one rule");
  std::vector<HttpsRule> rules;
  for (size_t i = 0; i < v.size(); ++i) {
    HttpsRule r;
    WASMCAP_TRY_ASSIGN(r, read_https_rule(d, v[i], index_path(path, i)));
    rules.push_back(std::move(r));
  }
  return rules;
}

Result<Limits> read_limits(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"max_memory_mb", "timeout_ms", "fuel", "max_write_mb"}));
  Limits l;
  if (const Json* m = member(v, "max_memory_mb")) {
    WASMCAP_TRY_ASSIGN(l.max_memory_mb, d.uint(*m, member_path(path, "max_memory_mb"), 1, kMaxMemoryMb));
  }
  if (const Json* m = member(v, "timeout_ms")) {
    WASMCAP_TRY_ASSIGN(l.timeout_ms, d.uint(*m, member_path(path, "timeout_ms"), 1, kMaxTimeoutMs));
  }
  if (const Json* m = member(v, "max_write_mb")) {
    WASMCAP_TRY_ASSIGN(l.max_write_mb, d.uint(*m, member_path(path, "max_write_mb"), 1, kMaxWriteMb));
  }
  if (const Json* m = member(v, "fuel")) {
    WASMCAP_TRY_ASSIGN(l.fuel, d.uint(*m, member_path(path, "fuel"), 1,
                                      std::numeric_limits<uint64_t>::max()));
  }
  return l;
}

Result<Access> read_access(const Doc& d, const Json& v, const std::string& path) {
  std::string s;
  WASMCAP_TRY_ASSIGN(s, d.string(v, path));
  if (s == "ro") return Access::kReadOnly;
  if (s == "rw") return Access::kReadWrite;
  return d.fail(path, "must be \"ro\" or \"rw\", got " + quote(s));
}

}  // namespace wasmcap::policy
