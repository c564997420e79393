// make_plan: every intersection rule at the level of whole documents (manifest permissions ×
// host grants → effective plan + named denials), plus plan output.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "wasmcap/policy.h"

namespace wasmcap::policy {
namespace {

// A compact, order-preserving rendering of a plan, one string per fact.
std::vector<std::string> summarize(const Plan& p) {
  std::vector<std::string> out;
  auto opt = [](const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "-"; };
  if (p.https) {
    for (const auto& r : p.https->allow) {
      std::string m;
      for (const auto& x : r.methods) m += (m.empty() ? "" : ",") + x;
      out.push_back("https " + r.host + " " + m + " " + r.path_prefix);
    }
    for (const auto& s : p.https->secrets) {
      std::string hosts;
      for (const auto& h : s.hosts) hosts += (hosts.empty() ? "" : ",") + h;
      out.push_back("secret " + s.name + " " +
                    "file:" + s.ref + " -> " + hosts);
    }
  }
  for (const auto& m : p.fs) {
    out.push_back(m.denied ? "fs " + m.guest + " denied"
                           : "fs " + m.guest + " -> " + m.host + " " + std::string(access_name(m.access)));
  }
  for (const auto& [k, v] : p.env) out.push_back("env " + k + "=" + v);
  if (p.args) out.push_back("args");
  if (p.limits.max_memory_mb || p.limits.timeout_ms || p.limits.fuel) {
    out.push_back("limits mem=" + opt(p.limits.max_memory_mb) + " timeout=" +
                  opt(p.limits.timeout_ms) + " fuel=" + opt(p.limits.fuel));
  }
  for (const auto& d : p.denied) out.push_back("denied: " + d);
  for (const auto& d : p.narrowed) out.push_back("narrowed: " + d);
  return out;
}

struct PlanCase {
  const char* name;
  const char* perms;     // manifest "permissions"
  const char* grants;    // host config "grants" for plugin "p"
  const char* mlimits;   // manifest "limits"
  const char* climits;   // host config "limits"
  std::vector<std::string> want;
};

void PrintTo(const PlanCase& c, std::ostream* os) { *os << c.name; }

Plan plan_for(const PlanCase& c) {
  std::string manifest = std::string(R"({"name":"p","version":"1.0.0","module":"p.wasm","permissions":)") +
                         c.perms + R"(,"limits":)" + c.mlimits + "}";
  std::string config = std::string(R"({"plugins":{"p":{"grants":)") + c.grants + R"(,"limits":)" +
                       c.climits + "}}}";
  auto m = parse_manifest(manifest, "manifest.json");
  auto h = parse_host_config(config, "config.json");
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  EXPECT_TRUE(h.has_value()) << (h ? "" : h.error().message);
  if (!m || !h) return Plan();
  return make_plan(*m, *h, "/plugins/p");
}

class PlanIntersection : public ::testing::TestWithParam<PlanCase> {};

TEST_P(PlanIntersection, EffectivePlanAndDenials) {
  Plan p = plan_for(GetParam());
  EXPECT_EQ(summarize(p), GetParam().want);
}

const PlanCase kCases[] = {
    {"CanonicalExample",
     R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET"],"path_prefix":"/repos/"}],
         "secrets":["github_token"]}},
         "fs":[{"guest":"/work","access":"ro"}],"env":["LANG"],"args":true})",
     R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET","POST"],"path_prefix":"/repos/acme/"}],
         "secrets":{"github_token":{"file":"/run/secrets/gh","hosts":["api.github.com"]}}}},
         "fs":[{"guest":"/work","host":"/srv/ws/42","access":"rw"}],"env":{"LANG":"C.UTF-8"}})",
     R"({"max_memory_mb":64,"timeout_ms":5000,"fuel":1000000000})",
     R"({"max_memory_mb":128,"timeout_ms":10000})",
     {"https api.github.com GET /repos/acme/",
      "secret github_token file:/run/secrets/gh -> api.github.com", "fs /work -> /srv/ws/42 ro",
      "env LANG=C.UTF-8", "args", "limits mem=64 timeout=5000 fuel=1000000000"}},
    // hosts
    {"HostWildcardRequestNarrowsToGrant",
     R"({"host_api":{"https":{"allow":[{"host":"*.example.com","methods":["GET"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"api.example.com","methods":["GET"]}]}}})", "{}", "{}",
     {"https api.example.com GET /"}},
    {"HostWildcardGrantCoversRequest",
     R"({"host_api":{"https":{"allow":[{"host":"a.example.com","methods":["GET"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"*.example.com","methods":["GET"]}]}}})", "{}", "{}",
     {"https a.example.com GET /"}},
    {"HostWildcardDoesNotCoverApex",
     R"({"host_api":{"https":{"allow":[{"host":"example.com","methods":["GET"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"*.example.com","methods":["GET"]}]}}})", "{}", "{}",
     {"denied: https example.com GET /: no matching grant"}},
    {"HostsCompareCaseInsensitivelyWithoutTrailingDot",
     R"({"host_api":{"https":{"allow":[{"host":"API.GitHub.com.","methods":["GET"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"api.github.COM","methods":["GET"]}]}}})", "{}", "{}",
     {"https api.github.com GET /"}},
    {"BareStarRequestGetsOnlyWhatIsGranted",
     R"({"host_api":{"https":{"allow":[{"host":"*","methods":["GET"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET"]}]}}})", "{}", "{}",
     {"https api.github.com GET /"}},
    {"BareStarOnlyWhenTheOperatorWritesIt",
     R"({"host_api":{"https":{"allow":[{"host":"*","methods":["GET"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"*","methods":["GET"]}]}}})", "{}", "{}",
     {"https * GET /"}},
    {"HostMismatchIsDenied",
     R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET"],"path_prefix":"/repos/"}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"uploads.github.com","methods":["GET"]}]}}})", "{}", "{}",
     {"denied: https api.github.com GET /repos/: no matching grant"}},
    // methods
    {"MethodsIntersect",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET","POST"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["get","delete","post"]}]}}})", "{}", "{}",
     {"https a.test GET,POST /"}},
    {"UngrantedMethodIsDeniedByName",
     R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET","POST"],"path_prefix":"/repos/"}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"api.github.com","methods":["GET"]}]}}})", "{}", "{}",
     {"https api.github.com GET /repos/", "denied: https api.github.com POST /repos/: no matching grant"}},
    // paths
    {"PathPrefixTakesTheMoreSpecific",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"],"path_prefix":"/v1/users/"}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"],"path_prefix":"/v1/"}]}}})", "{}", "{}",
     {"https a.test GET /v1/users/"}},
    {"DisjointPathPrefixesAreDenied",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"],"path_prefix":"/v1/"}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"],"path_prefix":"/v2/"}]}}})", "{}", "{}",
     {"denied: https a.test GET /v1/: no matching grant"}},
    {"SeveralGrantRulesMergeByHostAndPrefix",
     R"({"host_api":{"https":{"allow":[{"host":"*.a.test","methods":["GET","PUT"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"x.a.test","methods":["GET"]},{"host":"x.a.test","methods":["PUT"]},
         {"host":"y.a.test","methods":["GET"],"path_prefix":"/r/"}]}}})", "{}", "{}",
     {"https x.a.test GET,PUT /", "https y.a.test GET /r/"}},
    {"NoHttpsGrantDeniesEveryMethod",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET","HEAD"]}]}}})", "{}", "{}", "{}",
     {"denied: https a.test GET /: no matching grant", "denied: https a.test HEAD /: no matching grant"}},
    // secrets
    {"SecretNotGrantedIsDenied",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}],"secrets":["tok"]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}]}}})", "{}", "{}",
     {"https a.test GET /", "denied: secret tok: requested, not granted"}},
    {"SecretGrantedButNotRequestedIsAbsent",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}],
         "secrets":{"tok":{"file":"/run/secrets/tok","hosts":["a.test"]}}}}})", "{}", "{}",
     {"https a.test GET /"}},
    {"SecretFromExplicitFile",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}],"secrets":["tok"]}}})",
     R"({"host_api":{"https":{"allow":[{"host":"a.test","methods":["GET"]}],
         "secrets":{"tok":{"file":"/run/secrets/tok","hosts":["A.test.","*.b.test"]}}}}})", "{}", "{}",
     {"https a.test GET /", "secret tok file:/run/secrets/tok -> a.test,*.b.test"}},
    // fs
    {"FsWeakerAccessWhenGrantIsStronger", R"({"fs":[{"guest":"/work","access":"ro"}]})",
     R"({"fs":[{"guest":"/work","host":"/srv/w","access":"rw"}]})", "{}", "{}", {"fs /work -> /srv/w ro"}},
    // A read-only grant for a read-write request narrows (mounted ro), it is not a denial.
    {"FsWeakerAccessWhenGrantIsWeakerIsNarrowed", R"({"fs":[{"guest":"/work","access":"rw"}]})",
     R"({"fs":[{"guest":"/work","host":"/srv/w","access":"ro"}]})", "{}", "{}",
     {"fs /work -> /srv/w ro", "narrowed: fs /work: requested rw, granted ro"}},
    {"FsBothRw", R"({"fs":[{"guest":"/work","access":"rw"}]})",
     R"({"fs":[{"guest":"/work","host":"/srv/w","access":"rw"}]})", "{}", "{}", {"fs /work -> /srv/w rw"}},
    {"FsNotGrantedIsDeniedByName", R"({"fs":[{"guest":"/data","access":"ro"}]})",
     R"({"fs":[{"guest":"/work","host":"/srv/w","access":"rw"}]})", "{}", "{}",
     {"fs /data denied", "denied: fs /data: requested ro, not granted"}},
    {"FsGrantedButNotRequestedIsAbsent", "{}",
     R"({"fs":[{"guest":"/work","host":"/srv/w","access":"rw"}]})", "{}", "{}", {}},
    // env
    {"EnvOnlyNamesBothListValueFromConfig", R"({"env":["LANG","TZ"]})",
     R"({"env":{"TZ":"UTC","LANG":"C.UTF-8","SECRET_EXTRA":"x"}})", "{}", "{}",
     {"env LANG=C.UTF-8", "env TZ=UTC"}},
    {"EnvNotGrantedIsDenied", R"({"env":["LANG","HOME"]})", R"({"env":{"LANG":"C"}})", "{}", "{}",
     {"env LANG=C", "denied: env HOME: requested, not granted"}},
    // args
    {"ArgsOnlyIfTheManifestAsks", R"({"args":false})", "{}", "{}", "{}", {}},
    {"ArgsWhenAsked", R"({"args":true})", "{}", "{}", "{}", {"args"}},
    // limits
    {"LimitsSmallerWins", "{}", "{}", R"({"max_memory_mb":256,"timeout_ms":100,"fuel":5})",
     R"({"max_memory_mb":64,"timeout_ms":1000,"fuel":9})", {"limits mem=64 timeout=100 fuel=5"}},
    {"LimitsAbsentTakesTheOther", "{}", "{}", R"({"fuel":5})", R"({"max_memory_mb":64})",
     {"limits mem=64 timeout=- fuel=5"}},
    {"LimitsBothAbsentAreRuntimeDefaults", "{}", "{}", "{}", "{}", {}},
};

INSTANTIATE_TEST_SUITE_P(Rules, PlanIntersection, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<PlanCase>& i) { return i.param.name; });

TEST(PlanIntersection, PluginWithoutConfigEntryIsGrantedNothing) {
  auto m = parse_manifest(
      R"({"name":"stranger","version":"1.0.0","module":"s.wasm",
          "permissions":{"fs":[{"guest":"/work","access":"ro"}],"env":["LANG"]}})",
      "m.json");
  auto h = parse_host_config(R"({"plugins":{"p":{"grants":{"env":{"LANG":"C"}}}}})", "c.json");
  ASSERT_TRUE(m && h);
  Plan p = make_plan(*m, *h, "");
  EXPECT_EQ(summarize(p), (std::vector<std::string>{
                              "fs /work denied", "denied: plugin stranger: no entry in the host config",
                              "denied: fs /work: requested ro, not granted",
                              "denied: env LANG: requested, not granted"}));
}

TEST(PlanModule, ResolvedAgainstTheManifestDirectory) {
  auto m = parse_manifest(R"({"name":"p","version":"1.0.0","module":"bin/p.wasm"})", "m.json");
  ASSERT_TRUE(m);
  EXPECT_EQ(make_plan(*m, HostConfig(), "/opt/plugins/p").module_path, "/opt/plugins/p/bin/p.wasm");
  EXPECT_EQ(make_plan(*m, HostConfig(), "/opt/plugins/p/").module_path, "/opt/plugins/p/bin/p.wasm");
  EXPECT_EQ(make_plan(*m, HostConfig(), "").module_path, "bin/p.wasm");
}

TEST(PlanModule, DataTreeIsAReadOnlyMountThatNoGrantWidens) {
  auto m = parse_manifest(R"({"name":"p","version":"1.0.0","module":"p.wasm",
      "data":{"path":"root","guest":"/"}})", "m.json");
  ASSERT_TRUE(m);
  // No host config entry at all: the data tree is the bundle's own, not a grant (the only
  // denial is the missing entry itself).
  Plan p = make_plan(*m, HostConfig(), "/opt/plugins/p");
  EXPECT_EQ(p.denied, std::vector<std::string>{"plugin p: no entry in the host config"});
  ASSERT_EQ(p.fs.size(), 1u);
  EXPECT_EQ(p.fs[0].guest, "/");
  EXPECT_EQ(p.fs[0].host, "/opt/plugins/p/root");
  EXPECT_EQ(p.fs[0].access, Access::kReadOnly);
  EXPECT_TRUE(p.fs[0].data);
  EXPECT_FALSE(p.fs[0].denied);
}

TEST(PlanIntersection, OptionalHttpsThatIsNotGrantedDoesNotBlockTheRun) {
  const char* manifest = R"({"name":"p","version":"1.0.0","module":"p.wasm","permissions":{
      "host_api":{"https":{"allow":[{"host":"*","methods":["GET","POST"]}],"optional":true}}}})";
  auto m = parse_manifest(manifest, "m.json");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->permissions.https->optional);
  auto h = parse_host_config(R"({"plugins":{"p":{"grants":{"host_api":{"https":{"allow":[
      {"host":"api.example.com","methods":["GET"]}]}}}}}})", "h.json");
  ASSERT_TRUE(h) << h.error().message;
  Plan p = make_plan(*m, *h, "");
  EXPECT_TRUE(p.fully_granted());
  EXPECT_EQ(p.optional_denied, std::vector<std::string>{"https * POST /: no matching grant"});
  ASSERT_TRUE(p.https);
  ASSERT_EQ(p.https->allow.size(), 1u);
  EXPECT_EQ(p.https->allow[0].host, "api.example.com");
  // Nothing granted at all: the API is still there (every request refused), the run goes ahead.
  Plan none = make_plan(*m, HostConfig(), "");
  EXPECT_EQ(none.denied, std::vector<std::string>{"plugin p: no entry in the host config"});
  ASSERT_TRUE(none.https);
  EXPECT_TRUE(none.https->allow.empty());
  // Without "optional" the same request is a denial (fail closed).
  std::string strict = manifest;
  strict.replace(strict.find(",\"optional\":true"), 16, "");
  auto ms = parse_manifest(strict, "m.json");
  ASSERT_TRUE(ms) << ms.error().message;
  Plan ps = make_plan(*ms, *h, "");
  EXPECT_EQ(ps.denied, std::vector<std::string>{"https * POST /: no matching grant"});
  EXPECT_TRUE(ps.optional_denied.empty());
}

TEST(PlanIntersection, SecretWildcardTakesEveryGrantedSecretAndNothingElse) {
  auto m = parse_manifest(R"({"name":"p","version":"1.0.0","module":"p.wasm","permissions":{
      "host_api":{"https":{"allow":[{"host":"*","methods":["GET"]}],"secrets":["*","a"],"optional":true}}}})", "m.json");
  ASSERT_TRUE(m) << m.error().message;
  auto h = parse_host_config(R"({"plugins":{"p":{"grants":{"host_api":{"https":{
      "allow":[{"host":"api.example.com","methods":["GET"]}],
      "secrets":{"a":{"file":"/run/a","hosts":["api.example.com"]},
                 "b":{"file":"/run/b","hosts":["api.example.com"]}}}}}}}})", "h.json");
  ASSERT_TRUE(h) << h.error().message;
  Plan p = make_plan(*m, *h, "");
  ASSERT_TRUE(p.https);
  std::vector<std::string> names;
  for (const auto& s : p.https->secrets) names.push_back(s.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));  // each once
  EXPECT_TRUE(p.fully_granted());
  // Nothing granted: "*" is nothing, not a denial; a named secret still is (here: optional).
  Plan none = make_plan(*m, HostConfig(), "");
  ASSERT_TRUE(none.https);
  EXPECT_TRUE(none.https->secrets.empty());
  EXPECT_EQ(none.optional_denied, (std::vector<std::string>{"https * GET /: no matching grant",
                                                            "secret a: requested, not granted"}));
  // "*" is not a valid name anywhere else.
  EXPECT_FALSE(parse_manifest(R"({"name":"p","version":"1.0.0","module":"p.wasm","permissions":{
      "host_api":{"https":{"allow":[{"host":"*","methods":["GET"]}],"secrets":["a*"]}}}})", "m.json"));
  EXPECT_FALSE(parse_host_config(R"({"plugins":{"p":{"grants":{"host_api":{"https":{
      "allow":[{"host":"a.example","methods":["GET"]}],
      "secrets":{"*":{"file":"/run/a","hosts":["a.example"]}}}}}}}})", "h.json"));
}

TEST(PlanRefusal, RequireFullyGrantedNamesEachDenial) {
  Plan p = plan_for(kCases[0]);
  EXPECT_TRUE(require_fully_granted(p).has_value());
  p.denied = {"fs /work: requested ro, not granted", "https api.github.com GET /repos/: no matching grant"};
  p.plugin = "gh-issues";
  auto r = require_fully_granted(p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kGrantDenied);
  EXPECT_EQ(r.error().message,
            "plugin gh-issues: 2 requests not granted: fs /work: requested ro, not granted; "
            "https api.github.com GET /repos/: no matching grant");
}

TEST(PlanLimits, CliBoundsNarrowFurther) {
  Plan p = plan_for(kCases[0]);
  Limits bounds;
  bounds.fuel = 10;
  bounds.max_memory_mb = 4096;
  bound_limits(p, bounds);
  EXPECT_EQ(p.limits.fuel, 10u);
  EXPECT_EQ(p.limits.max_memory_mb, 64u);
  EXPECT_EQ(p.limits.timeout_ms, 5000u);
}

TEST(PlanOutput, JsonAndTextCarrySecretReferencesNeverValues) {
  Plan p = plan_for(kCases[0]);
  PlanReport report;
  report.engine = "interp";
  report.imports_checked = true;
  std::string text = plan_to_text(p, report);
  EXPECT_NE(text.find("secret  github_token from file /run/secrets/gh, sent only to api.github.com"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("allow   api.github.com GET /repos/acme/"), std::string::npos) << text;
  EXPECT_NE(text.find("result: ok"), std::string::npos) << text;

  auto j = nlohmann::json::parse(plan_to_json(p, report));
  EXPECT_EQ(j["plugin"], "p");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["grants"]["host_api"]["https"]["allow"][0]["path_prefix"], "/repos/acme/");
  EXPECT_EQ(j["grants"]["host_api"]["https"]["secrets"][0]["file"], "/run/secrets/gh");
  EXPECT_EQ(j["grants"]["fs"][0]["access"], "ro");
  EXPECT_EQ(j["grants"]["env"]["LANG"], "C.UTF-8");
  EXPECT_EQ(j["limits"]["fuel"], 1000000000u);
  EXPECT_EQ(j["module"], "/plugins/p/p.wasm");
}

TEST(PlanOutput, RefusedPlanListsProblems) {
  Plan p = plan_for(kCases[0]);
  p.denied.push_back("env TZ: requested, not granted");
  PlanReport report;
  report.unavailable.push_back("this wasmcap build cannot provide host_api.https");
  report.imports_note = "cannot read 'p.wasm'";
  std::string text = plan_to_text(p, report);
  EXPECT_NE(text.find("denied (requested, not granted):\n  env TZ: requested, not granted\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("unavailable:\n  this wasmcap build cannot provide host_api.https\n"),
            std::string::npos);
  EXPECT_NE(text.find("imports: not checked (cannot read 'p.wasm')"), std::string::npos);
  EXPECT_NE(text.find("result: refused (2 problems)"), std::string::npos);
  auto j = nlohmann::json::parse(plan_to_json(p, report));
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["denied"][0], "env TZ: requested, not granted");
  EXPECT_EQ(j["unavailable"][0], "this wasmcap build cannot provide host_api.https");
}

TEST(PlanHostConfig, NetworkAndAuditSectionsAreTypedAndCarried) {
  auto h = parse_host_config(
      R"({"plugins":{},"network":{"resolve":{"api.github.com":"140.82.112.5","v6.test":"2001:db8::1"},
          "allow_private":["10.0.0.0/8","fd00::/8"],"ca_file":"/etc/ssl/ca.pem"},
          "audit":{"file":"/var/log/wasmcap.audit"}})",
      "c.json");
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->network.resolve.size(), 2u);
  EXPECT_EQ(h->network.resolve[0].first, "api.github.com");
  EXPECT_EQ(h->network.resolve[0].second.to_string(), "140.82.112.5");
  EXPECT_TRUE(h->network.resolve[1].second.v6);
  EXPECT_EQ(h->network.allow_private[1].to_string(), "fd00::/8");
  EXPECT_EQ(*h->network.ca_file, "/etc/ssl/ca.pem");
  auto m = parse_manifest(R"({"name":"p","version":"1.0.0","module":"p.wasm"})", "m.json");
  Plan p = make_plan(*m, *h, "");
  EXPECT_EQ(*p.audit.file, "/var/log/wasmcap.audit");
  EXPECT_EQ(p.network.allow_private[0].to_string(), "10.0.0.0/8");
}

TEST(PlanHostConfig, HttpsBoundsAreCarried) {
  auto h = parse_host_config(
      R"({"plugins":{"p":{"grants":{"host_api":{"https":{"allow":[],"max_redirects":3,
          "max_response_bytes":1048576,"timeout_ms":2000,"max_requests":10,
          "max_request_bytes":65536,"max_request_headers":8,"max_request_header_bytes":4096,
          "max_url_bytes":1024,"max_response_header_bytes":8192,"connect_timeout_ms":500}}}}}})",
      "c.json");
  ASSERT_TRUE(h) << h.error().message;
  auto m = parse_manifest(
      R"({"name":"p","version":"1.0.0","module":"p.wasm","permissions":{"host_api":{"https":{
          "allow":[{"host":"a.test","methods":["GET"]}]}}}})",
      "m.json");
  Plan p = make_plan(*m, *h, "");
  ASSERT_TRUE(p.https);
  EXPECT_EQ(p.https->bounds.max_redirects, 3u);
  EXPECT_EQ(p.https->bounds.max_response_bytes, 1048576u);
  EXPECT_EQ(p.https->bounds.timeout_ms, 2000u);
  EXPECT_EQ(p.https->bounds.max_requests, 10u);
  EXPECT_EQ(p.https->bounds.max_request_bytes, 65536u);
  EXPECT_EQ(p.https->bounds.max_request_headers, 8u);
  EXPECT_EQ(p.https->bounds.max_request_header_bytes, 4096u);
  EXPECT_EQ(p.https->bounds.max_url_bytes, 1024u);
  EXPECT_EQ(p.https->bounds.max_response_header_bytes, 8192u);
  EXPECT_EQ(p.https->bounds.connect_timeout_ms, 500u);
  EXPECT_EQ(p.denied, std::vector<std::string>{"https a.test GET /: no matching grant"});
}

}  // namespace
}  // namespace wasmcap::policy
