// The plugin manifest: what a plugin requests. Format: docs/manifest.md.
#include <algorithm>

#include "policy/commands.h"
#include "policy/fields.h"
#include "policy/tools.h"

namespace wasmcap::policy {

namespace {

Result<HttpsRequest> read_https_request(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"allow", "secrets", "optional"}));
  HttpsRequest req;
  if (const Json* optional = member(v, "optional")) {
    WASMCAP_TRY_ASSIGN(req.optional, d.boolean(*optional, member_path(path, "optional")));
  }
  const Json* allow = nullptr;
  WASMCAP_TRY_ASSIGN(allow, d.required(v, path, "allow"));
  WASMCAP_TRY_ASSIGN(req.allow, read_https_rules(d, *allow, member_path(path, "allow"), false));
  if (const Json* secrets = member(v, "secrets")) {
    std::string spath = member_path(path, "secrets");
    WASMCAP_TRY(d.array(*secrets, spath));
    for (size_t i = 0; i < secrets->size(); ++i) {
      std::string ipath = index_path(spath, i);
      std::string name;
      // "*": every secret the operator grants this plugin (a general-purpose runtime cannot
      // name its secrets in advance); the operator's grant still binds each to its hosts.
      const Json& item = (*secrets)[i];
      if (item.is_string() && item.get<std::string>() == "*") {
        name = item.get<std::string>();  // (not `= "*"`: GCC 12's -Wrestrict false positive)
      } else {
        WASMCAP_TRY_ASSIGN(name, checked_string(d, item, ipath, check_secret_name));
      }
      if (std::find(req.secrets.begin(), req.secrets.end(), name) != req.secrets.end()) {
        return d.fail(ipath, "duplicate secret " + quote(name));
      }
      req.secrets.push_back(std::move(name));
    }
  }
  return req;
}

// {"PATH": {"sha256": "<64 lowercase hex>"}, ...}. Lowercase only, so one digest has one
// spelling in the signed (canonical) manifest.
Result<std::vector<std::pair<std::string, std::string>>> read_module_hashes(
    const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.map(v, path));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, entry] : v.items()) {
    std::string epath = member_path(path, name);
    if (auto problem = check_module_path(name)) return d.fail(epath, *problem);
    WASMCAP_TRY(d.object(entry, epath, {"sha256"}));
    const Json* h = nullptr;
    WASMCAP_TRY_ASSIGN(h, d.required(entry, epath, "sha256"));
    std::string hex;
    WASMCAP_TRY_ASSIGN(hex, d.string(*h, member_path(epath, "sha256")));
    bool ok = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
                return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
              });
    if (!ok) return d.fail(member_path(epath, "sha256"), "must be 64 lowercase hex digits");
    out.emplace_back(name, std::move(hex));
  }
  return out;
}

// permissions.clocks: ["wall", "monotonic"] (distinct; either or both).
Result<ClockRequest> read_clock_request(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.array(v, path));
  ClockRequest c;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string ipath = index_path(path, i);
    std::string name;
    WASMCAP_TRY_ASSIGN(name, d.string(v[i], ipath));
    bool* slot = name == "wall" ? &c.wall : name == "monotonic" ? &c.monotonic : nullptr;
    if (slot == nullptr) {
      return d.fail(ipath, "must be \"wall\" or \"monotonic\", got " + quote(name));
    }
    if (*slot) return d.fail(ipath, "duplicate clock " + quote(name));
    *slot = true;
  }
  return c;
}

Result<Permissions> read_permissions(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"host_api", "fs", "env", "args", "clocks", "random"},
                       "permission kind"));
  Permissions p;
  if (const Json* host_api = member(v, "host_api")) {
    std::string hpath = member_path(path, "host_api");
    WASMCAP_TRY(d.object(*host_api, hpath, {"https"}, "host API"));
    if (const Json* https = member(*host_api, "https")) {
      WASMCAP_TRY_ASSIGN(p.https, read_https_request(d, *https, member_path(hpath, "https")));
    }
  }
  if (const Json* fs = member(v, "fs")) {
    std::string fpath = member_path(path, "fs");
    WASMCAP_TRY(d.array(*fs, fpath));
    for (size_t i = 0; i < fs->size(); ++i) {
      const Json& e = (*fs)[i];
      std::string epath = index_path(fpath, i);
      WASMCAP_TRY(d.object(e, epath, {"guest", "access"}));
      FsRequest r;
      const Json* guest = nullptr;
      WASMCAP_TRY_ASSIGN(guest, d.required(e, epath, "guest"));
      std::string gpath = member_path(epath, "guest");
      WASMCAP_TRY_ASSIGN(r.guest, checked_string(d, *guest, gpath, check_guest_path));
      for (const auto& prev : p.fs) {
        if (prev.guest == r.guest) return d.fail(gpath, "duplicate guest path " + quote(r.guest));
      }
      const Json* access = nullptr;
      WASMCAP_TRY_ASSIGN(access, d.required(e, epath, "access"));
      WASMCAP_TRY_ASSIGN(r.access, read_access(d, *access, member_path(epath, "access")));
      p.fs.push_back(std::move(r));
    }
  }
  if (const Json* env = member(v, "env")) {
    std::string epath = member_path(path, "env");
    WASMCAP_TRY(d.array(*env, epath));
    for (size_t i = 0; i < env->size(); ++i) {
      std::string ipath = index_path(epath, i);
      std::string name;
      WASMCAP_TRY_ASSIGN(name, checked_string(d, (*env)[i], ipath, check_env_name));
      if (std::find(p.env.begin(), p.env.end(), name) != p.env.end()) {
        return d.fail(ipath, "duplicate variable " + quote(name));
      }
      p.env.push_back(std::move(name));
    }
  }
  if (const Json* args = member(v, "args")) {
    WASMCAP_TRY_ASSIGN(p.args, d.boolean(*args, member_path(path, "args")));
  }
  if (const Json* clocks = member(v, "clocks")) {
    WASMCAP_TRY_ASSIGN(p.clocks, read_clock_request(d, *clocks, member_path(path, "clocks")));
  }
  if (const Json* random = member(v, "random")) {
    WASMCAP_TRY_ASSIGN(p.random, d.boolean(*random, member_path(path, "random")));
  }
  return p;
}

// {"path": "DIR", "guest": "/GUEST"}: a read-only tree of the bundle's own files.
Result<DataTree> read_data_tree(const Doc& d, const Json& v, const std::string& path,
                                const Manifest& m) {
  WASMCAP_TRY(d.object(v, path, {"path", "guest"}));
  DataTree t;
  const Json* p = nullptr;
  WASMCAP_TRY_ASSIGN(p, d.required(v, path, "path"));
  std::string ppath = member_path(path, "path");
  WASMCAP_TRY_ASSIGN(t.path, checked_string(d, *p, ppath, check_module_path));
  // One spelling per directory, as bundle entry names: no '.', empty segments or trailing '/'.
  for (size_t start = 0;;) {
    size_t end = t.path.find('/', start);
    std::string_view seg = std::string_view(t.path).substr(
        start, end == std::string::npos ? std::string::npos : end - start);
    if (seg.empty() || seg == ".") {
      return d.fail(ppath, "must be normalized: no '.' or empty segments, no trailing '/'");
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  // The data tree is mounted into the guest: it must not hold the module (or any listed module
  // outside the tree would be shadowed by a data file of the same name).
  std::string prefix = t.path + "/";
  if (m.module.compare(0, prefix.size(), prefix) == 0) {
    return d.fail(ppath, "the module " + quote(m.module) + " must not be inside the data tree");
  }
  const Json* g = nullptr;
  WASMCAP_TRY_ASSIGN(g, d.required(v, path, "guest"));
  std::string gpath = member_path(path, "guest");
  WASMCAP_TRY_ASSIGN(t.guest, checked_string(d, *g, gpath, check_guest_path));
  for (const auto& r : m.permissions.fs) {
    if (r.guest == t.guest) {
      return d.fail(gpath, "guest path " + quote(t.guest) + " is also requested in permissions.fs");
    }
  }
  return t;
}

}  // namespace

Result<Manifest> parse_manifest(std::string_view json_text, std::string_view file_name) {
  Doc d(file_name, ErrorCode::kManifestInvalid);
  Json doc;
  WASMCAP_TRY_ASSIGN(doc, d.parse(json_text));
  const std::string root = "$";
  WASMCAP_TRY(d.object(doc, root,
                       {"name", "version", "module", "modules", "data", "description",
                        "permissions", "limits", "tools", "component_tools", "commands"}));
  Manifest m;
  const Json* v = nullptr;
  WASMCAP_TRY_ASSIGN(v, d.required(doc, root, "name"));
  WASMCAP_TRY_ASSIGN(m.name, checked_string(d, *v, "$.name", check_plugin_name));
  WASMCAP_TRY_ASSIGN(v, d.required(doc, root, "version"));
  WASMCAP_TRY_ASSIGN(m.version, checked_string(d, *v, "$.version", check_semver));
  WASMCAP_TRY_ASSIGN(v, d.required(doc, root, "module"));
  WASMCAP_TRY_ASSIGN(m.module, checked_string(d, *v, "$.module", check_module_path));
  if (const Json* desc = member(doc, "description")) {
    WASMCAP_TRY_ASSIGN(m.description, d.string(*desc, "$.description"));
  }
  if (const Json* modules = member(doc, "modules")) {
    WASMCAP_TRY_ASSIGN(m.module_sha256, read_module_hashes(d, *modules, "$.modules"));
  }
  if (const Json* perms = member(doc, "permissions")) {
    WASMCAP_TRY_ASSIGN(m.permissions, read_permissions(d, *perms, "$.permissions"));
  }
  if (const Json* limits = member(doc, "limits")) {
    WASMCAP_TRY_ASSIGN(m.limits, read_limits(d, *limits, "$.limits"));
  }
  if (const Json* tools = member(doc, "tools")) {
    WASMCAP_TRY_ASSIGN(m.tools, read_tools(d, *tools, "$.tools", m.permissions));
  }
  if (const Json* ct = member(doc, "component_tools")) {
    WASMCAP_TRY(read_component_tools(d, *ct, "$.component_tools", &m));
  }
  if (const Json* commands = member(doc, "commands")) {
    WASMCAP_TRY_ASSIGN(m.commands, read_commands(d, *commands, "$.commands"));
  }
  if (const Json* data = member(doc, "data")) {
    WASMCAP_TRY_ASSIGN(m.data, read_data_tree(d, *data, "$.data", m));
  }
  return m;
}

Result<Manifest> load_manifest(const std::string& path) {
  std::string text;
  WASMCAP_TRY_ASSIGN(text, read_document(path));
  return parse_manifest(text, path);
}

}  // namespace wasmcap::policy
