// The AOT translator's reading and patching of wasm2c's C output. Every patch must match the
// output exactly once (or as documented), else the module is refused (unexpected_output): a
// different wabt build never gets code whose traps or interrupts might not work.
// Built as C++17: wabt headers (NOTES-toolchain.md).
#include "engine/aot/translate_internal.h"

#include <cctype>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wabt/ir.h"

namespace wasmcap::aot::detail {
namespace {

// memory.fill and memory.copy in chunks of 1 MiB with the interrupt flag checked between two
// (wasmcap_bulk_done unwinds when it is raised): one 4 GiB fill (about a second of memset, where
// the preemption signal finds no guest code) stops within a chunk of its deadline, as on the
// interpreters (engine/bulk.h). A copy runs front to back when the destination is below the
// source and back to front otherwise, so overlapping ranges move as memmove moves them.
constexpr const char* kBulkChunkHelpers = R"(#define WASMCAP_BULK_CHUNK ((u64)1 << 20)
static inline void wasmcap_fill(u8* p, u32 v, u64 n) {
  while (UNLIKELY(n > WASMCAP_BULK_CHUNK)) {
    memset(p, (int)v, WASMCAP_BULK_CHUNK);
    p += WASMCAP_BULK_CHUNK;
    n -= WASMCAP_BULK_CHUNK;
    wasmcap_bulk_done();
  }
  memset(p, (int)v, n);
}
static inline void wasmcap_move(u8* d, const u8* s, u64 n) {
  if (LIKELY(n <= WASMCAP_BULK_CHUNK) || d == s) {
    memmove(d, s, n);
  } else if (d < s) {
    while (n > WASMCAP_BULK_CHUNK) {
      memmove(d, s, WASMCAP_BULK_CHUNK);
      d += WASMCAP_BULK_CHUNK;
      s += WASMCAP_BULK_CHUNK;
      n -= WASMCAP_BULK_CHUNK;
      wasmcap_bulk_done();
    }
    memmove(d, s, n);
  } else {
    while (n > WASMCAP_BULK_CHUNK) {
      n -= WASMCAP_BULK_CHUNK;
      memmove(d + n, s + n, WASMCAP_BULK_CHUNK);
      wasmcap_bulk_done();
    }
    memmove(d, s, n);
  }
}
)";

// --- Reading wasm2c's output -----------------------------------------------------------------

// The prototype following the comment `marker` in the header (wasm2c writes one comment per
// import and export: "/* import: 'mod' 'name' */", "/* export: 'name' */"), or nullopt.
std::optional<Decl> declaration(const std::string& h, const std::string& marker) {
  size_t pos = h.find(marker);
  if (pos == std::string::npos || h.find(marker, pos + 1) != std::string::npos) return {};
  {
    size_t eol = h.find('\n', pos);
    if (eol == std::string::npos) return {};
    size_t end = h.find(';', eol);
    if (end == std::string::npos) return {};
    std::string line = h.substr(eol + 1, end - eol - 1);
    size_t paren = line.find('(');
    if (paren == std::string::npos) return {};
    size_t name_end = paren;
    size_t name_begin = name_end;
    while (name_begin > 0 && (std::isalnum(static_cast<unsigned char>(line[name_begin - 1])) ||
                              line[name_begin - 1] == '_')) {
      --name_begin;
    }
    Decl d;
    d.name = line.substr(name_begin, name_end - name_begin);
    d.ret = line.substr(0, name_begin);
    while (!d.ret.empty() && d.ret.back() == ' ') d.ret.pop_back();
    size_t first_end = line.find_first_of(",)", paren);
    d.first = line.substr(paren + 1, first_end - paren - 1);
    return d;
  }
}

// wasm2c declares the accessor of an imported memory or global as
// "extern RET NAME(struct Z_x_instance_t*);" (no comment before it), or nullopt.
std::optional<Decl> extern_declaration(const std::string& h, const std::string& name) {
  const std::string marker = " " + name + "(";
  size_t pos = h.find(marker);
  if (pos == std::string::npos || h.find(marker, pos + 1) != std::string::npos) return {};
  size_t bol = h.rfind('\n', pos);
  bol = bol == std::string::npos ? 0 : bol + 1;
  if (h.compare(bol, 7, "extern ") != 0) return {};
  size_t close = h.find(");", pos);
  if (close == std::string::npos || h.find('\n', pos) < close) return {};
  Decl d;
  d.name = name;
  d.ret = h.substr(bol + 7, pos - bol - 7);
  d.first = h.substr(pos + marker.size(), close - pos - marker.size());
  return d;
}

// Replaces exactly the occurrences of `from` in s[begin, end); returns how many.
size_t replace_in(std::string& s, size_t begin, size_t end, const std::string& from,
                  const std::string& to) {
  size_t n = 0;
  size_t pos = begin;
  while ((pos = s.find(from, pos)) != std::string::npos && pos + from.size() <= end) {
    s.replace(pos, from.size(), to);
    end = end + to.size() - from.size();
    pos += to.size();
    ++n;
  }
  return n;
}

}  // namespace

// Replaces every occurrence of `from` in s, in one pass (linear in s); returns how many.
size_t replace_all(std::string& s, const std::string& from, const std::string& to) {
  std::string o;
  size_t n = 0, pos = 0;
  for (size_t at; (at = s.find(from, pos)) != std::string::npos; ++n) {
    if (n == 0) o.reserve(s.size());
    o.append(s, pos, at - pos);
    o.append(to);
    pos = at + from.size();
  }
  if (n == 0) return 0;
  o.append(s, pos, std::string::npos);
  s = std::move(o);
  return n;
}

// wasm2c writes each data segment as an array of hex bytes, `static const u8
// data_segment_data_X[] = {\n  0x2d, 0x2b, ...\n};`: about 6 bytes of C per byte of data, and
// gcc keeps a tree node per element, several hundred bytes of compiler memory per data byte
// (esbuild's 7.5 MB of data: 46 MB of C, past 4 GB in cc1: bench/notes/2026-11-23-real-programs.md "Real programs
// from npm"). A string literal of the same bytes is one node. Rewrites every such array into
// `static const u8 data_segment_data_X[N] = "...";` (the explicit size N stores no terminating
// NUL); an array that does not have exactly that shape, or is empty, is left as it is. Linear.
size_t data_as_strings(std::string& c) {
  static const std::string head = "static const u8 data_segment_data_";
  static const char hex[] = "0123456789abcdef";
  std::string o;
  size_t pos = 0, n = 0;
  for (size_t at; (at = c.find(head, pos)) != std::string::npos;) {
    size_t name_end = c.find("[] = {\n", at + head.size());
    size_t nl = c.find('\n', at);
    if (name_end == std::string::npos || name_end > nl) {
      pos = at + head.size();
      continue;
    }
    // Parse "0xHH," tokens separated by blanks and newlines up to "};".
    std::string bytes;
    size_t p = name_end + 7;
    bool ok = true;
    while (true) {
      while (p < c.size() && (c[p] == ' ' || c[p] == '\n')) ++p;
      if (p + 1 < c.size() && c[p] == '}' && c[p + 1] == ';') break;
      auto digit = [&](char ch) -> int {
        const char* d = std::strchr(hex, ch);
        return ch != '\0' && d != nullptr ? static_cast<int>(d - hex) : -1;
      };
      if (p + 5 > c.size() || c[p] != '0' || c[p + 1] != 'x' || digit(c[p + 2]) < 0 ||
          digit(c[p + 3]) < 0 || c[p + 4] != ',') {
        ok = false;
        break;
      }
      bytes.push_back(static_cast<char>(digit(c[p + 2]) * 16 + digit(c[p + 3])));
      p += 5;
    }
    if (!ok || bytes.empty()) {
      pos = name_end;
      continue;
    }
    if (n++ == 0) o.reserve(c.size());
    o.append(c, pos, name_end - pos);
    o += "[" + std::to_string(bytes.size()) + "] =\n  \"";
    size_t col = 0;
    for (unsigned char b : bytes) {
      if (col >= 96) {
        o += "\"\n  \"";
        col = 0;
      }
      if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\' && b != '?') {
        o.push_back(static_cast<char>(b));
        col += 1;
      } else {
        // Always three octal digits: a following digit is never taken into the escape.
        o.push_back('\\');
        o.push_back(static_cast<char>('0' + (b >> 6)));
        o.push_back(static_cast<char>('0' + ((b >> 3) & 7)));
        o.push_back(static_cast<char>('0' + (b & 7)));
        col += 4;
      }
    }
    o += "\";";
    pos = p + 2;  // after "};"
  }
  if (n == 0) return 0;
  o.append(c, pos, std::string::npos);
  c = std::move(o);
  return n;
}

// wasm2c initialises memory with one `LOAD_DATA(instance->M, OFFSETu, data_segment_data_X, SIZE);`
// statement per data segment, all in one function. Go's toolchain emits a segment per symbol
// (esbuild: 100,000), and gcc on a function of 100,000 such statements needs 3.9 GB even at -O0.
// Every run of at least kDataLoopMin consecutive such lines on the same memory becomes a table
// and a loop over it, in the same order (the same first trap, the same bytes). Lines of any
// other shape are left as they are. Linear.
constexpr size_t kDataLoopMin = 16;
size_t data_loads_as_loops(std::string& c) {
  struct Load {
    std::string mem, offset, seg, size;
  };
  // Parses one line [b, e) of the form above.
  auto parse = [&](size_t b, size_t e, Load& l) {
    static const std::string pre = "  LOAD_DATA(instance->";
    if (e - b < pre.size() || c.compare(b, pre.size(), pre) != 0) return false;
    size_t p = b + pre.size();
    auto ident = [&](std::string& out) {
      size_t q = p;
      while (q < e && (std::isalnum(static_cast<unsigned char>(c[q])) || c[q] == '_')) ++q;
      if (q == p) return false;
      out.assign(c, p, q - p);
      p = q;
      return true;
    };
    auto number = [&](std::string& out) {
      size_t q = p;
      while (q < e && q - p < 10 && std::isdigit(static_cast<unsigned char>(c[q]))) ++q;
      if (q == p || q - p > 9) return false;  // < 10^9: fits u32 whatever the digits
      out.assign(c, p, q - p);
      p = q;
      return true;
    };
    auto lit = [&](const char* t) {
      size_t n = std::strlen(t);
      if (e - p < n || c.compare(p, n, t) != 0) return false;
      p += n;
      return true;
    };
    return ident(l.mem) && lit(", ") && number(l.offset) && lit("u, ") && ident(l.seg) &&
           l.seg.rfind("data_segment_data_", 0) == 0 && lit(", ") && number(l.size) &&
           lit(");") && p == e;
  };
  std::string o;
  size_t pos = 0, n = 0, line = 0;
  while (line < c.size()) {
    // A run of parsable lines on one memory, starting at `line`.
    std::vector<Load> run;
    size_t end = line;
    while (end < c.size()) {
      size_t e = c.find('\n', end);
      if (e == std::string::npos) break;
      Load l;
      if (!parse(end, e, l) || (!run.empty() && l.mem != run[0].mem)) break;
      run.push_back(std::move(l));
      end = e + 1;
    }
    if (run.size() < kDataLoopMin) {
      if (run.empty()) {
        size_t e = c.find('\n', line);
        line = e == std::string::npos ? c.size() : e + 1;
      } else {
        line = end;  // the line that ended the run may start one of its own
      }
      continue;
    }
    if (n++ == 0) o.reserve(c.size());
    o.append(c, pos, line - pos);
    o += "  {\n    static const struct { u32 o; const u8* d; u32 s; } wasmcap_segs[] = {\n";
    for (const Load& l : run) o += "      {" + l.offset + "u, " + l.seg + ", " + l.size + "u},\n";
    o += "    };\n    for (size_t i = 0; i < sizeof(wasmcap_segs) / sizeof(wasmcap_segs[0]); ++i)\n"
         "      LOAD_DATA(instance->" + run[0].mem +
         ", wasmcap_segs[i].o, wasmcap_segs[i].d, wasmcap_segs[i].s);\n  }\n";
    pos = line = end;
  }
  if (n == 0) return 0;
  o.append(c, pos, std::string::npos);
  c = std::move(o);
  return n;
}

tl::unexpected<Error> unexpected_output(const std::string& what) {
  // Fail closed: if wabt's output does not look exactly as this code expects (a different wabt
  // build), refuse rather than compile something whose traps or interrupts might not work.
  return make_error(ErrorCode::kModuleUnsupported,
                    "the AOT translator does not recognise wabt " + std::string(wabt_version()) +
                        "'s C output (" + what + "); run with --engine interp");
}

Result<void> patch_prelude(std::string& c, bool shared_tables) {
  // --- Patches of the C output (each must match, or we refuse) -------------------------------
  // 1. call_indirect: wasm2c raises one trap for three causes; the interpreter reports index
  //    beyond the table, null element and signature mismatch separately, so we classify.
  const std::string ci_trap = "       TRAP(CALL_INDIRECT),";
  size_t ci = c.find("#define CALL_INDIRECT(");
  if (ci == std::string::npos ||
      replace_in(c, ci, c.find("\n\n", ci), ci_trap,
                 "       wasmcap_call_indirect_trap(&(table), (x), func_types[ft]),") != 1) {
    return unexpected_output("CALL_INDIRECT");
  }
  // 1b. An element of another instance (a table shared between instances, docs/aot.md
  //     "Shared tables") is called with that instance's context current: the runtime switches
  //     it (cross_enter) and switches back when the call returns (cross_leave, the cleanup of
  //     the statement expression's variable; a trap restores the caller's at its boundary).
  //     Same-instance calls pay one compare of the element's module_instance, which the call
  //     passes anyway, with `instance`, the calling function's own. A module that neither
  //     imports nor exports a table never sees another instance's element: no compare there.
  if (shared_tables) {
    const std::string call = "   ((t)table.data[x].func)(__VA_ARGS__))";
    size_t at = c.find(call, ci);
    if (at == std::string::npos || at > c.find("\n\n", ci)) return unexpected_output("CALL_INDIRECT call");
    c.replace(at, call.size(),
              "   LIKELY(table.data[x].module_instance == (void*)instance)                \\\n"
              "       ? ((t)table.data[x].func)(__VA_ARGS__)                             \\\n"
              "       : ({                                                               \\\n"
              "           __attribute__((cleanup(wasmcap_cross_leave), unused))          \\\n"
              "           void* wasmcap_caller =                                         \\\n"
              "               wasmcap_cross_enter(table.data[x].module_instance);        \\\n"
              "           ((t)table.data[x].func)(__VA_ARGS__);                          \\\n"
              "         }))");
  }
  c.insert(ci,
           "int wasmcap_call_indirect_trap(const wasm_rt_funcref_table_t*, u32, u32);\n"
           "void* wasmcap_cross_enter(void*);\n"
           "void wasmcap_cross_leave(void**);\n"
           "#define WASM_RT_TRAP_TABLE_OOB ((wasm_rt_trap_t)100)\n");
  // 1c. An element names the instance whose function it is. wasm2c makes an imported function's
  //     element point into the importer's struct (module_offset: the field holding the import's
  //     "instance"), which is no instance; wasmcap's imports are host functions of the importer,
  //     whose trampolines take their instance from the thread: the importer is the instance to
  //     name, so that a call from another instance switches to the importer's host functions.
  {
    const std::string from = "        (char*)module_instance + src_expr->module_offset};";
    size_t at = c.find(from);
    if (at == std::string::npos || c.find(from, at + 1) != std::string::npos) {
      return unexpected_output("funcref_table_init");
    }
    c.replace(at, from.size(), "        module_instance};");
  }
  // 2. Table helpers trap OOB like memory helpers; give them the table code.
  size_t tb = c.find("static inline void funcref_table_init(");
  size_t te = c.find("static bool s_module_initialized");
  if (tb == std::string::npos || te == std::string::npos || te < tb ||
      replace_in(c, tb, te, "TRAP(OOB)", "TRAP(TABLE_OOB)") < 4) {
    return unexpected_output("table helpers");
  }

  // 3. wasm2c keeps every load (a load whose value is unused must still trap out of bounds) with
  //    an empty asm statement that takes the loaded value in a general-purpose register ("r"):
  //    every loaded f32/f64 then makes a round trip through a GPR (matmul: 1.3x). f32.load and
  //    f64.load get their own helper whose barrier takes a vector register instead ("x" on
  //    x86-64, "w" on AArch64; elsewhere "r" as before): the value must still be materialised in
  //    a register, so the load still happens and faults exactly as before, and a double stays
  //    where the arithmetic wants it. (One "rx" constraint for all loads is not enough: GCC
  //    rejects it for 8-bit values at some optimisation levels.) Little-endian hosts only; the
  //    big-endian variant is left as wasm2c wrote it.
  {
    const std::string f32 = "DEFINE_LOAD(f32_load, f32, f32, f32)\n";
    const std::string f64 = "DEFINE_LOAD(f64_load, f64, f64, f64)\n";
    size_t a = c.find(f32);
    size_t b = c.find(f64);
    if (a == std::string::npos || b == std::string::npos || c.find(f32, a + 1) != std::string::npos ||
        c.find(f64, b + 1) != std::string::npos || c.find("DEFINE_LOAD(i32_load, u32") > a) {
      return unexpected_output("float loads");
    }
    c.replace(b, f64.size(),
              "#if WABT_BIG_ENDIAN\n" + f64 + "#else\nWASMCAP_DEFINE_LOAD_FP(f64_load, f64)\n#endif\n");
    c.replace(a, f32.size(),
              "#if WABT_BIG_ENDIAN\n" + f32 + "#else\nWASMCAP_DEFINE_LOAD_FP(f32_load, f32)\n#endif\n");
    size_t at = c.find("DEFINE_LOAD(i32_load, u32");
    c.insert(at,
             "#if defined(__x86_64__)\n#define WASMCAP_FP_REG \"x\"\n"
             "#elif defined(__aarch64__)\n#define WASMCAP_FP_REG \"w\"\n"
             "#else\n#define WASMCAP_FP_REG \"r\"\n#endif\n"
             "#define WASMCAP_DEFINE_LOAD_FP(name, t)                   \\\n"
             "  static inline t name(wasm_rt_memory_t* mem, u64 addr) { \\\n"
             "    MEMCHECK(mem, addr, t);                               \\\n"
             "    t result;                                             \\\n"
             "    wasm_rt_memcpy(&result, &mem->data[addr], sizeof(t)); \\\n"
             "    wasm_asm(\"\" ::WASMCAP_FP_REG(result));                 \\\n"
             "    return result;                                        \\\n"
             "  }\n");
  }

  // 3b. Bulk memory operations run in libc (memset/memmove/memcpy), where the preemption signal
  //     does nothing (docs/aot.md, "Deadlines and interrupts"): a guest looping over big
  //     memory.fill/copy/init would almost never be found in its own code. After one of 64 KiB
  //     or more, the runtime checks the interrupt flag (one call per >= 64 KiB moved).
  {
    const std::pair<const char*, const char*> bulk[] = {
        {"  memset(mem->data + d, val, n);\n}", "  wasmcap_fill(mem->data + d, val, n);\n  WASMCAP_AFTER_BULK(n);\n}"},
        {"  memmove(dest->data + dest_addr, src->data + src_addr, n);\n}",
         "  wasmcap_move(dest->data + dest_addr, src->data + src_addr, n);\n  WASMCAP_AFTER_BULK(n);\n}"},
        {"  LOAD_DATA((*dest), dest_addr, src + src_addr, n);\n}",
         "  LOAD_DATA((*dest), dest_addr, src + src_addr, n);\n  WASMCAP_AFTER_BULK(n);\n}"},
    };
    for (const auto& [from, to] : bulk) {
      size_t at = c.find(from);
      if (at == std::string::npos) continue;  // not in this prelude
      if (c.find(from, at + 1) != std::string::npos) return unexpected_output("bulk memory helpers");
      c.replace(at, std::strlen(from), to);
    }
    // 3c. The same for the table helpers that may run in libc: table.copy (memmove of up to the
    //     table budget's elements, 24 bytes each), and table.fill / an externref table.init,
    //     whose loops gcc may turn into memset when the value is null. (funcref_table_init's
    //     loop stays in guest code, where the signal finds it.) Table helpers exist in every
    //     output (patch 2 checks them), so each must match once.
    const std::pair<const char*, const char*> table_bulk[] = {
        {"            n * sizeof(wasm_rt_##type##_t));                                 \\\n  }\n",
         "            n * sizeof(wasm_rt_##type##_t));                                 \\\n"
         "    WASMCAP_AFTER_BULK((u64)n * sizeof(wasm_rt_##type##_t));                \\\n  }\n"},
        {"      table->data[i] = val;                                                   \\\n"
         "    }                                                                         \\\n  }\n",
         "      table->data[i] = val;                                                   \\\n"
         "    }                                                                         \\\n"
         "    WASMCAP_AFTER_BULK((u64)n * sizeof(wasm_rt_##type##_t));                 \\\n  }\n"},
        {"    dest->data[dest_addr + i] = wasm_rt_externref_null_value;\n  }\n}",
         "    dest->data[dest_addr + i] = wasm_rt_externref_null_value;\n  }\n"
         "  WASMCAP_AFTER_BULK((u64)n * sizeof(wasm_rt_externref_t));\n}"},
    };
    for (const auto& [from, to] : table_bulk) {
      size_t tat = c.find(from);
      if (tat == std::string::npos || c.find(from, tat + 1) != std::string::npos) {
        return unexpected_output("bulk table helpers");
      }
      c.replace(tat, std::strlen(from), to);
    }
    size_t at = c.find("DEFINE_LOAD(i32_load, u32");  // exists: checked by patch 3
    c.insert(at, "void wasmcap_bulk_done(void);\n"
                 "#define WASMCAP_AFTER_BULK(n) \\\n"
                 "  do { if (UNLIKELY((n) >= 65536u)) wasmcap_bulk_done(); } while (0)\n" +
                 std::string(kBulkChunkHelpers));
  }

  // 3d. memory.size is a uint32_t byte count in wasm2c 1.0.32's wasm_rt_memory_t, which cannot
  //     hold 4 GiB (65,536 pages, wasm32's limit): bounds checks of the bulk helpers use the
  //     page count instead, and the runtime lets a memory grow to 65,536 pages like the
  //     interpreters (it keeps `size` saturated at UINT32_MAX, which no generated code reads).
  {
    const std::string from = "  if (UNLIKELY(offset + (uint64_t)len > mem->size)) \\\n";
    size_t rc = c.find("#define RANGE_CHECK(mem, offset, len)");
    if (rc == std::string::npos || c.find(from, rc) != c.find('\n', rc) + 1) {
      return unexpected_output("RANGE_CHECK");
    }
    c.replace(c.find(from, rc), from.size(),
              "  if (UNLIKELY(offset + (uint64_t)len > (uint64_t)mem->pages * 65536u)) \\\n");
  }
  return {};
}

Result<void> read_declarations(const std::string& h, Translation& t) {
  const wabt::Module& m = *t.m;
  std::vector<Decl>& exports = t.exports;
  std::vector<Decl>& imports = t.imports;
  // Accessors of the reserved exports, from the header, in export order.
  // wasm2c groups declarations its own way: find each by its comment, never by position.
  for (size_t i = 0; i < m.exports.size(); ++i) {
    auto d = declaration(h, "/* export: '" + m.exports[i]->name + "' */");
    if (!d) return unexpected_output("export " + std::to_string(i));
    exports.push_back(std::move(*d));
  }
  for (size_t i = 0; i < m.imports.size(); ++i) {
    const wabt::Import* imp = m.imports[i];
    auto d = imp->kind() == wabt::ExternalKind::Func
                 ? declaration(h, "/* import: '" + imp->module_name + "' '" +
                                                 imp->field_name + "' */")
                 : extern_declaration(h, "Z_" + imp->module_name + "Z_" +
                                                        imp->field_name);
    if (!d) return unexpected_output("import " + std::to_string(i));
    imports.push_back(std::move(*d));
  }
  return {};
}

Result<void> patch_guest_code(const Translation& t, TranslatedModule& out) {
  const std::vector<Decl>& exports = t.exports;
  const size_t num_user_exports = t.num_user_exports;
  const bool interruptible = t.interruptible;
  const bool poll = t.poll;
  const bool has_memory = t.has_memory;
  const std::vector<VersionedLoop>& versioned = t.versioned;
  std::string& c = out.module_c;
  const Decl& flag_accessor = exports[num_user_exports];
  // 3e. ref.func of an imported function names the importer, as its elements do (patch 1c):
  //     wasm2c names the import's "instance" (the host's storage array, no instance at all).
  {
    const std::string open = "(wasm_rt_funcref_t){func_types[";
    const std::string from = ", instance->Z_h_instance}";
    auto name_importer = [&](std::string& text) {
      std::string o;
      size_t pos = 0;
      for (size_t at; (at = text.find(open, pos)) != std::string::npos;) {
        size_t close = text.find('}', at);
        if (close == std::string::npos) break;
        o.append(text, pos, close + 1 - pos);
        if (close + 1 >= from.size() && text.compare(close + 1 - from.size(), from.size(), from) == 0) {
          o.resize(o.size() - from.size());
          o.append(", instance}");
        }
        pos = close + 1;
      }
      o.append(text, pos, std::string::npos);
      text = std::move(o);
    };
    name_importer(c);
    for (CodeUnit& u : out.units) name_importer(u.c);
  }
  // 4. The interrupt flag is written by the watchdog thread while the guest runs: every read
  //    must really load it, or the compiler could hoist it out of a loop with no stores.
  std::string body = "(Z_" + std::string(kModuleName) + "_instance_t* instance) {\n  return &instance->";
  size_t acc = c.find(flag_accessor.name + body);
  if (acc == std::string::npos) return unexpected_output("interrupt accessor");
  size_t fs = acc + flag_accessor.name.size() + body.size();
  std::string field = c.substr(fs, c.find(';', fs) - fs);
  {
    // Linear (one pass building a new string; replacing in place would move the tail per hit).
    const std::string from = "instance->" + field;
    const std::string to = "(*(volatile u32*)&instance->" + field + ")";
    size_t n = 0;
    auto make_volatile = [&](std::string& text) {
      std::string o;
      o.reserve(text.size() + text.size() / 16);
      size_t pos = 0;
      for (size_t at; (at = text.find(from, pos)) != std::string::npos;) {
        size_t end = at + from.size();
        char next = end < text.size() ? text[end] : ' ';
        bool ident = std::isalnum(static_cast<unsigned char>(next)) || next == '_';
        o.append(text, pos, at - pos);
        if (ident || (at > 0 && text[at - 1] == '&')) {
          o.append(from);
        } else {
          o.append(to);
          ++n;
        }
        pos = end;
      }
      o.append(text, pos, std::string::npos);
      text = std::move(o);
    };
    make_volatile(c);
    for (CodeUnit& u : out.units) make_volatile(u.c);
    if (n == 0 && interruptible && poll) return unexpected_output("interrupt flag reads");
  }

  // 5. The linear-memory base, read once per function. wasm2c's load/store helpers take the
  //    memory's descriptor in the instance (`&instance->F`) and read `->data` on every access;
  //    a store through `u8*` may alias the instance, so GCC reloads the base after every store.
  //    The runtime never moves a linear memory (reserved up front, grown in place with
  //    mprotect), so the descriptor's `data` is constant for the instance's lifetime: every
  //    function copies memory 0's descriptor into a local at entry (FUNC_PROLOGUE, which wasm2c
  //    puts at the start of every function body) and its loads and stores use the copy, which
  //    no store can alias. Only `data` of the copy is used (bounds are guard pages: MEMCHECK is
  //    empty, checked by the #error below); memory.size/grow/fill/copy keep the real descriptor.
  //    An imported memory (the exporter's wasm_rt_memory_t, which never moves either) is a
  //    pointer in the instance: the copy is of `*instance->F`, the helpers take `instance->F`.
  if (has_memory) {
    const Decl& mem_accessor = exports[num_user_exports + 1];
    const std::string imported_body =
        "(Z_" + std::string(kModuleName) + "_instance_t* instance) {\n  return instance->";
    size_t ma = c.find(mem_accessor.name + body);
    const bool imported_memory = ma == std::string::npos;
    if (imported_memory) ma = c.find(mem_accessor.name + imported_body);
    if (ma == std::string::npos) return unexpected_output("memory accessor");
    size_t ms = ma + mem_accessor.name.size() + (imported_memory ? imported_body : body).size();
    const std::string field = c.substr(ms, c.find(';', ms) - ms);
    // The descriptor as an lvalue after `instance->`, and as wasm2c passes it to the helpers.
    const std::string mfield = imported_memory ? field + "[0]" : field;
    const std::string mptr = imported_memory ? "instance->" + field : "&instance->" + field;
    const std::string prologue = "#else\n#define FUNC_PROLOGUE\n";
    size_t pp = c.find(prologue);
    if (pp == std::string::npos || c.find(prologue, pp + 1) != std::string::npos) {
      return unexpected_output("function prologue");
    }
    c.replace(pp, prologue.size(),
              "#else\n#if !WASM_RT_MEMCHECK_SIGNAL_HANDLER\n"
              "#error \"wasmcap: the per-function memory copy needs guard-page bounds checks\"\n"
              "#endif\n#define FUNC_PROLOGUE wasm_rt_memory_t wasmcap_m __attribute__((unused)) = "
              "instance->" + mfield + "\n");
    const std::string from = "(" + mptr + ", ";
    auto is_access = [](std::string_view name) {
      // [if](32|64)_(load|store)[0-9]*(_[su])?
      if (name.size() < 8 || (name[0] != 'i' && name[0] != 'f')) return false;
      if (name.substr(1, 2) != "32" && name.substr(1, 2) != "64") return false;
      std::string_view rest = name.substr(3);
      if (rest.substr(0, 5) == "_load") {
        rest = rest.substr(5);
      } else if (rest.substr(0, 6) == "_store") {
        rest = rest.substr(6);
      } else {
        return false;
      }
      while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) rest = rest.substr(1);
      return rest.empty() || rest == "_s" || rest == "_u";
    };
    auto use_copy = [&](std::string& text) {
      std::string o;
      o.reserve(text.size());
      size_t pos = 0;
      for (size_t at; (at = text.find(from, pos)) != std::string::npos;) {
        size_t b = at;
        while (b > 0 && (std::isalnum(static_cast<unsigned char>(text[b - 1])) || text[b - 1] == '_')) --b;
        o.append(text, pos, at - pos);
        o.append(is_access(std::string_view(text).substr(b, at - b)) ? "(&wasmcap_m, " : from);
        pos = at + from.size();
      }
      o.append(text, pos, std::string::npos);
      text = std::move(o);
    };
    use_copy(c);
    for (CodeUnit& u : out.units) use_copy(u.c);

    // 6. Versioned loops (loop_version.h): their helpers in the prelude, each block just before
    //    its loop's label.
    if (!versioned.empty()) {
      size_t at = c.find("DEFINE_LOAD(i32_load, u32");  // exists: checked by patch 3
      c.insert(at, versioned_loop_prelude(mfield));
      std::vector<std::string*> texts{&c};
      for (CodeUnit& u : out.units) texts.push_back(&u.c);
      auto n = insert_versioned_loops(texts, versioned);
      if (!n) return unexpected_output(n.error().message);
      out.versioned_loops = static_cast<uint32_t>(*n);
    }
  }
  return {};
}

}  // namespace wasmcap::aot::detail
