// `wasmcap ws ...`: a thin parser over include/wasmcap/workspace.h.
#include "cli/ws_cli.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wasmcap/registry.h"
#include "wasmcap/workspace.h"

namespace wasmcap::cli {

namespace {

int fail(const Error& e) {
  std::fprintf(stderr, "wasmcap: error: %s\n", e.to_string().c_str());
  return error_exit_code(e.code);
}

struct WsOpts {
  std::string from, name, ws, expect;
  bool json = false, raw = false, force = false, no_gitignore = false;
  std::vector<std::string> exclude;
  uint64_t max_size_mb = workspace::kDefaultMaxLogicalBytes >> 20;
};

// Tells the operator about an unfinished apply of workspace `name` (stderr): how much of it
// SOURCE holds and how to finish it. Returns whether there is one.
bool report_interrupted(const std::string& home, const std::string& name) {
  auto ia = workspace::interrupted_apply(home, name);
  if (!ia) {
    std::fprintf(stderr, "wasmcap: warning: workspace %s: %s\n", name.c_str(),
                 ia.error().to_string().c_str());
    return false;
  }
  if (!*ia) return false;
  const auto& a = **ia;
  if (!a.problem.empty()) {
    std::fprintf(stderr,
                 "wasmcap: warning: an apply of workspace %s was interrupted; SOURCE cannot be "
                 "checked (%s)\n",
                 name.c_str(), a.problem.c_str());
  } else {
    std::fprintf(stderr,
                 "wasmcap: warning: an apply of workspace %s was interrupted: SOURCE holds %zu of "
                 "its %zu change(s); run `wasmcap ws apply %s` to finish it\n",
                 name.c_str(), a.landed.size(), a.landed.size() + a.pending.size(), name.c_str());
  }
  return true;
}

}  // namespace

Dispatch add_ws_commands(CLI::App& app) {
  auto o = std::make_shared<WsOpts>();
  CLI::App* ws = app.add_subcommand(
      "ws", "Shadow workspaces: work on a copy, review the diff, apply (docs/workspace.md)");
  ws->require_subcommand(1);
  CLI::App* create = ws->add_subcommand(
      "create", "Copy DIR into a new workspace, leaving out what its .gitignore files and "
                "--exclude name; prints its name");
  create->add_option("--from", o->from, "The real directory tree to shadow")->required();
  create->add_option("--name", o->name,
                     "Workspace name ([A-Za-z0-9][A-Za-z0-9._-]{0,63}); default ws-XXXXXXXX");
  create->add_option("--max-size-mb", o->max_size_mb,
                     "Bound on the workspace's logical size (apparent file sizes) in MiB, "
                     "checked on create, diff and apply (default 8192)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  create->add_option("--exclude", o->exclude,
                     "Leave out what this gitignore pattern matches (relative to DIR; after the "
                     ".gitignore files' rules). Repeatable.")
      ->allow_extra_args(false);
  create->add_flag("--no-gitignore", o->no_gitignore,
                   "Copy what DIR's .gitignore files ignore too (by default it is left out)");
  CLI::App* list = ws->add_subcommand("list", "List workspaces");
  list->add_flag("--json", o->json, "JSON output");
  CLI::App* diff = ws->add_subcommand("diff", "Show what changed in a workspace");
  diff->add_option("workspace", o->ws, "Workspace name")->required();
  diff->add_flag("--json", o->json, "JSON output");
  diff->add_flag("--raw", o->raw,
                 "File content unescaped (for pipes; refused when stdout is a terminal)");
  CLI::App* apply = ws->add_subcommand(
      "apply", "Write a workspace's changes into its source tree (all or nothing)");
  apply->add_option("workspace", o->ws, "Workspace name")->required();
  apply->add_option("--expect", o->expect,
                    "Apply only if the change set's digest is this one (printed by `ws diff`)");
  CLI::App* discard = ws->add_subcommand("discard", "Delete a workspace (the source is untouched)");
  discard->add_option("workspace", o->ws, "Workspace name")->required();
  discard->add_flag("--force", o->force,
                    "Also when an apply of it was interrupted (SOURCE stays partly applied)");

  return [=]() -> std::optional<int> {
    if (!*ws) return std::nullopt;
    auto home = registry::default_home();
    if (!home) return fail(home.error());
    if (*create) {
      workspace::CreateOptions co;
      co.max_bytes = o->max_size_mb << 20;
      co.gitignore = !o->no_gitignore;
      co.exclude = o->exclude;
      auto info = workspace::create(*home, o->from, o->name, co);
      if (!info) return fail(info.error());
      std::printf("%s\n", info->name.c_str());
      std::fprintf(stderr, "workspace %s: %zu entries of %s (%s), tree at %s\n",
                   info->name.c_str(), info->entries.size(),
                   workspace::display_path(info->source).c_str(), info->copy_method.c_str(),
                   workspace::display_path(info->tree).c_str());
      // Copy vs reflink: reflinked files share their blocks with SOURCE until written.
      std::fprintf(stderr, "  files: %zu reflinked, %zu copied\n", info->reflinked_files,
                   info->copied_files);
      if (info->ignored_files + info->ignored_dirs > 0) {
        std::fprintf(stderr,
                     "  left out by .gitignore and --exclude: %zu file(s), %zu director(ies) "
                     "(not copied, not diffed, never applied)\n",
                     info->ignored_files, info->ignored_dirs);
      }
      for (const auto& s : info->skipped) {
        std::fprintf(stderr, "  skipped (not a file, directory or symlink): %s\n",
                     workspace::display_path(s).c_str());
      }
      for (const auto& s : info->left_out) {
        std::fprintf(stderr, "  left out (wasmcap's own state; never copied, never applied): %s\n",
                     workspace::display_path(s).c_str());
      }
      return 0;
    }
    if (*list) {
      auto all = workspace::list(*home);
      if (!all) return fail(all.error());
      std::vector<bool> interrupted;
      for (const auto& i : *all) interrupted.push_back(report_interrupted(*home, i.name));
      if (o->json) {
        nlohmann::json arr = nlohmann::json::array();
        for (size_t k = 0; k < all->size(); ++k) {
          const auto& i = (*all)[k];
          arr.push_back({{"name", i.name}, {"source", i.source}, {"tree", i.tree},
                         {"created_unix", i.created_unix}, {"entries", i.entries.size()},
                         {"copy_method", i.copy_method}, {"apply_interrupted", interrupted[k]}});
        }
        std::printf("%s\n", arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
      }
      for (const auto& i : *all) {
        std::printf("%s\t%s\t%s\n", i.name.c_str(), workspace::display_path(i.source).c_str(),
                    workspace::display_path(i.tree).c_str());
      }
      return 0;
    }
    if (*diff) {
      if (o->raw && o->json) {
        return fail(Error(ErrorCode::kInvalidArgument, "--raw and --json exclude each other"));
      }
      if (o->raw && ::isatty(STDOUT_FILENO) == 1) {
        // Raw content is the tools' bytes: on a terminal they can erase lines, set the
        // clipboard or plant links. --raw is for pipes and files.
        return fail(Error(ErrorCode::kInvalidArgument,
                          "--raw writes file content unescaped and stdout is a terminal: pipe or "
                          "redirect it (e.g. `| less`), or leave --raw out"));
      }
      auto d = workspace::diff(*home, o->ws);
      if (!d) return fail(d.error());
      report_interrupted(*home, o->ws);
      std::string out =
          o->json ? workspace::render_diff_json(*d) : workspace::render_diff_text(*d, o->raw);
      std::fwrite(out.data(), 1, out.size(), stdout);
      return 0;
    }
    if (*apply) {
      workspace::ApplyOptions ao;
      ao.expect = o->expect;
      auto r = workspace::apply(*home, o->ws, ao);
      if (!r) return fail(r.error());
      if (!r->conflicts.empty()) {
        std::fprintf(stderr,
                     "wasmcap: error: workspace_conflict: %zu change(s) conflict with the source "
                     "tree; nothing was written:\n",
                     r->conflicts.size());
        for (const auto& c : r->conflicts) {
          std::fprintf(stderr, "  %s: %s\n", workspace::display_path(c.path).c_str(),
                       c.reason.c_str());
        }
        return error_exit_code(ErrorCode::kWorkspaceConflict);
      }
      std::printf("applied %s: %zu file(s) written, %zu removed, %zu director(ies) created, %zu "
                  "mode change(s)",
                  o->ws.c_str(), r->written, r->removed, r->dirs_created, r->modes_changed);
      if (r->already != 0) std::printf(", %zu already in SOURCE", r->already);
      if (r->resumed) std::printf(" (finished an interrupted apply)");
      std::printf("; digest %s\n", r->digest.c_str());
      return 0;
    }
    if (*discard) {
      auto r = workspace::discard(*home, o->ws, o->force);
      if (!r) return fail(r.error());
      return 0;
    }
    return std::nullopt;
  };
}

}  // namespace wasmcap::cli
