// The host registry (host.h) and component values' helpers (val.h).
#include <cmath>
#include <cstdio>

#include "component/host.h"

namespace wasmcap::component {
namespace {

// "wasi:cli/environment@0.2.3" -> "wasi:cli/environment"; other names unchanged.
std::string_view unversioned(std::string_view name) {
  size_t at = name.find('@');
  return at == std::string_view::npos ? name : name.substr(0, at);
}

// The semver-compatible series of a version: "0.2.3" -> "0.2", "1.4.0" -> "1", a pre-release or
// build suffix ignored ("0.2.0-rc-2023-11-10" -> "0.2"); "" when the version is not MAJOR.MINOR.PATCH
// of decimal numbers.
std::string compatible_series(std::string_view version) {
  size_t end = version.find_first_of("-+");
  if (end != std::string_view::npos) version = version.substr(0, end);
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    size_t dot = version.find('.');
    if ((i < 2) != (dot != std::string_view::npos)) return {};
    parts[i] = version.substr(0, dot);
    if (parts[i].empty() || parts[i].size() > 9 || parts[i].find_first_not_of("0123456789") != std::string_view::npos)
      return {};
    version = i < 2 ? version.substr(dot + 1) : std::string_view();
  }
  if (parts[0] == "0") return "0." + std::string(parts[1]);
  return std::string(parts[0]);
}

template <class M>
auto lookup(const M& m, std::string_view interface, std::string_view name) -> const typename M::mapped_type* {
  auto it = m.find(std::pair<std::string, std::string>(interface, name));
  if (it != m.end()) return &it->second;
  std::string_view bare = unversioned(interface);
  if (bare.size() != interface.size()) {
    std::string series = compatible_series(interface.substr(bare.size() + 1));
    if (!series.empty()) {
      it = m.find(std::pair<std::string, std::string>(std::string(bare) + "@" + series, name));
      if (it != m.end()) return &it->second;
    }
    it = m.find(std::pair<std::string, std::string>(bare, name));
    if (it != m.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace

void HostRegistry::add_function(std::string interface, std::string function, HostFn fn) {
  functions_[{std::move(interface), std::move(function)}] = std::move(fn);
}

const ResourceType* HostRegistry::add_resource(std::string interface, std::string name,
                                               std::function<void(uint32_t rep)> dtor) {
  auto& slot = resources_[{interface, name}];
  if (!slot) {
    slot = std::make_unique<ResourceType>();
    slot->name = interface;
    if (!interface.empty()) slot->name.push_back('#');
    slot->name.append(name);
  }
  if (dtor) slot->host_dtor = std::move(dtor);
  return slot.get();
}

const HostFn* HostRegistry::find_function(std::string_view interface, std::string_view function) const {
  return lookup(functions_, interface, function);
}

const ResourceType* HostRegistry::find_resource(std::string_view interface, std::string_view name) const {
  auto* p = lookup(resources_, interface, name);
  return p == nullptr ? nullptr : p->get();
}

const char* val_kind_name(ValKind k) {
  static const char* const names[] = {"bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64",
                                      "f32", "f64", "char", "string", "list", "record", "tuple",
                                      "variant", "enum", "option", "result", "flags", "own", "borrow"};
  return names[static_cast<size_t>(k)];
}

std::string Val::to_string() const {
  std::string out = val_kind_name(kind);
  auto list = [&](const char* open, const char* close) {
    out += open;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out.append(", ");
      out.append(items[i].to_string());
    }
    out += close;
  };
  switch (kind) {
    case ValKind::kBool: return bits ? "true" : "false";
    case ValKind::kS8: case ValKind::kS16: case ValKind::kS32: case ValKind::kS64:
      return out + "(" + std::to_string(as_signed()) + ")";
    case ValKind::kF32: case ValKind::kF64: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", f);
      return out + "(" + buf + ")";
    }
    case ValKind::kString: return out + "(" + quote_untrusted(str, 256) + ")";
    case ValKind::kList: case ValKind::kRecord: case ValKind::kTuple: list("{", "}"); return out;
    case ValKind::kVariant: case ValKind::kOption: case ValKind::kResult:
      out.push_back('#');
      out.append(std::to_string(bits));
      if (!items.empty()) list("(", ")");
      return out;
    case ValKind::kOwn: case ValKind::kBorrow:
      return out + "(" + (resource ? display_untrusted(resource->name) : "?") + ", " + std::to_string(bits) + ")";
    default: return out + "(" + std::to_string(bits) + ")";
  }
}

bool operator==(const Val& a, const Val& b) {
  if (a.kind != b.kind || a.bits != b.bits || a.str != b.str || a.items != b.items || a.resource != b.resource) {
    return false;
  }
  if (a.kind == ValKind::kF32 || a.kind == ValKind::kF64) {
    return (std::isnan(a.f) && std::isnan(b.f)) || a.f == b.f;
  }
  return true;
}

}  // namespace wasmcap::component
