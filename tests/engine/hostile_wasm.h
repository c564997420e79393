// Hostile module builders for the AOT translator's tests and its fuzz target's seeds: names made
// to break out of the C that wasm2c writes, and structures made to exhaust the translator's stack
// or memory. Bytes are written directly (no wat): several of these are beyond what the text tools
// accept or produce in reasonable time. The writers (leb, sleb, str, section, header) are the AOT
// tests' one module writer (aot_test_support.h, aot_split_test.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wasmcap::testing::hostile {

using Bytes = std::vector<uint8_t>;

inline void leb(Bytes& o, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    o.push_back(v ? (b | 0x80) : b);
  } while (v);
}

// A signed LEB128 (i32.const, i64.const immediates).
inline void sleb(Bytes& o, int64_t v) {
  while (true) {
    uint8_t b = v & 0x7f;
    v >>= 7;  // arithmetic: the sign is kept
    if ((v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0)) {
      o.push_back(b);
      return;
    }
    o.push_back(b | 0x80);
  }
}

inline void str(Bytes& o, std::string_view s) {
  leb(o, s.size());
  o.insert(o.end(), s.begin(), s.end());
}

inline void section(Bytes& out, uint8_t id, const Bytes& body) {
  out.push_back(id);
  leb(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

inline Bytes header() { return {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}; }

// Where a hostile name goes.
enum class Where {
  kExport,        // name of an exported function (besides _start)
  kImportField,   // field of a function import (module "wasi_snapshot_preview1")
  kImportModule,  // module of a function import (field "fd_write")
  kCustom,        // name of a custom section
  kNameSection,   // module, function and local names in the "name" section
  kLinking,       // a function's symbol name in a "linking" section (wabt reads it into the IR)
};

inline const char* where_name(Where w) {
  switch (w) {
    case Where::kExport: return "export";
    case Where::kImportField: return "import_field";
    case Where::kImportModule: return "import_module";
    case Where::kCustom: return "custom";
    case Where::kNameSection: return "name_section";
    case Where::kLinking: return "linking";
  }
  return "?";
}

inline const Where kAllWheres[] = {Where::kExport, Where::kImportField, Where::kImportModule,
                                   Where::kCustom, Where::kNameSection, Where::kLinking};

// A WASI command whose _start does nothing, carrying `name` at `where`. Runs cleanly (exit 0)
// unless the name is an import, which no host grants (link_error), or is invalid UTF-8 where
// the binary format requires UTF-8 (module_malformed).
inline Bytes named_module(std::string_view name, Where where) {
  Bytes m = header();
  Bytes types;  // type 0: () -> (); type 1: (i32 i32 i32 i32) -> i32 (fd_write's shape)
  leb(types, 2);
  types.insert(types.end(), {0x60, 0x00, 0x00});
  types.insert(types.end(), {0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f});
  section(m, 1, types);
  const bool import = where == Where::kImportField || where == Where::kImportModule;
  if (import) {
    Bytes imports;
    leb(imports, 1);
    str(imports, where == Where::kImportModule ? name : "wasi_snapshot_preview1");
    str(imports, where == Where::kImportField ? name : "fd_write");
    imports.push_back(0x00);  // func
    leb(imports, 1);
    section(m, 2, imports);
  }
  const uint32_t base = import ? 1 : 0;
  Bytes funcs;  // two functions of type 0: _start and a second one
  leb(funcs, 2);
  funcs.insert(funcs.end(), {0x00, 0x00});
  section(m, 3, funcs);
  Bytes exports;
  leb(exports, where == Where::kExport ? 2 : 1);
  str(exports, "_start");
  exports.push_back(0x00);
  leb(exports, base);
  if (where == Where::kExport) {
    str(exports, name);
    exports.push_back(0x00);
    leb(exports, base + 1);
  }
  section(m, 7, exports);
  Bytes code;
  leb(code, 2);
  code.insert(code.end(), {0x02, 0x00, 0x0b});              // _start: no locals, end
  code.insert(code.end(), {0x04, 0x01, 0x01, 0x7f, 0x0b});  // one i32 local
  section(m, 10, code);
  if (where == Where::kCustom) {
    Bytes custom;
    str(custom, name);
    custom.insert(custom.end(), {'x', 'y'});
    section(m, 0, custom);
  }
  if (where == Where::kLinking) {
    Bytes linking;
    str(linking, "linking");
    leb(linking, 2);  // version
    Bytes table;      // WASM_SYMBOL_TABLE: one defined function symbol, named
    leb(table, 1);
    table.push_back(0x00);  // function
    leb(table, 0);          // flags: defined, so the name is present
    leb(table, base + 1);
    str(table, name);
    linking.push_back(8);
    leb(linking, table.size());
    linking.insert(linking.end(), table.begin(), table.end());
    section(m, 0, linking);
  }
  if (where == Where::kNameSection) {
    Bytes names;
    str(names, "name");
    Bytes sub;
    str(sub, name);  // module name
    names.push_back(0);
    leb(names, sub.size());
    names.insert(names.end(), sub.begin(), sub.end());
    sub.clear();  // function names
    leb(sub, 2);
    leb(sub, base);
    str(sub, name);
    leb(sub, base + 1);
    str(sub, std::string(name) + "2");
    names.push_back(1);
    leb(names, sub.size());
    names.insert(names.end(), sub.begin(), sub.end());
    sub.clear();  // local names
    leb(sub, 1);
    leb(sub, base + 1);
    leb(sub, 1);
    leb(sub, 0);
    str(sub, name);
    names.push_back(2);
    leb(names, sub.size());
    names.insert(names.end(), sub.begin(), sub.end());
    section(m, 0, names);
  }
  return m;
}

// C that creates `marker` when the object is loaded, wrapped to close and reopen a comment. The
// one-line form works where a name is copied once; the guarded form where it is copied into
// both the header and the C file.
inline std::string constructor_payload(const std::string& marker) {
  return "*/ extern int creat(const char*, unsigned int); "
         "__attribute__((constructor)) static void wasmcap_injected(void) { creat(\"" +
         marker + "\", 0644u); } /*";
}
inline std::string guarded_constructor_payload(const std::string& marker) {
  return "*/\n#ifndef WASMCAP_INJECTED\n#define WASMCAP_INJECTED\n"
         "extern int creat(const char*, unsigned int);\n"
         "__attribute__((constructor)) static void wasmcap_injected(void) { creat(\"" +
         marker + "\", 0644u); }\n#endif\n/*";
}

// Names that each break out of C text in some way (the marker payload is added by the caller).
inline std::vector<std::pair<std::string, std::string>> hostile_names() {
  std::vector<std::pair<std::string, std::string>> v;
  v.push_back({"comment_end_error", "*/\n#error injected through a name\n/*"});
  v.push_back({"newline_include", "x\n#include \"/nonexistent/injected.h\"\n"});
  v.push_back({"backslash_newline", "x \\\n#error injected after a line splice\n"});
  // "?" "?/" is the trigraph for a backslash, "?" "?=" for '#' (split so this file has none).
  v.push_back({"trigraphs", "?" "?/\n?" "?=error injected through trigraphs\n*/ ?" "?= error x /*"});
  v.push_back({"nul", std::string("a\0*/ #error after a NUL /*", 27)});
  v.push_back({"quotes", "' */ unsigned evil(void); /* export: 'x' */\n"});
  v.push_back({"invalid_utf8", "\xff\xfe*/ #error invalid utf-8 /*\xc0\x80"});
  v.push_back({"huge", std::string(1 << 20, 'N') + "*/"});
  return v;
}

// A function nesting `depth` blocks, exported as _start.
inline Bytes nested_blocks(uint32_t depth) {
  Bytes m = header();
  section(m, 1, {0x01, 0x60, 0x00, 0x00});
  section(m, 3, {0x01, 0x00});
  Bytes exports;
  leb(exports, 1);
  str(exports, "_start");
  exports.insert(exports.end(), {0x00, 0x00});
  section(m, 7, exports);
  Bytes body;
  body.push_back(0x00);  // no locals
  for (uint32_t i = 0; i < depth; ++i) body.insert(body.end(), {0x02, 0x40});
  for (uint32_t i = 0; i < depth; ++i) body.push_back(0x0b);
  body.push_back(0x0b);
  Bytes code;
  leb(code, 1);
  leb(code, body.size());
  code.insert(code.end(), body.begin(), body.end());
  section(m, 10, code);
  return m;
}

// _start (empty) plus a second, never called function declaring `count` i32 locals.
inline Bytes many_locals(uint64_t count) {
  Bytes m = header();
  section(m, 1, {0x01, 0x60, 0x00, 0x00});
  section(m, 3, {0x02, 0x00, 0x00});
  Bytes exports;
  leb(exports, 1);
  str(exports, "_start");
  exports.insert(exports.end(), {0x00, 0x00});
  section(m, 7, exports);
  Bytes body;
  leb(body, 1);
  leb(body, count);
  body.push_back(0x7f);
  body.push_back(0x0b);
  Bytes code;
  leb(code, 2);
  code.insert(code.end(), {0x02, 0x00, 0x0b});
  leb(code, body.size());
  code.insert(code.end(), body.begin(), body.end());
  section(m, 10, code);
  return m;
}

// _start runs `block (br_table 0 0 ... 0 (i32.const 0)) end` with `targets` labels.
inline Bytes big_br_table(uint32_t targets) {
  Bytes m = header();
  section(m, 1, {0x01, 0x60, 0x00, 0x00});
  section(m, 3, {0x01, 0x00});
  Bytes exports;
  leb(exports, 1);
  str(exports, "_start");
  exports.insert(exports.end(), {0x00, 0x00});
  section(m, 7, exports);
  Bytes body{0x00, 0x02, 0x40, 0x41, 0x00, 0x0e};
  leb(body, targets);
  body.insert(body.end(), targets, 0x00);
  body.push_back(0x00);  // default
  body.insert(body.end(), {0x0b, 0x0b});
  Bytes code;
  leb(code, 1);
  leb(code, body.size());
  code.insert(code.end(), body.begin(), body.end());
  section(m, 10, code);
  return m;
}

// _start (empty) plus `n` more empty functions.
inline Bytes many_functions(uint32_t n) {
  Bytes m = header();
  section(m, 1, {0x01, 0x60, 0x00, 0x00});
  Bytes funcs;
  leb(funcs, n + 1);
  funcs.insert(funcs.end(), n + 1, 0x00);
  section(m, 3, funcs);
  Bytes exports;
  leb(exports, 1);
  str(exports, "_start");
  exports.insert(exports.end(), {0x00, 0x00});
  section(m, 7, exports);
  Bytes code;
  leb(code, n + 1);
  for (uint32_t i = 0; i <= n; ++i) code.insert(code.end(), {0x02, 0x00, 0x0b});
  section(m, 10, code);
  return m;
}

// _start (empty) plus a never called function of `n` i32 parameters.
inline Bytes many_params(uint32_t n) {
  Bytes m = header();
  Bytes types;
  leb(types, 2);
  types.insert(types.end(), {0x60, 0x00, 0x00, 0x60});
  leb(types, n);
  types.insert(types.end(), n, 0x7f);
  types.push_back(0x00);
  section(m, 1, types);
  section(m, 3, {0x02, 0x00, 0x01});
  Bytes exports;
  leb(exports, 1);
  str(exports, "_start");
  exports.insert(exports.end(), {0x00, 0x00});
  section(m, 7, exports);
  section(m, 10, {0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b});
  return m;
}

}  // namespace wasmcap::testing::hostile
