// `wasmcap plan`: what a plugin would get, manifest requests x host config grants, and what a
// run would check before it starts (docs/cli.md "plan").
#include "cli/commands.h"
#include "cli/ecosystem.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/json.h"
#include "wasmcap/runtime.h"

namespace wasmcap::cli {

namespace {

// A module that reads a clock or calls random_get under a plan that serves none: each call will
// fail with ENOTCAPABLE, which many runtimes' startup code does not survive (Rust's HashMap seeds
// itself from random_get). A warning: the plan is valid, the plugin probably is not. A clock or
// random the manifest requests and the config denies is already a denial, not repeated here.
std::vector<std::string> unserved_import_warnings(const ModuleInfo& info, const policy::Plan& plan) {
  auto denied = [&plan](std::string_view prefix) {
    for (const auto& d : plan.denied) {
      if (d.compare(0, prefix.size(), prefix) == 0) return true;
    }
    return false;
  };
  const bool no_clock = !plan.clock_wall && !plan.clock_monotonic && !denied("clocks");
  const bool no_random = plan.random.kind == RandomSource::Kind::kDeny && !denied("random");
  std::vector<std::string> out;
  for (const auto& imp : info.imports) {
    if (imp.module != "wasi_snapshot_preview1" && imp.module != "wasi_unstable") continue;
    const bool clock = imp.name == "clock_time_get" || imp.name == "clock_res_get";
    if (clock && no_clock) {
      out.push_back("the module imports " + imp.module + "." + imp.name +
                    " but the manifest requests no clock: every read will fail with ENOTCAPABLE "
                    "(request the clocks it reads: \"permissions\": {\"clocks\": [\"wall\", "
                    "\"monotonic\"]}, docs/manifest.md#clocks-and-random)");
    } else if (imp.name == "random_get" && no_random) {
      out.push_back("the module imports " + imp.module + "." + imp.name +
                    " but the manifest requests no random: every call will fail with ENOTCAPABLE "
                    "(request it: \"permissions\": {\"random\": true}, "
                    "docs/manifest.md#clocks-and-random)");
    }
  }
  return out;
}

// A WASI 0.2 component: every import the WASI 0.2 host does not serve (a run refuses it before
// anything runs), and the grants its imports use that the plan does not give.
void check_component(const std::vector<uint8_t>& bytes, const policy::Plan& plan,
                     policy::PlanReport& report, std::vector<std::string>& warnings) {
  auto imports = component_imports(bytes.data(), bytes.size());
  if (!imports) {
    report.imports_note = imports.error().to_string();
    return;
  }
  report.imports_checked = true;
  if (!imports->unserved.empty()) {
    std::string list;
    for (const std::string& u : imports->unserved) list += (list.empty() ? "" : ", ") + u;
    report.imports_problem = "the component imports what wasmcap's WASI 0.2 host does not provide: " + list;
  }
  // An interface imported without the grant it reads fails each call (not-capable, a trap where
  // 0.2 has no error result, HTTP-request-denied); args and env are only empty.
  using Grant = ComponentImports::Grant;
  for (const auto& [grant, interface] : imports->reads) {
    const char* missing = nullptr;
    switch (grant) {
      case Grant::kFs:
        if (plan.fs.empty()) missing = "directory (\"permissions\": {\"fs\": ...})";
        break;
      case Grant::kClocks:
        if (!plan.clock_wall && !plan.clock_monotonic) missing = "clock (\"permissions\": {\"clocks\": ...})";
        break;
      case Grant::kRandom:
        if (plan.random.kind == RandomSource::Kind::kDeny) missing = "random (\"permissions\": {\"random\": true})";
        break;
      case Grant::kHttps:
        if (!plan.https) missing = "https (\"permissions\": {\"host_api\": {\"https\": ...}})";
        break;
      case Grant::kArgsEnv:
        break;
    }
    if (missing != nullptr) {
      warnings.push_back("the component imports " + interface + " but the plan grants no " + missing +
                         ": its calls will be refused");
    }
  }
}

int cmd_plan(const PlanFlags& flags, const std::string& module_override, const std::string& engine_name,
             const AotOptions& aot, bool json) {
  auto plan = build_plan(flags, module_override);
  if (!plan) return report_error(plan.error());
  auto engine = make_engine(engine_name, aot);
  if (!engine) return report_error(engine.error());
  policy::PlanReport report;
  std::vector<std::string> warnings;
  report.engine = std::string((*engine)->name());
  report.unavailable = policy::unavailable_capabilities(policy::required_capabilities(**plan),
                                                        **engine, host_build_capabilities());
  if (auto bytes = read_file_bytes((*plan)->module_path); !bytes) {
    report.imports_note = bytes.error().message;
  } else if (is_component_binary(bytes->data(), bytes->size())) {
    check_component(*bytes, **plan, report, warnings);
  } else if (auto module = (*engine)->load(bytes->data(), bytes->size()); !module) {
    report.imports_note = module.error().to_string();
  } else {
    report.imports_checked = true;
    if (auto r = policy::check_imports((*module)->info(), policy::requested_host_apis(**plan)); !r) {
      report.imports_problem = r.error().message;
    }
    warnings = unserved_import_warnings((*module)->info(), **plan);
  }
  // Everything the run checks before the module starts (secrets, audit file, CA file, module).
  auto preflight = preflight_checks(**plan);
  std::string out = json ? policy::plan_to_json(**plan, report) : policy::plan_to_text(**plan, report);
  if (json) {
    // Our own output, re-read to add the preflight (the decoder bounds every parse).
    nlohmann::json j = json::parse(out, json::Limits{out.size(), json::kMaxDepth}).value_or(nullptr);
    if (j.is_object()) {
      j["preflight"] = preflight ? nlohmann::json{{"ok", true}, {"checked", *preflight}}
                                 : nlohmann::json{{"ok", false},
                                                  {"error", {{"code", std::string(error_code_name(preflight.error().code))},
                                                             {"message", preflight.error().message}}}};
      j["warnings"] = warnings;
      out = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  } else if (preflight) {
    for (const auto& w : warnings) out += "warning: " + w + "\n";
    for (const auto& c : *preflight) out += "preflight ok: " + c + "\n";
  } else {
    for (const auto& w : warnings) out += "warning: " + w + "\n";
    out += "preflight FAILED: " + preflight.error().to_string() + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (auto r = policy::require_fully_granted(**plan); !r) return report_error(r.error());
  if (!report.imports_problem.empty()) {
    return report_error(Error(ErrorCode::kGrantDenied, report.imports_problem));
  }
  if (auto r = policy::check_capabilities(policy::required_capabilities(**plan), **engine,
                                          host_build_capabilities());
      !r) {
    return report_error(r.error());
  }
  if (!preflight) return report_error(preflight.error());
  return 0;
}

}  // namespace

Dispatch add_plan_command(CLI::App& app) {
  struct Flags {
    PlanFlags plan;
    std::string module, engine = "interp", bundle;
    bool json = false;
    AotOptions aot;
  };
  auto f = std::make_shared<Flags>();
  f->aot.progress = true;
  CLI::App* plan = app.add_subcommand("plan",
                                      "Show what a plugin would get: manifest requests x host config grants");
  plan->add_option("--manifest", f->plan.manifest, "Plugin manifest (JSON)");
  plan->add_option("--config", f->plan.config, "Host config (JSON)")->required();
  plan->add_option("--engine", f->engine, "Engine to check capabilities against: interp, aot or auto")
      ->check(CLI::IsMember(engine_names()));
  plan->add_option("--cache-dir", f->aot.cache_dir, "AOT cache directory (see run --cache-dir)");
  plan->add_option("--bundle", f->bundle,
                   "Plan a bundle file before installing it: its signed manifest x --config "
                   "(instead of --manifest)");
  plan->add_flag("--json", f->json, "Print the plan as JSON");
  plan->add_option("module", f->module, "The .wasm module (default: the manifest's module)");
  return [plan, f]() -> std::optional<int> {
    if (!*plan) return std::nullopt;
    if (!f->bundle.empty()) {
      if (!f->plan.manifest.empty()) {
        return report_error(Error(ErrorCode::kInvalidArgument, "plan: give --manifest or --bundle, not both"));
      }
      return cmd_plan_bundle(f->bundle, f->plan.config, f->engine, f->aot, f->json);
    }
    if (f->plan.manifest.empty()) {
      return report_error(
          Error(ErrorCode::kInvalidArgument, "plan needs --manifest M (or --bundle FILE) and --config C"));
    }
    return cmd_plan(f->plan, f->module, f->engine, f->aot, f->json);
  };
}

}  // namespace wasmcap::cli
