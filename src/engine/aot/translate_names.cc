// The AOT translator's work on wabt's IR before the C writer runs: every name the module supplies
// replaced, and (where the runtime cannot preempt guest code) the interrupt checks.
// Built as C++17: wabt headers (NOTES-toolchain.md).
#include "engine/aot/translate_internal.h"
#include "engine/wabt_shared.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wabt/cast.h"
#include "wabt/ir.h"

namespace wasmcap::aot::detail {

// --- Names ----------------------------------------------------------------------------------
// wasm2c copies names into the C it writes (in comments, in symbols after legalising). Every
// name a module supplies is replaced before the C writer runs: imports become h.i<N>, exports
// e<N>, and every other name (functions, globals, tables, memories, types, segments, labels,
// locals, the module) is cleared, so that GenerateNames gives it a name made of a letter and a
// number. The real names stay with the host: it links imports by position (the glue's
// dispatcher index) and finds exports by position (docs/aot.md).
namespace {

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

}  // namespace

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
namespace {

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

}  // namespace

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
namespace {

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
}  // namespace

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

}  // namespace wasmcap::aot::detail
