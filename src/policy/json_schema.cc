// The closed JSON Schema subset of tool manifests (see json_schema.h for why it is our own).
#include "policy/json_schema.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace wasmcap::policy {

namespace {

constexpr std::array<std::string_view, 7> kTypeNames = {"object", "array",   "string", "integer",
                                                        "number", "boolean", "null"};

bool is_type_name(std::string_view s) {
  return std::find(kTypeNames.begin(), kTypeNames.end(), s) != kTypeNames.end();
}

// True when `v` is an instance of JSON Schema type `t`.
bool has_type(const Json& v, std::string_view t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "number") return v.is_number();
  if (t == "integer") {
    if (v.is_number_integer()) return true;
    // 1.0 is an integer in JSON Schema (mathematical value, not spelling).
    if (v.is_number_float()) {
      double d = v.get<double>();
      return std::isfinite(d) && std::floor(d) == d;
    }
  }
  return false;
}

// Unicode code points in valid UTF-8 (JSON strings are; nlohmann rejects invalid input): every
// byte that is not a continuation byte starts one.
size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

struct Checker {
  const Doc& d;
  size_t nodes = 0;

  Result<void> non_negative(const Json& v, const std::string& path) {
    WASMCAP_TRY(d.uint(v, path, 0, UINT32_MAX));
    return {};
  }

  Result<void> schema(const Json& s, const std::string& path) {
    // Boolean schemas (true/false) are not accepted: an author writing `false` for a property
    // most likely meant something else, and `true` says nothing.
    WASMCAP_TRY(d.object(s, path,
                         {"type", "properties", "required", "items", "enum", "const",
                          "additionalProperties", "minLength", "maxLength", "minimum", "maximum",
                          "minItems", "maxItems", "title", "description", "default", "examples",
                          "$schema"},
                         "JSON Schema keyword (see docs/manifest.md#tool-schemas)"));
    nodes += s.size() + 1;
    if (nodes > kMaxSchemaNodes) {
      return d.fail(path, "schema too large (more than " + std::to_string(kMaxSchemaNodes) +
                              " keywords in one tool schema)");
    }
    if (const Json* t = member(s, "type")) {
      std::string tpath = member_path(path, "type");
      if (t->is_string()) {
        if (!is_type_name(t->get_ref<const std::string&>())) {
          return d.fail(tpath, "unknown type " + quote(t->get_ref<const std::string&>()));
        }
      } else if (t->is_array() && !t->empty()) {
        for (size_t i = 0; i < t->size(); ++i) {
          const Json& e = (*t)[i];
          if (!e.is_string() || !is_type_name(e.get_ref<const std::string&>())) {
            return d.fail(index_path(tpath, i), "must be a JSON Schema type name");
          }
          for (size_t j = 0; j < i; ++j) {
            if ((*t)[j] == e) return d.fail(index_path(tpath, i), "duplicate type");
          }
        }
      } else {
        return d.fail(tpath, "must be a type name or a non-empty array of them");
      }
    }
    if (const Json* props = member(s, "properties")) {
      std::string ppath = member_path(path, "properties");
      WASMCAP_TRY(d.map(*props, ppath));
      for (const auto& [name, sub] : props->items()) {
        WASMCAP_TRY(schema(sub, member_path(ppath, name)));
      }
    }
    if (const Json* req = member(s, "required")) {
      std::string rpath = member_path(path, "required");
      WASMCAP_TRY(d.array(*req, rpath));
      for (size_t i = 0; i < req->size(); ++i) {
        WASMCAP_TRY(d.string((*req)[i], index_path(rpath, i)));
        for (size_t j = 0; j < i; ++j) {
          if ((*req)[j] == (*req)[i]) return d.fail(index_path(rpath, i), "duplicate name");
        }
      }
    }
    if (const Json* items = member(s, "items")) {
      // Only the single-schema form: tuple forms (arrays, prefixItems) are outside the subset.
      WASMCAP_TRY(schema(*items, member_path(path, "items")));
    }
    if (const Json* ap = member(s, "additionalProperties")) {
      if (!ap->is_boolean()) WASMCAP_TRY(schema(*ap, member_path(path, "additionalProperties")));
    }
    if (const Json* e = member(s, "enum")) {
      std::string epath = member_path(path, "enum");
      WASMCAP_TRY(d.array(*e, epath));
      if (e->empty()) return d.fail(epath, "must not be empty");
    }
    for (std::string_view k : {"minLength", "maxLength", "minItems", "maxItems"}) {
      if (const Json* v = member(s, k)) WASMCAP_TRY(non_negative(*v, member_path(path, k)));
    }
    for (std::string_view k : {"minimum", "maximum"}) {
      if (const Json* v = member(s, k); v != nullptr && !v->is_number()) {
        return d.fail(member_path(path, k), "must be a number");
      }
    }
    for (std::string_view k : {"title", "description", "$schema"}) {
      if (const Json* v = member(s, k)) WASMCAP_TRY(d.string(*v, member_path(path, k)));
    }
    return {};
  }
};

std::string show(const Json& v) {
  return quote(v.dump(-1, ' ', true, Json::error_handler_t::replace));
}

// Recursion depth is bounded by the schema's depth (no $ref), itself bounded by the manifest's
// nesting limit; the value is walked only where the schema has sub-schemas.
std::optional<std::string> validate(const Json& s, const Json& v, const std::string& path) {
  if (const Json* t = member(s, "type")) {
    bool ok = false;
    if (t->is_string()) {
      ok = has_type(v, t->get_ref<const std::string&>());
    } else {
      for (const Json& e : *t) ok = ok || has_type(v, e.get_ref<const std::string&>());
    }
    if (!ok) {
      return path + ": must be of type " + t->dump() + ", got " + std::string(type_name(v));
    }
  }
  if (const Json* c = member(s, "const"); c != nullptr && *c != v) {
    return path + ": must be " + show(*c);
  }
  if (const Json* e = member(s, "enum")) {
    if (std::find(e->begin(), e->end(), v) == e->end()) {
      return path + ": must be one of " + show(*e) + ", got " + show(v);
    }
  }
  if (v.is_string()) {
    size_t n = code_points(v.get_ref<const std::string&>());
    if (const Json* m = member(s, "minLength"); m != nullptr && n < m->get<uint64_t>()) {
      return path + ": shorter than " + m->dump() + " characters";
    }
    if (const Json* m = member(s, "maxLength"); m != nullptr && n > m->get<uint64_t>()) {
      return path + ": longer than " + m->dump() + " characters";
    }
  }
  if (v.is_number()) {
    double x = v.get<double>();
    if (const Json* m = member(s, "minimum"); m != nullptr && x < m->get<double>()) {
      return path + ": below the minimum " + m->dump();
    }
    if (const Json* m = member(s, "maximum"); m != nullptr && x > m->get<double>()) {
      return path + ": above the maximum " + m->dump();
    }
  }
  if (v.is_array()) {
    if (const Json* m = member(s, "minItems"); m != nullptr && v.size() < m->get<uint64_t>()) {
      return path + ": fewer than " + m->dump() + " items";
    }
    if (const Json* m = member(s, "maxItems"); m != nullptr && v.size() > m->get<uint64_t>()) {
      return path + ": more than " + m->dump() + " items";
    }
    if (const Json* items = member(s, "items")) {
      for (size_t i = 0; i < v.size(); ++i) {
        if (auto p = validate(*items, v[i], index_path(path, i))) return p;
      }
    }
  }
  if (v.is_object()) {
    if (const Json* req = member(s, "required")) {
      for (const Json& name : *req) {
        const std::string& n = name.get_ref<const std::string&>();
        if (!v.contains(n)) return member_path(path, n) + ": required";
      }
    }
    const Json* props = member(s, "properties");
    const Json* ap = member(s, "additionalProperties");
    for (const auto& [key, sub] : v.items()) {
      const Json* ps = props != nullptr ? member(*props, key) : nullptr;
      if (ps != nullptr) {
        if (auto p = validate(*ps, sub, member_path(path, key))) return p;
      } else if (ap != nullptr) {
        if (ap->is_boolean()) {
          if (!ap->get<bool>()) return member_path(path, key) + ": unknown property";
        } else if (auto p = validate(*ap, sub, member_path(path, key))) {
          return p;
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Result<void> check_schema(const Doc& d, const Json& schema, const std::string& path) {
  Checker c{d};
  return c.schema(schema, path);
}

std::optional<std::string> validate_against_schema(const Json& schema, const Json& value) {
  return validate(schema, value, "$");
}

}  // namespace wasmcap::policy
