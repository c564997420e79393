// libFuzzer target: parse_manifest on arbitrary bytes. Beyond "no crash, no sanitizer report":
// every error is manifest_invalid and starts with the file name and a JSON path, and a manifest
// that parses can be planned and rendered, and its plan grants nothing it did not request.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wasmcap/policy.h"

using namespace wasmcap;
using namespace wasmcap::policy;

namespace {

constexpr const char* kConfig = R"({"plugins":{"fuzz":{"grants":{
  "host_api":{"https":{"allow":[{"host":"*.example.com","methods":["GET","POST"],"path_prefix":"/v1/"},
                                {"host":"api.test","methods":["GET"]}],
                       "secrets":{"tok":{"file":"/run/secrets/tok","hosts":["api.test"]}}}},
  "fs":[{"guest":"/work","host":"/srv/work","access":"rw"},{"guest":"/ro","host":"/srv/ro","access":"ro"}],
  "env":{"LANG":"C","TZ":"UTC"}},
  "limits":{"fuel":1000,"max_memory_mb":64}}}})";

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = parse_manifest(text, "fuzz.json");
  if (!m) {
    check(m.error().code == ErrorCode::kManifestInvalid);
    check(m.error().message.rfind("fuzz.json: $", 0) == 0);
    return 0;
  }
  static const HostConfig config = *parse_host_config(kConfig, "config.json");
  Plan plan = make_plan(*m, config, "/plugins/fuzz");
  (void)plan_to_text(plan, PlanReport());
  (void)plan_to_json(plan, PlanReport());
  // Only requested guest paths appear, never with more access than requested; the bundle's own
  // data tree (manifest "data") is the one other mount, and it is always read-only.
  for (const auto& mount : plan.fs) {
    bool requested = false;
    if (m->data && mount.guest == m->data->guest) {
      check(mount.access == Access::kReadOnly);
      requested = true;
    }
    for (const auto& r : m->permissions.fs) {
      if (r.guest == mount.guest) {
        requested = true;
        check(!(r.access == Access::kReadOnly && mount.access == Access::kReadWrite));
      }
    }
    check(requested);
  }
  // Every effective https rule lies within some requested rule and some granted rule.
  if (plan.https) {
    check(m->permissions.https.has_value());
    for (const auto& rule : plan.https->allow) {
      bool in_request = false;
      for (const auto& r : m->permissions.https->allow) {
        if (intersect_hosts(r.host, rule.host) == rule.host &&
            intersect_path_prefixes(r.path_prefix, rule.path_prefix) == rule.path_prefix) {
          in_request = true;
        }
      }
      check(in_request);
      check(rule.host != "*");  // the config never grants "*"
    }
  }
  // Clocks and random: never a clock or random_get that was not requested.
  check(!plan.clock_wall || m->permissions.clocks.wall);
  check(!plan.clock_monotonic || m->permissions.clocks.monotonic);
  check(plan.random.kind == RandomSource::Kind::kDeny || m->permissions.random);
  // The operator's fuel bound holds whenever the config has an entry for the plugin.
  if (m->name == "fuzz") check(!plan.limits.fuel || *plan.limits.fuel <= 1000);
  return 0;
}
