#include "cli/ecosystem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "audit/query.h"
#include "common/escape.h"
#include "common/json.h"
#include "policy/json_doc.h"
#include "wasmcap/audit.h"
#include "wasmcap/audit_events.h"
#include "wasmcap/bundle.h"
#include "wasmcap/policy.h"
#include "wasmcap/registry.h"
#include "wasmcap/runtime.h"
#include "wasmcap/version.h"

namespace wasmcap::cli {
namespace {

namespace fs = std::filesystem;

int fail(const Error& e) {
  std::fprintf(stderr, "wasmcap: error: %s\n", e.to_string().c_str());
  return error_exit_code(e.code);
}

void print_json(const nlohmann::json& j) {
  std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
}

std::string printable(std::string_view s, size_t max = 256) { return text::escape_ascii(s, max, "\\"); }

// --- trust -----------------------------------------------------------------------------------
// The trust store is $WASMCAP_HOME/trust/*.pub (trusted) and trust/revoked/*.pub (revoked)
// (docs/bundles.md); its changes are the registry's (src/bundle/trust_store.cc). These commands
// print and record them.

Result<std::string> read_text(const std::string& path) {
  std::vector<uint8_t> bytes;
  WASMCAP_TRY_ASSIGN(bytes, bundle::read_file_bounded(path, 4096, ErrorCode::kInvalidArgument));
  return std::string(bytes.begin(), bytes.end());
}

int trust_add(const std::string& key_path) {
  auto text = read_text(key_path);
  if (!text) return fail(text.error());
  if (!bundle::parse_public_key(*text) && bundle::parse_secret_key(*text)) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      key_path + " is a SECRET key: trust the .pub file next to it (and keep "
                                 "the .key private)"));
  }
  auto home = registry::default_home();
  if (!home) return fail(home.error());
  auto c = registry::trust_add_key(*home, *text);
  if (!c) return fail(c.error());
  if (c->already) {
    std::printf("key %s is already trusted (%s)\n", c->key_id.c_str(), c->files[0].c_str());
    return 0;
  }
  std::printf("trusted key %s (%s)\n", c->key_id.c_str(), c->files[0].c_str());
  if (!registry_audit("trust_add", {{"key_id", c->key_id}, {"file", c->files[0]}}, {})) {
    return error_exit_code(ErrorCode::kIo);
  }
  return 0;
}

int trust_list(bool json) {
  auto home = registry::default_home();
  if (!home) return fail(home.error());
  auto keys = registry::list_trust_keys(*home);
  if (!keys) return fail(keys.error());
  auto is_revoked = [&](const registry::TrustKeyFile& k) {
    return std::any_of(keys->revoked.begin(), keys->revoked.end(),
                       [&](const registry::TrustKeyFile& r) { return r.key.id() == k.key.id(); });
  };
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : keys->trusted) {
      out.push_back({{"id", k.key.id()}, {"status", is_revoked(k) ? "revoked" : "trusted"}, {"file", k.path}});
    }
    for (const auto& r : keys->revoked) out.push_back({{"id", r.key.id()}, {"status", "revoked"}, {"file", r.path}});
    print_json(out);
    return 0;
  }
  if (keys->trusted.empty() && keys->revoked.empty()) {
    std::printf("no keys in %s/trust (wasmcap trust add KEY.pub)\n", home->c_str());
    return 0;
  }
  std::printf("%-18s %-8s %s\n", "ID", "STATUS", "FILE");
  for (const auto& k : keys->trusted) {
    std::printf("%-18s %-8s %s\n", k.key.id().c_str(), is_revoked(k) ? "revoked" : "trusted", k.path.c_str());
  }
  for (const auto& r : keys->revoked) std::printf("%-18s %-8s %s\n", r.key.id().c_str(), "revoked", r.path.c_str());
  return 0;
}

int trust_remove(const std::string& id) {
  auto home = registry::default_home();
  if (!home) return fail(home.error());
  auto c = registry::trust_remove_key(*home, id);
  if (!c) {
    if (c.error().code == ErrorCode::kNotFound) {
      return fail(Error(ErrorCode::kNotFound, c.error().message + " (see wasmcap trust list)"));
    }
    return fail(c.error());
  }
  bool audit_failed = false;
  for (const auto& f : c->files) {
    std::printf("removed key %s (%s)\n", id.c_str(), f.c_str());
    if (!registry_audit("trust_remove", {{"key_id", id}, {"file", f}}, {})) audit_failed = true;
  }
  return audit_failed ? error_exit_code(ErrorCode::kIo) : 0;
}

// ID of a trusted key, or a .pub file (a key never trusted can be revoked in advance).
int trust_revoke(const std::string& what) {
  auto home = registry::default_home();
  if (!home) return fail(home.error());
  std::error_code ec;
  Result<registry::TrustChange> c;
  if (fs::is_regular_file(what, ec)) {
    auto t = read_text(what);
    if (!t) return fail(t.error());
    c = registry::trust_revoke_key(*home, *t, /*is_key_text=*/true);
  } else {
    c = registry::trust_revoke_key(*home, what, /*is_key_text=*/false);
  }
  if (!c) {
    if (c.error().code == ErrorCode::kNotFound) {
      return fail(Error(ErrorCode::kNotFound, c.error().message + ": give the key's .pub file to revoke it"));
    }
    return fail(c.error());
  }
  if (c->already) {
    std::printf("key %s is revoked already (%s)\n", c->key_id.c_str(), c->files[0].c_str());
    return 0;
  }
  std::printf("revoked key %s (%s): bundles it signed are refused, installed ones too\n",
              c->key_id.c_str(), c->files[0].c_str());
  if (!registry_audit("trust_revoke", {{"key_id", c->key_id}, {"file", c->files[0]}}, {})) {
    return error_exit_code(ErrorCode::kIo);
  }
  return 0;
}

// Undoes a revoke (recorded): the key is then neither revoked nor trusted.
int trust_unrevoke(const std::string& id) {
  auto home = registry::default_home();
  if (!home) return fail(home.error());
  auto c = registry::trust_unrevoke_key(*home, id);
  if (!c) {
    if (c.error().code == ErrorCode::kNotFound) {
      return fail(Error(ErrorCode::kNotFound, c.error().message + " (see wasmcap trust list)"));
    }
    return fail(c.error());
  }
  std::printf("key %s is no longer revoked; it is not trusted either: `wasmcap trust add KEY.pub` "
              "trusts it again (a host config's trust.revoked still applies)\n",
              c->key_id.c_str());
  bool audit_failed = false;
  for (const auto& f : c->files) {
    if (!registry_audit("trust_unrevoke", {{"key_id", id}, {"file", f}}, {})) audit_failed = true;
  }
  return audit_failed ? error_exit_code(ErrorCode::kIo) : 0;
}

// --- bundle inspect / plan --bundle ------------------------------------------------------------

struct Reviewed {
  bundle::VerifiedBundle b;
  std::string trust;  // "trusted" / "untrusted"
};

// Verifies everything (container, signature, hashes) but accepts an untrusted signer, reporting
// it: reviewing a bundle is how one decides whether to trust it. Revoked signers are refused.
Result<Reviewed> review(const std::string& path, const std::string& config_path) {
  std::string home;
  WASMCAP_TRY_ASSIGN(home, registry::default_home());
  policy::HostConfig config;
  if (!config_path.empty()) WASMCAP_TRY_ASSIGN(config, policy::load_host_config(config_path));
  bundle::VerifyOptions o;
  WASMCAP_TRY_ASSIGN(o.trust, registry::load_trust_store(home, &config.trust));
  o.allow_untrusted = true;
  Reviewed r;
  WASMCAP_TRY_ASSIGN(r.b, bundle::verify_file(path, o));
  r.trust = r.b.trusted ? "trusted" : "untrusted";
  return r;
}

int bundle_inspect(const std::string& path, const std::string& config_path, bool json) {
  auto r = review(path, config_path);
  if (!r) return fail(r.error());
  // The verified manifest, bounded as every manifest is.
  nlohmann::json m = json::parse(r->b.manifest_jcs,
                                 json::Limits{policy::kMaxDocumentBytes, policy::kMaxNestingDepth})
                         .value_or(nlohmann::json::object());
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& [name, data] : r->b.modules) {
    modules.push_back({{"name", name}, {"bytes", data.size()}, {"sha256", bundle::sha256_hex(data)}});
  }
  nlohmann::json out = {{"name", r->b.manifest.name},
                        {"version", r->b.manifest.version},
                        {"description", m.value("description", "")},
                        {"signer_key_id", r->b.signer.id()},
                        {"trust", r->trust},
                        {"module", m.value("module", "")},
                        {"modules", modules},
                        {"permissions", m.value("permissions", nlohmann::json::object())},
                        {"limits", m.value("limits", nlohmann::json::object())},
                        {"tools", m.value("tools", nlohmann::json::array())}};
  if (json) {
    print_json(out);
    return 0;
  }
  // Text: everything from the bundle is untrusted text, shown JSON-escaped.
  auto q = [](const nlohmann::json& v) { return v.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace); };
  std::printf("bundle:      %s\n", q(path).c_str());
  std::printf("plugin:      %s %s\n", q(out["name"]).c_str(), q(out["version"]).c_str());
  if (!out["description"].get<std::string>().empty()) std::printf("description: %s\n", q(out["description"]).c_str());
  std::printf("signer:      key %s (%s%s)\n", r->b.signer.id().c_str(), r->trust.c_str(),
              r->b.trusted ? "" : ": not in the trust store; review, then `wasmcap trust add KEY.pub` or install with --allow-untrusted");
  std::printf("modules:\n");
  for (const auto& mod : modules) {
    std::printf("  %s %s bytes sha256 %s\n", q(mod["name"]).c_str(), q(mod["bytes"]).c_str(),
                mod["sha256"].get<std::string>().c_str());
  }
  std::string perms = out["permissions"].dump(2, ' ', true, nlohmann::json::error_handler_t::replace);
  std::printf("permissions requested:\n%s\n", perms.c_str());
  if (!out["limits"].empty()) std::printf("limits: %s\n", q(out["limits"]).c_str());
  if (!out["tools"].empty()) std::printf("tools: %s\n", q(out["tools"]).c_str());
  return 0;
}

// --- audit query ------------------------------------------------------------------------------

struct AuditQuery {
  std::string file, config, plugin, since, decision, event, invocation_id;
  bool json = false;
};

// `wasmcap audit`: the query is the library's (src/audit/query.h); this prints it.
int audit_query(const AuditQuery& q) {
  std::string path = q.file;
  if (path.empty() && !q.config.empty()) {
    auto config = policy::load_host_config(q.config);
    if (!config) return fail(config.error());
    if (!config->audit.file) {
      return fail(Error(ErrorCode::kInvalidArgument, q.config + " has no audit.file"));
    }
    path = *config->audit.file;
  }
  if (path.empty()) {
    auto home = registry::default_home();
    if (!home) return fail(home.error());
    path = *home + "/audit.jsonl";
  }
  auto since = audit::since_bound(q.since, std::time(nullptr));
  if (!since) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      "--since '" + printable(q.since) +
                          "': use an RFC 3339 UTC time (2026-01-02T03:04:05Z, or a prefix like "
                          "2026-01-02) or a duration before now (90s, 15m, 2h, 7d)"));
  }
  audit::Query query{q.plugin, q.decision, q.event, q.invocation_id, *since};
  auto stats = audit::query_file(path, query, [&](const nlohmann::json& r) {
    if (q.json) {
      std::string text = r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      std::fwrite(text.data(), 1, text.size(), stdout);
      return;
    }
    auto str = [&](const char* k) {
      auto it = r.find(k);
      return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string event = audit::event_of(r);
    std::string detail;
    if (event == "https_request") {
      detail = str("decision") + " " + str("method") + " " + str("url");
      if (r.contains("status") && r["status"].is_number()) detail += " " + r["status"].dump();
      if (!str("error").empty()) detail += " " + str("error");
    } else if (event == "run_start") {
      detail = "engine=" + str("engine") + " module=" + str("module");
    } else if (event == "run_end") {
      detail = str("outcome") + (r.value("exit_code", nlohmann::json()).is_number()
                                     ? " exit_code=" + r["exit_code"].dump()
                                     : " error=" + str("error"));
    } else if (event == "shell_command_start" || event == "shell_command") {
      // The command as the shell ran it (argv after expansion, each word JSON-quoted) and, once
      // it ended, its status: what an operator reviewing a session needs on one line. The words
      // shown are bounded (the record's own size is the reader's bound).
      std::string words;
      if (auto it = r.find("argv"); it != r.end() && it->is_array()) {
        for (const auto& a : *it) {
          if (words.size() > 512) {
            words += ",...";
            break;
          }
          words += (words.empty() ? "" : ",") +
                   a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
      }
      detail = "argv=[" + words + "]";
      if (r.contains("exit") && r["exit"].is_number()) detail += " exit=" + r["exit"].dump();
      if (!str("error").empty()) detail += " error=" + str("error");
    } else {
      for (const char* k : {"version", "key_id", "trust", "outcome"}) {
        if (!str(k).empty()) detail += std::string(detail.empty() ? "" : " ") + k + "=" + str(k);
      }
    }
    std::printf("%s %-14s %s %s %s\n", printable(str("time"), 40).c_str(), printable(event, 32).c_str(),
                printable(str("plugin").empty() ? "-" : str("plugin"), 64).c_str(),
                printable(str("invocation_id").empty() ? "-" : str("invocation_id"), 128).c_str(),
                printable(detail, 1024).c_str());
  });
  if (!stats) return fail(stats.error());
  if (stats->malformed != 0) {
    std::fprintf(stderr, "wasmcap: warning: %s: skipped %zu malformed line(s)\n", path.c_str(),
                 stats->malformed);
  }
  if (!q.json && stats->matched == 0) std::fprintf(stderr, "wasmcap: no matching records in %s\n", path.c_str());
  return 0;
}

// --- completions and man page ------------------------------------------------------------------

void walk(const CLI::App& app, const std::string& path,
          const std::function<void(const CLI::App&, const std::string&)>& fn) {
  fn(app, path);
  for (const CLI::App* sub : app.get_subcommands({})) {
    walk(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), fn);
  }
}

std::vector<std::string> option_words(const CLI::App& app) {
  std::vector<std::string> words;
  for (const CLI::Option* o : app.get_options({})) {
    for (const auto& l : o->get_lnames()) words.push_back("--" + l);
    for (const auto& s : o->get_snames()) words.push_back("-" + s);
  }
  return words;
}

std::string roff_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

}  // namespace

int run_trust_add(const std::string& key_path) { return trust_add(key_path); }

std::string completion_script(const CLI::App& app, const std::string& shell) {
  // One case per command path: its subcommands and options. Files complete everywhere else.
  std::string cases;
  walk(app, "", [&](const CLI::App& a, const std::string& path) {
    std::string words;
    for (const CLI::App* sub : a.get_subcommands({})) words += sub->get_name() + " ";
    for (const auto& w : option_words(a)) words += w + " ";
    if (path.empty() && !words.empty()) words += "help ";
    cases += "    \"" + path + "\") words=\"" + words + "\" ;;\n";
  });
  std::string fn =
      "# wasmcap " + shell + " completion (generated by `wasmcap completions " + shell + "`)\n" +
      (shell == "zsh" ? "autoload -U +X bashcompinit && bashcompinit\n" : "") +
      "_wasmcap() {\n"
      "  local cur path i w words\n"
      "  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
      "  path=\"\"\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=\"${COMP_WORDS[i]}\"\n"
      "    case \"$w\" in -*) continue ;; esac\n"
      "    case \"${path:+$path }$w\" in\n" +
      [&] {
        std::string known;
        walk(app, "", [&](const CLI::App&, const std::string& p) {
          if (!p.empty()) known += "      \"" + p + "\") path=\"" + p + "\" ;;\n";
        });
        return known;
      }() +
      "      *) break ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$path\" in\n" + cases +
      "    *) words=\"\" ;;\n"
      "  esac\n"
      "  if [[ \"$cur\" == -* || ( -n \"$words\" && \"$path\" != \"run\" ) ]]; then\n"
      "    COMPREPLY=( $(compgen -W \"$words\" -- \"$cur\") )\n"
      "  fi\n"
      "  if [[ ${#COMPREPLY[@]} -eq 0 ]]; then\n"
      "    COMPREPLY=( $(compgen -f -- \"$cur\") )\n"
      "  fi\n"
      "}\n"
      "complete -o filenames -F _wasmcap wasmcap\n";
  return fn;
}

std::string man_page(const CLI::App& app) {
  std::string m;
  m += ".\\\" Generated by `wasmcap man` from the command-line definitions; do not edit.\n";
  m += ".TH WASMCAP 1 \"\" \"wasmcap " WASMCAP_VERSION "\" \"User Commands\"\n";
  m += ".SH NAME\nwasmcap \\- " + roff_escape(app.get_description().substr(app.get_description().find(':') + 2)) + "\n";
  m += ".SH SYNOPSIS\n.B wasmcap\n.I COMMAND\n[\\fIOPTIONS\\fR] [\\fIARGS\\fR...]\n";
  m += ".SH DESCRIPTION\nwasmcap runs untrusted WebAssembly plugins with only the capabilities an "
       "operator grants. See the reference in docs/cli.md; \\fBwasmcap help\\fR \\fICOMMAND\\fR "
       "prints the options of one command.\n";
  m += ".SH COMMANDS\n";
  walk(app, "", [&](const CLI::App& a, const std::string& path) {
    if (path.empty()) return;
    m += ".SS \"wasmcap " + roff_escape(path) + "\"\n" + roff_escape(a.get_description()) + "\n";
    for (const CLI::Option* o : a.get_options({})) {
      if (o->get_lnames().empty() && o->get_snames().empty() && o->get_positional() == false) continue;
      std::string name = o->get_name(false, true);
      if (name == "--help" || name == "-h,--help") continue;
      std::string type = o->get_type_name();
      m += ".TP\n";
      if (o->get_positional()) {
        m += "\\fI" + roff_escape(o->get_name()) + "\\fR\n";
      } else {
        std::string names;
        for (const auto& s : o->get_snames()) names += (names.empty() ? "" : ", ") + std::string("\\fB\\-") + s + "\\fR";
        for (const auto& l : o->get_lnames()) names += (names.empty() ? "" : ", ") + std::string("\\fB\\-\\-") + roff_escape(l) + "\\fR";
        if (o->get_expected_min() > 0 && !type.empty()) names += " \\fI" + roff_escape(type) + "\\fR";
        m += names + "\n";
      }
      m += roff_escape(o->get_description()) + "\n";
    }
  });
  m += ".SH EXIT STATUS\nThe guest's exit status, or one of wasmcap's own codes (64\\-84; "
       "docs/cli.md, \"Exit status\").\n";
  m += ".SH FILES\n.TP\n\\fB$WASMCAP_HOME\\fR (default ~/.local/share/wasmcap)\ninstalled bundles "
       "and the trust store (trust/*.pub, trust/revoked/*.pub)\n";
  return m;
}

bool registry_audit(const std::string& event,
                    const std::vector<std::pair<std::string, std::string>>& fields,
                    const policy::AuditConfig& config) {
  std::string line = audit::registry_line(event, fields);
  std::vector<std::pair<std::string, audit::OnFailure>> paths;
  const audit::OnFailure choice =
      config.continue_on_failure ? audit::OnFailure::kContinue : audit::OnFailure::kRefuse;
  if (auto home = registry::default_home()) paths.emplace_back(*home + "/audit.jsonl", choice);
  if (config.file) paths.emplace_back(*config.file, choice);
  bool ok = true;
  for (const auto& [p, on_failure] : paths) {
    std::error_code ec;
    fs::create_directories(fs::path(p).parent_path(), ec);
    auto sink = audit::open_file_sink(p, on_failure);
    Result<void> w = sink ? (*sink)->append(line) : Result<void>(tl::unexpected(sink.error()));
    if (!w) {
      // The change is made; its record is not: say so, and fail the command (74).
      std::fprintf(stderr, "wasmcap: warning: the change was made, but its %s record: %s\n",
                   event.c_str(), w.error().to_string().c_str());
      ok = false;
    }
  }
  return ok;
}

int cmd_plan_bundle(const std::string& bundle_path, const std::string& config_path,
                    const std::string& engine_name, const AotOptions& aot, bool json) {
  if (config_path.empty()) {
    return fail(Error(ErrorCode::kInvalidArgument, "plan --bundle needs --config (the host config)"));
  }
  auto r = review(bundle_path, config_path);
  if (!r) return fail(r.error());
  auto config = policy::load_host_config(config_path);
  if (!config) return fail(config.error());
  policy::Plan plan = policy::make_plan(r->b.manifest, *config, "");
  plan.module_path = bundle_path + "!" + r->b.manifest.module;
  auto engine = make_engine(engine_name, aot);
  if (!engine) return fail(engine.error());
  policy::PlanReport report;
  report.engine = std::string((*engine)->name());
  report.unavailable = policy::unavailable_capabilities(policy::required_capabilities(plan), **engine,
                                                        host_build_capabilities());
  const std::vector<uint8_t>* bytes = nullptr;
  for (const auto& [name, data] : r->b.modules) {
    if (name == r->b.manifest.module) bytes = &data;
  }
  if (bytes == nullptr) {
    report.imports_note = "the bundle has no module " + r->b.manifest.module;
  } else if (auto module = (*engine)->load(bytes->data(), bytes->size()); !module) {
    report.imports_note = module.error().to_string();
  } else {
    report.imports_checked = true;
    if (auto c = policy::check_imports((*module)->info(), policy::requested_host_apis(plan)); !c) {
      report.imports_problem = c.error().message;
    }
  }
  if (json) {
    std::string text = policy::plan_to_json(plan, report);  // our own output, re-read
    nlohmann::json j = json::parse(text, json::Limits{text.size(), json::kMaxDepth}).value_or(nullptr);
    j["bundle"] = {{"file", bundle_path}, {"signer_key_id", r->b.signer.id()}, {"trust", r->trust}};
    print_json(j);
  } else {
    std::printf("bundle: %s, signed by key %s (%s)\n", bundle_path.c_str(), r->b.signer.id().c_str(),
                r->trust.c_str());
    std::string out = policy::plan_to_text(plan, report);
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  std::fflush(stdout);
  if (auto c = policy::require_fully_granted(plan); !c) return fail(c.error());
  if (!report.imports_problem.empty()) return fail(Error(ErrorCode::kGrantDenied, report.imports_problem));
  if (auto c = policy::check_capabilities(policy::required_capabilities(plan), **engine,
                                          host_build_capabilities());
      !c) {
    return fail(c.error());
  }
  return 0;
}

EcosystemCommands add_ecosystem_commands(CLI::App& app, CLI::App& bundle) {
  struct State {
    std::string key, id, what, inspect_path, inspect_config, shell;
    bool list_json = false, inspect_json = false;
    CLI::App *trust = nullptr, *add = nullptr, *list = nullptr, *remove = nullptr, *revoke = nullptr,
             *unrevoke = nullptr, *inspect = nullptr, *completions = nullptr, *man = nullptr;
    const CLI::App* root = nullptr;
  };
  auto s = std::make_shared<State>();
  s->root = &app;
  s->trust = app.add_subcommand("trust", "Manage the keys bundles may be signed by ($WASMCAP_HOME/trust)");
  s->trust->require_subcommand(1);
  s->add = s->trust->add_subcommand("add", "Trust a public key (KEY.pub from bundle keygen)");
  s->add->add_option("key", s->key, "The public key file")->required();
  s->list = s->trust->add_subcommand("list", "List trusted and revoked keys");
  s->list->add_flag("--json", s->list_json, "Print a JSON array");
  s->remove = s->trust->add_subcommand("remove", "Stop trusting a key (bundles it signed stop running)");
  s->remove->add_option("id", s->id, "The key id (from trust list)")->required();
  s->revoke = s->trust->add_subcommand(
      "revoke", "Revoke a key: refused from now on, whatever the flags, installed bundles too");
  s->revoke->add_option("key", s->what, "The key id of a trusted key, or a .pub file")->required();
  s->unrevoke = s->trust->add_subcommand(
      "unrevoke", "Undo a revoke (recorded): the key is neither revoked nor trusted afterwards");
  s->unrevoke->add_option("id", s->id, "The key id (from trust list)")->required();
  s->inspect = bundle.add_subcommand(
      "inspect", "Review a bundle before installing it: plugin, signer and trust, modules, "
                 "requested permissions, tools");
  s->inspect->add_option("bundle", s->inspect_path, "The bundle file")->required();
  s->inspect->add_flag("--json", s->inspect_json, "Print one JSON object");
  s->inspect->add_option("--config", s->inspect_config, "Host config whose trust section applies");
  s->completions = app.add_subcommand("completions", "Print the shell completion script (bash or zsh)");
  s->completions->add_option("shell", s->shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  s->man = app.add_subcommand("man", "Print the wasmcap(1) man page (troff)");
  auto aq = std::make_shared<AuditQuery>();
  CLI::App* audit_cmd = app.add_subcommand(
      "audit", "Query an audit file (JSON Lines): runs, https requests, registry and trust changes");
  audit_cmd->add_option("file", aq->file,
                        "The audit file (default: --config's audit.file, else $WASMCAP_HOME/audit.jsonl)");
  audit_cmd->add_option("--config", aq->config, "Host config whose audit.file to read");
  audit_cmd->add_option("--plugin", aq->plugin, "Only records of this plugin");
  audit_cmd->add_option("--since", aq->since,
                        "Only records at or after this time: RFC 3339 UTC (or a prefix), or a "
                        "duration before now (90s, 15m, 2h, 7d)");
  audit_cmd->add_option("--decision", aq->decision, "Only https requests with this decision")
      ->check(CLI::IsMember({"allowed", "denied"}));
  audit_cmd->add_option("--event", aq->event,
                        "Only this event: https_request, run_start, run_end, bundle_install, "
                        "bundle_remove, trust_add, trust_remove, trust_revoke, trust_unrevoke");
  audit_cmd->add_option("--invocation-id", aq->invocation_id, "Only records of this run");
  audit_cmd->add_flag("--json", aq->json, "Print the matching records as JSON Lines");
  EcosystemCommands c;
  c.dispatch = [s, audit_cmd, aq]() -> std::optional<int> {
    if (*s->add) return trust_add(s->key);
    if (*s->list) return trust_list(s->list_json);
    if (*s->remove) return trust_remove(s->id);
    if (*s->revoke) return trust_revoke(s->what);
    if (*s->unrevoke) return trust_unrevoke(s->id);
    if (*s->inspect) return bundle_inspect(s->inspect_path, s->inspect_config, s->inspect_json);
    if (*s->completions) {
      std::string text = completion_script(*s->root, s->shell);
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    if (*audit_cmd) return audit_query(*aq);
    if (*s->man) {
      std::string text = man_page(*s->root);
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    return std::nullopt;
  };
  return c;
}

}  // namespace wasmcap::cli
