// Parsing manifests and host configs: the documented examples parse to the expected typed
// values; bad input is refused with the file name, the JSON path and the exact problem.
#include <gtest/gtest.h>

#include "test_support.h"
#include "wasmcap/policy.h"

namespace wasmcap::policy {
namespace {

constexpr const char* kManifest = R"({
  "name": "gh-issues", "version": "1.2.0", "module": "gh-issues.wasm",
  "permissions": {
    "host_api": { "https": {
        "allow": [ { "host": "api.github.com", "methods": ["GET"], "path_prefix": "/repos/" } ],
        "secrets": ["github_token"] } },
    "fs":  [ { "guest": "/work", "access": "ro" } ],
    "env": [ "LANG" ],
    "args": true
  },
  "limits": { "max_memory_mb": 64, "timeout_ms": 5000, "fuel": 1000000000 }
})";

constexpr const char* kConfig = R"({
  "plugins": { "gh-issues": {
      "grants": {
        "host_api": { "https": {
          "allow": [ { "host": "api.github.com", "methods": ["GET", "POST"], "path_prefix": "/repos/acme/" } ],
          "secrets": { "github_token": { "file": "/run/secrets/gh", "hosts": ["api.github.com"] } } } },
        "fs":  [ { "guest": "/work", "host": "/srv/ws/42", "access": "rw" } ],
        "env": { "LANG": "C.UTF-8" }
      },
      "limits": { "max_memory_mb": 128, "timeout_ms": 10000 } } }
})";

TEST(ManifestParse, DocumentedExample) {
  auto m = parse_manifest(kManifest, "manifest.json");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->name, "gh-issues");
  EXPECT_EQ(m->version, "1.2.0");
  EXPECT_EQ(m->module, "gh-issues.wasm");
  ASSERT_TRUE(m->permissions.https);
  ASSERT_EQ(m->permissions.https->allow.size(), 1u);
  EXPECT_EQ(m->permissions.https->allow[0].host, "api.github.com");
  EXPECT_EQ(m->permissions.https->allow[0].methods, std::vector<std::string>{"GET"});
  EXPECT_EQ(m->permissions.https->allow[0].path_prefix, "/repos/");
  EXPECT_EQ(m->permissions.https->secrets, std::vector<std::string>{"github_token"});
  ASSERT_EQ(m->permissions.fs.size(), 1u);
  EXPECT_EQ(m->permissions.fs[0].guest, "/work");
  EXPECT_EQ(m->permissions.fs[0].access, Access::kReadOnly);
  EXPECT_EQ(m->permissions.env, std::vector<std::string>{"LANG"});
  EXPECT_TRUE(m->permissions.args);
  EXPECT_EQ(m->limits.max_memory_mb, 64u);
  EXPECT_EQ(m->limits.timeout_ms, 5000u);
  EXPECT_EQ(m->limits.fuel, 1000000000u);
}

TEST(ManifestParse, DataTreeIsARelativeDirectoryMountedAtAFreeGuestPath) {
  auto ok = parse_manifest(R"({"name":"x","version":"1.0.0","module":"x.wasm",
      "data":{"path":"root/tree","guest":"/"},"permissions":{"fs":[{"guest":"/work","access":"rw"}]}})", "m");
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_TRUE(ok->data);
  EXPECT_EQ(ok->data->path, "root/tree");
  EXPECT_EQ(ok->data->guest, "/");
  auto bad = [](const std::string& data, const std::string& fs = "[]") {
    auto m = parse_manifest(R"({"name":"x","version":"1.0.0","module":"root/x.wasm","data":)" + data +
                                R"(,"permissions":{"fs":)" + fs + "}}",
                            "m");
    EXPECT_FALSE(m) << data;
    return m ? std::string() : m.error().message;
  };
  EXPECT_NE(bad(R"({"path":"root","guest":"/srv"})").find("$.data.path: the module 'root/x.wasm' must not be inside the data tree"),
            std::string::npos);
  EXPECT_NE(bad(R"({"path":"../up","guest":"/srv"})").find("$.data.path"), std::string::npos);
  EXPECT_NE(bad(R"({"path":"/abs","guest":"/srv"})").find("$.data.path"), std::string::npos);
  EXPECT_NE(bad(R"({"path":"a/./b","guest":"/srv"})").find("must be normalized"), std::string::npos);
  EXPECT_NE(bad(R"({"path":"a/","guest":"/srv"})").find("must be normalized"), std::string::npos);
  EXPECT_NE(bad(R"({"path":"data","guest":"srv"})").find("$.data.guest"), std::string::npos);
  EXPECT_NE(bad(R"({"path":"data"})").find("$.data"), std::string::npos);
  EXPECT_NE(bad(R"({"path":"data","guest":"/srv","mode":"rw"})").find("mode"), std::string::npos);
  EXPECT_NE(bad(R"({"path":"data","guest":"/work"})", R"([{"guest":"/work","access":"rw"}])")
                .find("also requested in permissions.fs"),
            std::string::npos);
}

TEST(ManifestParse, MinimalManifestRequestsNothing) {
  auto m = parse_manifest(R"({"name":"x","version":"0.0.1-rc.1+build.5","module":"x.wasm"})", "m");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(m->permissions.https);
  EXPECT_TRUE(m->permissions.fs.empty());
  EXPECT_TRUE(m->permissions.env.empty());
  EXPECT_FALSE(m->permissions.args);
  EXPECT_FALSE(m->limits.fuel);
}

// "component_tools" (docs/manifest.md#component_tools): all, none, or export names in order.
TEST(ManifestParse, ComponentToolsAreAllNoneOrExportNames) {
  const std::string base = R"({"name":"x","version":"1.0.0","module":"x.wasm","component_tools":)";
  auto all = parse_manifest(base + "true}", "m");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_TRUE(all->component_tools_all);
  EXPECT_TRUE(all->component_tools.empty());
  auto none = parse_manifest(base + "false}", "m");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->component_tools_all);
  EXPECT_TRUE(none->component_tools.empty());
  auto listed = parse_manifest(base + R"(["example:calc/ops@1.0.0-rc.1+b", "add", "to-upper"]})", "m");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_FALSE(listed->component_tools_all);
  EXPECT_EQ(listed->component_tools,
            (std::vector<std::string>{"example:calc/ops@1.0.0-rc.1+b", "add", "to-upper"}));
  std::string many = base + "[";
  for (int i = 0; i <= 256; ++i) many += (i ? ",\"f" : "\"f") + std::to_string(i) + "\"";
  auto too_many = parse_manifest(many + "]}", "m");
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message.find("more than 256 names"), std::string::npos);
  auto too_long = parse_manifest(base + "[\"" + std::string(257, 'a') + "\"]}", "m");
  ASSERT_FALSE(too_long);
}

TEST(ManifestParse, MethodsAreNormalizedToUppercaseCanonicalOrder) {
  auto m = parse_manifest(R"({"name":"x","version":"1.0.0","module":"x.wasm","permissions":{"host_api":
      {"https":{"allow":[{"host":"A.Test.","methods":["delete","get","Post"]}]}}}})", "m");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->permissions.https->allow[0].host, "a.test");
  EXPECT_EQ(m->permissions.https->allow[0].methods, (std::vector<std::string>{"GET", "POST", "DELETE"}));
  EXPECT_EQ(m->permissions.https->allow[0].path_prefix, "/");
}

TEST(ConfigParse, DocumentedExample) {
  auto c = parse_host_config(kConfig, "config.json");
  ASSERT_TRUE(c) << c.error().message;
  const PluginConfig* p = c->find("gh-issues");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(c->find("other"), nullptr);
  ASSERT_TRUE(p->grants.https);
  EXPECT_EQ(p->grants.https->allow[0].methods, (std::vector<std::string>{"GET", "POST"}));
  ASSERT_EQ(p->grants.https->secrets.size(), 1u);
  const SecretRef& s = p->grants.https->secrets[0];
  EXPECT_EQ(s.name, "github_token");
  EXPECT_EQ(s.source, SecretSource::kFile);
  EXPECT_EQ(s.ref, "/run/secrets/gh");
  EXPECT_EQ(s.hosts, std::vector<std::string>{"api.github.com"});
  ASSERT_EQ(p->grants.fs.size(), 1u);
  EXPECT_EQ(p->grants.fs[0].host, "/srv/ws/42");
  EXPECT_EQ(p->grants.fs[0].access, Access::kReadWrite);
  EXPECT_EQ(p->grants.env, (std::vector<std::pair<std::string, std::string>>{{"LANG", "C.UTF-8"}}));
  EXPECT_EQ(p->limits.max_memory_mb, 128u);
  EXPECT_FALSE(p->limits.fuel);
}

TEST(ConfigParse, TrustSection) {
  const std::string key(64, 'a');
  auto c = parse_host_config(R"({"trust":{"keys":["/etc/wasmcap/trust/acme.pub"],
      "revoked":["0123456789abcdef",")" + key + R"(","/etc/wasmcap/old.pub"]}})", "c.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->trust.keys, std::vector<std::string>{"/etc/wasmcap/trust/acme.pub"});
  EXPECT_EQ(c->trust.revoked,
            (std::vector<std::string>{"0123456789abcdef", key, "/etc/wasmcap/old.pub"}));
  auto empty = parse_host_config(R"({"trust":{}})", "c.json");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->trust.keys.empty());
  EXPECT_TRUE(empty->trust.revoked.empty());
}

TEST(ConfigParse, EmptyConfigGrantsNothing) {
  auto c = parse_host_config("{}", "c.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->plugins.empty());
}

// --- bad input -------------------------------------------------------------------------------

enum class Kind { kManifest, kConfig };

struct BadCase {
  const char* name;
  Kind kind;
  std::string text;
  std::string want;  // the exact error message
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::string M(const std::string& perms, const std::string& extra = "") {
  return R"({"name":"gh-issues","version":"1.2.0","module":"m.wasm","permissions":)" + perms +
         extra + "}";
}
std::string Mhttps(const std::string& allow) {
  return M(R"({"host_api":{"https":{"allow":[)" + allow + "]}}}");
}
std::string C(const std::string& grants) {
  return R"({"plugins":{"gh-issues":{"grants":)" + grants + "}}}";
}
std::string Csecret(const std::string& secret) {
  return C(R"({"host_api":{"https":{"allow":[],"secrets":{"github_token":)" + secret + "}}}}");
}
constexpr const char* kHttpsPath = "$.permissions.host_api.https.allow[0]";
constexpr const char* kSecretPath = "$.plugins.gh-issues.grants.host_api.https.secrets.github_token";

class PolicyBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(PolicyBadInput, IsRefusedWithFileJsonPathAndReason) {
  const BadCase& c = GetParam();
  if (c.kind == Kind::kManifest) {
    auto r = parse_manifest(c.text, "manifest.json");
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kManifestInvalid);
    EXPECT_EQ(r.error().message, c.want);
  } else {
    auto r = parse_host_config(c.text, "config.json");
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kConfigInvalid);
    EXPECT_EQ(r.error().message, c.want);
  }
}

const std::string kMP = "manifest.json: ";
const std::string kCP = "config.json: ";

const BadCase kBad[] = {
    // malformed JSON and document shape
    {"TruncatedJson", Kind::kManifest, "{\"name\": \"x\",\n  \"version\"",
     kMP + "$: malformed JSON at line 2, column 12: syntax error while parsing object separator - "
           "unexpected end of input; expected ':'"},
    {"TrailingGarbage", Kind::kConfig, "{} x",
     kCP + "$: malformed JSON at line 1, column 4: syntax error while parsing value - invalid "
           "literal; expected end of input"},
    {"CommentsAreNotJson", Kind::kConfig, "{ // no\n}",
     kCP + "$: malformed JSON at line 1, column 3: syntax error while parsing object key - "
           "invalid literal; expected string literal"},
    {"NotAnObject", Kind::kManifest, "[]", kMP + "$: must be an object, got array"},
    {"MissingName", Kind::kManifest, R"({"version":"1.0.0","module":"m.wasm"})",
     kMP + "$.name: missing required key"},
    {"UnknownTopLevelKey", Kind::kManifest, M("{}", R"(,"permission":{})"),
     kMP + "$.permission: unknown key (allowed: name, version, module, modules, data, description, permissions, limits, tools, component_tools, commands)"},
    {"ComponentToolsNotAList", Kind::kManifest, M("{}", R"(,"component_tools":"add")"),
     kMP + "$.component_tools: must be an array, got string"},
    {"ComponentToolsBadName", Kind::kManifest, M("{}", R"(,"component_tools":["add; rm"])"),
     kMP + "$.component_tools[0]: an export name: 1-256 characters of A-Z a-z 0-9 : / @ . + _ - "
           "(an exported interface, e.g. \"example:calc/ops@1.0.0\", or a function)"},
    {"ComponentToolsEmptyName", Kind::kManifest, M("{}", R"(,"component_tools":[""])"),
     kMP + "$.component_tools[0]: an export name: 1-256 characters of A-Z a-z 0-9 : / @ . + _ - "
           "(an exported interface, e.g. \"example:calc/ops@1.0.0\", or a function)"},
    {"ComponentToolsTwice", Kind::kManifest, M("{}", R"(,"component_tools":["add","add"])"),
     kMP + "$.component_tools[1]: listed twice"},
    {"DuplicateKey", Kind::kManifest, R"({"name":"a","version":"1.0.0","module":"m.wasm","name":"b"})",
     kMP + "$.name: duplicate key"},
    {"NestedDuplicateKey", Kind::kManifest, M(R"({"fs":[{"guest":"/a","access":"ro","guest":"/b"}]})"),
     kMP + "$.permissions.fs[0].guest: duplicate key"},
    {"DuplicatePluginKey", Kind::kConfig, R"({"plugins":{"gh-issues":{},"gh-issues":{}}})",
     kCP + "$.plugins.gh-issues: duplicate key"},
    {"TooDeep", Kind::kManifest, std::string(20, '[') + std::string(20, ']'),
     kMP + "$[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 16 levels"},
    // names and versions
    {"BadPluginName", Kind::kManifest, R"({"name":"Gh Issues","version":"1.0.0","module":"m.wasm"})",
     kMP + "$.name: must be 1-64 characters of [a-z0-9._-], starting with a letter or digit"},
    {"VersionTwoParts", Kind::kManifest, R"({"name":"a","version":"1.2","module":"m.wasm"})",
     kMP + "$.version: must be a semantic version MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]"},
    {"VersionLeadingZero", Kind::kManifest, R"({"name":"a","version":"01.2.3","module":"m.wasm"})",
     kMP + "$.version: must be a semantic version MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]"},
    {"VersionEmptyPrerelease", Kind::kManifest, R"({"name":"a","version":"1.2.3-beta..1","module":"m.wasm"})",
     kMP + "$.version: must be a semantic version MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]: empty "
           "pre-release or build identifier"},
    {"VersionNotAString", Kind::kManifest, R"({"name":"a","version":1,"module":"m.wasm"})",
     kMP + "$.version: must be a string, got integer"},
    {"ModuleEscapesDirectory", Kind::kManifest, R"({"name":"a","version":"1.0.0","module":"../x.wasm"})",
     kMP + "$.module: must stay inside the manifest's directory (no '..')"},
    {"ModuleAbsolute", Kind::kManifest, R"({"name":"a","version":"1.0.0","module":"/x.wasm"})",
     kMP + "$.module: must be a path relative to the manifest's directory"},
    // permission kinds and types
    {"UnknownPermissionKind", Kind::kManifest, M(R"({"network":{}})"),
     kMP + "$.permissions.network: unknown permission kind (allowed: host_api, fs, env, args, clocks, random)"},
    {"UnknownHostApi", Kind::kManifest, M(R"({"host_api":{"smtp":{}}})"),
     kMP + "$.permissions.host_api.smtp: unknown host API (allowed: https)"},
    {"ArgsWrongType", Kind::kManifest, M(R"({"args":"yes"})"),
     kMP + "$.permissions.args: must be a boolean, got string"},
    {"FsNotAnArray", Kind::kManifest, M(R"({"fs":{"guest":"/work"}})"),
     kMP + "$.permissions.fs: must be an array, got object"},
    {"FsUnknownKey", Kind::kManifest, M(R"({"fs":[{"guest":"/work","access":"ro","host":"/x"}]})"),
     kMP + "$.permissions.fs[0].host: unknown key (allowed: guest, access)"},
    {"FsBadAccess", Kind::kManifest, M(R"({"fs":[{"guest":"/work","access":"rwx"}]})"),
     kMP + "$.permissions.fs[0].access: must be \"ro\" or \"rw\", got 'rwx'"},
    {"FsDuplicateGuest", Kind::kManifest,
     M(R"({"fs":[{"guest":"/work","access":"ro"},{"guest":"/work","access":"rw"}]})"),
     kMP + "$.permissions.fs[1].guest: duplicate guest path '/work'"},
    {"FsRelativeGuest", Kind::kManifest, M(R"({"fs":[{"guest":"work","access":"ro"}]})"),
     kMP + "$.permissions.fs[0].guest: must be an absolute guest path (starting with '/')"},
    {"FsUnnormalizedGuest", Kind::kManifest, M(R"({"fs":[{"guest":"/work/../etc","access":"ro"}]})"),
     kMP + "$.permissions.fs[0].guest: must be normalized: no '.' or '..' segments"},
    {"FsTrailingSlashGuest", Kind::kManifest, M(R"({"fs":[{"guest":"/work/","access":"ro"}]})"),
     kMP + "$.permissions.fs[0].guest: must be normalized: no empty segments or trailing '/'"},
    {"EnvDuplicate", Kind::kManifest, M(R"({"env":["LANG","LANG"]})"),
     kMP + "$.permissions.env[1]: duplicate variable 'LANG'"},
    {"EnvBadName", Kind::kManifest, M(R"({"env":["1X"]})"),
     kMP + "$.permissions.env[0]: must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*, at "
           "most 256 bytes"},
    // https rules
    {"HttpsEmptyAllow", Kind::kManifest, M(R"({"host_api":{"https":{"allow":[]}}})"),
     kMP + "$.permissions.host_api.https.allow: must list at least one rule"},
    {"HttpsMissingAllow", Kind::kManifest, M(R"({"host_api":{"https":{"secrets":[]}}})"),
     kMP + "$.permissions.host_api.https.allow: missing required key"},
    {"BadMethod", Kind::kManifest, Mhttps(R"({"host":"a.test","methods":["FETCH"]})"),
     kMP + kHttpsPath + ".methods[0]: unknown HTTP method 'FETCH' (allowed: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"},
    {"TraceIsNeverGranted", Kind::kManifest, Mhttps(R"({"host":"a.test","methods":["TRACE"]})"),
     kMP + kHttpsPath + ".methods[0]: unknown HTTP method 'TRACE' (allowed: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"},
    {"DuplicateMethod", Kind::kManifest, Mhttps(R"({"host":"a.test","methods":["GET","get"]})"),
     kMP + kHttpsPath + ".methods[1]: duplicate method GET"},
    {"NoMethods", Kind::kManifest, Mhttps(R"({"host":"a.test","methods":[]})"),
     kMP + kHttpsPath + ".methods: must list at least one method"},
    {"EmptyHost", Kind::kManifest, Mhttps(R"({"host":"","methods":["GET"]})"),
     kMP + kHttpsPath + ".host: must not be empty"},
    {"HostWithPort", Kind::kManifest, Mhttps(R"({"host":"api.github.com:443","methods":["GET"]})"),
     kMP + kHttpsPath + ".host: 'api.github.com:443': invalid character (a host is letters, digits, "
                        "'-' and '.'; no scheme, port or path)"},
    {"HostMidWildcard", Kind::kManifest, Mhttps(R"({"host":"a.*.com","methods":["GET"]})"),
     kMP + kHttpsPath + ".host: 'a.*.com': '*' is allowed only as the whole leftmost label "
                        "('*.example.com') or alone"},
    {"PrefixRelative", Kind::kManifest, Mhttps(R"({"host":"a.test","methods":["GET"],"path_prefix":"repos/"})"),
     kMP + kHttpsPath + ".path_prefix: must start with '/'"},
    {"PrefixDotDot", Kind::kManifest, Mhttps(R"({"host":"a.test","methods":["GET"],"path_prefix":"/a/../b"})"),
     kMP + kHttpsPath + ".path_prefix: must not contain '.' or '..' segments"},
    {"PrefixPercent", Kind::kManifest, Mhttps(R"({"host":"a.test","methods":["GET"],"path_prefix":"/a%2Fb"})"),
     kMP + kHttpsPath + ".path_prefix: invalid character (allowed: letters, digits and "
                        "-._~!$&'()*+,;=:@/; no '%', '?', '#')"},
    {"SecretsDuplicate", Kind::kManifest,
     M(R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}],"secrets":["t","t"]}}})"),
     kMP + "$.permissions.host_api.https.secrets[1]: duplicate secret 't'"},
    // limits
    {"MemoryTooLarge", Kind::kManifest, M("{}", R"(,"limits":{"max_memory_mb":5000})"),
     kMP + "$.limits.max_memory_mb: must be an integer from 1 to 4096, got 5000"},
    {"NegativeFuel", Kind::kManifest, M("{}", R"(,"limits":{"fuel":-1})"),
     kMP + "$.limits.fuel: must be an integer from 1 to 18446744073709551615, got a negative number"},
    {"FractionalTimeout", Kind::kManifest, M("{}", R"(,"limits":{"timeout_ms":1.5})"),
     kMP + "$.limits.timeout_ms: must be an integer from 1 to 31536000000, got number"},
    {"ZeroTimeout", Kind::kConfig, R"({"plugins":{"gh-issues":{"limits":{"timeout_ms":0}}}})",
     kCP + "$.plugins.gh-issues.limits.timeout_ms: must be an integer from 1 to 31536000000, got 0"},
    {"UnknownLimit", Kind::kConfig, R"({"plugins":{"gh-issues":{"limits":{"cpu":1}}}})",
     kCP + "$.plugins.gh-issues.limits.cpu: unknown key (allowed: max_memory_mb, timeout_ms, fuel, max_write_mb)"},
    // host config: grants
    {"RelativeHostPath", Kind::kConfig, C(R"({"fs":[{"guest":"/work","host":"srv/ws/42","access":"rw"}]})"),
     kCP + "$.plugins.gh-issues.grants.fs[0].host: must be an absolute path"},
    {"MissingHostPath", Kind::kConfig, C(R"({"fs":[{"guest":"/work","access":"rw"}]})"),
     kCP + "$.plugins.gh-issues.grants.fs[0]: needs exactly one of \"host\" (a directory) and "
           "\"workspace\" (a shadow workspace name)"},
    {"HostAndWorkspace", Kind::kConfig,
     C(R"({"fs":[{"guest":"/work","host":"/srv","workspace":"w","access":"rw"}]})"),
     kCP + "$.plugins.gh-issues.grants.fs[0]: needs exactly one of \"host\" (a directory) and "
           "\"workspace\" (a shadow workspace name)"},
    {"WorkspaceNameWithSlash", Kind::kConfig,
     C(R"({"fs":[{"guest":"/work","workspace":"../w","access":"rw"}]})"),
     kCP + "$.plugins.gh-issues.grants.fs[0].workspace: must be a workspace name: 1-64 of "
           "[A-Za-z0-9._-], starting with a letter or digit, no '..'"},
    {"PerSessionWithoutWorkspace", Kind::kConfig,
     C(R"({"fs":[{"guest":"/work","host":"/srv","per_session":true,"access":"rw"}]})"),
     kCP + "$.plugins.gh-issues.grants.fs[0].per_session: applies to a \"workspace\" grant only"},
    {"PerSessionNotBoolean", Kind::kConfig,
     C(R"({"fs":[{"guest":"/work","workspace":"w","per_session":1,"access":"rw"}]})"),
     kCP + "$.plugins.gh-issues.grants.fs[0].per_session: must be true or false"},
    {"ConfigDuplicateGuest", Kind::kConfig,
     C(R"({"fs":[{"guest":"/w","host":"/a","access":"rw"},{"guest":"/w","host":"/b","access":"ro"}]})"),
     kCP + "$.plugins.gh-issues.grants.fs[1].guest: duplicate guest path '/w'"},
    {"ConfigBadAccess", Kind::kConfig, C(R"({"fs":[{"guest":"/w","host":"/a","access":"write"}]})"),
     kCP + "$.plugins.gh-issues.grants.fs[0].access: must be \"ro\" or \"rw\", got 'write'"},
    {"UnknownGrantKind", Kind::kConfig, C(R"({"args":true})"),
     kCP + "$.plugins.gh-issues.grants.args: unknown grant kind (allowed: host_api, fs, env, clocks, random)"},
    {"BadConfigPluginName", Kind::kConfig, R"({"plugins":{"Gh Issues":{}}})",
     kCP + "$.plugins[\"Gh Issues\"]: invalid plugin name: must be 1-64 characters of [a-z0-9._-], "
           "starting with a letter or digit"},
    {"EnvValueNotString", Kind::kConfig, C(R"({"env":{"LANG":1}})"),
     kCP + "$.plugins.gh-issues.grants.env.LANG: must be a string, got integer"},
    {"EnvValueWithNul", Kind::kConfig, C(R"({"env":{"LANG":"C\u0000x"}})"),
     kCP + "$.plugins.gh-issues.grants.env.LANG: must not contain NUL"},
    {"ConfigEnvIsAnObject", Kind::kConfig, C(R"({"env":["LANG"]})"),
     kCP + "$.plugins.gh-issues.grants.env: must be an object, got array"},
    {"SecretFromHostEnvIsRefused", Kind::kConfig, Csecret(R"({"env":"TOKEN","hosts":["a.test"]})"),
     kCP + kSecretPath + ".env: secrets are not read from the host environment; put the value in a "
                         "file readable only by wasmcap and name it with \"file\""},
    {"SecretBothSources", Kind::kConfig, Csecret(R"({"file":"/s","env":"TOKEN","hosts":["a.test"]})"),
     kCP + kSecretPath + ".env: secrets are not read from the host environment; put the value in a "
                         "file readable only by wasmcap and name it with \"file\""},
    {"SecretNoSource", Kind::kConfig, Csecret(R"({"hosts":["a.test"]})"),
     kCP + kSecretPath + ".file: missing required key"},
    {"SecretRelativeFile", Kind::kConfig, Csecret(R"({"file":"secrets/gh","hosts":["a.test"]})"),
     kCP + kSecretPath + ".file: must be an absolute path"},
    {"SecretNoHosts", Kind::kConfig, Csecret(R"({"file":"/s","hosts":[]})"),
     kCP + kSecretPath + ".hosts: must list at least one host the secret may be sent to"},
    {"SecretEveryHost", Kind::kConfig, Csecret(R"({"file":"/s","hosts":["*"]})"),
     kCP + kSecretPath + ".hosts[0]: a secret cannot be bound to every host ('*')"},
    {"SecretValueInline", Kind::kConfig, Csecret(R"({"value":"hunter2","hosts":["a.test"]})"),
     kCP + kSecretPath + ".value: unknown key (allowed: file, env, hosts)"},
    {"HttpsGrantMissingAllow", Kind::kConfig, C(R"({"host_api":{"https":{}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.allow: missing required key"},
    {"TooManyRedirects", Kind::kConfig, C(R"({"host_api":{"https":{"allow":[],"max_redirects":50}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.max_redirects: must be an integer from 0 to 20, got 50"},
    {"ResponseBytesAsString", Kind::kConfig,
     C(R"({"host_api":{"https":{"allow":[],"max_response_bytes":"1MB"}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.max_response_bytes: must be an integer from 1 "
           "to 1073741824, got string"},
    {"RequestBytesTooLarge", Kind::kConfig,
     C(R"({"host_api":{"https":{"allow":[],"max_request_bytes":2147483648}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.max_request_bytes: must be an integer from 0 "
           "to 1073741824, got 2147483648"},
    {"RequestHeadersTooMany", Kind::kConfig,
     C(R"({"host_api":{"https":{"allow":[],"max_request_headers":5000}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.max_request_headers: must be an integer from 0 "
           "to 1024, got 5000"},
    {"RequestHeaderBytesNegative", Kind::kConfig,
     C(R"({"host_api":{"https":{"allow":[],"max_request_header_bytes":-1}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.max_request_header_bytes: must be an integer "
           "from 0 to 1048576, got a negative number"},
    {"UrlBytesTooSmall", Kind::kConfig, C(R"({"host_api":{"https":{"allow":[],"max_url_bytes":10}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.max_url_bytes: must be an integer from 64 to "
           "65536, got 10"},
    {"ResponseHeaderBytesTooLarge", Kind::kConfig,
     C(R"({"host_api":{"https":{"allow":[],"max_response_header_bytes":2000000}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.max_response_header_bytes: must be an integer "
           "from 64 to 1048576, got 2000000"},
    {"ConnectTimeoutZero", Kind::kConfig,
     C(R"({"host_api":{"https":{"allow":[],"connect_timeout_ms":0}}})"),
     kCP + "$.plugins.gh-issues.grants.host_api.https.connect_timeout_ms: must be an integer from 1 "
           "to 31536000000, got 0"},
    // host config: network and audit
    {"ResolveBadAddress", Kind::kConfig, R"({"network":{"resolve":{"api.github.com":"300.1.1.1"}}})",
     kCP + "$.network.resolve[\"api.github.com\"]: must be an IPv4 or IPv6 address, got '300.1.1.1'"},
    {"ResolveWildcardName", Kind::kConfig, R"({"network":{"resolve":{"*.github.com":"1.2.3.4"}}})",
     kCP + "$.network.resolve[\"*.github.com\"]: invalid host name: '*.github.com': wildcards are not allowed here"},
    {"CidrHostBits", Kind::kConfig, R"({"network":{"allow_private":["10.0.0.1/8"]}})",
     kCP + "$.network.allow_private[0]: '10.0.0.1/8' is not a CIDR range: host bits are set"},
    {"CidrNoLength", Kind::kConfig, R"({"network":{"allow_private":["10.0.0.0"]}})",
     kCP + "$.network.allow_private[0]: '10.0.0.0' is not a CIDR range: expected ADDRESS/PREFIX_LENGTH"},
    {"CaFileRelative", Kind::kConfig, R"({"network":{"ca_file":"ca.pem"}})",
     kCP + "$.network.ca_file: must be an absolute path"},
    {"UnknownNetworkKey", Kind::kConfig, R"({"network":{"proxy":"http://x"}})",
     kCP + "$.network.proxy: unknown key (allowed: resolve, allow_private, ca_file)"},
    {"AuditUnknownKey", Kind::kConfig, R"({"audit":{"path":"/var/log/a"}})",
     kCP + "$.audit.path: unknown key (allowed: file, on_failure)"},
    {"AuditOnFailureUnknownValue", Kind::kConfig, R"({"audit":{"on_failure":"ignore"}})",
     kCP + "$.audit.on_failure: must be \"refuse\" (no work without its audit record; the "
           "default) or \"continue\" (warn and go on without the record)"},
    {"AuditOnFailureNotAString", Kind::kConfig, R"({"audit":{"on_failure":false}})",
     kCP + "$.audit.on_failure: must be a string, got boolean"},
    {"McpBashUnknownKey", Kind::kConfig, R"({"mcp":{"bash":{"workspace":"p","sudo":true}}})",
     kCP + "$.mcp.bash.sudo: unknown key (allowed: workspace, apply, memory_mb)"},
    {"McpBashMemoryOutOfRange", Kind::kConfig, R"({"mcp":{"bash":{"workspace":"p","memory_mb":65537}}})",
     kCP + "$.mcp.bash.memory_mb: must be an integer from 1 to 65536, got 65537"},
    {"McpBashNeedsWorkspace", Kind::kConfig, R"({"mcp":{"bash":{"apply":true}}})",
     kCP + "$.mcp.bash.workspace: missing required key"},
    {"McpBashApplyNotBoolean", Kind::kConfig, R"({"mcp":{"bash":{"workspace":"p","apply":"yes"}}})",
     kCP + "$.mcp.bash.apply: must be a boolean, got string"},
    {"UnknownTopLevelConfigKey", Kind::kConfig, R"({"plugin":{}})",
     kCP + "$.plugin: unknown key (allowed: plugins, network, audit, trust, registry, shell, mcp, aot, defaults)"},
    {"OversizedDocument", Kind::kConfig, "{\"plugins\":{}}" + std::string(kMaxDocumentBytes, ' '),
     kCP + "$: document is 1048590 bytes; the limit is 1048576"},
    {"HostileKeyIsQuotedInMessage", Kind::kConfig, "{\"plu\\ngins\\u0007\":1}",
     kCP + "$[\"plu\\x0agins\\x07\"]: unknown key (allowed: plugins, network, audit, trust, registry, shell, mcp, aot, defaults)"},
    {"TrustUnknownKey", Kind::kConfig, R"({"trust":{"key":[]}})",
     kCP + "$.trust.key: unknown key (allowed: keys, revoked)"},
    {"TrustKeyRelative", Kind::kConfig, R"({"trust":{"keys":["keys/a.pub"]}})",
     kCP + "$.trust.keys[0]: must be an absolute path"},
    {"TrustKeysNotArray", Kind::kConfig, R"({"trust":{"keys":"/k/a.pub"}})",
     kCP + "$.trust.keys: must be an array, got string"},
    {"TrustKeyDuplicate", Kind::kConfig, R"({"trust":{"keys":["/k/a.pub","/k/a.pub"]}})",
     kCP + "$.trust.keys[1]: duplicate key '/k/a.pub'"},
    {"TrustRevokedUnrecognized", Kind::kConfig, R"({"trust":{"revoked":["0123456789ABCDEF"]}})",
     kCP + "$.trust.revoked[0]: must be a key id (16 lowercase hex digits), a public key (64 "
           "lowercase hex digits) or the absolute path of a .pub file, got '0123456789ABCDEF'"},
    {"TrustRevokedShortId", Kind::kConfig, R"({"trust":{"revoked":["0123456789abcde"]}})",
     kCP + "$.trust.revoked[0]: must be a key id (16 lowercase hex digits), a public key (64 "
           "lowercase hex digits) or the absolute path of a .pub file, got '0123456789abcde'"},
    {"TrustRevokedDuplicate", Kind::kConfig,
     R"({"trust":{"revoked":["0123456789abcdef","0123456789abcdef"]}})",
     kCP + "$.trust.revoked[1]: duplicate entry '0123456789abcdef'"},
    {"TrustRevokedNotString", Kind::kConfig, R"({"trust":{"revoked":[1]}})",
     kCP + "$.trust.revoked[0]: must be a string, got integer"},
};

INSTANTIATE_TEST_SUITE_P(Cases, PolicyBadInput, ::testing::ValuesIn(kBad),
                         [](const ::testing::TestParamInfo<BadCase>& i) { return i.param.name; });

TEST(ManifestParse, LoadManifestNamesTheFileAndReportsMissingFiles) {
  testing::TempDir dir;
  std::string path = dir.write("bad/manifest.json", R"({"name":"a"})");
  auto r = load_manifest(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, path + ": $.version: missing required key");
  auto missing = load_host_config(dir / "nope.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find(dir / "nope.json"), std::string::npos);
}

}  // namespace
}  // namespace wasmcap::policy
