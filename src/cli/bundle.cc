// `wasmcap bundle keygen|pack|verify|install|list|remove`: signed plugin bundles and the local
// registry (docs/bundles.md). `bundle inspect` is ecosystem.cc's.
#include "cli/commands.h"
#include "cli/ecosystem.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ctime>

#include "wasmcap/bundle.h"
#include "wasmcap/registry.h"

namespace wasmcap::cli {

namespace {

const char* outcome_text(registry::InstallOutcome o) {
  switch (o) {
    case registry::InstallOutcome::kInstalled: return "installed";
    case registry::InstallOutcome::kAlreadyInstalled: return "already installed";
    case registry::InstallOutcome::kReplaced: return "replaced";
  }
  return "installed";
}

std::string flags_of(const registry::Installed& i) {
  std::string f;
  auto add = [&](const char* s) { f += (f.empty() ? "" : ",") + std::string(s); };
  if (i.allow_untrusted) add("allow-untrusted");
  if (i.forced_downgrade) add("forced-downgrade");
  if (i.forced_replace) add("forced-replace");
  return f.empty() ? "-" : f;
}

std::string utc_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int cmd_bundle_install(const std::string& path, bool allow_untrusted, bool force,
                       const std::string& config) {
  auto ctx = open_registry(config);
  if (!ctx) return report_error(ctx.error());
  registry::InstallOptions o;
  o.allow_untrusted = allow_untrusted;
  o.force = force;
  auto r = ctx->reg->install(path, ctx->trust, o);
  if (!r) return report_error(r.error());
  const auto& i = r->installed;
  const bool recorded = registry_audit(
      "bundle_install",
      {{"plugin", i.name}, {"version", i.version}, {"signer_key_id", i.signer_id},
       {"trust", registry::trust_status(i, ctx->trust)}, {"outcome", outcome_text(r->outcome)},
       {"source", path}, {"flags", flags_of(i)}},
      ctx->config.audit);
  // The trust word is the one `bundle list` shows (registry::trust_status).
  std::string trust = registry::trust_status(i, ctx->trust);
  std::printf("%s %s@%s, signed by key %s (trust: %s%s)\n", outcome_text(r->outcome), i.name.c_str(),
              i.version.c_str(), i.signer_id.c_str(), trust.c_str(),
              trust == "untrusted-allowed"
                  ? ": the key is not in the trust store; installed because of --allow-untrusted"
                  : "");
  if (i.forced_downgrade) std::printf("  forced downgrade (recorded)\n");
  for (const auto& v : r->replaced) std::printf("  replaced the content of %s (forced, recorded)\n", v.c_str());
  for (const auto& c : r->tool_changes) {
    std::printf("  %s%s\n", c.blocking ? "changed (forced, recorded): " : "", c.line.c_str());
  }
  return recorded ? 0 : error_exit_code(ErrorCode::kIo);
}

int cmd_bundle_list(bool json, const std::string& config) {
  auto ctx = open_registry(config);
  if (!ctx) return report_error(ctx.error());
  auto all = ctx->reg->list();
  if (!all) return report_error(all.error());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& i : *all) {
      nlohmann::json modules = nlohmann::json::object();
      for (const auto& [p, h] : i.modules) modules[p] = {{"sha256", h}};
      out.push_back({{"name", i.name},
                     {"version", i.version},
                     {"signer_key_id", i.signer_id},
                     {"signer_key", i.signer_key},
                     {"trust", registry::trust_status(i, ctx->trust)},
                     {"trusted_at_install", i.trusted_at_install},
                     {"allow_untrusted", i.allow_untrusted},
                     {"forced_downgrade", i.forced_downgrade},
                     {"forced_replace", i.forced_replace},
                     {"installed_at", utc_time(i.installed_at)},
                     {"source", i.source},
                     {"manifest_sha256", i.manifest_sha256},
                     {"modules", modules},
                     {"path", i.dir}});
    }
    std::string text = out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  if (all->empty()) {
    std::printf("no bundles installed in %s (wasmcap bundle install FILE)\n", ctx->home.c_str());
    return 0;
  }
  std::printf("%-24s %-14s %-16s %-17s %-20s %s\n", "NAME", "VERSION", "SIGNER", "TRUST",
              "INSTALLED", "FLAGS");
  for (const auto& i : *all) {
    std::printf("%-24s %-14s %-16s %-17s %-20s %s\n", i.name.c_str(), i.version.c_str(),
                i.signer_id.c_str(), registry::trust_status(i, ctx->trust).c_str(),
                utc_time(i.installed_at).c_str(), flags_of(i).c_str());
  }
  return 0;
}

int cmd_bundle_remove(const std::string& what) {
  auto ref = registry::parse_reference(what);
  if (!ref) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "'" + what + "' is not NAME or NAME@VERSION"));
  }
  auto ctx = open_registry("");
  if (!ctx) return report_error(ctx.error());
  auto removed = ctx->reg->remove(ref->name, ref->version);
  if (!removed) return report_error(removed.error());
  bool recorded = true;
  for (const auto& i : *removed) {
    std::printf("removed %s@%s\n", i.name.c_str(), i.version.c_str());
    if (!registry_audit("bundle_remove", {{"plugin", i.name}, {"version", i.version}}, ctx->config.audit)) {
      recorded = false;
    }
  }
  return recorded ? 0 : error_exit_code(ErrorCode::kIo);
}

int cmd_bundle_keygen(const std::string& dir, const std::string& name) {
  auto pk = bundle::keygen(dir, name);
  if (!pk) return report_error(pk.error());
  std::string base = (std::filesystem::path(dir) / name).string();
  std::printf("secret key: %s.key (keep it private)\npublic key: %s.pub (id %s)\n", base.c_str(),
              base.c_str(), pk->id().c_str());
  return 0;
}

int cmd_bundle_pack(const std::string& manifest, const std::string& key_path,
                    const std::string& out) {
  auto key = bundle::load_secret_key(key_path);
  if (!key) {
    if (bundle::load_public_key(key_path)) {
      return report_error(Error(ErrorCode::kInvalidArgument,
                                "--key " + key_path + " is a public key; bundle pack signs with "
                                "the secret key: pass the .key file that bundle keygen wrote next "
                                "to it (keep it private)"));
    }
    return report_error(key.error());
  }
  if (auto r = bundle::pack_to_file(manifest, *key, out); !r) return report_error(r.error());
  std::printf("packed %s, signed by key %s\n", out.c_str(), key->public_key().id().c_str());
  return 0;
}

// Trusted: the --trust keys, the trust store ($WASMCAP_HOME/trust) and the host config's trust
// section; revoked: the store's and the config's revocations, which win over --trust too. The
// same answer install gives, so `verify` never calls a bundle good that install would refuse.
int cmd_bundle_verify(const std::string& path, const std::vector<std::string>& trust,
                      const std::string& config_path, bool json) {
  bundle::VerifyOptions o;
  {
    std::string home;
    policy::HostConfig config;
    auto h = registry::default_home();
    if (!h) return report_error(h.error());
    home = *h;
    if (!config_path.empty()) {
      auto c = policy::load_host_config(config_path);
      if (!c) return report_error(c.error());
      config = std::move(*c);
    }
    auto store = registry::load_trust_store(home, &config.trust);
    if (!store) return report_error(store.error());
    o.trust = std::move(*store);
  }
  for (const auto& t : trust) {
    auto k = bundle::load_public_key(t);
    if (!k) return report_error(k.error());
    o.trust.trusted.push_back(*k);
  }
  auto b = bundle::verify_file(path, o);
  if (!b) return report_error(b.error());
  if (json) {
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& [name, data] : b->modules) {
      modules.push_back({{"name", name}, {"bytes", data.size()}, {"sha256", bundle::sha256_hex(data)}});
    }
    nlohmann::json j = {{"ok", true}, {"name", b->manifest.name}, {"version", b->manifest.version},
                        {"signer_key_id", b->signer.id()}, {"trusted", b->trusted},
                        {"modules", modules}};
    std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::printf("ok: %s %s, signed by key %s\n", b->manifest.name.c_str(),
              b->manifest.version.c_str(), b->signer.id().c_str());
  for (const auto& [name, data] : b->modules) {
    std::printf("  %s %zu bytes sha256 %s\n", name.c_str(), data.size(),
                bundle::sha256_hex(data).c_str());
  }
  return 0;
}

}  // namespace

int run_bundle_install(const std::string& path) {
  return cmd_bundle_install(path, false, false, "");
}

Dispatch add_bundle_commands(CLI::App& app, CLI::App** bundle) {
  struct Flags {
    std::string keygen_dir, keygen_name = "wasmcap-signing";
    std::string pack_manifest, pack_key, pack_out;
    std::string verify_path;
    std::vector<std::string> verify_trust;
    std::string verify_config;
    bool verify_json = false;
    std::string install_path, install_config, list_config, remove_what;
    bool install_untrusted = false, install_force = false, list_json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* bundle_cmd = app.add_subcommand("bundle", "Signed plugin bundles (docs/bundles.md)");
  bundle_cmd->require_subcommand(1);
  *bundle = bundle_cmd;
  CLI::App* keygen = bundle_cmd->add_subcommand("keygen", "Generate an Ed25519 signing key pair");
  keygen->add_option("--out", f->keygen_dir, "Directory for NAME.key (0600) and NAME.pub")->required();
  keygen->add_option("--name", f->keygen_name, "Key file base name (default wasmcap-signing)");
  CLI::App* pack = bundle_cmd->add_subcommand("pack", "Pack and sign a plugin bundle");
  pack->add_option("--manifest", f->pack_manifest, "Plugin manifest (JSON)")->required();
  pack->add_option("--key", f->pack_key, "Secret key file (from bundle keygen)")->required();
  pack->add_option("--out", f->pack_out, "Bundle file to write")->required();
  CLI::App* verify = bundle_cmd->add_subcommand("verify", "Verify a bundle against trusted keys");
  verify->add_option("bundle", f->verify_path, "The bundle file")->required();
  verify->add_option("--trust", f->verify_trust, "Trusted public key file (*.pub). Repeatable.")
      ->allow_extra_args(false);
  verify->add_option("--config", f->verify_config,
                     "Host config whose trust section applies (with the trust store and --trust)");
  verify->add_flag("--json", f->verify_json, "Print the result as one JSON object");
  CLI::App* install = bundle_cmd->add_subcommand(
      "install", "Verify a bundle and install it into the local registry ($WASMCAP_HOME)");
  install->add_option("bundle", f->install_path, "The bundle file")->required();
  install->add_flag("--allow-untrusted", f->install_untrusted,
                    "Install a bundle whose (valid) signature is by a key that is not trusted; "
                    "recorded. Never allows a revoked key.");
  install->add_flag("--force", f->install_force,
                    "Install a lower version than one installed now or before, or replace the "
                    "same version's other content; recorded");
  install->add_option("--config", f->install_config, "Host config whose trust section applies");
  CLI::App* list = bundle_cmd->add_subcommand("list", "List installed bundles");
  list->add_flag("--json", f->list_json, "Print a JSON array");
  list->add_option("--config", f->list_config, "Host config whose trust section applies");
  CLI::App* remove = bundle_cmd->add_subcommand("remove", "Remove NAME (all versions) or NAME@VERSION");
  remove->add_option("name", f->remove_what, "NAME or NAME@VERSION")->required();
  return [=]() -> std::optional<int> {
    if (*keygen) return cmd_bundle_keygen(f->keygen_dir, f->keygen_name);
    if (*pack) return cmd_bundle_pack(f->pack_manifest, f->pack_key, f->pack_out);
    if (*verify) {
      set_json_errors(f->verify_json);
      return cmd_bundle_verify(f->verify_path, f->verify_trust, f->verify_config, f->verify_json);
    }
    if (*install) return cmd_bundle_install(f->install_path, f->install_untrusted, f->install_force, f->install_config);
    if (*list) return cmd_bundle_list(f->list_json, f->list_config);
    if (*remove) return cmd_bundle_remove(f->remove_what);
    return std::nullopt;
  };
}

}  // namespace wasmcap::cli
