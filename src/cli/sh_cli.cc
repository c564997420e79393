// `wasmcap sh`: a thin parser over include/wasmcap/shell.h.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/cli.h"
#include "cli/ws_cli.h"
#include "wasmcap/registry.h"
#include "wasmcap/shell.h"
#include "wasmcap/workspace.h"

namespace wasmcap::cli {

namespace {

int fail(const Error& e) {
  std::fprintf(stderr, "wasmcap: error: %s\n", e.to_string().c_str());
  return error_exit_code(e.code);
}

struct ShOpts {
  std::vector<std::string> dirs;
  std::string workspace, script, file, engine = "interp", audit_file;
  uint64_t timeout_ms = 60000, max_output_bytes = 64u << 20, max_commands = 10000;
};

}  // namespace

Dispatch add_sh_command(CLI::App& app) {
  auto o = std::make_shared<ShOpts>();
  CLI::App* sh = app.add_subcommand(
      "sh", "Run a shell script whose every command is a sandboxed WASI tool (docs/shell.md)");
  sh->add_option("--dir", o->dirs, "Preopen HOST[::GUEST][:ro] for every command. Repeatable.")
      ->allow_extra_args(false);
  sh->add_option("--workspace", o->workspace,
                 "Work in this shadow workspace (its tree is mounted at /work; docs/workspace.md)");
  sh->add_option("-c", o->script, "The script text");
  sh->add_option("file", o->file, "A script file (host path)");
  sh->add_option("--engine", o->engine, "interp, aot or auto (default interp)")
      ->check(CLI::IsMember({"interp", "aot", "auto"}));
  sh->add_option("--timeout-ms", o->timeout_ms, "Deadline for the whole script (0 = none)");
  sh->add_option("--max-output-bytes", o->max_output_bytes,
                 "Cap on all commands' stdout+stderr together (0 = none)");
  sh->add_option("--max-commands", o->max_commands, "Cap on commands started (0 = none)");
  sh->add_option("--audit-file", o->audit_file,
                 "Append one shell_command JSON record per command to this file");
  return [=]() -> std::optional<int> {
    if (!*sh) return std::nullopt;
    std::signal(SIGPIPE, SIG_IGN);  // a pipeline reader that exits early is EPIPE, not death
    shell::Options so;
    auto home = registry::default_home();
    if (!o->workspace.empty()) {
      if (!home) return fail(home.error());
      auto info = workspace::open(*home, o->workspace);
      if (!info) return fail(info.error());
      Preopen p;
      p.host_path = info->tree;
      p.guest_path = "/work";
      so.preopens.push_back(p);
    }
    for (const auto& d : o->dirs) {
      auto p = parse_dir_spec(d);
      if (!p) return fail(p.error());
      if (p->guest_path.empty() || p->guest_path[0] != '/') {
        return fail(Error(ErrorCode::kInvalidArgument,
                          "--dir '" + d + "': wasmcap sh needs an absolute guest path "
                          "(HOST::/GUEST), the shell's paths are absolute"));
      }
      so.preopens.push_back(*p);
    }
    std::string text = o->script;
    if (!o->file.empty()) {
      if (!o->script.empty()) return fail(Error(ErrorCode::kInvalidArgument, "give -c or FILE, not both"));
      std::ifstream f(o->file, std::ios::binary);
      if (!f) return fail(Error(ErrorCode::kNotFound, "cannot read script " + o->file));
      std::stringstream ss;
      ss << f.rdbuf();
      text = ss.str();
    } else if (sh->count("-c") == 0) {
      return fail(Error(ErrorCode::kInvalidArgument,
                        "wasmcap sh needs -c SCRIPT or a script FILE (no interactive mode yet)"));
    }
    // The command table: each bundle resolved (signature, trust, module hash) once.
    if (home) {
      auto trust = registry::load_trust_store(*home, nullptr);
      auto reg = registry::Registry::open(*home, registry::Access::kAuto);
      std::map<std::string, std::optional<registry::Resolved>> bundles;
      for (const auto& [name, bundle] : shell::command_table_spec()) {
        if (!trust || !reg) break;
        if (bundles.count(bundle) == 0) {
          auto r = reg->resolve(bundle, std::nullopt, *trust);
          bundles[bundle] = r ? std::optional<registry::Resolved>(std::move(*r)) : std::nullopt;
        }
        auto& r = bundles[bundle];
        if (!r) continue;
        shell::Tool t;
        t.bundle = bundle;
        t.tool = name;
        t.module_sha256 = r->module_sha256;
        static std::map<std::string, std::shared_ptr<const std::vector<uint8_t>>> modules;
        auto& m = modules[bundle];
        if (!m) m = std::make_shared<const std::vector<uint8_t>>(r->module_bytes);
        t.module = m;
        so.commands[name] = t;
      }
    }
    so.engine = o->engine;
    so.stdin_fd = STDIN_FILENO;
    so.deadline_ms = o->timeout_ms;
    so.max_output_bytes = o->max_output_bytes;
    so.max_commands = o->max_commands;
    if (!o->audit_file.empty()) {
      auto s = audit::open_file_sink(o->audit_file);
      if (!s) return fail(s.error());
      so.audit = *s;
    }
    std::fflush(stdout);
    auto r = shell::run_script(text, std::move(so));
    if (!r) return fail(r.error());
    return r->exit_code;
  };
}

}  // namespace wasmcap::cli
