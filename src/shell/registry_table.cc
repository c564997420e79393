// The shell's command table from the bundle registry (src/shell/commands.h), shared by
// `wasmcap sh` and the MCP server's `bash` tool (docs/mcp.md "The bash tool").
#include "shell/commands.h"

#include <set>

#include "wasmcap/registry.h"

namespace wasmcap::shell {

Result<CommandTable> command_table_from_registry(registry::Registry& reg,
                                                 const bundle::TrustStore& trust,
                                                 const std::vector<std::string>& order) {
  std::vector<registry::Installed> installed;
  WASMCAP_TRY_ASSIGN(installed, reg.list());
  std::set<std::string> names;
  for (const auto& i : installed) names.insert(i.name);
  std::vector<BundleOffer> offers;
  for (const auto& name : names) {
    // The signed manifest only: the module and data tree are checked on the first use of one of
    // the bundle's commands (ToolModule), so a script pays for the bundles it runs, not for every
    // bundle installed (the python bundle's standard library is ~13 MB to hash).
    auto r = reg.resolve_manifest(name, std::nullopt, trust);
    if (!r || !r->signer_trusted || r->manifest.commands.empty()) continue;
    BundleOffer offer;
    Tool& t = offer.tool;
    t.bundle = name;
    t.version = r->manifest.version;
    t.module_sha256 = r->module_sha256;
    t.clock_wall = r->manifest.permissions.clocks.wall;
    t.clock_monotonic = r->manifest.permissions.clocks.monotonic;
    t.random = r->manifest.permissions.random;
    t.https = r->manifest.permissions.https.has_value();
    t.module = std::make_shared<ToolModule>(reg.contents_check(*r));
    if (r->manifest.data) {
      // module_path is the store's DIR/<module>: the data tree is DIR/<data.path>.
      const std::string& mp = r->module_path;
      std::string dir = mp.substr(0, mp.size() - r->manifest.module.size());
      Preopen p;
      p.host_path = dir + r->manifest.data->path;
      p.guest_path = r->manifest.data->guest;
      p.read_only = true;
      t.data = p;
    }
    offer.commands = r->manifest.commands;
    offers.push_back(std::move(offer));
  }
  return build_command_table(std::move(offers), order);
}

}  // namespace wasmcap::shell
