// Rug-pull defence: what an update changes in the surface an agent relies on (docs/bundles.md#tool-changes).
#include <nlohmann/json.hpp>

#include "policy/json_doc.h"
#include "wasmcap/registry.h"

namespace wasmcap::registry {

namespace {

using Json = nlohmann::json;

std::string show(const Json& v) {
  // Bounded and escaped: manifests are untrusted text.
  return policy::quote(v.dump(-1, ' ', true, Json::error_handler_t::replace));
}

const Json* tool_named(const Json& tools, const std::string& name) {
  if (!tools.is_array()) return nullptr;
  for (const Json& t : tools) {
    if (t.is_object() && t.value("name", Json()) == name) return &t;
  }
  return nullptr;
}

// The names `wasmcap sh` runs the bundle as (manifest "commands", docs/manifest.md#commands):
// reported, not blocking. An added name can take over a command another bundle provided (when
// this bundle comes first in shell.bundle_order or by name), so the operator sees it.
void diff_shell_commands(const Json& a, const Json& b, std::vector<SurfaceChange>& out) {
  Json ca = a.value("commands", Json::object()), cb = b.value("commands", Json::object());
  if (!ca.is_object() || !cb.is_object()) return;
  for (const auto& [name, spec] : ca.items()) {
    if (!cb.contains(name)) {
      out.push_back({"shell command " + policy::quote(name) + ": removed", false});
    } else if (cb[name] != spec) {
      out.push_back({"shell command " + policy::quote(name) + ": " + show(spec) + " -> " +
                         show(cb[name]),
                     false});
    }
  }
  for (const auto& [name, spec] : cb.items()) {
    if (!ca.contains(name)) out.push_back({"shell command " + policy::quote(name) + ": added", false});
  }
}

// Tools derived from a component's exports (manifest "component_tools"): their names, schemas
// and descriptions come from the module, so with such tools offered before or after, a change of
// the list or of any module's hash blocks (the derived surface may have changed: fail closed).
bool offers_component_tools(const Json& manifest) {
  Json c = manifest.value("component_tools", Json(false));
  return c == Json(true) || (c.is_array() && !c.empty());
}

void diff_component_tools(const Json& a, const Json& b, std::vector<SurfaceChange>& out) {
  if (!offers_component_tools(a) && !offers_component_tools(b)) return;
  Json ca = a.value("component_tools", Json(false)), cb = b.value("component_tools", Json(false));
  if (ca != cb) out.push_back({"component_tools: " + show(ca) + " -> " + show(cb), true});
  Json ma = a.value("modules", Json::object()), mb = b.value("modules", Json::object());
  if (ma != mb) {
    out.push_back({"component tools: the module changed (" + show(ma) + " -> " + show(mb) +
                       "): the tools derived from its exports may differ",
                   true});
  }
}

}  // namespace

std::vector<SurfaceChange> diff_tool_surface(std::string_view old_manifest,
                                             std::string_view new_manifest) {
  std::vector<SurfaceChange> out;
  // Manifests, bounded as every manifest is (src/common/json.h); one that does not parse
  // is a blocking change, never a crash.
  const json::Limits manifest{policy::kMaxDocumentBytes, policy::kMaxNestingDepth};
  Json a = json::parse(old_manifest, manifest).value_or(Json());
  Json b = json::parse(new_manifest, manifest).value_or(Json());
  if (!a.is_object() || !b.is_object()) {
    out.push_back({"the installed manifest cannot be read for comparison", true});
    return out;
  }
  Json ta = a.value("tools", Json::array()), tb = b.value("tools", Json::array());
  // Permissions pin what agents were shown only for plugins that offer tools; for others a change
  // is reported, and the operator's grants stay the limit as always.
  bool offers_tools = (ta.is_array() && !ta.empty()) || (tb.is_array() && !tb.empty()) ||
                      offers_component_tools(a) || offers_component_tools(b);
  Json pa = a.value("permissions", Json::object()), pb = b.value("permissions", Json::object());
  if (pa != pb) {
    out.push_back({"requested permissions: " + show(pa) + " -> " + show(pb), offers_tools});
  }
  for (const Json& t : ta) {
    if (!t.is_object() || !t.contains("name")) continue;
    std::string name = t["name"].is_string() ? t["name"].get<std::string>() : "";
    const Json* n = tool_named(tb, name);
    if (n == nullptr) {
      out.push_back({"tool " + policy::quote(name) + ": removed", false});
      continue;
    }
    // Every field counts: a changed description can carry instructions to the model as surely as
    // a changed schema can widen what the tool is asked to do.
    for (const char* key : {"title", "description", "input_schema", "output_schema",
                            "annotations", "invoke"}) {
      Json x = t.value(key, Json()), y = n->value(key, Json());
      if (x != y) {
        out.push_back({"tool " + policy::quote(name) + ": " + key + ": " + show(x) + " -> " + show(y),
                       true});
      }
    }
  }
  for (const Json& t : tb) {
    if (!t.is_object() || !t.contains("name")) continue;
    std::string name = t["name"].is_string() ? t["name"].get<std::string>() : "";
    if (tool_named(ta, name) == nullptr) out.push_back({"tool " + policy::quote(name) + ": added", false});
  }
  diff_component_tools(a, b, out);
  diff_shell_commands(a, b, out);
  return out;
}

}  // namespace wasmcap::registry
