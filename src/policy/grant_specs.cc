// Grants written on one line (wasmcap/policy.h, "Grants written on one line"): the forms the
// CLI's --dir, --env, --allow-https and --secret flags take. Parsed here, with every other
// policy string, so that the rules cannot drift between front ends.
//
// Threat: a grant that parses into something other than what the operator wrote. Before these
// rules, "HOST::GUEST:readonly" was a writable mount at guest path "GUEST:readonly". So an access
// suffix must be exactly ":ro" or ":rw", a guest path never holds ':', names and hosts go
// through the same checks as manifests and host configs, and anything else is an error that
// shows the syntax.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <string>

#include "policy/json_doc.h"
#include "policy/syntax.h"
#include "wasmcap/policy.h"

namespace wasmcap::policy {

namespace {

tl::unexpected<Error> bad(std::string_view spec, const std::string& what, const char* syntax) {
  // Appended piece by piece: GCC 12 reports a false -Wrestrict on `"'" + std::string(...)`.
  std::string m;
  m.reserve(spec.size() + what.size() + 64);
  m.append("'").append(spec).append("': ").append(what);
  if (syntax[0] != '\0') m.append("; use ").append(syntax);
  return make_error(ErrorCode::kInvalidArgument, std::move(m));
}

}  // namespace

Result<Preopen> parse_dir_grant(std::string_view spec_view) {
  const std::string spec(spec_view);
  const char* syntax = "HOST[::GUEST][:ro|:rw]";
  Preopen p;
  std::string guest_and_mode;
  size_t sep = spec.find("::");
  if (sep != std::string::npos) {
    p.host_path = spec.substr(0, sep);
    guest_and_mode = spec.substr(sep + 2);
  } else {
    // Short form HOST[:MODE]: the guest path is the host path, so it cannot hold ':' either.
    guest_and_mode = spec;
  }
  std::string mode;
  size_t colon = guest_and_mode.find(':');
  std::string guest = guest_and_mode.substr(0, colon);
  if (colon != std::string::npos) mode = guest_and_mode.substr(colon + 1);
  if (sep == std::string::npos) p.host_path = guest;
  p.guest_path = guest;
  if (p.host_path.empty()) return bad(spec, "empty host path", syntax);
  if (p.guest_path.empty()) return bad(spec, "empty guest path", syntax);
  if (colon != std::string::npos) {
    if (mode == "ro") {
      p.read_only = true;
    } else if (mode != "rw") {
      if (mode.find(':') != std::string::npos) {
        return bad(spec,
                   sep == std::string::npos
                       ? "a path with ':' needs the HOST::GUEST form, and a guest path cannot "
                         "contain ':'"
                       : "a guest path cannot contain ':'",
                   syntax);
      }
      return bad(spec, "unknown access mode '" + mode + "' (only ro or rw)", syntax);
    }
  }
  return p;
}

Result<std::pair<std::string, std::string>> parse_env_grant(std::string_view spec_view) {
  const std::string spec(spec_view);
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) return bad(spec, "expected NAME=VALUE", "");
  std::string name = spec.substr(0, eq);
  if (auto problem = check_env_name(name)) {
    return bad(spec, "NAME " + *problem + "; expected NAME=VALUE", "");
  }
  std::string value = spec.substr(eq + 1);
  if (auto problem = check_env_value(value)) {
    return bad(spec, "VALUE " + *problem + "; expected NAME=VALUE", "");
  }
  return std::make_pair(std::move(name), std::move(value));
}

Result<HttpsRule> parse_https_grant(std::string_view spec_view) {
  const std::string spec(spec_view);
  HttpsRule rule;
  std::string s = spec;
  size_t colon = s.rfind(':');
  if (colon != std::string::npos) {
    std::string methods = s.substr(colon + 1);
    s.resize(colon);
    size_t start = 0;
    while (start <= methods.size()) {
      size_t comma = methods.find(',', start);
      std::string m = methods.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      static const char* kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
      if (std::find(std::begin(kMethods), std::end(kMethods), m) == std::end(kMethods)) {
        return bad(spec, "unknown method '" + m + "'",
                   "HOST[/PREFIX][:METHOD,...] with GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
      }
      rule.methods.push_back(m);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    rule.methods = {"GET"};
  }
  size_t slash = s.find('/');
  std::string host = s.substr(0, slash);
  if (slash != std::string::npos) rule.path_prefix = s.substr(slash);
  auto h = normalize_host(host, /*allow_wildcard=*/true);
  if (!h) return bad(spec, h.error().message, "");
  rule.host = *h;
  return rule;
}

Result<SecretRef> parse_secret_grant(std::string_view spec_view) {
  const std::string spec(spec_view);
  size_t eq = spec.find('='), at = spec.rfind('@');
  if (eq == std::string::npos || eq == 0 || at == std::string::npos || at < eq + 2 || at + 1 >= spec.size()) {
    return bad(spec, "expected NAME=FILE@HOST[,HOST...]", "");
  }
  SecretRef ref;
  ref.name = spec.substr(0, eq);
  if (auto problem = check_env_name(ref.name)) return bad(spec, "name " + *problem, "");
  std::error_code ec;
  ref.ref = std::filesystem::absolute(spec.substr(eq + 1, at - eq - 1), ec).lexically_normal().string();
  if (ec) return bad(spec, ec.message(), "");
  std::string hosts = spec.substr(at + 1);
  size_t start = 0;
  while (true) {
    size_t comma = hosts.find(',', start);
    auto h = normalize_host(hosts.substr(start, comma == std::string::npos ? std::string::npos : comma - start),
                            /*allow_wildcard=*/false);
    if (!h) return bad(spec, h.error().message, "");
    ref.hosts.push_back(*h);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ref;
}

}  // namespace wasmcap::policy
