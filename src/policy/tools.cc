// The manifest's "tools" section: names, schemas (closed subset, json_schema.h), annotations and
// the calling convention (docs/abi-tools.md). Everything is checked here, at parse time, so the
// MCP server only ever sees tools it can call exactly as declared.
#include "policy/tools.h"

#include <algorithm>

#include "policy/json_schema.h"

namespace wasmcap::policy {

bool valid_tool_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

namespace {

// A word of argv: C strings cannot hold NUL.
Result<std::string> word(const Doc& d, const Json& v, const std::string& path) {
  std::string s;
  WASMCAP_TRY_ASSIGN(s, d.string(v, path));
  if (s.find('\0') != std::string::npos) return d.fail(path, "must not contain NUL");
  return s;
}

// The single type name of property `arg` in the input schema, or an error: the template must
// know how a value is rendered, so properties it uses need exactly one declared type.
Result<std::string> property_type(const Doc& d, const Json& input_schema, const std::string& arg,
                                  const std::string& path) {
  const Json* props = member(input_schema, "properties");
  const Json* p = props != nullptr ? member(*props, arg) : nullptr;
  if (p == nullptr) {
    return d.fail(path, "argument " + quote(arg) + " is not a property of input_schema");
  }
  const Json* t = member(*p, "type");
  if (t == nullptr || !t->is_string()) {
    return d.fail(path, "argument " + quote(arg) +
                            " must declare exactly one \"type\" in input_schema (the template "
                            "renders it by type)");
  }
  return t->get<std::string>();
}

Result<ArgvPart> read_part(const Doc& d, const Json& v, const std::string& path,
                           const Json& input_schema, bool after_dashdash) {
  ArgvPart p;
  p.after_dashdash = after_dashdash;
  if (v.is_string()) {
    p.kind = ArgvPart::Kind::kLiteral;
    WASMCAP_TRY_ASSIGN(p.text, word(d, v, path));
    return p;
  }
  WASMCAP_TRY(d.object(v, path, {"arg", "args", "flag", "if", "option"}));
  auto name_of = [&](std::string_view key) -> Result<std::string> {
    const Json* a = nullptr;
    WASMCAP_TRY_ASSIGN(a, d.required(v, path, key));
    return d.string(*a, member_path(path, key));
  };
  std::string type;
  if (member(v, "flag") != nullptr) {
    WASMCAP_TRY(d.object(v, path, {"flag", "if"}));
    p.kind = ArgvPart::Kind::kFlag;
    WASMCAP_TRY_ASSIGN(p.text, word(d, *member(v, "flag"), member_path(path, "flag")));
    WASMCAP_TRY_ASSIGN(p.arg, name_of("if"));
    WASMCAP_TRY_ASSIGN(type, property_type(d, input_schema, p.arg, member_path(path, "if")));
    if (type != "boolean") return d.fail(member_path(path, "if"), "must name a boolean argument");
  } else if (member(v, "option") != nullptr) {
    WASMCAP_TRY(d.object(v, path, {"option", "arg"}));
    p.kind = ArgvPart::Kind::kOption;
    WASMCAP_TRY_ASSIGN(p.text, word(d, *member(v, "option"), member_path(path, "option")));
    WASMCAP_TRY_ASSIGN(p.arg, name_of("arg"));
    WASMCAP_TRY_ASSIGN(type, property_type(d, input_schema, p.arg, member_path(path, "arg")));
    if (type != "string" && type != "integer" && type != "number") {
      return d.fail(member_path(path, "arg"), "must name a string, integer or number argument");
    }
  } else if (member(v, "args") != nullptr) {
    WASMCAP_TRY(d.object(v, path, {"args"}));
    p.kind = ArgvPart::Kind::kArgs;
    WASMCAP_TRY_ASSIGN(p.arg, name_of("args"));
    WASMCAP_TRY_ASSIGN(type, property_type(d, input_schema, p.arg, member_path(path, "args")));
    const Json* items = member(*member(*member(input_schema, "properties"), p.arg), "items");
    const Json* it = items != nullptr ? member(*items, "type") : nullptr;
    bool ok = type == "array" && it != nullptr && it->is_string() &&
              (*it == "string" || *it == "integer" || *it == "number");
    if (!ok) {
      return d.fail(member_path(path, "args"),
                    "must name an array argument whose items have type string, integer or number");
    }
  } else if (member(v, "arg") != nullptr) {
    WASMCAP_TRY(d.object(v, path, {"arg"}));
    p.kind = ArgvPart::Kind::kArg;
    WASMCAP_TRY_ASSIGN(p.arg, name_of("arg"));
    WASMCAP_TRY_ASSIGN(type, property_type(d, input_schema, p.arg, member_path(path, "arg")));
    if (type != "string" && type != "integer" && type != "number") {
      return d.fail(member_path(path, "arg"), "must name a string, integer or number argument");
    }
  } else {
    return d.fail(path, "must be a string or one of {\"arg\"}, {\"args\"}, {\"flag\", \"if\"}, "
                        "{\"option\", \"arg\"}");
  }
  return p;
}

Result<ToolAnnotations> read_annotations(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(d.object(v, path, {"readOnlyHint", "destructiveHint", "idempotentHint",
                                 "openWorldHint"}));
  ToolAnnotations a;
  auto opt = [&](std::string_view key, std::optional<bool>& out) -> Result<void> {
    if (const Json* b = member(v, key)) {
      bool x = false;
      WASMCAP_TRY_ASSIGN(x, d.boolean(*b, member_path(path, key)));
      out = x;
    }
    return {};
  };
  WASMCAP_TRY(opt("readOnlyHint", a.read_only));
  WASMCAP_TRY(opt("destructiveHint", a.destructive));
  WASMCAP_TRY(opt("idempotentHint", a.idempotent));
  WASMCAP_TRY(opt("openWorldHint", a.open_world));
  return a;
}

// An input or output schema: the closed subset, and (as MCP requires) an object at the top.
Result<std::string> read_tool_schema(const Doc& d, const Json& v, const std::string& path) {
  WASMCAP_TRY(check_schema(d, v, path));
  const Json* t = member(v, "type");
  if (t == nullptr || *t != "object") {
    return d.fail(member_path(path, "type"), "must be \"object\" (MCP tool schemas describe an "
                                             "object)");
  }
  return v.dump();
}

Result<Tool> read_tool(const Doc& d, const Json& v, const std::string& path,
                       const Permissions& perms) {
  WASMCAP_TRY(d.object(v, path, {"name", "title", "description", "input_schema", "output_schema",
                                 "annotations", "invoke"}));
  Tool t;
  const Json* n = nullptr;
  WASMCAP_TRY_ASSIGN(n, d.required(v, path, "name"));
  WASMCAP_TRY_ASSIGN(t.name, d.string(*n, member_path(path, "name")));
  if (!valid_tool_name(t.name)) {
    return d.fail(member_path(path, "name"), "must match [A-Za-z0-9_-]{1,64}, got " + quote(t.name));
  }
  if (const Json* x = member(v, "title")) WASMCAP_TRY_ASSIGN(t.title, d.string(*x, member_path(path, "title")));
  if (const Json* x = member(v, "description")) {
    WASMCAP_TRY_ASSIGN(t.description, d.string(*x, member_path(path, "description")));
  }
  const Json* in = nullptr;
  WASMCAP_TRY_ASSIGN(in, d.required(v, path, "input_schema"));
  WASMCAP_TRY_ASSIGN(t.input_schema, read_tool_schema(d, *in, member_path(path, "input_schema")));
  if (const Json* out = member(v, "output_schema")) {
    WASMCAP_TRY_ASSIGN(t.output_schema, read_tool_schema(d, *out, member_path(path, "output_schema")));
  }
  if (const Json* a = member(v, "annotations")) {
    WASMCAP_TRY_ASSIGN(t.annotations, read_annotations(d, *a, member_path(path, "annotations")));
  }
  const Json* inv = nullptr;
  std::string ipath = member_path(path, "invoke");
  WASMCAP_TRY_ASSIGN(inv, d.required(v, path, "invoke"));
  WASMCAP_TRY(d.object(*inv, ipath, {"argv", "stdin", "stdout"}));
  if (const Json* s = member(*inv, "stdin")) {
    std::string x;
    WASMCAP_TRY_ASSIGN(x, d.string(*s, member_path(ipath, "stdin")));
    if (x != "none" && x != "json") return d.fail(member_path(ipath, "stdin"), "must be \"none\" or \"json\"");
    t.stdin_json = x == "json";
  }
  if (const Json* s = member(*inv, "stdout")) {
    std::string x;
    WASMCAP_TRY_ASSIGN(x, d.string(*s, member_path(ipath, "stdout")));
    if (x != "text" && x != "json") return d.fail(member_path(ipath, "stdout"), "must be \"text\" or \"json\"");
    t.stdout_json = x == "json";
  }
  if (!t.output_schema.empty() && !t.stdout_json) {
    return d.fail(member_path(path, "output_schema"),
                  "needs \"invoke\": {\"stdout\": \"json\"} (structured output is JSON)");
  }
  if (const Json* argv = member(*inv, "argv")) {
    std::string apath = member_path(ipath, "argv");
    WASMCAP_TRY(d.array(*argv, apath));
    if (argv->size() > kMaxArgvParts) {
      return d.fail(apath, "more than " + std::to_string(kMaxArgvParts) + " parts");
    }
    if (!argv->empty() && !perms.args) {
      return d.fail(apath, "an argv template needs \"permissions\": {\"args\": true}");
    }
    Json schema = *in;
    bool dashdash = false;
    for (size_t i = 0; i < argv->size(); ++i) {
      ArgvPart part;
      WASMCAP_TRY_ASSIGN(part, read_part(d, (*argv)[i], index_path(apath, i), schema, dashdash));
      if (part.kind == ArgvPart::Kind::kLiteral && part.text == "--") dashdash = true;
      t.argv.push_back(std::move(part));
    }
  }
  return t;
}

}  // namespace

Result<std::vector<Tool>> read_tools(const Doc& d, const Json& v, const std::string& path,
                                     const Permissions& perms) {
  WASMCAP_TRY(d.array(v, path));
  if (v.size() > kMaxTools) return d.fail(path, "more than " + std::to_string(kMaxTools) + " tools");
  std::vector<Tool> tools;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string tpath = index_path(path, i);
    Tool t;
    WASMCAP_TRY_ASSIGN(t, read_tool(d, v[i], tpath, perms));
    for (const auto& prev : tools) {
      if (prev.name == t.name) return d.fail(member_path(tpath, "name"), "duplicate tool " + quote(t.name));
    }
    tools.push_back(std::move(t));
  }
  return tools;
}

Result<void> read_component_tools(const Doc& d, const Json& v, const std::string& path,
                                  Manifest* m) {
  if (v.is_boolean()) {
    m->component_tools_all = v.get<bool>();
    return {};
  }
  WASMCAP_TRY(d.array(v, path));
  if (v.size() > kMaxTools) return d.fail(path, "more than " + std::to_string(kMaxTools) + " names");
  for (size_t i = 0; i < v.size(); ++i) {
    std::string p = path + "[" + std::to_string(i) + "]";
    std::string name;
    WASMCAP_TRY_ASSIGN(name, d.string(v[i], p));
    bool ok = !name.empty() && name.size() <= 256 &&
              std::all_of(name.begin(), name.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == ':' || c == '/' || c == '@' || c == '.' || c == '+' || c == '_' ||
                       c == '-';
              });
    if (!ok) {
      return d.fail(p, "an export name: 1-256 characters of A-Z a-z 0-9 : / @ . + _ - "
                       "(an exported interface, e.g. \"example:calc/ops@1.0.0\", or a function)");
    }
    if (std::find(m->component_tools.begin(), m->component_tools.end(), name) !=
        m->component_tools.end()) {
      return d.fail(p, "listed twice");
    }
    m->component_tools.push_back(std::move(name));
  }
  return {};
}

}  // namespace wasmcap::policy
