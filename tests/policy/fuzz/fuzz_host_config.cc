// libFuzzer target: parse_host_config on arbitrary bytes. Every error is config_invalid and
// starts with the file name and a JSON path; a config that parses can be planned against a
// broad manifest and rendered, and the plan never exceeds what the manifest requested.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wasmcap/policy.h"

using namespace wasmcap;
using namespace wasmcap::policy;

namespace {

constexpr const char* kManifest = R"({"name":"fuzz","version":"1.0.0","module":"fuzz.wasm",
  "permissions":{
    "host_api":{"https":{"allow":[{"host":"*.example.com","methods":["GET","PUT"],"path_prefix":"/v1/"},
                                  {"host":"api.test","methods":["GET"]}],
                         "secrets":["tok","other"]}},
    "fs":[{"guest":"/work","access":"rw"},{"guest":"/ro","access":"ro"}],
    "env":["LANG","TZ"],"args":true,"clocks":["wall"]},
  "limits":{"timeout_ms":5000}})";

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = parse_host_config(text, "fuzz.json");
  if (!c) {
    check(c.error().code == ErrorCode::kConfigInvalid);
    check(c.error().message.rfind("fuzz.json: $", 0) == 0);
    return 0;
  }
  static const Manifest manifest = *parse_manifest(kManifest, "manifest.json");
  Plan plan = make_plan(manifest, *c, "/plugins/fuzz");
  (void)plan_to_text(plan, PlanReport());
  (void)plan_to_json(plan, PlanReport());
  for (const auto& mount : plan.fs) {
    check(mount.guest == "/work" || mount.guest == "/ro");
    if (mount.guest == "/ro") check(mount.access == Access::kReadOnly);
  }
  for (const auto& [name, value] : plan.env) check(name == "LANG" || name == "TZ");
  if (plan.https) {
    for (const auto& rule : plan.https->allow) {
      check(rule.host != "*");  // the manifest never asks for "*"
      check(host_matches("*.example.com", rule.host) || rule.host == "api.test" ||
            (rule.host.rfind("*.", 0) == 0 && host_matches("*.example.com", rule.host.substr(2))));
      for (const auto& m : rule.methods) check(m == "GET" || m == "PUT");
    }
    for (const auto& s : plan.https->secrets) check(s.name == "tok" || s.name == "other");
  }
  check(!plan.limits.timeout_ms || *plan.limits.timeout_ms <= 5000);
  // Only the requested wall clock, never monotonic or random; a "deny" grant is a denial.
  check(!plan.clock_monotonic && plan.random.kind == RandomSource::Kind::kDeny);
  const PluginConfig* pc = c->find("fuzz");
  if (pc != nullptr && pc->grants.clocks && pc->grants.clocks->kind == ClockSource::Kind::kDeny) {
    check(!plan.clock_wall && !plan.fully_granted());
  }
  return 0;
}
