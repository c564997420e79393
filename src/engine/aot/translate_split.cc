// The AOT translator's chunked translation of big modules (docs/aot.md, "Compile at scale").
// Built as C++17: wabt headers (NOTES-toolchain.md).
#include "engine/aot/translate_internal.h"
#include "engine/wabt_shared.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wabt/c-writer.h"
#include "wabt/cast.h"
#include "wabt/ir.h"
#include "wabt/stream.h"

namespace wasmcap::aot::detail {
namespace {

// --- Chunked translation (docs/aot.md, "Compile at scale") ----------------------------------
// wabt 1.0.32's C writer copies its table of global symbols (every function, global, ...) once
// per function it writes, so writing a module in one piece is quadratic in the number of
// functions (20,000 functions: 134 s; python.wasm's 7,697: 16 s). A split translation never
// shows the writer the whole module:
//  - the "main" write sees every defined function as an import from module "m" (field f<N>):
//    imports are declared, never written, so it costs O(F log F); it gives module.h (the
//    instance struct, extern declarations Z_mZ_f<N> of every function) and module.c (data,
//    tables, globals, exports, instantiation);
//  - each chunk write sees only the chunk's functions, the functions and host imports they
//    reference (as imports) and the globals they use: the writer's per-function copy is then
//    O(chunk + references), linear over all chunks. From its output only the function bodies
//    are kept; `static` is dropped and `#define w2c_f<N> Z_mZ_f<N>` makes each body the
//    definition module.h declares (hidden visibility: the object exports nothing new).
// Calls to a function of another unit pass `instance->Z_m_instance`, which instantiation sets
// to the instance itself (the glue passes the instance for module "m"); the text is then
// rewritten to `instance` (one load less per call) - correctness does not depend on it.
// Chunking is not used when a function uses segment instructions (memory.init, table.init,
// data.drop, elem.drop): those need the segments' contents, which only the main write has.
struct FuncRefs {
  uint64_t size = 0;                 // expressions
  std::vector<wabt::Index> funcs;    // called or ref.func'ed (may repeat)
  std::vector<wabt::Index> globals;  // read or written (may repeat)
  bool segment_ops = false;
};

void scan_refs(const wabt::Module& m, const wabt::ExprList& list, FuncRefs* r) {
  for (const wabt::Expr& e : list) {
    ++r->size;
    switch (e.type()) {
      case wabt::ExprType::Call:
        r->funcs.push_back(m.GetFuncIndex(wabt::cast<wabt::CallExpr>(&e)->var));
        break;
      case wabt::ExprType::ReturnCall:
        r->funcs.push_back(m.GetFuncIndex(wabt::cast<wabt::ReturnCallExpr>(&e)->var));
        break;
      case wabt::ExprType::RefFunc:
        r->funcs.push_back(m.GetFuncIndex(wabt::cast<wabt::RefFuncExpr>(&e)->var));
        break;
      case wabt::ExprType::GlobalGet:
        r->globals.push_back(m.GetGlobalIndex(wabt::cast<wabt::GlobalGetExpr>(&e)->var));
        break;
      case wabt::ExprType::GlobalSet:
        r->globals.push_back(m.GetGlobalIndex(wabt::cast<wabt::GlobalSetExpr>(&e)->var));
        break;
      case wabt::ExprType::MemoryInit:
      case wabt::ExprType::TableInit:
      case wabt::ExprType::DataDrop:
      case wabt::ExprType::ElemDrop:
        r->segment_ops = true;
        break;
      case wabt::ExprType::Block:
        scan_refs(m, wabt::cast<wabt::BlockExpr>(&e)->block.exprs, r);
        break;
      case wabt::ExprType::Loop:
        scan_refs(m, wabt::cast<wabt::LoopExpr>(&e)->block.exprs, r);
        break;
      case wabt::ExprType::If: {
        auto* iff = wabt::cast<wabt::IfExpr>(&e);
        scan_refs(m, iff->true_.exprs, r);
        scan_refs(m, iff->false_, r);
        break;
      }
      case wabt::ExprType::Try: {
        auto* t = wabt::cast<wabt::TryExpr>(&e);
        scan_refs(m, t->block.exprs, r);
        for (auto& c : t->catches) scan_refs(m, c.exprs, r);
        break;
      }
      default:
        break;
    }
  }
}

// Chunk sizes: the writer's cost for a chunk is about functions x (functions + referenced
// symbols); a chunk closes before that exceeds kChunkSymbolBudget symbol copies.

// The module's fields the writer reads, swapped in and out around each chunk write (the writer
// reads only these vectors and bindings, never `fields`, which keep owning everything).
struct WriterView {
  std::vector<wabt::Func*> funcs;
  std::vector<wabt::Import*> imports;
  std::vector<wabt::Global*> globals;
  std::vector<wabt::Export*> exports;
  std::vector<wabt::Var*> starts;
  std::vector<wabt::ElemSegment*> elem_segments;
  std::vector<wabt::DataSegment*> data_segments;
  wabt::BindingHash func_bindings, global_bindings;
  wabt::Index num_func_imports = 0;
};

void swap_view(wabt::Module& m, WriterView& v) {
  std::swap(m.funcs, v.funcs);
  std::swap(m.imports, v.imports);
  std::swap(m.globals, v.globals);
  std::swap(m.exports, v.exports);
  std::swap(m.starts, v.starts);
  std::swap(m.elem_segments, v.elem_segments);
  std::swap(m.data_segments, v.data_segments);
  std::swap(m.func_bindings, v.func_bindings);
  std::swap(m.global_bindings, v.global_bindings);
  std::swap(m.num_func_imports, v.num_func_imports);
}

}  // namespace

Result<std::pair<std::string, std::string>> write_c(const wabt::Module& m) {
  wabt::MemoryStream c_stream;
  wabt::MemoryStream h_stream;
  wabt::WriteCOptions copts;
  copts.module_name = kModuleName;
  if (wabt::Failed(wabt::WriteC(&c_stream, &h_stream, "module.h", &m, copts))) {
    return make_error(ErrorCode::kModuleUnsupported, "wasm2c could not translate the module");
  }
  const auto& cb = c_stream.output_buffer().data;
  const auto& hb = h_stream.output_buffer().data;
  return std::make_pair(std::string(cb.begin(), cb.end()), std::string(hb.begin(), hb.end()));
}

namespace {

// Rewrites `instance->Z_m_instance` (not followed by an identifier character) to `instance` in a
// unit's function bodies.
void self_instance(std::string& c) {
  const std::string from = "instance->Z_" + std::string(kModuleName) + "_instance";
  std::string out;
  out.reserve(c.size());
  size_t pos = 0;
  for (size_t at; (at = c.find(from, pos)) != std::string::npos;) {
    size_t end = at + from.size();
    char next = end < c.size() ? c[end] : ' ';
    out.append(c, pos, at - pos);
    // Never an assignment to the field (instantiation sets it; units never do).
    if (std::isalnum(static_cast<unsigned char>(next)) || next == '_' ||
        c.compare(end, 3, " = ") == 0) {
      out.append(from);
    } else {
      out.append("instance");
    }
    pos = end;
  }
  out.append(c, pos, std::string::npos);
  c = std::move(out);
}

}  // namespace

// Writes `m` (validated, named, instrumented) split into units. Fills out.module_c/module_h
// (main write) and out.units (function bodies, not yet patched).
Result<void> write_split(wabt::Module& m, uint32_t unit_functions, TranslatedModule& out) {
  const wabt::Index nimp = m.num_func_imports;
  const size_t nf = m.funcs.size();
  std::vector<FuncRefs> refs(nf);
  for (size_t i = nimp; i < nf; ++i) scan_refs(m, m.funcs[i]->exprs, &refs[i]);
  // Placeholder imports: defined function N as import "m" "f<N>".
  std::vector<std::unique_ptr<wabt::FuncImport>> ph(nf);
  for (size_t i = nimp; i < nf; ++i) {
    ph[i] = std::make_unique<wabt::FuncImport>(m.funcs[i]->name);
    ph[i]->module_name = kModuleName;
    ph[i]->field_name = "f" + std::to_string(i);
    ph[i]->func.decl = m.funcs[i]->decl;
    // The parameters' names (wabt writes an exported function's thunk from its import's
    // bindings, and asserts each parameter has a name of its own).
    const wabt::Index np = m.funcs[i]->GetNumParams();
    for (const auto& [name, b] : m.funcs[i]->bindings) {
      if (b.index < np) ph[i]->func.bindings.emplace(name, b);
    }
  }
  // Main write: every defined function an import.
  {
    WriterView v;
    v.funcs.assign(m.funcs.begin(), m.funcs.begin() + nimp);
    v.imports = m.imports;
    for (size_t i = nimp; i < nf; ++i) {
      v.funcs.push_back(&ph[i]->func);
      v.imports.push_back(ph[i].get());
    }
    v.globals = m.globals;
    v.exports = m.exports;
    v.starts = m.starts;
    v.elem_segments = m.elem_segments;
    v.data_segments = m.data_segments;
    v.func_bindings = m.func_bindings;
    v.global_bindings = m.global_bindings;
    v.num_func_imports = static_cast<wabt::Index>(nf);
    swap_view(m, v);
    auto w = write_c(m);
    swap_view(m, v);
    WASMCAP_TRY(w);
    out.module_c = std::move(w->first);
    out.module_h = std::move(w->second);
  }
  // Chunks, in function order (neighbours in a module tend to call each other).
  std::vector<uint32_t> unit_of(nf, UINT32_MAX);
  std::vector<std::vector<wabt::Index>> chunks;
  {
    std::vector<wabt::Index> cur;
    uint64_t exprs = 0, syms = 0;
    for (size_t i = nimp; i < nf; ++i) {
      const uint64_t sz = refs[i].size;
      const uint64_t r = refs[i].funcs.size() + refs[i].globals.size() + 1;
      bool huge = sz > kHugeFunctionExpressions;
      if (!cur.empty() &&
          (huge || cur.size() >= unit_functions || exprs + sz > kUnitExpressions ||
           (cur.size() + 1) * (syms + r) > kChunkSymbolBudget)) {
        chunks.push_back(std::move(cur));
        cur.clear();
        exprs = syms = 0;
      }
      cur.push_back(static_cast<wabt::Index>(i));
      exprs += sz;
      syms += r;
      if (huge) {
        chunks.push_back(std::move(cur));
        cur.clear();
        exprs = syms = 0;
      }
    }
    if (!cur.empty()) chunks.push_back(std::move(cur));
  }
  for (uint32_t u = 0; u < chunks.size(); ++u) {
    for (wabt::Index f : chunks[u]) unit_of[f] = u;
  }
  const std::string defn_tail = "(Z_" + std::string(kModuleName) + "_instance_t* instance";
  std::vector<uint32_t> seen_f(nf, UINT32_MAX), seen_g(m.globals.size(), UINT32_MAX);
  for (uint32_t u = 0; u < chunks.size(); ++u) {
    const auto& chunk = chunks[u];
    WriterView v;
    std::vector<wabt::Index> ext;  // referenced functions outside the chunk
    std::vector<wabt::Index> globs;
    uint64_t exprs = 0;
    for (wabt::Index f : chunk) {
      exprs += refs[f].size;
      for (wabt::Index g : refs[f].funcs) {
        if (g < nf && unit_of[g] != u && seen_f[g] != u) {
          seen_f[g] = u;
          ext.push_back(g);
        }
      }
      for (wabt::Index g : refs[f].globals) {
        if (g < m.globals.size() && seen_g[g] != u) {
          seen_g[g] = u;
          globs.push_back(g);
        }
      }
    }
    std::sort(ext.begin(), ext.end());
    std::sort(globs.begin(), globs.end());
    auto bind = [](wabt::BindingHash& b, const std::string& name, size_t index) {
      if (!name.empty()) b.emplace(name, wabt::Binding(static_cast<wabt::Index>(index)));
    };
    for (wabt::Index g : ext) {
      wabt::Func* f = g < nimp ? m.funcs[g] : &ph[g]->func;
      bind(v.func_bindings, f->name, v.funcs.size());
      v.funcs.push_back(f);
      v.imports.push_back(g < nimp ? m.imports[g] : ph[g].get());
    }
    v.num_func_imports = static_cast<wabt::Index>(v.funcs.size());
    for (wabt::Index f : chunk) {
      bind(v.func_bindings, m.funcs[f]->name, v.funcs.size());
      v.funcs.push_back(m.funcs[f]);
    }
    // A global whose initialiser is ref.func names a function the chunk's view may not have
    // (wabt's writer then dereferences a null function: a module of 1,001 functions and one
    // such global crashed the host). Only the chunk's function bodies are kept, which never
    // read an initialiser, so the view gets a stand-in of the same name and type, initialised
    // to null.
    std::vector<std::unique_ptr<wabt::Global>> stand_ins;
    for (wabt::Index g : globs) {
      bind(v.global_bindings, m.globals[g]->name, v.globals.size());
      wabt::Global* gl = m.globals[g];
      bool ref_func = false;
      for (const wabt::Expr& e : gl->init_expr) ref_func = ref_func || e.type() == wabt::ExprType::RefFunc;
      if (ref_func) {
        stand_ins.push_back(std::make_unique<wabt::Global>(gl->name));
        stand_ins.back()->type = gl->type;
        stand_ins.back()->mutable_ = gl->mutable_;
        stand_ins.back()->init_expr.push_back(std::make_unique<wabt::RefNullExpr>(gl->type));
        gl = stand_ins.back().get();
      }
      v.globals.push_back(gl);
    }
    swap_view(m, v);
    auto w = write_c(m);
    swap_view(m, v);
    WASMCAP_TRY(w);
    std::string& c = w->first;
    // The bodies: from the first function's definition to the instantiation code.
    const std::string first = "w2c_" + strip_dollar(m.funcs[chunk.front()]->name) + defn_tail;
    size_t at0 = c.find(first);
    size_t b = at0 == std::string::npos ? std::string::npos : c.rfind('\n', at0);
    if (b == std::string::npos) return unexpected_output("chunk " + std::to_string(u) + " start");
    size_t e = std::min(c.find("\nstatic void init_instance_import(", b),
                        c.find("\nvoid Z_" + std::string(kModuleName) + "_init_module(", b));
    if (e == std::string::npos) return unexpected_output("chunk " + std::to_string(u) + " end");
    std::string body = c.substr(b, e - b);
    // Every line starting with "static " is one of the chunk's definitions, in order.
    CodeUnit unit;
    unit.functions = static_cast<uint32_t>(chunk.size());
    unit.expressions = exprs;
    unit.huge = chunk.size() == 1 && exprs > kHugeFunctionExpressions;
    unit.c = "/* wasmcap AOT unit " + std::to_string(u) + " */\n#include \"wasmcap_common.h\"\n";
    size_t n = 0;
    size_t pos = 0;
    for (size_t at; (at = body.find("\nstatic ", pos)) != std::string::npos; ++n) {
      if (n >= chunk.size()) return unexpected_output("chunk " + std::to_string(u) + " statics");
      const std::string name = "w2c_" + strip_dollar(m.funcs[chunk[n]]->name);
      size_t eol = body.find('\n', at + 1);
      if (body.substr(at, eol - at).find(" " + name + defn_tail) == std::string::npos) {
        return unexpected_output("chunk " + std::to_string(u) + " definition " + std::to_string(n));
      }
      unit.c += "#define " + name + " Z_" + std::string(kModuleName) + "Z_f" +
                std::to_string(chunk[n]) + "\n";
      body.erase(at + 1, 7);  // "static "
      pos = at + 1;
    }
    if (n != chunk.size()) return unexpected_output("chunk " + std::to_string(u) + " functions");
    unit.c += body;
    unit.c += "\n";
    out.units.push_back(std::move(unit));
  }
  return {};
}

bool uses_segment_ops(const wabt::Module& m) {
  FuncRefs r;
  for (size_t i = m.num_func_imports; i < m.funcs.size() && !r.segment_ops; ++i) {
    scan_refs(m, m.funcs[i]->exprs, &r);
    r.funcs.clear();
    r.globals.clear();
  }
  return r.segment_ops;
}

Result<void> share_prelude(TranslatedModule& out) {
  std::string& c = out.module_c;
  // Split: the units share wasm2c's helpers (the patched prelude of module.c) and its table
  // of function type ids, which module.c fills at init (non-static there, hidden).
  size_t pre = c.find("static bool s_module_initialized");
  if (pre == std::string::npos) return unexpected_output("prelude end");
  out.common_h = "/* wasmcap AOT: shared by every unit */\n#ifndef WASMCAP_COMMON_H\n"
                 "#define WASMCAP_COMMON_H\n" + c.substr(0, pre);
  const std::string ft = "static u32 func_types[";
  size_t fp = c.find(ft, pre);
  if (fp != std::string::npos) {
    size_t close = c.find(']', fp);
    if (close == std::string::npos || c.find(ft, fp + 1) != std::string::npos) {
      return unexpected_output("function type table");
    }
    out.common_h += "extern u32 func_types[" + c.substr(fp + ft.size(), close - fp - ft.size()) + "];\n";
    c.erase(fp, 7);  // "static "
  }
  out.common_h += "#endif\n";
  for (CodeUnit& u : out.units) self_instance(u.c);
  // wasm2c's element initialisers give an imported function the *address* of its module's
  // instance field (offsetof(..., Z_m_instance)) as instance: for "m" that must be the
  // instance itself (offset 0), as it is for a function the module defines.
  const std::string off = "offsetof(Z_" + std::string(kModuleName) + "_instance_t, Z_" +
                          std::string(kModuleName) + "_instance)";
  replace_all(c, off, "0");
  return {};
}

}  // namespace wasmcap::aot::detail
