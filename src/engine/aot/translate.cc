// Module -> C for the AOT tier.
//
// Why in-process (libwabt's C writer) rather than the `wasm2c` tool: wasmcap already links
// libwabt, the instrumentation (interrupt checks) must be applied to wabt IR *before* the C
// writer runs, and no extra executable has to be found, trusted or version-matched at run time.
//
// Built as C++17: wabt headers (NOTES-toolchain.md).
#include "engine/aot/translate.h"
#include "engine/aot/loop_version.h"
#include "engine/fast/validate.h"
#include "engine/test_hooks.h"
#include "engine/wabt_shared.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <vector>

#include "wabt/apply-names.h"
#include "wabt/binary-reader-nop.h"
#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/c-writer.h"
#include "wabt/cast.h"
#include "wabt/config.h"
#include "wabt/feature.h"
#include "wabt/generate-names.h"
#include "wabt/ir.h"
#include "wabt/stream.h"
#include "wabt/validator.h"

namespace wasmcap::aot {
namespace {

// The ABI header, pasted into every glue file (generated from aot_abi.h at build time).
constexpr const char* kAbiHeader =
#include "aot_abi.inc"
    ;

constexpr const char* kModuleName = "m";  // symbols Z_m…, all hidden in the shared object

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

wabt::Features all_features() {
  // The same feature set as the interpreter backends: the engines accept the same modules.
  // Exceptions are read (so that such a module is module_unsupported naming the feature, and
  // --engine auto falls back to the interpreter), never translated: see UsesExceptions.
  wabt::Features f = engine_wabt::wasm2_features();
  f.enable_exceptions();
  return f;
}

// --- Bounds, checked on the bytes before any IR exists ------------------------------------------
// wabt's C writer recurses once per nesting level and wabt's IR frees nested blocks
// recursively, so nesting is bounded before the IR is built (the interpreter needs no such
// bound: it never builds the IR). Locals, parameters, br_table targets and function counts
// cost C text and translator memory per unit while costing the module a byte or less each (a
// local count is one LEB): they are bounded so that the C, and the translator's memory, stay
// proportional to the module's size. The per-function numbers are the JS API's implementation
// limits (what browsers accept), so real modules meet them. The numbers: engine/aot_bounds.h.

// A reader that only decodes. Errors are handled by the caller (wabt would print unhandled ones
// to stderr).
class QuietReader : public wabt::BinaryReaderNop {
 public:
  bool OnError(const wabt::Error&) override { return true; }
};

// Exception handling (tags, try/catch/delegate/throw/rethrow). wasm2c 1.0.32's support for it
// keeps the exception state in globals of its single-threaded runtime (NOTES-toolchain.md); the
// AOT engine does not run it: such a module is module_unsupported and runs on an interpreter.
class UsesExceptions : public QuietReader {
 public:
  bool found = false;
  wabt::Result OnTagCount(wabt::Index n) override { return mark(n != 0); }
  wabt::Result OnTryExpr(wabt::Type) override { return mark(true); }
  wabt::Result OnThrowExpr(wabt::Index) override { return mark(true); }
  wabt::Result OnRethrowExpr(wabt::Index) override { return mark(true); }
  wabt::Result OnDelegateExpr(wabt::Index) override { return mark(true); }
  wabt::Result OnCatchExpr(wabt::Index) override { return mark(true); }
  wabt::Result OnCatchAllExpr() override { return mark(true); }

 private:
  wabt::Result mark(bool yes) {
    found = found || yes;
    return found ? wabt::Result::Error : wabt::Result::Ok;  // stop reading at the first one
  }
};

class BoundsCheck : public QuietReader {
 public:
  std::string violation;  // empty: within bounds

  wabt::Result OnFuncType(wabt::Index, wabt::Index params, wabt::Type*, wabt::Index results,
                          wabt::Type*) override {
    if (params > kMaxFunctionParams) {
      return fail("a function type has " + std::to_string(params) + " parameters (at most " +
                  std::to_string(kMaxFunctionParams) + ")");
    }
    if (results > kMaxFunctionResults) {
      return fail("a function type has " + std::to_string(results) + " results (at most " +
                  std::to_string(kMaxFunctionResults) + ")");
    }
    return wabt::Result::Ok;
  }
  wabt::Result OnImportFunc(wabt::Index, std::string_view, std::string_view, wabt::Index,
                            wabt::Index) override {
    return count_functions(1);
  }
  wabt::Result OnFunctionCount(wabt::Index count) override { return count_functions(count); }
  wabt::Result BeginFunctionBody(wabt::Index, wabt::Offset size) override {
    depth_ = 0;
    locals_ = 0;
    if (size > kMaxFunctionBodySize) {
      return fail("a function body has " + std::to_string(size) + " bytes (at most " +
                  std::to_string(kMaxFunctionBodySize) + ")");
    }
    return wabt::Result::Ok;
  }
  wabt::Result OnLocalDecl(wabt::Index, wabt::Index count, wabt::Type) override {
    locals_ += count;
    total_locals_ += count;
    if (locals_ > kMaxFunctionLocals) {
      return fail("a function declares " + std::to_string(locals_) + "+ locals (at most " +
                  std::to_string(kMaxFunctionLocals) + ")");
    }
    if (total_locals_ > kMaxTotalLocals) {
      return fail("the functions declare " + std::to_string(total_locals_) +
                  "+ locals in all (at most " + std::to_string(kMaxTotalLocals) + ")");
    }
    return wabt::Result::Ok;
  }
  wabt::Result OnBlockExpr(wabt::Type) override { return enter(); }
  wabt::Result OnLoopExpr(wabt::Type) override { return enter(); }
  wabt::Result OnIfExpr(wabt::Type) override { return enter(); }
  wabt::Result OnTryExpr(wabt::Type) override { return enter(); }
  wabt::Result OnEndExpr() override {
    if (depth_ > 0) --depth_;
    return wabt::Result::Ok;
  }
  wabt::Result OnBrTableExpr(wabt::Index targets, wabt::Index*, wabt::Index) override {
    if (targets > kMaxBrTableTargets) {
      return fail("a br_table has " + std::to_string(targets) + " targets (at most " +
                  std::to_string(kMaxBrTableTargets) + ")");
    }
    return wabt::Result::Ok;
  }

 private:
  wabt::Result fail(std::string what) {
    violation = std::move(what);
    return wabt::Result::Error;
  }
  wabt::Result enter() {
    if (++depth_ > kMaxNestingDepth) {
      return fail("blocks are nested more than " + std::to_string(kMaxNestingDepth) + " deep");
    }
    return wabt::Result::Ok;
  }
  wabt::Result count_functions(uint64_t n) {
    functions_ += n;
    if (functions_ > kMaxFunctions) {
      return fail("the module has " + std::to_string(functions_) + " functions (at most " +
                  std::to_string(kMaxFunctions) + ")");
    }
    return wabt::Result::Ok;
  }

  uint64_t depth_ = 0;
  uint64_t locals_ = 0;
  uint64_t total_locals_ = 0;
  uint64_t functions_ = 0;
};

// --- Names ----------------------------------------------------------------------------------
// wasm2c copies names into the C it writes (in comments, in symbols after legalising). Every
// name a module supplies is replaced before the C writer runs: imports become h.i<N>, exports
// e<N>, and every other name (functions, globals, tables, memories, types, segments, labels,
// locals, the module) is cleared, so that GenerateNames gives it a name made of a letter and a
// number. The real names stay with the host: it links imports by position (the glue's
// dispatcher index) and finds exports by position (docs/aot.md).
void clear_labels(wabt::ExprList& list) {
  for (auto it = list.begin(); it != list.end();) {
    wabt::Expr& e = *it;
    switch (e.type()) {
      case wabt::ExprType::CodeMetadata:  // a hint wasm2c ignores; its name is module text
        it = list.erase(it);
        continue;
      case wabt::ExprType::Block: {
        auto& b = wabt::cast<wabt::BlockExpr>(&e)->block;
        b.label.clear();
        clear_labels(b.exprs);
        break;
      }
      case wabt::ExprType::Loop: {
        auto& b = wabt::cast<wabt::LoopExpr>(&e)->block;
        b.label.clear();
        clear_labels(b.exprs);
        break;
      }
      case wabt::ExprType::If: {
        auto* iff = wabt::cast<wabt::IfExpr>(&e);
        iff->true_.label.clear();
        clear_labels(iff->true_.exprs);
        clear_labels(iff->false_);
        break;
      }
      case wabt::ExprType::Try: {
        auto* t = wabt::cast<wabt::TryExpr>(&e);
        t->block.label.clear();
        clear_labels(t->block.exprs);
        for (auto& c : t->catches) clear_labels(c.exprs);
        break;
      }
      default:
        break;
    }
    ++it;
  }
}

void clear_sig_names(wabt::FuncSignature& sig) {
  sig.param_type_names.clear();
  sig.result_type_names.clear();
}

void replace_names(wabt::Module& m) {
  m.name.clear();
  for (size_t i = 0; i < m.imports.size(); ++i) {
    m.imports[i]->module_name = "h";
    m.imports[i]->field_name = "i" + std::to_string(i);
  }
  m.export_bindings.clear();
  for (size_t i = 0; i < m.exports.size(); ++i) {
    m.exports[i]->name = "e" + std::to_string(i);
    m.export_bindings.emplace(m.exports[i]->name, wabt::Binding(static_cast<wabt::Index>(i)));
  }
  for (wabt::Func* f : m.funcs) {
    f->name.clear();
    f->bindings.clear();
    clear_sig_names(f->decl.sig);
    clear_labels(f->exprs);
  }
  for (wabt::Global* g : m.globals) g->name.clear();
  for (wabt::Table* t : m.tables) t->name.clear();
  for (wabt::Memory* x : m.memories) x->name.clear();
  for (wabt::Tag* t : m.tags) {
    t->name.clear();
    clear_sig_names(t->decl.sig);
  }
  for (wabt::DataSegment* d : m.data_segments) d->name.clear();
  for (wabt::ElemSegment* e : m.elem_segments) e->name.clear();
  for (wabt::TypeEntry* t : m.types) {
    t->name.clear();
    if (auto* ft = wabt::dyn_cast<wabt::FuncType>(t)) clear_sig_names(ft->sig);
  }
  for (auto* b : {&m.tag_bindings, &m.func_bindings, &m.global_bindings, &m.type_bindings,
                  &m.table_bindings, &m.memory_bindings, &m.data_segment_bindings,
                  &m.elem_segment_bindings}) {
    b->clear();
  }
}

// After GenerateNames/ApplyNames, just before the C writer: every name is ours (letters,
// digits, '$', '.', '_'). Checked rather than assumed, so a wabt change that brings a new kind
// of name refuses the module instead of writing module text into C.
bool plain_name(const std::string& s) {
  if (s.size() > 32) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '$' && c != '.' && c != '_') return false;
  }
  return true;
}

bool labels_plain(const wabt::ExprList& list) {
  for (const wabt::Expr& e : list) {
    switch (e.type()) {
      case wabt::ExprType::Block: {
        auto& b = wabt::cast<wabt::BlockExpr>(&e)->block;
        if (!plain_name(b.label) || !labels_plain(b.exprs)) return false;
        break;
      }
      case wabt::ExprType::Loop: {
        auto& b = wabt::cast<wabt::LoopExpr>(&e)->block;
        if (!plain_name(b.label) || !labels_plain(b.exprs)) return false;
        break;
      }
      case wabt::ExprType::If: {
        auto* iff = wabt::cast<wabt::IfExpr>(&e);
        if (!plain_name(iff->true_.label) || !labels_plain(iff->true_.exprs) ||
            !labels_plain(iff->false_)) {
          return false;
        }
        break;
      }
      case wabt::ExprType::Try: {
        auto* t = wabt::cast<wabt::TryExpr>(&e);
        if (!plain_name(t->block.label) || !labels_plain(t->block.exprs)) return false;
        for (const auto& c : t->catches) {
          if (!labels_plain(c.exprs)) return false;
        }
        break;
      }
      case wabt::ExprType::CodeMetadata:
        return false;
      default:
        break;
    }
  }
  return true;
}

bool all_names_plain(const wabt::Module& m) {
  if (!plain_name(m.name)) return false;
  for (const wabt::Import* i : m.imports) {
    if (!plain_name(i->module_name) || !plain_name(i->field_name)) return false;
  }
  for (const wabt::Export* e : m.exports) {
    if (!plain_name(e->name)) return false;
  }
  for (const wabt::Func* f : m.funcs) {
    if (!plain_name(f->name) || !labels_plain(f->exprs)) return false;
    for (const auto& [name, binding] : f->bindings) {
      if (!plain_name(name)) return false;
    }
  }
  for (const wabt::Global* x : m.globals) if (!plain_name(x->name)) return false;
  for (const wabt::Table* x : m.tables) if (!plain_name(x->name)) return false;
  for (const wabt::Memory* x : m.memories) if (!plain_name(x->name)) return false;
  for (const wabt::Tag* x : m.tags) if (!plain_name(x->name)) return false;
  for (const wabt::DataSegment* x : m.data_segments) if (!plain_name(x->name)) return false;
  for (const wabt::ElemSegment* x : m.elem_segments) if (!plain_name(x->name)) return false;
  for (const wabt::TypeEntry* x : m.types) if (!plain_name(x->name)) return false;
  return true;
}

// The generated C holds printable ASCII and newlines only: no NUL, no control character, no
// byte of a non-ASCII name could hide in it.
bool plain_text(const std::string& s) {
  for (unsigned char c : s) {
    if (c != '\n' && (c < 0x20 || c > 0x7e)) return false;
  }
  return true;
}

// A module-supplied name for an error message (quote_untrusted: escaped, cut at 64 bytes).
std::string quote_name(std::string_view s) { return quote_untrusted(s); }

// --- Instrumentation ------------------------------------------------------------------------
// Every loop header and the entries entries_to_check() selects get
// `if (global.get $flag) unreachable`. The flag
// is a fresh mutable global no guest code can name; the host's watchdog sets it when the call's
// deadline passes or its interrupt is raised, and the runtime reports the resulting trap as
// deadline_exceeded. Since every unbounded execution passes a loop header or a function entry
// again and again, a flagged guest stops within a few instructions.
void prepend_check(wabt::ExprList& list, wabt::Index flag) {
  auto check = std::make_unique<wabt::IfExpr>();
  check->true_.exprs.push_back(std::make_unique<wabt::UnreachableExpr>());
  list.push_front(std::move(check));
  list.push_front(std::make_unique<wabt::GlobalGetExpr>(wabt::Var(flag, wabt::Location())));
}

void instrument_list(wabt::ExprList& list, wabt::Index flag) {
  for (wabt::Expr& e : list) {
    switch (e.type()) {
      case wabt::ExprType::Block:
        instrument_list(wabt::cast<wabt::BlockExpr>(&e)->block.exprs, flag);
        break;
      case wabt::ExprType::Loop: {
        auto* loop = wabt::cast<wabt::LoopExpr>(&e);
        instrument_list(loop->block.exprs, flag);
        prepend_check(loop->block.exprs, flag);
        break;
      }
      case wabt::ExprType::If: {
        auto* iff = wabt::cast<wabt::IfExpr>(&e);
        instrument_list(iff->true_.exprs, flag);
        instrument_list(iff->false_, flag);
        break;
      }
      case wabt::ExprType::Try: {
        auto* t = wabt::cast<wabt::TryExpr>(&e);
        instrument_list(t->block.exprs, flag);
        for (auto& c : t->catches) instrument_list(c.exprs, flag);
        break;
      }
      default:
        break;
    }
  }
}

// --- Where function entries need a check (instrumentation v4) -------------------------------
// A check at every function entry costs call-heavy code up to 2x: it reads the instance on
// every call, which also stops the C compiler from inlining small functions into their
// callers. Entries are checked only where an execution could otherwise run long without
// passing a check. Loop headers are always checked. An execution that passes no loop header
// and no checked entry is a tree of calls; it stays short when:
//  1. every cycle of the call graph contains a checked entry: each function on a cycle of
//     direct calls (a strongly connected component with more than one function, or calling
//     itself), each function whose address is taken (ref.func anywhere: element segments,
//     globals, code - every possible call_indirect / call_ref target), and each export (a host
//     function may call back into an export) is checked, so the unchecked functions form a
//     DAG and an unchecked activation calls each unchecked function at most a bounded number
//     of times; and
//  2. that bound is small: the work of an unchecked activation, W(f) = size(f) + the sum of
//     W(g) over its call sites of unchecked g, must stay <= kMaxUncheckedWork expressions
//     (a chain of 60 functions each calling the next twice would otherwise make 2^60 calls
//     with no check); where it would not, the heaviest callees get an entry check too.
// Between two checks a guest thus runs at most (frames unwound) x kMaxUncheckedWork
// expressions plus single function bodies - the same kind of bound as checking every entry,
// whose gap already included a frame's straight-line code after a call returned.
constexpr uint64_t kMaxUncheckedWork = 4096;

struct FuncFacts {
  uint64_t size = 0;              // expressions in the body
  std::vector<wabt::Index> calls;  // direct call sites (callee function index, repeated)
};

void scan_calls(const wabt::Module& m, const wabt::ExprList& list, FuncFacts* f,
                std::vector<bool>* address_taken) {
  for (const wabt::Expr& e : list) {
    if (f != nullptr) ++f->size;
    switch (e.type()) {
      case wabt::ExprType::Call:
      case wabt::ExprType::ReturnCall: {
        const wabt::Var& v = e.type() == wabt::ExprType::Call
                                 ? wabt::cast<wabt::CallExpr>(&e)->var
                                 : wabt::cast<wabt::ReturnCallExpr>(&e)->var;
        wabt::Index i = m.GetFuncIndex(v);
        if (f != nullptr && i < m.funcs.size()) f->calls.push_back(i);
        break;
      }
      case wabt::ExprType::RefFunc: {
        wabt::Index i = m.GetFuncIndex(wabt::cast<wabt::RefFuncExpr>(&e)->var);
        if (i < address_taken->size()) (*address_taken)[i] = true;
        break;
      }
      case wabt::ExprType::Block:
        scan_calls(m, wabt::cast<wabt::BlockExpr>(&e)->block.exprs, f, address_taken);
        break;
      case wabt::ExprType::Loop:
        scan_calls(m, wabt::cast<wabt::LoopExpr>(&e)->block.exprs, f, address_taken);
        break;
      case wabt::ExprType::If: {
        auto* iff = wabt::cast<wabt::IfExpr>(&e);
        scan_calls(m, iff->true_.exprs, f, address_taken);
        scan_calls(m, iff->false_, f, address_taken);
        break;
      }
      case wabt::ExprType::Try: {
        auto* t = wabt::cast<wabt::TryExpr>(&e);
        scan_calls(m, t->block.exprs, f, address_taken);
        for (auto& c : t->catches) scan_calls(m, c.exprs, f, address_taken);
        break;
      }
      default:
        break;
    }
  }
}

// checked[i] for every function index i (imports: false, never instrumented).
std::vector<bool> entries_to_check(const wabt::Module& m) {
  const size_t n = m.funcs.size();
  std::vector<FuncFacts> facts(n);
  std::vector<bool> checked(n, false);
  for (size_t i = m.num_func_imports; i < n; ++i) scan_calls(m, m.funcs[i]->exprs, &facts[i], &checked);
  for (const wabt::Global* g : m.globals) scan_calls(m, g->init_expr, nullptr, &checked);
  for (const wabt::ElemSegment* seg : m.elem_segments) {
    for (const wabt::ExprList& el : seg->elem_exprs) scan_calls(m, el, nullptr, &checked);
  }
  for (const wabt::Export* e : m.exports) {
    if (e->kind != wabt::ExternalKind::Func) continue;
    wabt::Index i = m.GetFuncIndex(e->var);
    if (i < n) checked[i] = true;
  }
  // Tarjan's strongly connected components, iteratively (a module may have a million
  // functions and call chains as deep). Components come out callees first.
  const uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> index(n, kNone), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<uint32_t> stack, order;  // order: functions, callees before callers
  std::vector<std::pair<uint32_t, size_t>> work;  // (function, next call site)
  uint32_t next = 0;
  for (uint32_t root = static_cast<uint32_t>(m.num_func_imports); root < n; ++root) {
    if (index[root] != kNone) continue;
    work.push_back({root, 0});
    index[root] = low[root] = next++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!work.empty()) {
      auto& [v, pos] = work.back();
      if (pos < facts[v].calls.size()) {
        uint32_t w = facts[v].calls[pos++];
        if (w < m.num_func_imports) continue;
        if (index[w] == kNone) {
          index[w] = low[w] = next++;
          stack.push_back(w);
          on_stack[w] = true;
          work.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      uint32_t done = v;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
      if (low[done] != index[done]) continue;
      size_t begin = stack.size();
      do {
        --begin;
      } while (stack[begin] != done);
      bool cyclic = stack.size() - begin > 1;
      if (!cyclic) {
        for (wabt::Index c : facts[done].calls) cyclic = cyclic || c == done;
      }
      for (size_t k = begin; k < stack.size(); ++k) {
        on_stack[stack[k]] = false;
        if (cyclic) checked[stack[k]] = true;
        order.push_back(stack[k]);
      }
      stack.resize(begin);
    }
  }
  // Work bound, callees first (within a cyclic component every callee is checked).
  std::vector<uint64_t> work_of(n, 0);
  for (uint32_t f : order) {
    std::map<uint32_t, uint64_t> heavy;  // unchecked callee -> its total contribution
    uint64_t w = facts[f].size;
    for (wabt::Index c : facts[f].calls) {
      if (c < m.num_func_imports || checked[c]) continue;
      heavy[c] += work_of[c];
      w += work_of[c];
    }
    if (w > kMaxUncheckedWork) {
      std::vector<std::pair<uint64_t, uint32_t>> by_weight;
      for (auto [c, cw] : heavy) by_weight.push_back({cw, c});
      std::sort(by_weight.rbegin(), by_weight.rend());
      for (auto [cw, c] : by_weight) {
        if (w <= kMaxUncheckedWork) break;
        checked[c] = true;
        w -= cw;
      }
    }
    work_of[f] = w;
  }
  for (size_t i = 0; i < m.num_func_imports && i < n; ++i) checked[i] = false;
  return checked;
}

void add_export(wabt::Module& m, const std::string& name, wabt::ExternalKind kind,
                wabt::Index index) {
  auto field = std::make_unique<wabt::ExportModuleField>();
  field->export_.name = name;
  field->export_.kind = kind;
  field->export_.var = wabt::Var(index, wabt::Location());
  m.AppendField(std::move(field));
}

// --- Reading wasm2c's output -----------------------------------------------------------------
struct Decl {
  std::string ret;     // "u32", "void", "u32*"
  std::string name;    // C identifier
  std::string first;   // first parameter type ("struct Z_x_instance_t*")
};

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

// Why a non-function import cannot be translated, or "": memories (32-bit, not shared) and
// i32/i64/f32/f64 globals are imported from another aot instance; tables and reference-typed
// globals are not shared (a funcref would have to call into its own instance). `type`: a
// global's; `limits`: a memory's.
std::string extern_import_refusal(wabt::ExternalKind kind, std::string_view module,
                                  std::string_view field, wabt::Type type,
                                  const wabt::Limits* limits) {
  const std::string name = quote_name(std::string(module) + "." + std::string(field));
  switch (kind) {
    case wabt::ExternalKind::Memory:
      if (limits != nullptr && (limits->is_64 || limits->is_shared)) {
        return "import " + name + " (memory): 64-bit and shared memories are not shared "
               "between instances on aot; run with --engine interp";
      }
      return "";
    case wabt::ExternalKind::Global:
      if (type == wabt::Type::I32 || type == wabt::Type::I64 || type == wabt::Type::F32 ||
          type == wabt::Type::F64) {
        return "";
      }
      return "import " + name + " (global): globals of type " + type.GetName() +
             " are not shared between instances on aot; run with --engine interp";
    case wabt::ExternalKind::Table:
      return "import " + name + " (table): tables are not shared between instances yet";
    default:
      return "unsupported import " + name + " (" + std::string(wabt::GetKindName(kind)) +
             "): wasmcap provides only host functions";
  }
}

std::string extern_import_refusal(const wabt::Import& imp) {
  switch (imp.kind()) {
    case wabt::ExternalKind::Memory:
      return extern_import_refusal(imp.kind(), imp.module_name, imp.field_name, wabt::Type::Void,
                                   &wabt::cast<wabt::MemoryImport>(&imp)->memory.page_limits);
    case wabt::ExternalKind::Global:
      return extern_import_refusal(imp.kind(), imp.module_name, imp.field_name,
                                   wabt::cast<wabt::GlobalImport>(&imp)->global.type, nullptr);
    default:
      return extern_import_refusal(imp.kind(), imp.module_name, imp.field_name, wabt::Type::Void,
                                   nullptr);
  }
}

// The first import check_extern_imports refuses (the decoding pass of load()).
class ExternImports : public QuietReader {
 public:
  std::string refusal;
  wabt::Result OnImportTable(wabt::Index, std::string_view mod, std::string_view field,
                             wabt::Index, wabt::Type, const wabt::Limits*) override {
    return note(extern_import_refusal(wabt::ExternalKind::Table, mod, field, wabt::Type::Void,
                                      nullptr));
  }
  wabt::Result OnImportMemory(wabt::Index, std::string_view mod, std::string_view field,
                              wabt::Index, const wabt::Limits* limits) override {
    return note(extern_import_refusal(wabt::ExternalKind::Memory, mod, field, wabt::Type::Void,
                                      limits));
  }
  wabt::Result OnImportGlobal(wabt::Index, std::string_view mod, std::string_view field,
                              wabt::Index, wabt::Type type, bool) override {
    return note(extern_import_refusal(wabt::ExternalKind::Global, mod, field, type, nullptr));
  }
  wabt::Result OnImportTag(wabt::Index, std::string_view mod, std::string_view field,
                           wabt::Index, wabt::Index) override {
    return note(extern_import_refusal(wabt::ExternalKind::Tag, mod, field, wabt::Type::Void,
                                      nullptr));
  }
  // Nothing after the import section matters.
  wabt::Result EndImportSection() override { return wabt::Result::Error; }

 private:
  wabt::Result note(std::string why) {
    if (refusal.empty() && !why.empty()) refusal = std::move(why);
    return wabt::Result::Ok;
  }
};

const char* c_type(wabt::Type t) {
  switch (t) {
    case wabt::Type::I32: return "u32";
    case wabt::Type::I64: return "u64";
    case wabt::Type::F32: return "f32";
    case wabt::Type::F64: return "f64";
    default: return nullptr;
  }
}

const char* val_field(wabt::Type t) {
  switch (t) {
    case wabt::Type::I32: return "i32";
    case wabt::Type::I64: return "i64";
    case wabt::Type::F32: return "f32";
    case wabt::Type::F64: return "f64";
    default: return nullptr;
  }
}

bool scalar_sig(const wabt::FuncSignature& sig) {
  for (auto t : sig.param_types) {
    if (c_type(t) == nullptr) return false;
  }
  for (auto t : sig.result_types) {
    if (c_type(t) == nullptr) return false;
  }
  return true;
}

// wasm2c's field of result `i` in a multi-value struct ("i0", "j1", "f2", "d3").
std::string multi_field(wabt::Type t, size_t i) {
  const char* c = t == wabt::Type::I32 ? "i" : t == wabt::Type::I64 ? "j" : t == wabt::Type::F32 ? "f" : "d";
  return c + std::to_string(i);
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
    for (wabt::Index g : globs) {
      bind(v.global_bindings, m.globals[g]->name, v.globals.size());
      v.globals.push_back(m.globals[g]);
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
}  // namespace

std::string_view wabt_version() { return WABT_VERSION_STRING; }

namespace {

Result<TranslatedModule> translate_checked(const uint8_t* bytes, size_t size,
                                           bool interruptible, uint32_t unit_functions,
                                           bool poll) {
  wabt::Errors errors;
  wabt::Features features = all_features();
  wabt::ReadBinaryOptions options(features, nullptr, /*read_debug_names=*/false,
                                  /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/false);
  {
    // Validation comes first, with the reader the fast engine loads with (validate.h: the
    // same feature set as all_features(), the interpreters' verdicts). The engines call
    // translate() only with bytes they validated, but wabt 1.0.32's IR reader aborts the host
    // on some invalid bytes (an assertion in its expression lists, found by fuzz_aot_translate)
    // and its C writer assumes a valid module: no unvalidated byte reaches either, whoever the
    // caller. Costs ~15 ns per instruction, small next to the C compile.
    wabt::Errors verrors;
    fast::FeatureScan scan;
    if (wabt::Failed(fast::validate_module(bytes, size, options, &verrors, &scan,
                                           /*max_threads=*/0))) {
      return make_error(ErrorCode::kModuleMalformed,
                        "invalid module" + (verrors.empty()
                                                ? std::string()
                                                : ": " + quote_name(verrors.front().message)));
    }
  }
  {
    // wasm2c 1.0.32 has no SIMD support and aborts the process (WABT_UNREACHABLE) on v128
    // values: a module must never reach the C writer with them. Reading it again with SIMD
    // disabled is the complete check (every v128 type and opcode is refused by the reader);
    // the IR read below tells an invalid module from one that uses SIMD.
    // Not quite complete: wabt 1.0.32's reader accepts some 0xfd-prefixed (SIMD) opcodes with
    // SIMD disabled (v128.load8x8_s and friends, found by the spec suite on aot: simd_align
    // aborted the host), so every opcode is looked at as well.
    wabt::Features no_simd = features;
    no_simd.disable_simd();
    wabt::ReadBinaryOptions strict(no_simd, nullptr, false, true, false);
    struct SimdProbe : QuietReader {
      bool simd = false;
      wabt::Result OnOpcode(wabt::Opcode op) override {
        if (op.GetPrefix() == 0xfd) simd = true;
        return wabt::Result::Ok;
      }
    } nop;
    if (wabt::Failed(wabt::ReadBinary(bytes, size, &nop, strict)) || nop.simd) {
      wabt::Module probe;
      wabt::Errors probe_errors;
      if (wabt::Succeeded(
              wabt::ReadBinaryIr("module.wasm", bytes, size, options, &probe_errors, &probe))) {
        return make_error(ErrorCode::kModuleUnsupported,
                          "the module uses SIMD (v128), which the AOT engine's translator (wabt " +
                              std::string(wabt_version()) + ") does not support; run with "
                              "--engine interp");
      }
    }
  }
  wabt::Module m;
  if (wabt::Failed(wabt::ReadBinaryIr("module.wasm", bytes, size, options, &errors, &m))) {
    return make_error(ErrorCode::kModuleMalformed,
                      "invalid module" + (errors.empty() ? std::string()
                                                         : ": " + quote_name(errors.front().message)));
  }
  bool extern_imports = false;  // memories or globals from another instance
  for (const wabt::Import* imp : m.imports) {
    if (imp->kind() != wabt::ExternalKind::Func) {
      // Memories and i32/i64/f32/f64 globals are shared between aot instances (the exporter's
      // storage, through a pointer in the instance); anything else is refused before it gets
      // here (extern_import_refusal: load() compiles no such module).
      if (auto why = extern_import_refusal(*imp); !why.empty()) {
        return make_error(ErrorCode::kLinkError, why);
      }
      extern_imports = true;
      continue;
    }
    auto* fi = wabt::cast<wabt::FuncImport>(imp);
    if (!scalar_sig(fi->func.decl.sig)) {
      return make_error(ErrorCode::kModuleUnsupported,
                        "import " + quote_name(imp->module_name + "." + imp->field_name) +
                            " has a signature the AOT engine cannot bind (only i32/i64/f32/f64 "
                            "values); run with --engine interp");
    }
  }
  {
    UsesExceptions eh;
    (void)wabt::ReadBinary(bytes, size, &eh, options);
    if (eh.found || !m.tags.empty()) {
      return make_error(ErrorCode::kModuleUnsupported,
                        "the module uses exception handling, which the AOT engine does not "
                        "run; run with --engine interp");
    }
  }
  // Validated with the module's own names (duplicate exports are an error), before they go.
  wabt::ValidateOptions vopts(features);
  if (wabt::Failed(wabt::ValidateModule(&m, &errors, vopts))) {
    return make_error(ErrorCode::kModuleMalformed,
                      "invalid module" + (errors.empty() ? std::string()
                                                         : ": " + quote_name(errors.front().message)));
  }
  replace_names(m);

  // Interrupt flag: a new mutable i32 global (appended, so no existing index moves) exported
  // under a reserved name only the glue uses (module exports are all e<N> now).
  auto gfield = std::make_unique<wabt::GlobalModuleField>();
  gfield->global.type = wabt::Type::I32;
  gfield->global.mutable_ = true;
  gfield->global.init_expr.push_back(std::make_unique<wabt::ConstExpr>(wabt::Const::I32(0)));
  const wabt::Index flag = static_cast<wabt::Index>(m.globals.size());
  m.AppendField(std::move(gfield));
  // With asynchronous preemption (kAsyncPreemption) guest code never reads the flag: the
  // runtime's signal handler does (docs/aot.md, "Deadlines"). Polling is for hosts without it.
  if (interruptible && poll) {
    const std::vector<bool> check_entry = entries_to_check(m);
    for (wabt::Index i = m.num_func_imports; i < m.funcs.size(); ++i) {
      wabt::Func* f = m.funcs[i];
      instrument_list(f->exprs, flag);
      if (check_entry[i]) prepend_check(f->exprs, flag);
    }
  }
  const size_t num_user_exports = m.exports.size();
  add_export(m, "wasmcap_interrupt", wabt::ExternalKind::Global, flag);
  // Host functions see memory 0 (the interpreter's rule: export "memory", else the first memory;
  // without multi-memory they are the same memory).
  const bool has_memory = !m.memories.empty();
  if (has_memory) add_export(m, "wasmcap_memory", wabt::ExternalKind::Memory, 0);

  errors.clear();
  if (wabt::Failed(wabt::ValidateModule(&m, &errors, vopts))) {
    return make_error(ErrorCode::kInternal,
                      "the AOT translator's instrumentation made the module invalid" +
                          (errors.empty() ? std::string()
                                          : ": " + quote_name(errors.front().message)));
  }
  if (wabt::Failed(wabt::GenerateNames(&m)) || wabt::Failed(wabt::ApplyNames(&m))) {
    return make_error(ErrorCode::kModuleUnsupported, "cannot name the module's items for C");
  }
  if (!all_names_plain(m)) return unexpected_output("a name not generated by wasmcap");
  // Loops versioned for their iterations that certainly stay in bounds (loop_version.h). Not
  // where the runtime polls for deadlines: a versioned copy has no check in it.
  std::vector<VersionedLoop> versioned;
  if (!(interruptible && poll)) versioned = plan_versioned_loops(m);
  TranslatedModule out;
  out.functions = static_cast<uint32_t>(m.funcs.size() - m.num_func_imports);
  // Not split when memories or globals are imported: the chunk writes see function imports
  // only (an imported memory or global would be written as one of the chunk's own).
  bool split = unit_functions > 0 && out.functions > unit_functions && !extern_imports;
  if (split) {
    FuncRefs r;
    for (size_t i = m.num_func_imports; i < m.funcs.size() && !r.segment_ops; ++i) {
      scan_refs(m, m.funcs[i]->exprs, &r);
      r.funcs.clear();
      r.globals.clear();
    }
    split = !r.segment_ops;
  }
  if (split) {
    WASMCAP_TRY(write_split(m, unit_functions, out));
  } else {
    std::pair<std::string, std::string> w;
    WASMCAP_TRY_ASSIGN(w, write_c(m));
    out.module_c = std::move(w.first);
    out.module_h = std::move(w.second);
  }
  std::string& c = out.module_c;

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
  c.insert(ci,
           "int wasmcap_call_indirect_trap(const wasm_rt_funcref_table_t*, u32, u32);\n"
           "#define WASM_RT_TRAP_TABLE_OOB ((wasm_rt_trap_t)100)\n");
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

  // Accessors of the reserved exports, from the header, in export order.
  // wasm2c groups declarations its own way: find each by its comment, never by position.
  std::vector<Decl> exports;
  for (size_t i = 0; i < m.exports.size(); ++i) {
    auto d = declaration(out.module_h, "/* export: '" + m.exports[i]->name + "' */");
    if (!d) return unexpected_output("export " + std::to_string(i));
    exports.push_back(std::move(*d));
  }
  std::vector<Decl> imports;
  for (size_t i = 0; i < m.imports.size(); ++i) {
    const wabt::Import* imp = m.imports[i];
    auto d = imp->kind() == wabt::ExternalKind::Func
                 ? declaration(out.module_h, "/* import: '" + imp->module_name + "' '" +
                                                 imp->field_name + "' */")
                 : extern_declaration(out.module_h, "Z_" + imp->module_name + "Z_" +
                                                        imp->field_name);
    if (!d) return unexpected_output("import " + std::to_string(i));
    imports.push_back(std::move(*d));
  }
  const Decl& flag_accessor = exports[num_user_exports];
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

  // --- Glue ------------------------------------------------------------------------------------
  std::string inst_t = "Z_" + std::string(kModuleName) + "_instance_t";
  std::string g;
  g += "/* Generated by wasmcap (AOT glue, instrumentation v" +
       std::to_string(kInstrumentationVersion) + "). */\n";
  g += "#include <alloca.h>\n#include <stdarg.h>\n#include <stdbool.h>\n#include <string.h>\n#include \"module.h\"\n";
  g += kAbiHeader;
  g += R"(
#define WASMCAP_PUBLIC __attribute__((visibility("default")))
static const wasmcap_rt_vtable* wasmcap_rt;
static void wasmcap_bind(const wasmcap_rt_vtable* rt) { wasmcap_rt = rt; }
void wasm_rt_trap(wasm_rt_trap_t code) { wasmcap_rt->trap((int)code); __builtin_unreachable(); }
void wasmcap_bulk_done(void) { wasmcap_rt->bulk_done(); }
int wasmcap_call_indirect_trap(const wasm_rt_funcref_table_t* t, u32 x, u32 type) {
  int code = x >= t->size ? WASMCAP_TRAP_INDIRECT_OOB
           : t->data[x].func == NULL ? WASMCAP_TRAP_INDIRECT_NULL
           : WASMCAP_TRAP_INDIRECT_MISMATCH;
  (void)type;
  wasmcap_rt->trap(code);
  __builtin_unreachable();
}
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  uint32_t n = params + results;
  int* types = (int*)alloca((n ? n : 1) * sizeof(int));
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < n; ++i) types[i] = va_arg(ap, int);
  va_end(ap);
  return wasmcap_rt->register_func_type(params, results, types);
}
void wasm_rt_allocate_memory(wasm_rt_memory_t* m, uint32_t i, uint32_t x) { wasmcap_rt->allocate_memory(m, i, x); }
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* m, uint32_t d) { return wasmcap_rt->grow_memory(m, d); }
void wasm_rt_free_memory(wasm_rt_memory_t* m) { wasmcap_rt->free_memory(m); }
void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* t, uint32_t n, uint32_t x) { wasmcap_rt->allocate_funcref_table(t, n, x); }
uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* t, uint32_t d, wasm_rt_funcref_t v) { return wasmcap_rt->grow_funcref_table(t, d, v); }
void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* t) { wasmcap_rt->free_funcref_table(t); }
void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t* t, uint32_t n, uint32_t x) { wasmcap_rt->allocate_externref_table(t, n, x); }
uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t* t, uint32_t d, wasm_rt_externref_t v) { return wasmcap_rt->grow_externref_table(t, d, v); }
void wasm_rt_free_externref_table(wasm_rt_externref_table_t* t) { wasmcap_rt->free_externref_table(t); }
void wasm_rt_init(void) {}
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) {}
const char* wasm_rt_strerror(wasm_rt_trap_t t) { (void)t; return "trap"; }
/* Exceptions are not enabled in wasmcap's feature set: these exist only so the object has no
 * undefined symbols, and trap if ever reached. */
uint32_t wasm_rt_register_tag(uint32_t s) { (void)s; wasmcap_rt->trap(WASMCAP_TRAP_UNSUPPORTED); __builtin_unreachable(); }
void wasm_rt_load_exception(uint32_t t, uint32_t s, const void* v) { (void)t; (void)s; (void)v; wasmcap_rt->trap(WASMCAP_TRAP_UNSUPPORTED); }
void wasm_rt_throw(void) { wasmcap_rt->trap(WASMCAP_TRAP_UNSUPPORTED); __builtin_unreachable(); }
WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void) { wasmcap_rt->trap(WASMCAP_TRAP_UNSUPPORTED); __builtin_unreachable(); }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* t) { (void)t; wasmcap_rt->trap(WASMCAP_TRAP_UNSUPPORTED); }
uint32_t wasm_rt_exception_tag(void) { return 0; }
uint32_t wasm_rt_exception_size(void) { return 0; }
void* wasm_rt_exception(void) { return NULL; }
)";

  // Import trampolines: every import calls the host's one dispatcher with its index (the host
  // links the real names to host functions in the same order). Each import has a name of its
  // own (h.i<N>), so wasm2c declares each one, duplicates included.
  // An imported memory or global is the exporter's storage: its accessor returns the pointer
  // the host put at the import's index in the array it passes to instantiation (wasm2c calls
  // the accessors once, from instantiation, and keeps the pointers in the instance).
  size_t func_index = 0;
  for (size_t i = 0; i < imports.size(); ++i) {
    const Decl& d = imports[i];
    if (m.imports[i]->kind() != wabt::ExternalKind::Func) {
      g += d.ret + " " + d.name + "(" + d.first + " ctx) {\n  return (" + d.ret +
           ")((void* const*)ctx)[" + std::to_string(i) + "];\n}\n";
      continue;
    }
    const auto& sig = wabt::cast<wabt::FuncImport>(m.imports[i])->func.decl.sig;
    g += d.ret + " " + d.name + "(" + d.first + " ctx";
    for (size_t p = 0; p < sig.param_types.size(); ++p) {
      g += std::string(", ") + c_type(sig.param_types[p]) + " p" + std::to_string(p);
    }
    g += ") {\n  wasmcap_val_t a[" + std::to_string(std::max<size_t>(1, sig.param_types.size())) +
         "];\n  wasmcap_val_t r[" + std::to_string(std::max<size_t>(1, sig.result_types.size())) +
         "];\n  memset(r, 0, sizeof r);\n";
    for (size_t p = 0; p < sig.param_types.size(); ++p) {
      g += "  a[" + std::to_string(p) + "]." + val_field(sig.param_types[p]) + " = p" +
           std::to_string(p) + ";\n";
    }
    g += "  wasmcap_rt->host_call((void*)ctx, " + std::to_string(func_index++) + "u, a, r);\n";
    if (sig.result_types.size() == 1) {
      g += std::string("  return r[0].") + val_field(sig.result_types[0]) + ";\n";
    } else if (sig.result_types.size() > 1) {
      g += "  " + d.ret + " out;\n";
      for (size_t k = 0; k < sig.result_types.size(); ++k) {
        g += "  out." + multi_field(sig.result_types[k], k) + " = r[" + std::to_string(k) + "]." +
             val_field(sig.result_types[k]) + ";\n";
      }
      g += "  return out;\n";
    } else {
      g += "  (void)r;\n";
    }
    g += "}\n";
  }

  // Export thunks: one uniform signature the host can call.
  std::string table = "static const wasmcap_export_desc wasmcap_exports[] = {\n";
  size_t num_thunks = 0;
  for (size_t i = 0; i < num_user_exports; ++i) {
    const wabt::Export* e = m.exports[i];
    if (e->kind != wabt::ExternalKind::Func) continue;
    const wabt::Func* f = m.GetFunc(e->var);
    if (f == nullptr || !scalar_sig(f->decl.sig)) continue;  // not callable from the host
    const auto& sig = f->decl.sig;
    std::string t = "wasmcap_export_" + std::to_string(i);
    g += "static void " + t + "(void* inst, void* a_, void* r_) {\n";
    g += "  const wasmcap_val_t* a = (const wasmcap_val_t*)a_;\n  wasmcap_val_t* r = (wasmcap_val_t*)r_;\n  (void)a;\n  (void)r;\n  ";
    if (sig.result_types.size() == 1) {
      g += std::string("r[0].") + val_field(sig.result_types[0]) + " = ";
    } else if (sig.result_types.size() > 1) {
      g += exports[i].ret + " out = ";
    }
    g += exports[i].name + "((" + inst_t + "*)inst";
    for (size_t p = 0; p < sig.param_types.size(); ++p) {
      g += std::string(", a[") + std::to_string(p) + "]." + val_field(sig.param_types[p]);
    }
    g += ");\n";
    if (sig.result_types.size() > 1) {
      for (size_t k = 0; k < sig.result_types.size(); ++k) {
        g += "  r[" + std::to_string(k) + "]." + val_field(sig.result_types[k]) + " = out." +
             multi_field(sig.result_types[k], k) + ";\n";
      }
    }
    g += "}\n";
    // Named by position ("e<N>": the N-th export of the module); the host maps the real name to
    // its position (docs/aot.md).
    table += "  {\"" + e->name + "\", " + t + "},\n";
    ++num_thunks;
  }
  table += "  {0, 0}\n};\n";
  g += table;

  // Instantiation: every imported module's "instance" is the host context.
  std::string inst_fn = "Z_" + std::string(kModuleName) + "_instantiate(";
  size_t ip = out.module_h.find("void " + inst_fn);
  if (ip == std::string::npos) return unexpected_output("instantiate");
  size_t ie = out.module_h.find(')', ip);
  g += "static void wasmcap_instantiate(void* inst, void* host, void* storage) {\n  (void)host;\n  (void)storage;\n  " +
       inst_fn + "(" + inst_t + "*)inst";
  {
    // One argument per imported module: the host context for the host's module "h", the
    // instance itself for "m" (a split translation's functions, see write_split).
    std::string params = out.module_h.substr(ip, ie - ip);
    size_t comma = params.find(',');
    while (comma != std::string::npos) {
      size_t next = params.find(',', comma + 1);
      std::string p = params.substr(comma + 1, (next == std::string::npos ? params.size() : next) - comma - 1);
      if (p == " struct Z_h_instance_t*") {
        // The import accessors read the storage array; host calls ignore their context.
        g += extern_imports ? ", (struct Z_h_instance_t*)storage" : ", host";
      } else if (p == " struct Z_" + std::string(kModuleName) + "_instance_t*" && !out.units.empty()) {
        g += ", (" + inst_t + "*)inst";
      } else {
        return unexpected_output("instantiate parameters");
      }
      comma = next;
    }
  }
  g += ");\n}\n";
  g += "static void wasmcap_free(void* inst) { Z_" + std::string(kModuleName) + "_free((" +
       inst_t + "*)inst); }\n";
  if (has_memory) {
    g += "static wasm_rt_memory_t* wasmcap_memory(void* inst) { return " +
         exports.back().name + "((" + inst_t + "*)inst); }\n";
  }
  g += "static uint32_t* wasmcap_flag(void* inst) { return " + flag_accessor.name + "((" +
       inst_t + "*)inst); }\n";
  g += "static const uint32_t wasmcap_table_initial[] = {";
  for (const wabt::Table* t : m.tables) g += std::to_string(t->elem_limits.initial) + "u, ";
  g += "0u};\n";
  // Imports (kinds, globals' types) and exported memories and globals, for the host's link
  // checks and export_extern.
  auto val_code = [](wabt::Type t) -> std::string {
    switch (t) {
      case wabt::Type::I32: return "0u";
      case wabt::Type::I64: return "1u";
      case wabt::Type::F32: return "2u";
      case wabt::Type::F64: return "3u";
      default: return "WASMCAP_VAL_OTHER";
    }
  };
  g += "static const wasmcap_extern_desc wasmcap_import_descs[] = {\n";
  for (const wabt::Import* imp : m.imports) {
    switch (imp->kind()) {
      case wabt::ExternalKind::Memory: g += "  {0, WASMCAP_EXTERN_MEMORY, 0u, 0u, -1, 0},\n"; break;
      case wabt::ExternalKind::Global: {
        const wabt::Global& gl = wabt::cast<wabt::GlobalImport>(imp)->global;
        g += "  {0, WASMCAP_EXTERN_GLOBAL, " + val_code(gl.type) + ", " +
             (gl.mutable_ ? "1u" : "0u") + ", -1, 0},\n";
        break;
      }
      default: g += "  {0, WASMCAP_EXTERN_FUNC, 0u, 0u, -1, 0},\n"; break;
    }
  }
  g += "  {0, 0u, 0u, 0u, -1, 0}\n};\n";
  std::string ext_table = "static const wasmcap_extern_desc wasmcap_externs[] = {\n";
  size_t num_externs = 0;
  for (size_t i = 0; i < num_user_exports; ++i) {
    const wabt::Export* e = m.exports[i];
    if (e->kind != wabt::ExternalKind::Memory && e->kind != wabt::ExternalKind::Global) continue;
    std::string kind, type = "0u", mut = "0u";
    wabt::Index index = 0;
    int import = -1;
    if (e->kind == wabt::ExternalKind::Memory) {
      kind = "WASMCAP_EXTERN_MEMORY";
      index = m.GetMemoryIndex(e->var);
      if (index < m.num_memory_imports) import = static_cast<int>(index);  // memory 0
    } else {
      kind = "WASMCAP_EXTERN_GLOBAL";
      index = m.GetGlobalIndex(e->var);
      if (index >= m.globals.size()) return unexpected_output("exported global");
      type = val_code(m.globals[index]->type);
      mut = m.globals[index]->mutable_ ? "1u" : "0u";
      if (index < m.num_global_imports) import = static_cast<int>(index);
    }
    if (import >= 0) {
      // The position of the index-th import of this kind among all imports.
      const wabt::ExternalKind want = e->kind;
      int seen = -1;
      for (size_t k = 0; k < m.imports.size(); ++k) {
        if (m.imports[k]->kind() == want && ++seen == import) {
          import = static_cast<int>(k);
          break;
        }
      }
    }
    const std::string t = "wasmcap_extern_" + std::to_string(i);
    g += "static void* " + t + "(void* inst) { return (void*)" + exports[i].name + "((" + inst_t +
         "*)inst); }\n";
    ext_table += "  {\"" + e->name + "\", " + kind + ", " + type + ", " + mut + ", " +
                 std::to_string(import) + ", " + t + "},\n";
    ++num_externs;
  }
  ext_table += "  {0, 0u, 0u, 0u, -1, 0}\n};\n";
  g += ext_table;
  g += "WASMCAP_PUBLIC const wasmcap_module_desc wasmcap_aot_module_v1 = {\n";
  g += "  WASMCAP_AOT_ABI_VERSION, sizeof(wasmcap_rt_vtable), sizeof(wasmcap_module_desc),\n";
  g += "  " + std::to_string(func_index) + "u, " + std::to_string(num_thunks) +
       "u, wasmcap_exports,\n";
  g += "  " + std::to_string(m.tables.size()) + "u, wasmcap_table_initial,\n";
  g += "  sizeof(" + inst_t + "), wasmcap_bind, Z_" + std::string(kModuleName) +
       "_init_module, wasmcap_instantiate, wasmcap_free,\n";
  g += std::string("  ") + (has_memory ? "wasmcap_memory" : "0") + ", wasmcap_flag,\n";
  g += "  " + std::to_string(m.imports.size()) + "u, wasmcap_import_descs, " +
       std::to_string(num_externs) + "u, wasmcap_externs,\n};\n";
  out.glue_c = std::move(g);
  if (!out.units.empty()) {
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
  }
  data_as_strings(out.module_c);
  data_loads_as_loops(out.module_c);
  // Defence in depth: what goes to the compiler is ASCII text wasmcap and wabt wrote.
  bool ascii = plain_text(out.module_c) && plain_text(out.module_h) && plain_text(out.glue_c) &&
               plain_text(out.common_h);
  for (const CodeUnit& u : out.units) ascii = ascii && plain_text(u.c);
  if (!ascii) return unexpected_output("bytes that are not printable ASCII");
  return out;
}

// The translator runs on a thread of its own with a stack sized for the deepest nesting the
// bounds allow: wabt's C writer recurses per nesting level, and the caller's stack (an
// embedder's thread) may be small. Its virtual size costs nothing until it is touched.
constexpr size_t kTranslatorStack = size_t{64} << 20;

struct Job {
  const uint8_t* bytes;
  size_t size;
  bool interruptible;
  uint32_t unit_functions;
  bool poll;
  std::optional<Result<TranslatedModule>> out;
};

void* run_job(void* p) {
  auto* job = static_cast<Job*>(p);
  try {
    job->out = translate_checked(job->bytes, job->size, job->interruptible, job->unit_functions,
                                 job->poll);
  } catch (const std::bad_alloc&) {
    job->out = make_error(ErrorCode::kModuleUnsupported,
                          "the AOT translator ran out of memory on this module; run with "
                          "--engine interp");
  } catch (const std::exception& e) {
    job->out = make_error(ErrorCode::kModuleUnsupported,
                          std::string("the AOT translator failed on this module (") + e.what() +
                              "); run with --engine interp");
  }
  return nullptr;
}

}  // namespace

namespace {
std::atomic<uint64_t> g_bounds_passes{0};  // engine_test_hooks::aot_bounds_passes()
}

Result<void> check_extern_imports(const uint8_t* bytes, size_t size) {
  wabt::Features features = all_features();
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  ExternImports imports;
  (void)wabt::ReadBinary(bytes, size, &imports, options);  // stops after the import section
  if (!imports.refusal.empty()) return make_error(ErrorCode::kLinkError, imports.refusal);
  return {};
}

Result<void> check_bounds(const uint8_t* bytes, size_t size) {
  g_bounds_passes.fetch_add(1, std::memory_order_relaxed);
  wabt::Features features = all_features();
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  BoundsCheck bounds;
  (void)wabt::ReadBinary(bytes, size, &bounds, options);  // malformed: translate() says so
  if (!bounds.violation.empty()) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "the module is beyond the AOT translator's bounds: " + bounds.violation +
                          "; run with --engine interp (docs/aot.md)");
  }
  return {};
}

Result<TranslatedModule> translate(const uint8_t* bytes, size_t size, bool interruptible,
                                   uint32_t unit_functions, bool poll) {
  // Bounds first, on the bytes: nothing of the module is built before they hold.
  WASMCAP_TRY(check_bounds(bytes, size));
  Job job{bytes, size, interruptible, unit_functions, poll, std::nullopt};
  pthread_attr_t attr;
  pthread_t thread;
  if (pthread_attr_init(&attr) != 0) return make_error(ErrorCode::kInternal, "pthread_attr_init");
  int rc = pthread_attr_setstacksize(&attr, kTranslatorStack);
  if (rc == 0) rc = pthread_create(&thread, &attr, run_job, &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "cannot start the AOT translator's thread (" +
                          std::string(std::strerror(rc)) + "); run with --engine interp");
  }
  pthread_join(thread, nullptr);
  return std::move(*job.out);
}

}  // namespace wasmcap::aot

uint64_t wasmcap::engine_test_hooks::aot_bounds_passes() {
  return wasmcap::aot::g_bounds_passes.load(std::memory_order_relaxed);
}
