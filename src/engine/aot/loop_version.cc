// Loop versioning for the AOT tier: see loop_version.h and docs/aot.md, "Loop versioning".
//
// The analysis, for one innermost loop whose body is straight-line code ending in `br_if` to the
// loop itself (the shape clang gives counted loops):
//  1. Every i32 value is tracked as an affine form c + sum(coef_l * E_l) mod 2^32, where E_l is
//     the value local l holds when an iteration starts. Locals the body never sets are
//     invariant; a local whose value at the end of the body is E_l + s (s != 0) is an induction
//     variable: E_l(k) = E_l(0) + k*s in iteration k (mod 2^32). Any other local the body both
//     reads before setting and sets is carried: forms that use it are not affine.
//  2. The exit condition is a comparison of an affine form that moves by a constant step per
//     iteration with one that does not (or `!=` of two moving ones, or a plain value: `!= 0`).
//     At run time, from the values the loop starts with, a helper computes N: the number of
//     iterations the loop runs, its test failing first in iteration N-1 — or 0 when that
//     cannot be told exactly (the test's operand would wrap first).
//  3. Every load and store address is affine in the invariants and induction variables. Over the
//     integers (taking coefficients and constants in [-2^31, 2^31)) it is A(k) = A0 + k*D, and
//     the u32 address the guest computes is A(k) mod 2^32 (addition and multiplication commute
//     with the reduction). If A(0) and A(N-1), hence every A(k) in between, lie in
//     [0, memory size - offset - access size], the u32 address *is* A(k): nothing wraps, nothing
//     is out of bounds. (With natural alignment too, so typed C accesses are well defined.)
// The block then runs all N iterations in a copy of the body with affine, barrier-free typed
// accesses, writes the locals back and jumps past the loop (the loop is wrapped in a block
// `$V<n>` for that label). When a check fails, the original loop runs as before. The copy
// computes every value the way wasm2c's C does (same operators, same helpers), so results are
// bit-identical; it has no call, branch, trap or global, so the instance cannot change under
// it, and preemption (a signal with the PC in guest code) stops it like any guest code.
#include "engine/aot/loop_version.h"

#include "wabt/cast.h"
#include "wabt/ir.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace wasmcap::aot {
namespace {

using wabt::Opcode;
using wabt::Type;

// The signed representative in [-2^31, 2^31) of x mod 2^32.
int64_t rep32(int64_t x) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(x))); }

// c + sum(coef[l] * E_l) mod 2^32; coefficients and c are representatives (rep32).
struct Affine {
  bool ok = false;
  int64_t c = 0;
  std::vector<std::pair<wabt::Index, int64_t>> terms;  // sorted by local, coef != 0

  static Affine constant(int64_t v) {
    Affine a;
    a.ok = true;
    a.c = rep32(v);
    return a;
  }
  static Affine local(wabt::Index l) {
    Affine a;
    a.ok = true;
    a.terms.push_back({l, 1});
    return a;
  }
  bool is_const() const { return ok && terms.empty(); }
};

Affine add(const Affine& a, const Affine& b, int64_t sign) {
  if (!a.ok || !b.ok) return {};
  Affine r;
  r.ok = true;
  r.c = rep32(a.c + sign * b.c);
  size_t i = 0, j = 0;
  while (i < a.terms.size() || j < b.terms.size()) {
    if (j == b.terms.size() || (i < a.terms.size() && a.terms[i].first < b.terms[j].first)) {
      r.terms.push_back(a.terms[i++]);
    } else if (i == a.terms.size() || b.terms[j].first < a.terms[i].first) {
      r.terms.push_back({b.terms[j].first, rep32(sign * b.terms[j].second)});
      ++j;
    } else {
      int64_t c = rep32(a.terms[i].second + sign * b.terms[j].second);
      if (c != 0) r.terms.push_back({a.terms[i].first, c});
      ++i;
      ++j;
    }
  }
  if (r.terms.size() > kVersionMaxTerms) return {};
  return r;
}

Affine scale(const Affine& a, int64_t k) {
  if (!a.ok) return {};
  Affine r;
  r.ok = true;
  const uint64_t uk = static_cast<uint32_t>(static_cast<uint64_t>(k));
  r.c = rep32(static_cast<int64_t>(static_cast<uint64_t>(a.c) * uk));
  for (const auto& [l, c] : a.terms) {
    int64_t v = rep32(static_cast<int64_t>(static_cast<uint64_t>(c) * uk));
    if (v != 0) r.terms.push_back({l, v});
  }
  return r;
}

const char* c_type(Type t) {
  switch (t) {
    case Type::I32: return "u32";
    case Type::I64: return "u64";
    case Type::F32: return "f32";
    case Type::F64: return "f64";
    default: return nullptr;
  }
}

// A value on the wasm stack: its C temporary, and what the analysis knows of it.
struct SVal {
  Type type = Type::Void;
  std::string c;
  Affine aff;                    // i32 only
  Opcode::Enum cmp = Opcode::Invalid;  // an i32 comparison of two affine forms
  Affine lhs, rhs;
};

struct Access {
  Affine addr;
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct LocalInfo {
  bool read_first = false;  // read before any set in the body
  bool set = false;
  std::optional<SVal> value;  // the value set last (analysis)
};

// The C of an op on temporaries a and b, as wasm2c writes it; nullptr = not supported.
std::string binary_c(Opcode::Enum op, const std::string& a, const std::string& b) {
  switch (op) {
    case Opcode::I32Add: case Opcode::I64Add: case Opcode::F32Add: case Opcode::F64Add:
      return a + " + " + b;
    case Opcode::I32Sub: case Opcode::I64Sub: case Opcode::F32Sub: case Opcode::F64Sub:
      return a + " - " + b;
    case Opcode::I32Mul: case Opcode::I64Mul: case Opcode::F32Mul: case Opcode::F64Mul:
      return a + " * " + b;
    case Opcode::F32Div: case Opcode::F64Div: return a + " / " + b;
    case Opcode::I32And: case Opcode::I64And: return a + " & " + b;
    case Opcode::I32Or: case Opcode::I64Or: return a + " | " + b;
    case Opcode::I32Xor: case Opcode::I64Xor: return a + " ^ " + b;
    case Opcode::I32Shl: return a + " << (" + b + " & 31)";
    case Opcode::I64Shl: return a + " << (" + b + " & 63)";
    case Opcode::I32ShrU: return a + " >> (" + b + " & 31)";
    case Opcode::I64ShrU: return a + " >> (" + b + " & 63)";
    case Opcode::I32ShrS: return "(u32)((s32)" + a + " >> (" + b + " & 31))";
    case Opcode::I64ShrS: return "(u64)((s64)" + a + " >> (" + b + " & 63))";
    case Opcode::I32Rotl: return "I32_ROTL(" + a + ", " + b + ")";
    case Opcode::I64Rotl: return "I64_ROTL(" + a + ", " + b + ")";
    case Opcode::I32Rotr: return "I32_ROTR(" + a + ", " + b + ")";
    case Opcode::I64Rotr: return "I64_ROTR(" + a + ", " + b + ")";
    default: return {};
  }
}

std::string compare_c(Opcode::Enum op, const std::string& a, const std::string& b) {
  auto s32 = [&](const char* o) { return "(u32)((s32)" + a + " " + o + " (s32)" + b + ")"; };
  auto s64 = [&](const char* o) { return "(u32)((s64)" + a + " " + o + " (s64)" + b + ")"; };
  auto u = [&](const char* o) { return "(u32)(" + a + " " + o + " " + b + ")"; };
  switch (op) {
    case Opcode::I32Eq: case Opcode::I64Eq: case Opcode::F32Eq: case Opcode::F64Eq: return u("==");
    case Opcode::I32Ne: case Opcode::I64Ne: case Opcode::F32Ne: case Opcode::F64Ne: return u("!=");
    case Opcode::I32LtU: case Opcode::I64LtU: case Opcode::F32Lt: case Opcode::F64Lt: return u("<");
    case Opcode::I32GtU: case Opcode::I64GtU: case Opcode::F32Gt: case Opcode::F64Gt: return u(">");
    case Opcode::I32LeU: case Opcode::I64LeU: case Opcode::F32Le: case Opcode::F64Le: return u("<=");
    case Opcode::I32GeU: case Opcode::I64GeU: case Opcode::F32Ge: case Opcode::F64Ge: return u(">=");
    case Opcode::I32LtS: return s32("<");
    case Opcode::I32GtS: return s32(">");
    case Opcode::I32LeS: return s32("<=");
    case Opcode::I32GeS: return s32(">=");
    case Opcode::I64LtS: return s64("<");
    case Opcode::I64GtS: return s64(">");
    case Opcode::I64LeS: return s64("<=");
    case Opcode::I64GeS: return s64(">=");
    default: return {};
  }
}

std::string unary_c(Opcode::Enum op, const std::string& a) {
  switch (op) {
    case Opcode::I32Eqz: case Opcode::I64Eqz: return "(u32)!(" + a + ")";
    case Opcode::F32Neg: case Opcode::F64Neg: return "-(" + a + ")";
    case Opcode::I32Extend8S: return "(u32)(s32)(s8)(u8)(" + a + ")";
    case Opcode::I32Extend16S: return "(u32)(s32)(s16)(u16)(" + a + ")";
    case Opcode::I64Extend8S: return "(u64)(s64)(s8)(u8)(" + a + ")";
    case Opcode::I64Extend16S: return "(u64)(s64)(s16)(u16)(" + a + ")";
    case Opcode::I64Extend32S: return "(u64)(s64)(s32)(u32)(" + a + ")";
    case Opcode::I32WrapI64: return "(u32)(" + a + ")";
    case Opcode::I64ExtendI32S: return "(u64)(s64)(s32)(" + a + ")";
    case Opcode::I64ExtendI32U: return "(u64)(" + a + ")";
    case Opcode::F32ConvertI32S: return "(f32)(s32)(" + a + ")";
    case Opcode::F32ConvertI32U: return "(f32)(" + a + ")";
    case Opcode::F32ConvertI64S: return "(f32)(s64)(" + a + ")";
    case Opcode::F32ConvertI64U: return "(f32)(" + a + ")";
    case Opcode::F64ConvertI32S: return "(f64)(s32)(" + a + ")";
    case Opcode::F64ConvertI32U: return "(f64)(" + a + ")";
    case Opcode::F64ConvertI64S: return "(f64)(s64)(" + a + ")";
    case Opcode::F64ConvertI64U: return "(f64)(" + a + ")";
    case Opcode::F32DemoteF64: return "(f32)wasm_quiet(" + a + ")";
    case Opcode::F64PromoteF32: return "(f64)wasm_quietf(" + a + ")";
    default: return {};
  }
}

// The typed C access of a load or store opcode: the memory type and, for loads, the conversion
// to the value's type (nullptr: not a plain numeric access).
struct AccessC {
  const char* mem = nullptr;
  const char* to = "";  // load: the cast applied to the loaded value
};
AccessC access_c(Opcode::Enum op) {
  switch (op) {
    case Opcode::I32Load: return {"u32", ""};
    case Opcode::I64Load: return {"u64", ""};
    case Opcode::F32Load: return {"f32", ""};
    case Opcode::F64Load: return {"f64", ""};
    case Opcode::I32Load8S: return {"s8", "(u32)(s32)"};
    case Opcode::I32Load8U: return {"u8", "(u32)"};
    case Opcode::I32Load16S: return {"s16", "(u32)(s32)"};
    case Opcode::I32Load16U: return {"u16", "(u32)"};
    case Opcode::I64Load8S: return {"s8", "(u64)(s64)"};
    case Opcode::I64Load8U: return {"u8", "(u64)"};
    case Opcode::I64Load16S: return {"s16", "(u64)(s64)"};
    case Opcode::I64Load16U: return {"u16", "(u64)"};
    case Opcode::I64Load32S: return {"s32", "(u64)(s64)"};
    case Opcode::I64Load32U: return {"u32", "(u64)"};
    case Opcode::I32Store: return {"u32", ""};
    case Opcode::I64Store: return {"u64", ""};
    case Opcode::F32Store: return {"f32", ""};
    case Opcode::F64Store: return {"f64", ""};
    case Opcode::I32Store8: case Opcode::I64Store8: return {"u8", ""};
    case Opcode::I32Store16: case Opcode::I64Store16: return {"u16", ""};
    case Opcode::I64Store32: return {"u32", ""};
    default: return {};
  }
}

std::string num(int64_t v) {
  if (v == INT64_MIN) return "(-0x7fffffffffffffffll - 1)";
  return v < 0 ? "(" + std::to_string(v) + "ll)" : std::to_string(v) + "ll";
}

// One pass over a loop body: symbolic evaluation (and, when `emit`, the C of the copy).
class Pass {
 public:
  // `place` (when emitting): for access #i, its group and its byte distance from the group's
  // lowest address.
  Pass(const wabt::Module& m, const wabt::Func& f, const std::vector<std::string>& names,
       const std::vector<bool>& poisoned, const std::vector<std::pair<size_t, int64_t>>* place)
      : m_(m), f_(f), names_(names), poisoned_(poisoned), emit_(place != nullptr), place_(place) {}

  // Evaluates the body up to (not including) its final br_if; false if it is not versionable.
  bool run(const wabt::ExprList& body, const wabt::Expr* last) {
    for (const wabt::Expr& e : body) {
      if (&e == last) break;
      if (!step(e)) return false;
    }
    return true;
  }

  std::vector<SVal> stack;
  std::map<wabt::Index, LocalInfo> locals;
  std::vector<Access> accesses;
  std::string code;

 private:
  std::string temp(Type t, const std::string& expr) {
    std::string name = "wc_t" + std::to_string(temps_++);
    if (emit_) code += "      const " + std::string(c_type(t)) + " " + name + " = " + expr + ";\n";
    return name;
  }
  static std::string local_c(wabt::Index l) { return "wc_l" + std::to_string(l); }

  bool pop(SVal* out) {
    if (stack.empty()) return false;
    *out = std::move(stack.back());
    stack.pop_back();
    return true;
  }

  Affine entry(wabt::Index l) const {
    if (poisoned_[l]) return {};
    return Affine::local(l);
  }

  bool step(const wabt::Expr& e) {
    switch (e.type()) {
      case wabt::ExprType::Nop: return true;
      case wabt::ExprType::Drop: {
        SVal v;
        return pop(&v);
      }
      case wabt::ExprType::Const: {
        const wabt::Const& k = wabt::cast<wabt::ConstExpr>(&e)->const_;
        SVal v;
        v.type = k.type();
        char buf[64];
        switch (k.type()) {
          case Type::I32:
            std::snprintf(buf, sizeof buf, "0x%" PRIx32 "u", k.u32());
            v.aff = Affine::constant(static_cast<int32_t>(k.u32()));
            break;
          case Type::I64: std::snprintf(buf, sizeof buf, "0x%" PRIx64 "ull", k.u64()); break;
          case Type::F32: std::snprintf(buf, sizeof buf, "wasmcap_lv_f32(0x%" PRIx32 "u)", k.f32_bits()); break;
          case Type::F64: std::snprintf(buf, sizeof buf, "wasmcap_lv_f64(0x%" PRIx64 "ull)", k.f64_bits()); break;
          default: return false;
        }
        v.c = temp(v.type, buf);
        stack.push_back(std::move(v));
        return true;
      }
      case wabt::ExprType::LocalGet: {
        const wabt::Index l = f_.GetLocalIndex(wabt::cast<wabt::LocalGetExpr>(&e)->var);
        if (!known(l)) return false;
        LocalInfo& li = locals[l];
        SVal v;
        v.type = f_.GetLocalType(l);
        if (li.set) {
          v.aff = li.value->aff;
        } else {
          li.read_first = true;
          if (v.type == Type::I32) v.aff = entry(l);
        }
        v.c = temp(v.type, local_c(l));
        stack.push_back(std::move(v));
        return true;
      }
      case wabt::ExprType::LocalSet:
      case wabt::ExprType::LocalTee: {
        const wabt::Var& var = e.type() == wabt::ExprType::LocalSet
                                   ? wabt::cast<wabt::LocalSetExpr>(&e)->var
                                   : wabt::cast<wabt::LocalTeeExpr>(&e)->var;
        const wabt::Index l = f_.GetLocalIndex(var);
        if (!known(l)) return false;
        SVal v;
        if (!pop(&v)) return false;
        LocalInfo& li = locals[l];
        li.set = true;
        li.value = v;
        li.value->cmp = Opcode::Invalid;
        if (emit_) code += "      " + local_c(l) + " = " + v.c + ";\n";
        if (e.type() == wabt::ExprType::LocalTee) stack.push_back(std::move(v));
        return true;
      }
      case wabt::ExprType::Binary: {
        const Opcode op = wabt::cast<wabt::BinaryExpr>(&e)->opcode;
        SVal b, a;
        if (!pop(&b) || !pop(&a)) return false;
        std::string expr = binary_c(op, a.c, b.c);
        if (expr.empty()) return false;
        SVal v;
        v.type = op.GetResultType();
        switch (op) {
          case Opcode::I32Add: v.aff = add(a.aff, b.aff, 1); break;
          case Opcode::I32Sub: v.aff = add(a.aff, b.aff, -1); break;
          case Opcode::I32Mul:
            if (b.aff.is_const()) v.aff = scale(a.aff, b.aff.c);
            else if (a.aff.is_const()) v.aff = scale(b.aff, a.aff.c);
            break;
          case Opcode::I32Shl:
            if (b.aff.is_const()) v.aff = scale(a.aff, int64_t{1} << (static_cast<uint32_t>(b.aff.c) & 31));
            break;
          default: break;
        }
        v.c = temp(v.type, expr);
        stack.push_back(std::move(v));
        return true;
      }
      case wabt::ExprType::Compare: {
        const Opcode op = wabt::cast<wabt::CompareExpr>(&e)->opcode;
        SVal b, a;
        if (!pop(&b) || !pop(&a)) return false;
        std::string expr = compare_c(op, a.c, b.c);
        if (expr.empty()) return false;
        SVal v;
        v.type = Type::I32;
        if (a.type == Type::I32 && a.aff.ok && b.aff.ok) {
          v.cmp = op;
          v.lhs = a.aff;
          v.rhs = b.aff;
        }
        v.c = temp(v.type, expr);
        stack.push_back(std::move(v));
        return true;
      }
      case wabt::ExprType::Unary:
      case wabt::ExprType::Convert: {
        const Opcode op = e.type() == wabt::ExprType::Unary ? wabt::cast<wabt::UnaryExpr>(&e)->opcode
                                                            : wabt::cast<wabt::ConvertExpr>(&e)->opcode;
        SVal a;
        if (!pop(&a)) return false;
        std::string expr = unary_c(op, a.c);
        if (expr.empty()) return false;
        SVal v;
        v.type = op.GetResultType();
        if (op == Opcode::I32Eqz && a.cmp != Opcode::Invalid) {
          // eqz of a comparison: the inverse comparison (an exit test).
          Opcode::Enum inv = Opcode::Invalid;
          switch (a.cmp) {
            case Opcode::I32LtU: inv = Opcode::I32GeU; break;
            case Opcode::I32LtS: inv = Opcode::I32GeS; break;
            case Opcode::I32GtU: inv = Opcode::I32LeU; break;
            case Opcode::I32GtS: inv = Opcode::I32LeS; break;
            case Opcode::I32LeU: inv = Opcode::I32GtU; break;
            case Opcode::I32LeS: inv = Opcode::I32GtS; break;
            case Opcode::I32GeU: inv = Opcode::I32LtU; break;
            case Opcode::I32GeS: inv = Opcode::I32LtS; break;
            case Opcode::I32Eq: inv = Opcode::I32Ne; break;
            default: break;
          }
          if (inv != Opcode::Invalid) {
            v.cmp = inv;
            v.lhs = a.lhs;
            v.rhs = a.rhs;
          }
        } else if (op == Opcode::I32Eqz && a.aff.ok) {
          // eqz(x) == (x == 0); its inverse (under a second eqz) is x != 0.
          v.cmp = Opcode::I32Eq;
          v.lhs = a.aff;
          v.rhs = Affine::constant(0);
        }
        v.c = temp(v.type, expr);
        stack.push_back(std::move(v));
        return true;
      }
      case wabt::ExprType::Select: {
        const auto* s = wabt::cast<wabt::SelectExpr>(&e);
        if (s->result_type.size() > 1) return false;
        SVal c, b, a;
        if (!pop(&c) || !pop(&b) || !pop(&a)) return false;
        if (!c_type(a.type)) return false;
        SVal v;
        v.type = a.type;
        v.c = temp(v.type, c.c + " ? " + a.c + " : " + b.c);
        stack.push_back(std::move(v));
        return true;
      }
      case wabt::ExprType::Load: {
        const auto* ld = wabt::cast<wabt::LoadExpr>(&e);
        if (m_.GetMemoryIndex(ld->memidx) != 0) return false;
        const AccessC ac = access_c(ld->opcode);
        SVal a;
        if (!ac.mem || !pop(&a)) return false;
        Access acc{a.aff, ld->offset, ld->opcode.GetMemorySize()};
        SVal v;
        v.type = ld->opcode.GetResultType();
        v.c = temp(v.type, std::string(ac.to) + "*(const " + ac.mem + "*)" + address(acc));
        accesses.push_back(std::move(acc));
        stack.push_back(std::move(v));
        return accesses.size() <= kVersionMaxAccesses;
      }
      case wabt::ExprType::Store: {
        const auto* st = wabt::cast<wabt::StoreExpr>(&e);
        if (m_.GetMemoryIndex(st->memidx) != 0) return false;
        const AccessC ac = access_c(st->opcode);
        SVal val, a;
        if (!ac.mem || !pop(&val) || !pop(&a)) return false;
        Access acc{a.aff, st->offset, st->opcode.GetMemorySize()};
        if (emit_) {
          code += "      *(" + std::string(ac.mem) + "*)" + address(acc) + " = (" + ac.mem + ")" +
                  val.c + ";\n";
        }
        accesses.push_back(std::move(acc));
        return accesses.size() <= kVersionMaxAccesses;
      }
      default:
        return false;  // calls, branches, blocks, globals, memory.*, traps, ...
    }
  }

  bool known(wabt::Index l) {
    if (l >= names_.size()) return false;
    if (locals.size() >= kVersionMaxLocals && locals.find(l) == locals.end()) return false;
    return c_type(f_.GetLocalType(l)) != nullptr;
  }

  // The address of access #accesses.size() in the copy: its group's address in iteration k
  // (wc_s<G> + k * wc_d<G>) plus its distance from it.
  std::string address(const Access&) const {
    if (!emit_ || accesses.size() >= place_->size()) return {};
    const auto& [g, delta] = (*place_)[accesses.size()];
    const std::string n = std::to_string(g);
    return "(wc_b + (u64)(wc_s" + n + " + wc_k * wc_d" + n + ") + " + std::to_string(delta) + "u)";
  }

  const wabt::Module& m_;
  const wabt::Func& f_;
  const std::vector<std::string>& names_;
  const std::vector<bool>& poisoned_;
  bool emit_;
  const std::vector<std::pair<size_t, int64_t>>* place_;
  size_t temps_ = 0;
};

// The C text of an affine form's value at loop entry: `wrap` as a u32 (mod 2^32), else as an
// exact __int128 (the representative the analysis reasons with).
// (`wide` names the exact type: "__int128", or "s64" where the caller has bounded the sum.)
std::string entry_c(const Affine& a, const std::vector<std::string>& names, bool wrap,
                    const char* wide = "__int128") {
  std::string s;
  if (wrap) {
    s = "(u32)(" + std::to_string(static_cast<uint32_t>(a.c)) + "u";
    for (const auto& [l, c] : a.terms) {
      s += " + " + std::to_string(static_cast<uint32_t>(c)) + "u * " + names[l];
    }
  } else {
    const std::string t = std::string("(") + wide + ")";
    s = "(" + t + num(a.c);
    for (const auto& [l, c] : a.terms) s += " + " + t + num(c) + " * " + t + names[l];
  }
  return s + ")";
}

// The slope of an affine form per iteration (exact), given the induction steps.
__int128 slope(const Affine& a, const std::map<wabt::Index, int64_t>& steps) {
  __int128 d = 0;
  for (const auto& [l, c] : a.terms) {
    auto it = steps.find(l);
    if (it != steps.end()) d += static_cast<__int128>(c) * it->second;
  }
  return d;
}

// The plan for one loop, or nullopt.
std::optional<VersionedLoop> plan_loop(const wabt::Module& m, const wabt::Func& f,
                                       const std::string& func_c,
                                       const std::vector<std::string>& names,
                                       const wabt::LoopExpr& loop, const std::string& exit) {
  const wabt::Block& blk = loop.block;
  if (blk.decl.GetNumParams() != 0 || blk.decl.GetNumResults() != 0) return std::nullopt;
  const wabt::ExprList& body = blk.exprs;
  if (body.empty() || body.size() > kVersionMaxBody) return std::nullopt;
  const wabt::Expr& last = body.back();
  if (last.type() != wabt::ExprType::BrIf) return std::nullopt;
  const wabt::Var& target = wabt::cast<wabt::BrIfExpr>(&last)->var;
  if (!(target.is_name() ? target.name() == blk.label : target.index() == 0)) return std::nullopt;

  // Pass 1: which locals are set, read first, and how they end.
  std::vector<bool> none(names.size(), false);
  Pass p1(m, f, names, none, nullptr);
  if (!p1.run(body, &last) || p1.stack.size() != 1) return std::nullopt;
  std::map<wabt::Index, int64_t> steps;  // induction variables
  std::vector<bool> poisoned(names.size(), false);
  for (const auto& [l, li] : p1.locals) {
    if (!li.set) continue;
    const Affine& a = li.value->aff;
    if (li.read_first && a.ok && a.terms.size() == 1 && a.terms[0].first == l &&
        a.terms[0].second == 1 && a.c != 0) {
      steps[l] = a.c;
    } else {
      poisoned[l] = true;  // carried (or a temporary: its entry value is never read)
    }
  }
  if (p1.accesses.empty()) return std::nullopt;

  // Pass 2: the same with carried locals opaque: the accesses and the exit test.
  Pass p2(m, f, names, poisoned, nullptr);
  if (!p2.run(body, &last) || p2.stack.size() != 1) return std::nullopt;
  const SVal& cond = p2.stack.back();

  // The exit test, normalised to `x OP y`.
  Opcode::Enum op = cond.cmp;
  Affine x = cond.lhs, y = cond.rhs;
  if (op == Opcode::Invalid) {
    if (!cond.aff.ok) return std::nullopt;
    op = Opcode::I32Ne;
    x = cond.aff;
    y = Affine::constant(0);
  }
  if (!x.ok || !y.ok) return std::nullopt;
  __int128 dx = slope(x, steps), dy = slope(y, steps);
  std::string trip;
  if (op == Opcode::I32Ne) {
    const int64_t d = rep32(static_cast<int64_t>(static_cast<uint64_t>(dx - dy)));
    if (d == 0) return std::nullopt;
    Affine diff = add(x, y, -1);
    if (!diff.ok) return std::nullopt;
    trip = "wasmcap_lv_ne(" + entry_c(diff, names, true) + ", " + num(d) + ")";
  } else {
    // Ordered: one side moves, the other does not.
    auto swap_op = [](Opcode::Enum o) {
      switch (o) {
        case Opcode::I32LtU: return Opcode::I32GtU;
        case Opcode::I32LtS: return Opcode::I32GtS;
        case Opcode::I32GtU: return Opcode::I32LtU;
        case Opcode::I32GtS: return Opcode::I32LtS;
        case Opcode::I32LeU: return Opcode::I32GeU;
        case Opcode::I32LeS: return Opcode::I32GeS;
        case Opcode::I32GeU: return Opcode::I32LeU;
        case Opcode::I32GeS: return Opcode::I32LeS;
        default: return Opcode::Invalid;
      }
    };
    if (dx == 0 && dy != 0) {
      std::swap(x, y);
      std::swap(dx, dy);
      op = swap_op(op);
    }
    if (dy != 0 || dx == 0) return std::nullopt;
    const int64_t d = rep32(static_cast<int64_t>(static_cast<uint64_t>(dx)));
    if (d == 0) return std::nullopt;
    const char* fn = nullptr;
    switch (op) {
      case Opcode::I32LtU: fn = d > 0 ? "wasmcap_lv_lt_u" : nullptr; break;
      case Opcode::I32LtS: fn = d > 0 ? "wasmcap_lv_lt_s" : nullptr; break;
      case Opcode::I32LeU: fn = d > 0 ? "wasmcap_lv_le_u" : nullptr; break;
      case Opcode::I32LeS: fn = d > 0 ? "wasmcap_lv_le_s" : nullptr; break;
      case Opcode::I32GtU: fn = d < 0 ? "wasmcap_lv_gt_u" : nullptr; break;
      case Opcode::I32GtS: fn = d < 0 ? "wasmcap_lv_gt_s" : nullptr; break;
      case Opcode::I32GeU: fn = d < 0 ? "wasmcap_lv_ge_u" : nullptr; break;
      case Opcode::I32GeS: fn = d < 0 ? "wasmcap_lv_ge_s" : nullptr; break;
      default: break;
    }
    if (!fn) return std::nullopt;
    trip = std::string(fn) + "(" + entry_c(x, names, true) + ", " + num(d < 0 ? -d : d) + ", " +
           entry_c(y, names, true) + ")";
  }

  // Accesses: affine, with a step below 2^32 that keeps natural alignment. Accesses that differ
  // only by a constant form a group, checked once: from its lowest address to its highest end.
  struct Group {
    Affine base;  // the terms, c = 0
    int64_t d = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN;  // min(c + offset), max(c + offset + size)
  };
  std::vector<Group> groups;
  std::vector<size_t> group_of;
  for (const Access& a : p2.accesses) {
    if (!a.addr.ok) return std::nullopt;
    const __int128 d = slope(a.addr, steps);
    if (d <= -(static_cast<__int128>(1) << 32) || d >= (static_cast<__int128>(1) << 32)) {
      return std::nullopt;
    }
    const int64_t d64 = static_cast<int64_t>(d);
    if (d64 % static_cast<int64_t>(a.size) != 0 || a.offset > UINT32_MAX) return std::nullopt;
    size_t g = 0;
    while (g < groups.size() && !(groups[g].d == d64 && groups[g].base.terms == a.addr.terms)) ++g;
    if (g == groups.size()) {
      groups.push_back({});
      groups[g].base = a.addr;
      groups[g].base.c = 0;
      groups[g].d = d64;
    }
    const int64_t at = a.addr.c + static_cast<int64_t>(a.offset);
    groups[g].lo = std::min(groups[g].lo, at);
    groups[g].hi = std::max(groups[g].hi, at + static_cast<int64_t>(a.size));
    group_of.push_back(g);
  }
  std::vector<std::pair<size_t, int64_t>> place;
  std::string checks, bases;
  for (size_t i = 0; i < p2.accesses.size(); ++i) {
    const Access& a = p2.accesses[i];
    const size_t g = group_of[i];
    const int64_t delta = a.addr.c + static_cast<int64_t>(a.offset) - groups[g].lo;
    place.push_back({g, delta});
    if (a.size > 1) {
      checks += "      wc_ok = wc_ok && (((u64)wc_a" + std::to_string(g) + " + " +
                std::to_string(delta) + "u) & " + std::to_string(a.size - 1) + "u) == 0;\n";
    }
  }
  std::string ranges;
  for (size_t g = 0; g < groups.size(); ++g) {
    Affine start = groups[g].base;
    start.c = 0;
    const std::string n = std::to_string(g);
    // In s64 when the sum cannot overflow it: |a0| <= 2^27 * 2^32 + 2^34 and
    // |(f - 1) * d| < 2^32 * 2^27, so every value stays below 2^61; else in __int128.
    uint64_t coefs = 0;
    for (const auto& [l, c] : start.terms) coefs += static_cast<uint64_t>(c < 0 ? -c : c);
    const int64_t lim = int64_t{1} << 34;
    const bool narrow = coefs <= (uint64_t{1} << 27) && groups[g].lo > -lim && groups[g].hi < lim &&
                        groups[g].d > -(int64_t{1} << 27) && groups[g].d < (int64_t{1} << 27);
    const char* t = narrow ? "s64" : "__int128";
    ranges += "      const " + std::string(t) + " wc_a" + n + " = " + entry_c(start, names, false, t) +
              " + " + num(groups[g].lo) + ";\n";
    ranges += "      wc_ok = wc_ok && wasmcap_lv_range" + std::string(narrow ? "64" : "") + "(wc_a" +
              n + ", " + num(groups[g].d) + ", wc_f, " +
              std::to_string(groups[g].hi - groups[g].lo) + "u, wc_mem);\n";
    bases += "        const s64 wc_s" + n + " = (s64)wc_a" + n + ";\n        const s64 wc_d" + n +
             " = " + num(groups[g].d) + ";\n";
  }
  checks = ranges + checks;

  // Pass 3: the copy.
  Pass p3(m, f, names, poisoned, &place);
  if (!p3.run(body, &last) || p3.accesses.size() != place.size()) return std::nullopt;

  VersionedLoop v;
  v.func = func_c;
  v.label = "w2c_" + strip_dollar(blk.label);
  std::string in, out;
  for (const auto& [l, li] : p3.locals) {
    const char* t = c_type(f.GetLocalType(l));
    in += "          " + std::string(t) + " wc_l" + std::to_string(l) + " = " + names[l] + ";\n";
    if (li.set) out += "          " + names[l] + " = wc_l" + std::to_string(l) + ";\n";
    v.locals.push_back(names[l]);
  }
  std::string& c = v.c;
  c += "  /* wasmcap: versioned loop (docs/aot.md, \"Loop versioning\") */\n  {\n";
  c += "    const u64 wc_f = " + trip + ";\n";
  // Both tests are marked unlikely (wasm2c's UNLIKELY, __builtin_expect). GCC's static profile
  // otherwise rates the copy's loop as hot as the original and lets it shape register
  // allocation and block layout of the whole function: `lz`, whose copies mostly run fewer
  // than 16 iterations, ran 3-4% slower with the copy than without it, and 1-2% with the hint
  // (the rest is layout: bench/notes/2026-11-24-aot-v11-loop-alignment.md); the hint does not stop the copy being vectorised
  // (matmul, sha256 keep their gains).
  c += "    if (UNLIKELY(wc_f >= " + std::to_string(kVersionMinIterations) + "u)) {\n";
  c += "      const u64 wc_mem = WASMCAP_LV_MEM_BYTES;\n      int wc_ok = 1;\n";
  // `checks` is indented for one more level; keep it readable.
  c += checks;
  c += "      if (UNLIKELY(wc_ok)) {\n          u8* const wc_b = wasmcap_m.data;\n";
  c += bases + in;
  // A signed counter: its products cannot wrap (the range check bounds them), so GCC sees
  // every address as affine in it whatever the count (an unsigned counter converted to s64
  // may wrap for all GCC knows: it then vectorised only loops whose count it could fold).
  c += "          const s64 wc_n = (s64)wc_f;\n";
  c += "          for (s64 wc_k = 0; wc_k < wc_n; ++wc_k) {\n";
  c += p3.code;
  v.exit = "w2c_" + strip_dollar(exit);
  c += "          }\n" + out + "          goto " + v.exit + ";\n      }\n    }\n  }\n";
  return v;
}

void find_loops(const wabt::Module& m, const wabt::Func& f, const std::string& func_c,
                const std::vector<std::string>& names, wabt::ExprList& list, size_t* next_exit,
                std::vector<VersionedLoop>* out) {
  for (auto it = list.begin(); it != list.end(); ++it) {
    wabt::Expr& e = *it;
    switch (e.type()) {
      case wabt::ExprType::Block:
        find_loops(m, f, func_c, names, wabt::cast<wabt::BlockExpr>(&e)->block.exprs, next_exit, out);
        break;
      case wabt::ExprType::Loop: {
        auto* loop = wabt::cast<wabt::LoopExpr>(&e);
        const std::string exit = "$V" + std::to_string(*next_exit);
        if (auto p = plan_loop(m, f, func_c, names, *loop, exit)) {
          // Wrap the loop in `block $V<n> ... br $V<n> end`: the copy's jump target, just after
          // the loop (wasm2c writes a block's label only when a branch names it; the `br` at
          // the block's end is a no-op jump to it).
          ++*next_exit;
          auto after = std::next(it);
          std::unique_ptr<wabt::Expr> moved = list.extract(it);
          auto blk = std::make_unique<wabt::BlockExpr>();
          blk->block.label = exit;
          blk->block.exprs.push_back(std::move(moved));
          blk->block.exprs.push_back(std::make_unique<wabt::BrExpr>(wabt::Var(exit, wabt::Location())));
          it = list.insert(after, std::move(blk));
          out->push_back(std::move(*p));
        } else {
          find_loops(m, f, func_c, names, loop->block.exprs, next_exit, out);
        }
        break;
      }
      case wabt::ExprType::If: {
        auto* iff = wabt::cast<wabt::IfExpr>(&e);
        find_loops(m, f, func_c, names, iff->true_.exprs, next_exit, out);
        find_loops(m, f, func_c, names, iff->false_, next_exit, out);
        break;
      }
      default:
        break;
    }
  }
}

bool ident_char(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
}

}  // namespace

std::vector<VersionedLoop> plan_versioned_loops(wabt::Module& m) {
  std::vector<VersionedLoop> out;
  size_t next_exit = 0;
  if (m.memories.empty()) return out;
  const wabt::Memory* mem = m.memories[0];
  if (mem->page_limits.is_64 || mem->page_limits.is_shared) return out;
  for (wabt::Index i = m.num_func_imports; i < m.funcs.size(); ++i) {
    wabt::Func& f = *m.funcs[i];
    const wabt::Index n = f.GetNumParamsAndLocals();
    std::vector<std::string> names(n);
    for (const auto& [name, b] : f.bindings) {
      if (b.index < n) names[b.index] = "w2c_" + strip_dollar(name);
    }
    bool named = true;
    for (const std::string& s : names) named = named && s.size() > 4;
    if (!named) continue;
    find_loops(m, f, "w2c_" + strip_dollar(f.name), names, f.exprs, &next_exit, &out);
  }
  return out;
}

std::string versioned_loop_prelude(const std::string& mem_field) {
  return "#define WASMCAP_LV_MEM_BYTES ((u64)instance->" + mem_field + ".pages << 16)\n" + R"(static inline f32 wasmcap_lv_f32(u32 b) { f32 r; memcpy(&r, &b, sizeof r); return r; }
static inline f64 wasmcap_lv_f64(u64 b) { f64 r; memcpy(&r, &b, sizeof r); return r; }
/* The number of iterations N a loop runs, its exit test failing first in iteration N - 1 (the
 * test's moving operand is x0 + k*d in iteration k), or 0 when that cannot be told exactly
 * (the operand would wrap first). ne: x == 0 (mod 2^32) first at k = N - 1. */
static inline u64 wasmcap_lv_ne(u32 x0, s64 d) {
  if (d > 0) { u64 r = (u32)(0u - x0); return r % (u64)d ? 0 : r / (u64)d + 1; }
  { u64 r = x0, s = (u64)-d; return r % s ? 0 : r / s + 1; }
}
/* Ordered tests with the moving side going up by d (lt, le) or down by d (gt, ge). */
static inline u64 wasmcap_lv_lt_u(u32 x0, s64 d, u32 y) {
  if (x0 >= y) return 1;
  u64 f = ((u64)(y - x0) + (u64)d - 1) / (u64)d;
  return (u64)x0 + f * (u64)d > 0xffffffffu ? 0 : f + 1;
}
static inline u64 wasmcap_lv_le_u(u32 x0, s64 d, u32 y) {
  if (x0 > y) return 1;
  u64 f = (u64)(y - x0) / (u64)d + 1;
  return (u64)x0 + f * (u64)d > 0xffffffffu ? 0 : f + 1;
}
static inline u64 wasmcap_lv_lt_s(u32 x0, s64 d, u32 y) {
  s64 a = (s32)x0, b = (s32)y;
  if (a >= b) return 1;
  u64 f = ((u64)(b - a) + (u64)d - 1) / (u64)d;
  return a + (s64)f * d > 0x7fffffff ? 0 : f + 1;
}
static inline u64 wasmcap_lv_le_s(u32 x0, s64 d, u32 y) {
  s64 a = (s32)x0, b = (s32)y;
  if (a > b) return 1;
  u64 f = (u64)(b - a) / (u64)d + 1;
  return a + (s64)f * d > 0x7fffffff ? 0 : f + 1;
}
static inline u64 wasmcap_lv_gt_u(u32 x0, s64 d, u32 y) {
  if (x0 <= y) return 1;
  u64 f = ((u64)(x0 - y) + (u64)d - 1) / (u64)d;
  return f * (u64)d > (u64)x0 ? 0 : f + 1;
}
static inline u64 wasmcap_lv_ge_u(u32 x0, s64 d, u32 y) {
  if (x0 < y) return 1;
  u64 f = (u64)(x0 - y) / (u64)d + 1;
  return f * (u64)d > (u64)x0 ? 0 : f + 1;
}
static inline u64 wasmcap_lv_gt_s(u32 x0, s64 d, u32 y) {
  s64 a = (s32)x0, b = (s32)y;
  if (a <= b) return 1;
  u64 f = ((u64)(a - b) + (u64)d - 1) / (u64)d;
  return a - (s64)f * d < -0x7fffffffll - 1 ? 0 : f + 1;
}
static inline u64 wasmcap_lv_ge_s(u32 x0, s64 d, u32 y) {
  s64 a = (s32)x0, b = (s32)y;
  if (a < b) return 1;
  u64 f = (u64)(a - b) / (u64)d + 1;
  return a - (s64)f * d < -0x7fffffffll - 1 ? 0 : f + 1;
}
/* a(k) = a0 + k*d for k in [0, f): every [a(k), a(k) + end) inside [0, mem). */
static inline int wasmcap_lv_range(__int128 a0, s64 d, u64 f, u64 end, u64 mem) {
  __int128 a1 = a0 + (__int128)(f - 1) * d;
  __int128 lo = a0 < a1 ? a0 : a1, hi = a0 < a1 ? a1 : a0;
  return lo >= 0 && hi + (__int128)end <= (__int128)mem;
}
/* The same where the translator has bounded every value below 2^61. */
static inline int wasmcap_lv_range64(s64 a0, s64 d, u64 f, u64 end, u64 mem) {
  s64 a1 = a0 + (s64)(f - 1) * d;
  s64 lo = a0 < a1 ? a0 : a1, hi = a0 < a1 ? a1 : a0;
  return lo >= 0 && hi + (s64)end <= (s64)mem;
}
)";
}

Result<size_t> insert_versioned_loops(const std::vector<std::string*>& texts,
                                      const std::vector<VersionedLoop>& plans) {
  if (plans.empty()) return size_t{0};
  // Every function definition in every text: "NAME(Z_m_instance_t* instance" (prototypes have
  // no parameter names). One scan per text.
  const std::string tail = "(Z_m_instance_t* instance";
  std::unordered_map<std::string, std::pair<size_t, size_t>> defs;  // name -> (text, pos)
  for (size_t t = 0; t < texts.size(); ++t) {
    const std::string& s = *texts[t];
    for (size_t at = s.find(tail); at != std::string::npos; at = s.find(tail, at + 1)) {
      size_t b = at;
      while (b > 0 && ident_char(s[b - 1])) --b;
      std::string name = s.substr(b, at - b);
      if (name.rfind("w2c_", 0) == 0) defs.emplace(std::move(name), std::make_pair(t, at));
    }
  }
  // Plans by function; each function's text is scanned once for its declarations (the
  // parameters and the declaration lines after FUNC_PROLOGUE) and its labels.
  std::unordered_map<std::string, std::vector<const VersionedLoop*>> by_func;
  for (const VersionedLoop& p : plans) by_func[p.func].push_back(&p);
  std::vector<std::vector<std::pair<size_t, const std::string*>>> inserts(texts.size());
  auto refuse = [](const std::string& what) {
    return make_error(ErrorCode::kInternal, "AOT loop versioning: " + what);
  };
  for (const auto& [func, list] : by_func) {
    auto it = defs.find(func);
    if (it == defs.end()) return refuse("no definition of " + func);
    const std::string& s = *texts[it->second.first];
    const size_t start = it->second.second;
    const size_t end = s.find("\n}\n", start);
    const std::string prologue = "FUNC_PROLOGUE;\n";
    const size_t body = s.find(prologue, start);
    if (end == std::string::npos || body == std::string::npos || body > end) {
      return refuse("no body of " + func);
    }
    // The declarations: the signature, then lines "  T name = 0, name2, ...;".
    size_t decl_end = body + prologue.size();
    for (;;) {
      const size_t eol = s.find('\n', decl_end);
      if (eol == std::string::npos || eol > end) break;
      std::string_view line(s.data() + decl_end, eol - decl_end);
      bool decl = false;
      for (const char* t : {"  u32 ", "  u64 ", "  f32 ", "  f64 ", "  v128 ", "  wasm_rt_funcref_t ",
                            "  wasm_rt_externref_t "}) {
        decl = decl || line.rfind(t, 0) == 0;
      }
      if (!decl || line.find('(') != std::string_view::npos) break;
      decl_end = eol + 1;
    }
    std::unordered_set<std::string> declared;
    for (size_t at = start; at < decl_end;) {
      if (s.compare(at, 4, "w2c_") == 0 && (at == 0 || !ident_char(s[at - 1]))) {
        size_t e = at;
        while (e < decl_end && ident_char(s[e])) ++e;
        declared.insert(s.substr(at, e - at));
        at = e;
      } else {
        ++at;
      }
    }
    // The labels: lines "<indent>w2c_NAME: " in the body.
    std::unordered_map<std::string, size_t> labels;  // label -> start of its line
    for (size_t line = decl_end; line < end;) {
      size_t eol = s.find('\n', line);
      if (eol == std::string::npos || eol > end) eol = end;
      size_t b = line;
      while (b < eol && s[b] == ' ') ++b;
      if (eol >= b + 6 && s.compare(b, 4, "w2c_") == 0 &&
          (s.compare(eol - 2, 2, ": ") == 0 || s.compare(eol - 2, 2, ":;") == 0)) {
        std::string name = s.substr(b, eol - 2 - b);
        bool plain = true;
        for (char ch : name) plain = plain && ident_char(ch);
        if (plain) labels.emplace(std::move(name), line);
      }
      line = eol + 1;
    }
    for (const VersionedLoop* p : list) {
      auto l = labels.find(p->label);
      if (l == labels.end()) return refuse("no label " + p->label + " in " + func);
      auto x = labels.find(p->exit);
      if (x == labels.end() || x->second < l->second) {
        return refuse("no label " + p->exit + " after " + p->label + " in " + func);
      }
      for (const std::string& local : p->locals) {
        if (declared.count(local) == 0) {
          return refuse("no local " + local + " in " + func);
        }
      }
      inserts[it->second.first].push_back({l->second, &p->c});
    }
  }
  size_t n = 0;
  for (size_t t = 0; t < texts.size(); ++t) {
    auto& v = inserts[t];
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    std::string& s = *texts[t];
    std::string o;
    size_t extra = 0;
    for (const auto& [pos, c] : v) extra += c->size();
    o.reserve(s.size() + extra);
    size_t pos = 0;
    for (const auto& [at, c] : v) {
      o.append(s, pos, at - pos);
      o.append(*c);
      pos = at;
      ++n;
    }
    o.append(s, pos, std::string::npos);
    s = std::move(o);
  }
  return n;
}

std::string strip_dollar(const std::string& s) {
  return !s.empty() && s[0] == '$' ? s.substr(1) : s;
}

}  // namespace wasmcap::aot
