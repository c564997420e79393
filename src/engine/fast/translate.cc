// wasm (wabt's validated IR) -> fast-interpreter code (docs/fast-interp.md).
//
// The operand stack exists only here, at translation time. Every stack entry has a fixed
// ("canonical") slot: frame slot nlocals + depth. Entries are kept virtual as long as possible:
// a local.get or a constant is not copied anywhere, the instruction that consumes it reads the
// local's slot or takes the constant as an immediate. A result is written straight into a local
// when a local.set/tee follows. Entries are materialized into their canonical slots where
// control flow meets (block entries, branches, ends), so both sides of a join agree on where
// every value is.
//
// Fuel: the code is cut into straight-line segments (function entry, loop headers, if/else
// arms, branch targets, the fall-through of a conditional branch). Each segment starts with a
// `fuel N` instruction charging its N wasm instructions (block/loop/if count one, else/end
// none) before any of them runs.
//
// The walk over nested blocks is iterative (an explicit stack), so deeply nested code cannot
// overflow the host stack.
#include "engine/fast/translate.h"

#include "wabt/binary-reader-nop.h"


#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <map>
#include <vector>

namespace wasmcap::fast {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

// Pairs: uses per pair and the tests' switch (translate_test_hooks).
constexpr size_t kNumPairs = 0
#define WASMCAP_FAST_PAIR_COUNT(a, n, b) +1
    WASMCAP_FAST_PAIRS(WASMCAP_FAST_PAIR_COUNT)
#undef WASMCAP_FAST_PAIR_COUNT
    ;
std::atomic<uint64_t> g_pair_uses[kNumPairs];
std::atomic<bool> g_pairs_enabled{true};

constexpr const char* kOpNames[] = {
#define WASMCAP_FAST_X(name) #name,
    WASMCAP_FAST_OPS(WASMCAP_FAST_X)
    WASMCAP_FAST_SIMD_OPS(WASMCAP_FAST_X)
    WASMCAP_FAST_PAIRS(WASMCAP_FAST_PAIR_OP)
#undef WASMCAP_FAST_X
};

// ---- Op tables, built by the compiler ----------------------------------------------------
//
// Our ops are named like wabt's opcodes ("i32.add" -> i32_add) and their variants like the op
// plus a suffix ("br_if" -> "br_if_f"). The tables below derive both mappings from the names,
// at compile time: the derivation by name at run time (hash maps of std::string) was ~10% of
// the CPU time of a whole `wasmcap run --engine interp hello.wasm` (bench/notes/2026-11-23-hello-start.md, "Interp
// hello start-up"). tests/engine/fast_op_tables_test.cc checks every entry against that
// run-time derivation. The work is kept small enough for clang's constexpr step limit: names
// are found through an open-addressing hash table, not by comparing every pair.

constexpr size_t kNumOps = static_cast<size_t>(Op::kCount);
constexpr size_t kNumOpcodes = static_cast<size_t>(wabt::Opcode::Invalid);  // wabt's, + Invalid

// wabt's opcode names ("i32.add"), in the order of wabt::Opcode::Enum (both from opcode.def).
constexpr const char* kWabtNames[] = {
#define WABT_OPCODE(rtype, type1, type2, type3, mem_size, prefix, code, Name, text, decomp) text,
#include "wabt/opcode.def"
#undef WABT_OPCODE
};
static_assert(sizeof kWabtNames / sizeof kWabtNames[0] == kNumOpcodes);

// FNV-1a over `a` then `b` (either may be null), '.' read as '_'.
constexpr uint32_t name_hash(const char* a, const char* b) {
  uint32_t h = 2166136261u;
  for (const char* s : {a, b}) {
    for (; s != nullptr && *s != '\0'; ++s) {
      h = (h ^ static_cast<uint8_t>(*s == '.' ? '_' : *s)) * 16777619u;
    }
  }
  return h;
}

// Whether op name `ours` equals `a` followed by `b` (b may be null), '.' in `a` read as '_'.
constexpr bool name_equals(const char* ours, const char* a, const char* b) {
  for (const char* s : {a, b}) {
    for (; s != nullptr && *s != '\0'; ++s, ++ours) {
      if (*ours != (*s == '.' ? '_' : *s)) return false;
    }
  }
  return *ours == '\0';
}

// Our op names, hashed: slot -> op index + 1 (0: empty).
struct OpIndex {
  static constexpr size_t kSize = 2048;
  static_assert(kNumOps * 2 <= kSize);
  uint16_t slot[kSize] = {};
  // The op named `a` followed by `b`, or kCount.
  constexpr Op find(const char* a, const char* b) const {
    for (size_t i = name_hash(a, b) & (kSize - 1);; i = (i + 1) & (kSize - 1)) {
      if (slot[i] == 0) return Op::kCount;
      if (name_equals(kOpNames[slot[i] - 1], a, b)) return static_cast<Op>(slot[i] - 1);
    }
  }
};
constexpr OpIndex make_op_index() {
  OpIndex x;
  for (size_t op = 0; op < kNumOps; ++op) {
    size_t i = name_hash(kOpNames[op], nullptr) & (OpIndex::kSize - 1);
    while (x.slot[i] != 0) i = (i + 1) & (OpIndex::kSize - 1);
    x.slot[i] = static_cast<uint16_t>(op + 1);
  }
  return x;
}
constexpr OpIndex kOpIndex = make_op_index();

template <size_t N>
struct OpTable {
  Op op[N] = {};
};

// wabt opcode -> our op of the same name, or kCount (Invalid included).
constexpr OpTable<kNumOpcodes + 1> make_opcode_table() {
  OpTable<kNumOpcodes + 1> t;
  for (size_t e = 0; e < kNumOpcodes; ++e) t.op[e] = kOpIndex.find(kWabtNames[e], nullptr);
  t.op[kNumOpcodes] = Op::kCount;
  return t;
}
constexpr OpTable<kNumOpcodes + 1> kOpcodeTable = make_opcode_table();

constexpr bool starts_with(const char* s, const char* prefix) {
  for (; *prefix != '\0'; ++s, ++prefix) {
    if (*s != *prefix) return false;
  }
  return true;
}
constexpr bool ends_with(const char* s, const char* suffix) {
  size_t n = 0, m = 0;
  while (s[n] != '\0') ++n;
  while (suffix[m] != '\0') ++m;
  return n >= m && name_equals(s + (n - m), suffix, nullptr);
}
constexpr bool contains(const char* s, const char* part) {
  for (; *s != '\0'; ++s) {
    if (starts_with(s, part)) return true;
  }
  return false;
}
constexpr bool name_is(const char* s, const char* t) { return name_equals(s, t, nullptr); }

// Which ops a suffix applies to (the rest map to kCount).
enum class Suffix { kF, kP, kAk, kC };
constexpr bool suffix_applies(Suffix which, const char* n) {
  switch (which) {
    case Suffix::kF:  // conditional branches, not already charging
      return (name_is(n, "br_if") || name_is(n, "br_unless") || starts_with(n, "br_i32_")) &&
             !ends_with(n, "_f");
    case Suffix::kC: return contains(n, "_load") || contains(n, "_store");  // loads and stores
    default: return true;
  }
}
constexpr const char* suffix_text(Suffix which) {
  switch (which) {
    case Suffix::kF: return "_f";
    case Suffix::kP: return "_p";
    case Suffix::kAk: return "_ak";
    default: return "_c";
  }
}
// Every op -> the op named like it plus the suffix ("x" -> "x_p"), or kCount where there is
// none or the suffix does not apply to it.
constexpr OpTable<kNumOps> make_suffix_table(Suffix which) {
  OpTable<kNumOps> t;
  for (size_t i = 0; i < kNumOps; ++i) {
    t.op[i] = suffix_applies(which, kOpNames[i]) ? kOpIndex.find(kOpNames[i], suffix_text(which))
                                                 : Op::kCount;
  }
  return t;
}
constexpr OpTable<kNumOps> kFuelVariants = make_suffix_table(Suffix::kF);
constexpr OpTable<kNumOps> kPackedVariants = make_suffix_table(Suffix::kP);
constexpr OpTable<kNumOps> kAkVariants = make_suffix_table(Suffix::kAk);
constexpr OpTable<kNumOps> kCVariants = make_suffix_table(Suffix::kC);

// The opcode of a Binary/Compare/Unary/Convert/Load/Store expression.
wabt::Opcode opcode_of(const wabt::Expr& e) {
  using ET = wabt::ExprType;
  switch (e.type()) {
    case ET::Binary: return static_cast<const wabt::BinaryExpr&>(e).opcode;
    case ET::Compare: return static_cast<const wabt::CompareExpr&>(e).opcode;
    case ET::Unary: return static_cast<const wabt::UnaryExpr&>(e).opcode;
    case ET::Convert: return static_cast<const wabt::ConvertExpr&>(e).opcode;
    case ET::Load: return static_cast<const wabt::LoadExpr&>(e).opcode;
    case ET::Store: return static_cast<const wabt::StoreExpr&>(e).opcode;
    default: return wabt::Opcode::Invalid;
  }
}

// Op with an immediate right operand, or kCount.
Op k_variant(Op op) {
  switch (op) {
    case Op::i32_add: return Op::i32_add_k;
    case Op::i32_sub: return Op::i32_sub_k;
    case Op::i32_mul: return Op::i32_mul_k;
    case Op::i32_and: return Op::i32_and_k;
    case Op::i32_or: return Op::i32_or_k;
    case Op::i32_xor: return Op::i32_xor_k;
    case Op::i32_shl: return Op::i32_shl_k;
    case Op::i32_shr_s: return Op::i32_shr_s_k;
    case Op::i32_shr_u: return Op::i32_shr_u_k;
    case Op::i32_rotl: return Op::i32_rotl_k;
    case Op::i32_rotr: return Op::i32_rotr_k;
    case Op::f64_add: return Op::f64_add_k;
    case Op::f64_sub: return Op::f64_sub_k;
    case Op::f64_mul: return Op::f64_mul_k;
    case Op::f64_div: return Op::f64_div_k;
    case Op::i64_add: return Op::i64_add_k;
    case Op::i64_sub: return Op::i64_sub_k;
    case Op::i64_mul: return Op::i64_mul_k;
    case Op::i64_and: return Op::i64_and_k;
    case Op::i64_shl: return Op::i64_shl_k;
    case Op::i64_shr_u: return Op::i64_shr_u_k;
    case Op::i32_eq: return Op::i32_eq_k;
    case Op::i32_ne: return Op::i32_ne_k;
    case Op::i32_lt_s: return Op::i32_lt_s_k;
    case Op::i32_lt_u: return Op::i32_lt_u_k;
    case Op::i32_gt_s: return Op::i32_gt_s_k;
    case Op::i32_gt_u: return Op::i32_gt_u_k;
    case Op::i32_le_s: return Op::i32_le_s_k;
    case Op::i32_le_u: return Op::i32_le_u_k;
    case Op::i32_ge_s: return Op::i32_ge_s_k;
    case Op::i32_ge_u: return Op::i32_ge_u_k;
    default: return Op::kCount;
  }
}

// The i64 and f64 immediate forms take their immediate as two words.
bool is_i64_k(Op op) {
  switch (op) {
    case Op::i64_add_k:
    case Op::i64_sub_k:
    case Op::i64_mul_k:
    case Op::i64_and_k:
    case Op::i64_shl_k:
    case Op::i64_shr_u_k:
    case Op::f64_add_k:
    case Op::f64_sub_k:
    case Op::f64_mul_k:
    case Op::f64_div_k: return true;
    default: return false;
  }
}

// i32 compare (register or immediate form) -> the fused compare-and-branch, or kCount.
// `negate` gives the branch taken when the comparison is false.
Op branch_variant(Op op, bool negate) {
  struct Row {
    Op cmp, cmp_k, br, br_k, neg, neg_k;
  };
  static const Row rows[] = {
      {Op::i32_eq, Op::i32_eq_k, Op::br_i32_eq, Op::br_i32_eq_k, Op::br_i32_ne, Op::br_i32_ne_k},
      {Op::i32_ne, Op::i32_ne_k, Op::br_i32_ne, Op::br_i32_ne_k, Op::br_i32_eq, Op::br_i32_eq_k},
      {Op::i32_lt_s, Op::i32_lt_s_k, Op::br_i32_lt_s, Op::br_i32_lt_s_k, Op::br_i32_ge_s,
       Op::br_i32_ge_s_k},
      {Op::i32_lt_u, Op::i32_lt_u_k, Op::br_i32_lt_u, Op::br_i32_lt_u_k, Op::br_i32_ge_u,
       Op::br_i32_ge_u_k},
      {Op::i32_gt_s, Op::i32_gt_s_k, Op::br_i32_gt_s, Op::br_i32_gt_s_k, Op::br_i32_le_s,
       Op::br_i32_le_s_k},
      {Op::i32_gt_u, Op::i32_gt_u_k, Op::br_i32_gt_u, Op::br_i32_gt_u_k, Op::br_i32_le_u,
       Op::br_i32_le_u_k},
      {Op::i32_le_s, Op::i32_le_s_k, Op::br_i32_le_s, Op::br_i32_le_s_k, Op::br_i32_gt_s,
       Op::br_i32_gt_s_k},
      {Op::i32_le_u, Op::i32_le_u_k, Op::br_i32_le_u, Op::br_i32_le_u_k, Op::br_i32_gt_u,
       Op::br_i32_gt_u_k},
      {Op::i32_ge_s, Op::i32_ge_s_k, Op::br_i32_ge_s, Op::br_i32_ge_s_k, Op::br_i32_lt_s,
       Op::br_i32_lt_s_k},
      {Op::i32_ge_u, Op::i32_ge_u_k, Op::br_i32_ge_u, Op::br_i32_ge_u_k, Op::br_i32_lt_u,
       Op::br_i32_lt_u_k},
  };
  for (const Row& r : rows) {
    if (op == r.cmp) return negate ? r.neg : r.br;
    if (op == r.cmp_k) return negate ? r.neg_k : r.br_k;
  }
  return Op::kCount;
}

class FuncTranslator {
 public:
  // `nparams`, `nlocals` (parameters included) and `nresults` of the function translated.
  FuncTranslator(const wabt::Module& m, uint32_t nparams, uint32_t nlocals, uint32_t nresults,
                 const std::vector<uint32_t>& canon, bool wide)
      : m_(m),
        nparams_(nparams),
        nresults_(nresults),
        canon_(canon),
        h_(handler_table()),
        wide_(wide) {
    nlocals_ = nlocals;
  }

  // Translates a body held as wabt's IR.
  std::unique_ptr<FuncCode> run(const wabt::ExprList& body) {
    begin();
    walk(body);
    return finish();
  }

  // The streaming driver (translate_function_stream): begin_stream(), then every instruction
  // of the body in order as wabt's reader reports it: stream_expr() for each one that is an
  // Expr in wabt's IR, stream_else() and stream_end() for `else` and `end` (the function's
  // own `end` included); then finish(). It walks the same way walk() walks the IR: the same
  // calls of expr() and close() in the same order, so the code is the same word for word
  // (tests/engine/fast_op_tables_test.cc compares both on every function of a corpus).
  void begin_stream() {
    begin();
    parts_.push_back(0);
    reachable_ = true;
  }
  void stream_expr(const wabt::Expr& e) {
    if (pending_else_) take_else();
    if (!reachable_ || skip_ != 0) {
      // walk() skips the rest of a list once it is unreachable: so do we, counting nested
      // blocks so their `end`s are not taken for the list's own.
      using ET = wabt::ExprType;
      if (e.type() == ET::Block || e.type() == ET::Loop || e.type() == ET::If) ++skip_;
      return;
    }
    ++fuel_count_;
    if (expr(e) != nullptr) parts_.push_back(e.type() == wabt::ExprType::If ? 1 : 0);
  }
  void stream_else() {
    if (skip_ != 0) return;
    // The then arm ends; wabt's IR says whether there is an else arm by whether it holds any
    // instruction, so wait for the next event to know.
    pending_else_ = true;
  }
  void stream_end() {
    if (skip_ != 0) {
      --skip_;
      return;
    }
    if (pending_else_) {
      // `else` directly followed by `end`: an empty else arm, which the IR does not keep.
      pending_else_ = false;
      parts_.pop_back();
      reachable_ = close(reachable_);
      return;
    }
    list_end();
  }
  // The function's final `end` has been seen.
  bool stream_done() const { return parts_.empty(); }

  void begin() {
    pending_.resize(nlocals_);
    Ctl fn;
    fn.kind = Ctl::kFunc;
    fn.height = 0;
    fn.nresults = nresults_;
    ctl_.push_back(fn);
    new_segment();
  }

  std::unique_ptr<FuncCode> finish() {
    auto out = std::make_unique<FuncCode>();
    out->nparams = nparams_ * stride();
    out->nlocals = nlocals_ * stride();

    // Close the last segment, resolve branch targets to offsets relative to their word.
    if (fuel_word_ != kNone) set_word(fuel_word_, fuel_count_);
    uint64_t frame_slots = (uint64_t{nlocals_} + max_height_ + 1) * stride();
    if (overflow_ || code_.size() > max_code_words() || frame_slots > UINT32_MAX) {
      return too_large(std::move(out));
    }
    // A taken branch charges its target's segment (exec.cc, TAKEN): its offset points past
    // the `fuel N` that starts every label (and every br_table stub, with N = 0).
    for (size_t w : targets_) {
#ifndef WASMCAP_BENCH_FAST_NO_FUEL
      size_t t = code_[w];
      if (t + 2 > code_.size() || code_[t] != fuel_handler()) {
        return too_large(std::move(out));  // not reached: every label is a `fuel` (new_segment)
      }
      code_[w] = static_cast<Word>(t + 2);
#endif
      code_[w] = static_cast<Word>(static_cast<int32_t>(static_cast<int64_t>(code_[w]) -
                                                        static_cast<int64_t>(w)));
    }
    fuse_pairs();
    code_.shrink_to_fit();
    out->frame_slots = static_cast<uint32_t>(frame_slots);
#ifdef WASMCAP_FAST_DUMP  // debugging aid: -DWASMCAP_FAST_DUMP prints translated code
    dump();
#endif
    out->code = std::move(code_);
    out->eh = std::move(eh_);
    return out;
  }

  // A function whose code does not fit the 32-bit code words (fast.h, kMaxCodeWords): its code
  // is one instruction that stops the run with module_unsupported when it is called.
  std::unique_ptr<FuncCode> too_large(std::unique_ptr<FuncCode> out) {
    std::vector<Word>().swap(code_);
    eh_.reset();
#ifndef WASMCAP_BENCH_FAST_NO_FUEL
    // A call starts after the entry segment's `fuel N` (exec.cc, do_call): `fuel 0` here.
    out->code.assign({fuel_handler(), 0});
#endif
    out->code.push_back(static_cast<Word>(h_[static_cast<size_t>(Op::too_large)]));
    out->frame_slots = out->nlocals;
    return out;
  }

 private:
  struct Opnd {
    enum Kind : uint8_t { kSlot, kLocal, kConst } kind = kSlot;
    uint32_t local = 0;
    uint64_t value = 0;
  };
  struct Ctl {
    enum Kind : uint8_t { kFunc, kBlock, kLoop, kIf, kTry } kind = kBlock;
    uint32_t height = 0;  // operand depth below the block's params
    uint32_t nparams = 0;
    uint32_t nresults = 0;
    size_t loop_pc = 0;               // kLoop: the header (a fuel instruction)
    size_t else_word = kNone;         // kIf: the br_unless target word, until the else arm
    std::vector<size_t> fixups;       // words to patch with the end label
    const wabt::IfExpr* if_expr = nullptr;
    int32_t outer_region = -1;             // innermost try body around this block (EH)
    int32_t region = -1;                   // kTry: its EhRegion
    bool in_catch = false;                 // kTry: past the body, in a handler
    const wabt::TryExpr* try_expr = nullptr;
    uint32_t arity() const { return kind == kLoop ? nparams : nresults; }
  };
  struct Walk {
    const wabt::ExprList* list;
    wabt::ExprList::const_iterator it;
    int part;  // 0 block/loop/function body, 1 then arm, 2 else arm
  };

  [[maybe_unused]] void dump() const {
    std::fprintf(stderr, "func (nlocals %u)\n", nlocals_);
    for (size_t i = 0; i < code_.size(); ++i) {  // handler offsets are guessed, not decoded
      for (size_t o = 0; o < static_cast<size_t>(Op::kCount); ++o) {
        if (code_[i] == static_cast<Word>(h_[o])) std::fprintf(stderr, "\n%4zu %s", i, kOpNames[o]);
      }
      if (code_[i] < 100000) std::fprintf(stderr, " %u", code_[i]);
    }
    std::fprintf(stderr, "\n");
  }

  // --- emission ---------------------------------------------------------------------------
  Word fuel_handler() const { return static_cast<Word>(h_[static_cast<size_t>(Op::fuel)]); }
  size_t pc() const { return code_.size(); }
  void emit(Op op) {
    if (wide_) op = wide_op(op);
    if (prev_start_ != kNone && prev_start_ < code_.size()) {
      adjacent_.push_back({static_cast<uint32_t>(prev_start_), static_cast<uint32_t>(code_.size())});
    }
    prev_start_ = code_.size();
    last_op_pc_ = code_.size();
    last_op_ = op;
    last_dst_ = kNone;
    last_dst_packed_ = false;
    code_.push_back(static_cast<Word>(h_[static_cast<size_t>(op)]));
  }
  // Drops the code from word n on (an instruction start, or inside the last instruction), and
  // the pairs (fuse_pairs) whose second instruction it removes.
  void cut_code(size_t n) {
    code_.resize(n);
    bool prev_known = prev_start_ != kNone && prev_start_ < n;
    while (!adjacent_.empty() && adjacent_.back().second >= n) {
      if (adjacent_.back().second == n) {  // the instruction before the one removed ends here
        prev_start_ = adjacent_.back().first;
        prev_known = true;
      }
      adjacent_.pop_back();
    }
    if (!prev_known) prev_start_ = kNone;
  }
  // Pairs (fast.h, WASMCAP_FAST_PAIRS): once the code is final, each instruction a directly
  // followed by an instruction b of a pair gets the pair's handler (a's words and b's are
  // otherwise unchanged: b may still be a branch target). Both handler words are read from the
  // final code, so an instruction rewritten after it was emitted (a _f branch, a merged copy)
  // pairs as what it became, and a's length is checked against the pair's.
  void fuse_pairs() {
    struct Rule {
      Op a;
      uint32_t words;
      Op b;
      Op ab;
    };
    static constexpr Rule kRules[] = {
#define WASMCAP_FAST_PAIR_RULE(a, n, b) {Op::a, n, Op::b, Op::a##_then_##b},
        WASMCAP_FAST_PAIRS(WASMCAP_FAST_PAIR_RULE)
#undef WASMCAP_FAST_PAIR_RULE
    };
    if (!g_pairs_enabled.load(std::memory_order_relaxed)) return;
    auto word = [this](Op op) { return static_cast<Word>(h_[static_cast<size_t>(op)]); };
    // The rules by their first instruction's handler word, sorted: one binary search per
    // instruction, not a pass over every rule.
    static const std::vector<std::pair<Word, size_t>> kByFirst = [&] {
      std::vector<std::pair<Word, size_t>> v;
      for (size_t i = 0; i < std::size(kRules); ++i) v.push_back({word(kRules[i].a), i});
      std::sort(v.begin(), v.end());
      return v;
    }();
    for (auto [a, b] : adjacent_) {
      if (b >= code_.size()) continue;
      for (auto it = std::lower_bound(kByFirst.begin(), kByFirst.end(), std::make_pair(code_[a], size_t{0}));
           it != kByFirst.end() && it->first == code_[a]; ++it) {
        const size_t i = it->second;
        const Rule& r = kRules[i];
        if (b == a + r.words && code_[b] == word(r.b)) {
          code_[a] = word(r.ab);
          g_pair_uses[i].fetch_add(1, std::memory_order_relaxed);
          break;
        }
      }
    }
  }
  // A one-word operand. Values that do not fit make the function too large (checked in run()).
  void k(uint64_t v) {
    if (v > UINT32_MAX) overflow_ = true;
    code_.push_back(static_cast<Word>(v));
  }
  // A two-word immediate, low half first.
  void k64(uint64_t v) {
    code_.push_back(static_cast<Word>(v));
    code_.push_back(static_cast<Word>(v >> 32));
  }
  // slot dst = slot src.
  void emit_copy(uint64_t dst, uint64_t src) {
    if (!wide_ && fits16(dst, src)) {  // (the wide layout copies 16 bytes: copy_v)
      if (last_op_ == Op::copy_p && last_op_pc_ != kNone && last_op_pc_ + 2 == code_.size()) {
        // Two copies in a row (moving a block's values, a call's arguments): one dispatch.
        code_[last_op_pc_] = static_cast<Word>(h_[static_cast<size_t>(Op::copy2_p)]);
        last_op_ = Op::copy2_p;
        code_.push_back(pack(dst, src));
        return;
      }
      emit(Op::copy_p);
      code_.push_back(pack(dst, src));
    } else {
      emit(Op::copy);
      k(dst);
      k(src);
    }
  }
  // The destination slot of the last result (last_dst_), and retargeting it (false when the
  // packed field cannot hold the new slot).
  uint64_t last_dst() const {
    return last_dst_packed_ ? code_[last_dst_] & 0xffff : code_[last_dst_];
  }
  bool retarget_last_dst(uint64_t dst) {
    if (!last_dst_packed_) {
      set_word(last_dst_, dst);
      return true;
    }
    if (dst > 0xffff) return false;
    code_[last_dst_] = (code_[last_dst_] & 0xffff0000u) | static_cast<Word>(dst);
    return true;
  }
  void set_word(size_t w, uint64_t v) {
    if (v > UINT32_MAX) overflow_ = true;
    code_[w] = static_cast<Word>(v);
  }
  // Two 16-bit fields in one word (the _p forms), when both fit.
  static bool fits16(uint64_t a, uint64_t b) { return a <= 0xffff && b <= 0xffff; }
  static Word pack(uint64_t lo, uint64_t hi) { return static_cast<Word>(lo | (hi << 16)); }
  // dst = constant (i32 and f32 constants are kept sign-extended, see Const): packed when it
  // is a sign-extended 16-bit value, one word when a sign-extended 32-bit one, else two.
  void emit_const(uint64_t dst, uint64_t value) {
    int64_t v = static_cast<int64_t>(value);
    if (v >= INT16_MIN && v <= INT16_MAX && dst <= 0xffff) {
      emit(Op::const_p);
      code_.push_back(pack(dst, value & 0xffff));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      emit(Op::const_);
      k(dst);
      k(value & 0xffffffff);
    } else {
      emit(Op::const64);
      k(dst);
      k64(value);
    }
  }
  // A branch-target operand: `target` is a code offset now, relative to its word after run().
  void target(size_t offset) {
    targets_.push_back(code_.size());
    k(offset);
  }
  // A forward branch-target operand, patched when `c` ends.
  void fixup(Ctl& c) {
    c.fixups.push_back(code_.size());
    targets_.push_back(code_.size());
    k(0);
  }
  // Starts a new fuel segment; returns its first pc (a label). `fallthrough`: the segment is
  // entered only by falling through the conditional branch just emitted (br_if, the start of an
  // if's then arm), never by a jump: the branch then charges it itself (its _f form, one word
  // instead of a `fuel` instruction), and the returned pc must not be used as a label.
  size_t new_segment(bool fallthrough = false) {
#ifdef WASMCAP_BENCH_FAST_NO_FUEL  // bench-only build (CMakeLists.txt): no metering at all
    last_op_pc_ = kNone;
    return pc();
#endif
    if (fuel_word_ != kNone && fuel_word_ + 1 == code_.size() && fuel_count_ == 0 &&
        !fuel_fused_) {
      last_op_pc_ = kNone;
      return fuel_word_ - 1;  // the current segment is empty: reuse it
    }
    if (fuel_word_ != kNone) set_word(fuel_word_, fuel_count_);
    if (fallthrough && last_op_pc_ != kNone) {
      // The last instruction emitted ends at pc() (any later emission would be last_op_).
      Op f = fuel_variant(last_op_);
      if (f != Op::kCount) {
        code_[last_op_pc_] = static_cast<Word>(h_[static_cast<size_t>(f)]);
        fuel_word_ = code_.size();
        fuel_fused_ = true;
        k(0);
        fuel_count_ = 0;
        last_op_pc_ = kNone;
        return pc();
      }
    }
    size_t label = pc();
    emit(Op::fuel);
    fuel_word_ = code_.size();
    fuel_fused_ = false;
    k(0);
    fuel_count_ = 0;
    last_op_pc_ = kNone;
    return label;
  }

  // --- the virtual operand stack -----------------------------------------------------------
  uint32_t canon(size_t i) const { return (nlocals_ + static_cast<uint32_t>(i)) * stride(); }
  // Slots per value (2 in a module that uses v128, see simd_ops.h) and the slot of local x.
  uint32_t stride() const { return wide_ ? 2 : 1; }
  uint64_t ls(uint32_t x) const { return uint64_t{x} * stride(); }
  void note_height() {
    if (vs_.size() > max_height_) max_height_ = static_cast<uint32_t>(vs_.size());
  }
  // Bookkeeping that keeps translation linear in the function's size whatever its shape (a
  // hostile function must not make the translator quadratic): virtual entries all sit at or
  // above first_virtual_, and pending_[x] lists (in increasing order) the stack positions
  // that still read local x.
  void materialize_raw(size_t i) {
    Opnd& o = vs_[i];
    if (o.kind == Opnd::kLocal) {
      emit_copy(canon(i), ls(o.local));
    } else if (o.kind == Opnd::kConst) {
      emit_const(canon(i), o.value);
    }
    o.kind = Opnd::kSlot;
  }
  // Materializes entry i, which must be the highest pending entry of its local (if any).
  void materialize(size_t i) {
    if (vs_[i].kind == Opnd::kLocal) pending_[vs_[i].local].pop_back();
    materialize_raw(i);
  }
  void flush_from(size_t from) {
    size_t start = std::max(from, first_virtual_);
    for (size_t i = vs_.size(); i > start; --i) materialize(i - 1);  // highest first
    if (from <= first_virtual_) first_virtual_ = vs_.size();
  }
  void flush_all() { flush_from(0); }
  void flush_below_top() {
    Opnd top = vs_.back();
    pop();
    flush_all();
    if (top.kind == Opnd::kSlot) {
      vs_.push_back(top);
    } else {
      push_virtual(top);
    }
  }
  void flush_local(uint32_t local) {
    std::vector<uint32_t>& p = pending_[local];
    for (uint32_t i : p) materialize_raw(i);
    p.clear();
  }
  void push_virtual(const Opnd& o) {
    vs_.push_back(o);
    first_virtual_ = std::min(first_virtual_, vs_.size() - 1);
    if (o.kind == Opnd::kLocal) pending_[o.local].push_back(static_cast<uint32_t>(vs_.size() - 1));
    note_height();
  }
  void pop(size_t n = 1) {
    for (size_t j = 0; j < n; ++j) {
      const Opnd& o = vs_.back();
      if (o.kind == Opnd::kLocal) pending_[o.local].pop_back();
      vs_.pop_back();
    }
  }
  // Slot to read entry i from.
  uint64_t use(size_t i) {
    const Opnd& o = vs_[i];
    if (o.kind == Opnd::kLocal) return ls(o.local);
    if (o.kind == Opnd::kConst) materialize(i);
    return canon(i);
  }
  uint64_t use_top(size_t from_top) { return use(vs_.size() - 1 - from_top); }
  uint64_t push() {
    vs_.push_back(Opnd{});
    note_height();
    return canon(vs_.size() - 1);
  }
  static uint64_t sext32(uint32_t v) {
    return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
  }
  void push_const(uint64_t v) {
    Opnd o;
    o.kind = Opnd::kConst;
    o.value = v;
    push_virtual(o);
  }
  // Emits `op dst, operands...` whose dst is the new top of stack; remembers where dst is so
  // that a following local.set can retarget it.
  void result_op(Op op, std::initializer_list<uint64_t> operands) {
    uint64_t dst = push();
    emit(op);
    last_dst_ = code_.size();
    k(dst);
    for (uint64_t v : operands) k(v);
  }
  // result_op for an op whose first operand after dst is a slot: its packed form (dst | a in
  // one word) when the op has one and both fit.
  void result_op_a(Op op, uint64_t a, std::initializer_list<uint64_t> rest) {
    Op p = packed_variant(op);
    uint64_t dst = canon(vs_.size());
    if (p == Op::kCount || !fits16(dst, a)) {
      push();
      emit(op);
      last_dst_ = code_.size();
      k(dst);
      k(a);
      for (uint64_t v : rest) k(v);
      return;
    }
    push();
    if (p == Op::i32_add_k_p && last_op_ == Op::i32_add_k_p && last_op_pc_ != kNone &&
        last_op_pc_ + 3 == code_.size()) {
      // Two i32.add-immediates in a row (loop counters, pointers): one dispatch. The second
      // stays retargetable (last_dst_); take_add_k splits the pair again.
      code_[last_op_pc_] = static_cast<Word>(h_[static_cast<size_t>(Op::i32_add_k_p2)]);
      last_op_ = Op::i32_add_k_p2;
      last_dst_ = code_.size();
      last_dst_packed_ = true;
      code_.push_back(pack(dst, a));
      for (uint64_t v : rest) k(v);
      return;
    }
    emit(p);
    last_dst_ = code_.size();
    last_dst_packed_ = true;
    code_.push_back(pack(dst, a));
    for (uint64_t v : rest) k(v);
  }
  void set_stack_to(uint32_t height) { pop(vs_.size() - height); }

  // Superinstructions `x_ak` (a load or store whose address is `i32.add a, k`): when the stack
  // entry `from_top` is the result of the i32_add_k_p just emitted (its canonical slot, read by
  // nothing else: the same condition as a compare fused into a branch), removes that
  // instruction and returns its operands. The slot it wrote is dead: the entry is consumed here.
  bool take_add_k(size_t from_top, uint64_t* a, uint64_t* kk) {
    size_t i = vs_.size() - 1 - from_top;
    if (last_op_pc_ == kNone || last_dst_ == kNone || vs_[i].kind != Opnd::kSlot ||
        last_dst() != canon(i)) {
      return false;
    }
    size_t at, cut;  // the add's operand words; where the code ends without it
    if (last_op_ == Op::i32_add_k_p && last_op_pc_ + 3 == code_.size()) {
      at = last_op_pc_ + 1;
      cut = last_op_pc_;
    } else if (last_op_ == Op::i32_add_k_p2 && last_op_pc_ + 5 == code_.size()) {
      at = last_op_pc_ + 3;  // the pair's second add; the first stays, alone
      cut = at;
      code_[last_op_pc_] = static_cast<Word>(h_[static_cast<size_t>(Op::i32_add_k_p)]);
    } else {
      return false;
    }
    *a = code_[at] >> 16;
    *kk = code_[at + 1];
    cut_code(cut);
    last_op_pc_ = kNone;
    last_dst_ = kNone;
    return true;
  }
  // Puts back what take_add_k removed (the store's value did not fit its packed form).
  void untake_add_k(uint64_t a, uint64_t kk) {
    size_t i = vs_.size() - 2;
    emit(Op::i32_add_k_p);
    last_dst_ = code_.size();
    last_dst_packed_ = true;
    code_.push_back(pack(canon(i), a));
    k(kk);
  }

  // --- branches ----------------------------------------------------------------------------
  Ctl& label(uint32_t depth) { return ctl_[ctl_.size() - 1 - depth]; }
  // True when the label's values are already where the label expects them.
  bool in_place(const Ctl& c) const {
    uint32_t a = c.arity();
    if (a == 0) return true;
    if (c.kind == Ctl::kFunc) return false;
    size_t from = vs_.size() - a;
    return from == c.height && first_virtual_ >= vs_.size();  // all slots (O(1), conservative)
  }
  // Moves the label's values into place (not for the function label).
  void move_values(const Ctl& c) {
    uint32_t a = c.arity();
    size_t from = vs_.size() - a;
    if (a >= 2 && first_virtual_ >= vs_.size()) {
      // All in slots, contiguous: one block move, whatever the arity.
      if (from != c.height) {
        emit(Op::copy_n);
        k(canon(c.height));
        k(canon(from));
        k(a);
      }
      return;
    }
    for (uint32_t i = 0; i < a; ++i) {
      const Opnd& o = vs_[from + i];
      uint64_t dst = canon(c.height + i);
      if (o.kind == Opnd::kConst) {
        emit_const(dst, o.value);
      } else {
        uint64_t src = o.kind == Opnd::kLocal ? ls(o.local) : canon(from + i);
        if (src != dst) {
          emit_copy(dst, src);
        }
      }
    }
  }
  // Return sequence: results to frame slots 0..n-1, then ret.
  void emit_return() {
    uint32_t n = ctl_[0].nresults;
    size_t from = vs_.size() - n;
    if (n == 1) {
      const Opnd& o = vs_[from];
      if (o.kind == Opnd::kConst) {
        emit_const(0, o.value);
      } else {
        uint64_t src = use(from);
        if (src != 0 && !wide_) {
          emit(Op::ret_copy);  // (the wide layout's results are 16 bytes: copy_v, ret)
          k(src);
          return;
        }
        if (src != 0) {
          emit_copy(0, src);
        }
      }
    } else if (n > 1) {
      flush_from(from);
      if (canon(from) != 0) {
        emit(Op::copy_n);
        k(0);
        k(canon(from));
        k(n);
      }
    }
    emit(Op::ret);
  }
  // Unconditional branch to `depth`.
  void emit_br(uint32_t depth) {
    Ctl& c = label(depth);
    if (c.kind == Ctl::kFunc) {
      emit_return();
      return;
    }
    move_values(c);
    emit(Op::br);
    if (c.kind == Ctl::kLoop) {
      target(c.loop_pc);
    } else {
      fixup(c);
    }
  }
  // Conditional branch on the top of stack (popped); fuses with a preceding i32 compare.
  void emit_br_if(uint32_t depth) {
    Ctl& c = label(depth);
    bool simple = false;
    if (c.kind != Ctl::kFunc) {
      // in_place() for the stack without the condition on top.
      uint32_t a = c.arity();
      size_t from = vs_.size() - 1 - a;
      simple = a == 0 || (from == c.height && first_virtual_ >= vs_.size() - 1);
    }
    if (simple) {
      // Compare-and-branch when the condition was just computed by an i32 compare.
      if (last_dst_ != kNone && last_op_pc_ != kNone && vs_.back().kind == Opnd::kSlot &&
          last_dst() == canon(vs_.size() - 1)) {
        Op fused = branch_variant(last_op_, false);
        if (fused != Op::kCount || last_op_ == Op::i32_eqz) {
          Word a = code_[last_op_pc_ + 2];
          Word b = last_op_ == Op::i32_eqz ? Word{} : code_[last_op_pc_ + 3];
          Op br_op = last_op_ == Op::i32_eqz ? Op::br_i32_eqz : fused;
          cut_code(last_op_pc_);
          pop();
          emit(br_op);
          k(a);
          if (br_op != Op::br_i32_eqz) k(b);
          if (c.kind == Ctl::kLoop) {
            target(c.loop_pc);
          } else {
            fixup(c);
          }
          return;
        }
      }
      uint64_t cond = use_top(0);
      pop();
      emit(Op::br_if);
      k(cond);
      if (c.kind == Ctl::kLoop) {
        target(c.loop_pc);
      } else {
        fixup(c);
      }
      return;
    }
    // The branch path must not change what the fall-through path sees as materialized.
    flush_below_top();
    uint64_t cond = use_top(0);
    pop();
    emit(Op::br_unless);
    k(cond);
    size_t skip = code_.size();
    targets_.push_back(skip);
    k(0);
    emit_br(depth);
    code_[skip] = static_cast<Word>(pc());  // the fall-through segment starts here
  }
  // br_unless on the top of stack (for `if`); returns the word to patch with the else label.
  size_t emit_br_unless() {
    if (last_dst_ != kNone && last_op_pc_ != kNone && vs_.back().kind == Opnd::kSlot &&
        last_dst() == canon(vs_.size() - 1)) {
      Op fused = branch_variant(last_op_, true);
      if (fused != Op::kCount || last_op_ == Op::i32_eqz) {
        Word a = code_[last_op_pc_ + 2];
        Word b = last_op_ == Op::i32_eqz ? Word{} : code_[last_op_pc_ + 3];
        cut_code(last_op_pc_);
        pop();
        if (last_op_ == Op::i32_eqz) {
          emit(Op::br_if);  // if (x == 0) ... : skip the arm when x != 0
          k(a);
        } else {
          emit(fused);
          k(a);
          k(b);
        }
        size_t w = code_.size();
        targets_.push_back(w);
        k(0);
        return w;
      }
    }
    uint64_t cond = use_top(0);
    pop();
    emit(Op::br_unless);
    k(cond);
    size_t w = code_.size();
    targets_.push_back(w);
    k(0);
    return w;
  }

  // --- blocks ----------------------------------------------------------------------------
  void open(Ctl::Kind kind, const wabt::FuncDeclaration& decl) {
    const wabt::FuncSignature& sig = decl_sig(m_, decl);
    Ctl c;
    c.kind = kind;
    c.nparams = static_cast<uint32_t>(sig.param_types.size());
    c.nresults = static_cast<uint32_t>(sig.result_types.size());
    c.height = static_cast<uint32_t>(vs_.size()) - c.nparams;
    c.outer_region = cur_region_;
    ctl_.push_back(std::move(c));
  }
  // End of a block/loop/if: values to their slots, labels resolved. Returns reachability.
  bool close(bool reachable) {
    Ctl c = std::move(ctl_.back());
    ctl_.pop_back();
    if (reachable) flush_from(c.height);
    if (c.else_word != kNone) c.fixups.push_back(c.else_word);
    set_stack_to(c.height);
    for (uint32_t i = 0; i < c.nresults; ++i) push();
    if (c.fixups.empty()) return reachable;
    size_t l = new_segment();
    for (size_t w : c.fixups) set_word(w, l);
    return true;
  }

  void walk(const wabt::ExprList& body) {
    std::vector<Walk> st;
    st.push_back(Walk{&body, body.begin(), 0});
    reachable_ = true;
    while (!st.empty()) {
      Walk& w = st.back();
      if (!reachable_ || w.it == w.list->end()) {
        int part = w.part;
        st.pop_back();
        if (st.empty()) {
          if (reachable_) emit_return();
          return;
        }
        Ctl& c = ctl_.back();
        if (c.kind == Ctl::kTry) {
          if (const wabt::ExprList* handler = try_part_end(c, part)) {
            st.push_back(Walk{handler, handler->begin(), part + 1});
            continue;
          }
        }
        if (c.kind == Ctl::kIf && part == 1) {
          const wabt::IfExpr* ie = c.if_expr;
          if (ie->false_.empty()) {
            reachable_ = close(reachable_);
            continue;
          }
          begin_else(c);
          st.push_back(Walk{&ie->false_, ie->false_.begin(), 2});
          continue;
        }
        reachable_ = close(reachable_);
        continue;
      }
      const wabt::Expr& e = *w.it;
      ++w.it;
      ++fuel_count_;
      if (const wabt::ExprList* body = expr(e)) {
        st.push_back(Walk{body, body->begin(),
                          e.type() == wabt::ExprType::If    ? 1
                          : e.type() == wabt::ExprType::Try ? kTryBody
                                                            : 0});
      }
    }
  }

  // The then arm of the innermost `if` (c) ends and its (non-empty) else arm starts.
  void begin_else(Ctl& c) {
    if (reachable_) {
      flush_from(c.height);
      emit(Op::br);
      fixup(c);
    }
    size_t else_word = c.else_word;
    c.else_word = kNone;
    set_stack_to(c.height);
    for (uint32_t i = 0; i < c.nparams; ++i) push();
    size_t l = new_segment();
    set_word(else_word, l);
    reachable_ = true;
  }

  // Streaming: the end of the innermost list (walk()'s list-end step, without try: the
  // streaming driver takes no exception handling).
  void list_end() {
    int part = parts_.back();
    parts_.pop_back();
    if (parts_.empty()) {
      if (reachable_) emit_return();
      return;
    }
    reachable_ = close(reachable_);
    (void)part;  // a then arm ending at `end` has no else arm: closed like any block
  }
  // Streaming: an `else` followed by an instruction: the then arm ends, the else arm starts.
  void take_else() {
    pending_else_ = false;
    begin_else(ctl_.back());
    parts_.back() = 2;
  }

  // Translates one instruction; returns a nested body to walk (block/loop/if), else null.
  const wabt::ExprList* expr(const wabt::Expr& e) {
    using ET = wabt::ExprType;
    switch (e.type()) {
      case ET::Nop: return nullptr;
      case ET::Unreachable:
        emit(Op::unreachable);
        reachable_ = false;
        return nullptr;
      case ET::Block: {
        auto& b = static_cast<const wabt::BlockExpr&>(e);
        flush_all();
        open(Ctl::kBlock, b.block.decl);
        return &b.block.exprs;
      }
      case ET::Loop: {
        auto& b = static_cast<const wabt::LoopExpr&>(e);
        flush_all();
        open(Ctl::kLoop, b.block.decl);
        ctl_.back().loop_pc = new_segment();
        return &b.block.exprs;
      }
      case ET::If: {
        auto& ie = static_cast<const wabt::IfExpr&>(e);
        // Materialize everything below the condition first, so the fused compare (the last
        // instruction) stays last.
        if (first_virtual_ + 1 < vs_.size()) flush_below_top();
        size_t else_word = emit_br_unless();
        flush_all();
        open(Ctl::kIf, ie.true_.decl);
        ctl_.back().else_word = else_word;
        ctl_.back().if_expr = &ie;
        new_segment(true);
        return &ie.true_.exprs;
      }
      case ET::Br:
        emit_br(static_cast<const wabt::BrExpr&>(e).var.index());
        reachable_ = false;
        return nullptr;
      case ET::BrIf:
        emit_br_if(static_cast<const wabt::BrIfExpr&>(e).var.index());
        new_segment(true);
        return nullptr;
      case ET::BrTable: {
        auto& bt = static_cast<const wabt::BrTableExpr&>(e);
        flush_below_top();  // the stubs below must all see the same state
        uint64_t idx = use_top(0);
        pop();
        size_t n = bt.targets.size();
        emit(Op::br_table);
        k(idx);
        k(n);
        size_t first = code_.size();
        for (size_t i = 0; i <= n; ++i) k(0);
        std::vector<std::pair<size_t, uint32_t>> stubs;
        for (size_t i = 0; i <= n; ++i) {
          uint32_t depth = i < n ? bt.targets[i].index() : bt.default_target.index();
          Ctl& c = label(depth);
          size_t w = first + i;
          targets_.push_back(w);
          if (c.kind != Ctl::kFunc && in_place(c)) {
            if (c.kind == Ctl::kLoop) {
              set_word(w, c.loop_pc);
            } else {
              c.fixups.push_back(w);
            }
          } else {
            stubs.push_back({w, depth});
          }
        }
        for (auto& [w, depth] : stubs) {
          set_word(w, pc());
#ifndef WASMCAP_BENCH_FAST_NO_FUEL
          // br_table charges its target's segment like every taken branch (run()): a stub
          // (values moved, then `br`, which charges the label) starts with `fuel 0`.
          emit(Op::fuel);
          code_.push_back(0);
#endif
          last_op_pc_ = kNone;  // a jump target: nothing before it fuses with what follows
          emit_br(depth);
        }
        reachable_ = false;
        return nullptr;
      }
      case ET::Return:
        emit_return();
        reachable_ = false;
        return nullptr;
      case ET::Call: {
        auto& ce = static_cast<const wabt::CallExpr&>(e);
        uint32_t fi = ce.var.index();
        const wabt::Func* callee = m_.funcs[fi];
        call(Op::call, {fi}, callee->GetNumParams(), callee->GetNumResults(), false);
        return nullptr;
      }
      case ET::CallIndirect: {
        auto& ci = static_cast<const wabt::CallIndirectExpr&>(e);
        const wabt::FuncSignature& sig = decl_sig(m_, ci.decl);
        uint32_t type = canon_[m_.GetFuncTypeIndex(ci.decl)];
        call(Op::call_indirect, {ci.table.index(), type},
             static_cast<uint32_t>(sig.param_types.size()),
             static_cast<uint32_t>(sig.result_types.size()), true);
        return nullptr;
      }
      case ET::Drop:
        pop();
        return nullptr;
      case ET::Select: {
        uint64_t cond = use_top(0), b = use_top(1), a = use_top(2);
        pop(3);
        result_op(Op::select, {a, b, cond});
        return nullptr;
      }
      case ET::LocalGet: {
        Opnd o;
        o.kind = Opnd::kLocal;
        o.local = static_cast<const wabt::LocalGetExpr&>(e).var.index();
        push_virtual(o);
        return nullptr;
      }
      case ET::LocalSet:
      case ET::LocalTee: {
        uint32_t x = static_cast<const wabt::VarExpr<ET::LocalSet>&>(e).var.index();
        bool tee = e.type() == ET::LocalTee;
        // Entries that still read local x must keep its old value.
        size_t top = vs_.size() - 1;
        if (vs_[top].kind == Opnd::kLocal && vs_[top].local == x) {
          pop();  // local.set x of local x's own value: nothing changes
          if (tee) push_virtual(Opnd{Opnd::kLocal, x, 0});
          last_dst_ = kNone;
          return nullptr;
        }
        if (!pending_[x].empty()) flush_local(x);
        Opnd& o = vs_[top];
        if (o.kind == Opnd::kSlot && last_dst_ != kNone && last_dst() == canon(top) &&
            retarget_last_dst(ls(x))) {
          // the producer writes the local directly
        } else if (o.kind == Opnd::kConst) {
          emit_const(ls(x), o.value);
        } else {
          uint64_t src = use(top);
          if (src != ls(x)) {
            emit_copy(ls(x), src);
          }
        }
        last_dst_ = kNone;
        pop();
        if (tee) push_virtual(Opnd{Opnd::kLocal, x, 0});
        return nullptr;
      }
      case ET::GlobalGet: {
        // An imported global is another instance's storage (Runtime::global_imports).
        uint32_t g = static_cast<const wabt::GlobalGetExpr&>(e).var.index();
        if (g < m_.num_global_imports) result_op(Op::global_get_i, {g});
        else result_op(Op::global_get, {ls(g)});
        return nullptr;
      }
      case ET::GlobalSet: {
        uint32_t g = static_cast<const wabt::GlobalSetExpr&>(e).var.index();
        uint64_t v = use_top(0);
        pop();
        emit(g < m_.num_global_imports ? Op::global_set_i : Op::global_set);
        k(g < m_.num_global_imports ? uint64_t{g} : ls(g));
        k(v);
        return nullptr;
      }
      case ET::Load: {
        auto& le = static_cast<const wabt::LoadExpr&>(e);
        Op op = op_for(le.opcode);
        uint64_t a = 0, kk = 0;
        Op cop = c_variant(op);
        if (cop != Op::kCount && vs_.back().kind == Opnd::kConst &&
            (vs_.back().value & 0xffffffff) + le.offset <= UINT32_MAX) {
          uint64_t ea = (vs_.back().value & 0xffffffff) + le.offset;
          pop();
          result_op(cop, {ea});
          return nullptr;
        }
        Op ak = ak_variant(op);
        if (ak != Op::kCount && take_add_k(0, &a, &kk)) {
          // dst is the add's own (packed) slot, so both fields fit.
          pop();  // the address: the add's result, no longer computed
          uint64_t dst = push();
          emit(ak);
          last_dst_ = code_.size();
          last_dst_packed_ = true;
          code_.push_back(pack(dst, a));
          k(kk);
          k(le.offset);
          return nullptr;
        }
        uint64_t addr = use_top(0);
        pop();
        result_op_a(op, addr, {le.offset});
        return nullptr;
      }
      case ET::Store: {
        auto& se = static_cast<const wabt::StoreExpr&>(e);
        Op op = op_for(se.opcode);
        uint64_t a = 0, kk = 0;
        Op cop = c_variant(op);
        const Opnd& ao = vs_[vs_.size() - 2];
        if (cop != Op::kCount && ao.kind == Opnd::kConst &&
            (ao.value & 0xffffffff) + se.offset <= UINT32_MAX) {
          uint64_t ea = (ao.value & 0xffffffff) + se.offset;
          uint64_t v = use_top(0);
          pop(2);
          emit(cop);
          k(v);
          k(ea);
          return nullptr;
        }
        Op ak = ak_variant(op);
        if (ak != Op::kCount && vs_.back().kind != Opnd::kConst && take_add_k(1, &a, &kk)) {
          uint64_t v = use_top(0);  // a local or a slot: emits nothing
          if (fits16(a, v)) {
            pop(2);
            emit(ak);
            code_.push_back(pack(a, v));
            k(kk);
            k(se.offset);
            return nullptr;
          }
          untake_add_k(a, kk);
        }
        uint64_t v = use_top(0), addr = use_top(1);
        pop(2);
        Op packed = packed_variant(op);  // (none for v128.store)
        if (packed != Op::kCount && fits16(addr, v)) {
          emit(packed);
          code_.push_back(pack(addr, v));
        } else {
          emit(op);
          k(addr);
          k(v);
        }
        k(se.offset);
        return nullptr;
      }
      case ET::Const: {
        const wabt::Const& c = static_cast<const wabt::ConstExpr&>(e).const_;
        switch (c.type()) {
          // i32 and f32 constants are kept sign-extended to 64 bits: their readers see only the
          // low 32 bits, and emit_const then stores small negative ones in one or half a word.
          case wabt::Type::I32: push_const(sext32(c.u32())); break;
          case wabt::Type::I64: push_const(c.u64()); break;
          case wabt::Type::F32: push_const(sext32(c.f32_bits())); break;
          case wabt::Type::F64: push_const(c.f64_bits()); break;
          case wabt::Type::V128: v128_const(c.vec128()); break;
          default: push_const(0); break;
        }
        return nullptr;
      }
      case ET::Binary:
      case ET::Compare: {
        Op op = op_for(opcode_of(e));
        Op kop = k_variant(op);
        if (kop != Op::kCount && vs_.back().kind == Opnd::kConst) {
          uint64_t b = vs_.back().value;
          uint64_t a = use_top(1);
          pop(2);
          if (is_i64_k(kop)) {
            result_op(kop, {a});
            k64(b);
          } else {  // i32 (kept sign-extended, see Const): the low 32 bits
            result_op_a(kop, a, {b & 0xffffffff});
          }
        } else {
          uint64_t b = use_top(0), a = use_top(1);
          pop(2);
          result_op(op, {a, b});
        }
        return nullptr;
      }
      case ET::Unary:
      case ET::Convert: {
        wabt::Opcode opc = opcode_of(e);
        switch (opc) {
          // Same bits, same slot: nothing to do. (i32 readers look at the low 32 bits only.)
          case wabt::Opcode::I32ReinterpretF32:
          case wabt::Opcode::F32ReinterpretI32:
          case wabt::Opcode::I64ReinterpretF64:
          case wabt::Opcode::F64ReinterpretI64:
          case wabt::Opcode::I32WrapI64:
            last_dst_ = kNone;
            return nullptr;
          default: break;
        }
        uint64_t a = use_top(0);
        pop();
        result_op(op_for(opc), {a});
        return nullptr;
      }
      case ET::MemorySize: result_op(Op::memory_size, {}); return nullptr;
      case ET::MemoryGrow: {
        uint64_t d = use_top(0);
        pop();
        result_op(Op::memory_grow, {d});
        return nullptr;
      }
      case ET::MemoryFill:
      case ET::MemoryCopy: {
        uint64_t n = use_top(0), s = use_top(1), d = use_top(2);
        pop(3);
        emit(e.type() == ET::MemoryFill ? Op::memory_fill : Op::memory_copy);
        k(d);
        k(s);
        k(n);
        return nullptr;
      }
      case ET::MemoryInit: {
        uint64_t n = use_top(0), s = use_top(1), d = use_top(2);
        pop(3);
        emit(Op::memory_init);
        k(static_cast<const wabt::MemoryInitExpr&>(e).var.index());
        k(d);
        k(s);
        k(n);
        return nullptr;
      }
      case ET::DataDrop:
        emit(Op::data_drop);
        k(static_cast<const wabt::DataDropExpr&>(e).var.index());
        return nullptr;
      case ET::ElemDrop:
        emit(Op::elem_drop);
        k(static_cast<const wabt::ElemDropExpr&>(e).var.index());
        return nullptr;
      case ET::TableGet: {
        uint64_t i = use_top(0);
        pop();
        result_op(Op::table_get, {static_cast<const wabt::TableGetExpr&>(e).var.index(), i});
        return nullptr;
      }
      case ET::TableSet: {
        uint64_t v = use_top(0), i = use_top(1);
        pop(2);
        emit(Op::table_set);
        k(static_cast<const wabt::TableSetExpr&>(e).var.index());
        k(i);
        k(v);
        return nullptr;
      }
      case ET::TableSize:
        result_op(Op::table_size, {static_cast<const wabt::TableSizeExpr&>(e).var.index()});
        return nullptr;
      case ET::TableGrow: {
        uint64_t n = use_top(0), init = use_top(1);
        pop(2);
        result_op(Op::table_grow,
                  {static_cast<const wabt::TableGrowExpr&>(e).var.index(), init, n});
        return nullptr;
      }
      case ET::TableFill: {
        uint64_t n = use_top(0), v = use_top(1), i = use_top(2);
        pop(3);
        emit(Op::table_fill);
        k(static_cast<const wabt::TableFillExpr&>(e).var.index());
        k(i);
        k(v);
        k(n);
        return nullptr;
      }
      case ET::TableCopy: {
        auto& tc = static_cast<const wabt::TableCopyExpr&>(e);
        uint64_t n = use_top(0), s = use_top(1), d = use_top(2);
        pop(3);
        emit(Op::table_copy);
        k(tc.dst_table.index());
        k(tc.src_table.index());
        k(d);
        k(s);
        k(n);
        return nullptr;
      }
      case ET::TableInit: {
        auto& ti = static_cast<const wabt::TableInitExpr&>(e);
        uint64_t n = use_top(0), s = use_top(1), d = use_top(2);
        pop(3);
        emit(Op::table_init);
        k(ti.table_index.index());
        k(ti.segment_index.index());
        k(d);
        k(s);
        k(n);
        return nullptr;
      }
      case ET::RefNull: push_const(0); return nullptr;
      case ET::RefFunc:
        result_op(Op::ref_func, {static_cast<const wabt::RefFuncExpr&>(e).var.index()});
        return nullptr;
      case ET::RefIsNull: {
        uint64_t a = use_top(0);
        pop();
        result_op(Op::ref_is_null, {a});
        return nullptr;
      }
      case ET::Try:
      case ET::Throw:
      case ET::Rethrow:
        return eh_expr(e);
      default:
        if (simd_expr(e)) return nullptr;
        // Refused at load time (unsupported_feature); a validated module never gets here.
        emit(Op::unreachable);
        reachable_ = false;
        return nullptr;
    }
  }

#include "engine/fast/translate_simd.inc"

  void call(Op op, std::initializer_list<uint64_t> imms, uint32_t nparams, uint32_t nresults,
            bool indirect) {
    uint64_t idx = 0;
    if (indirect) {
      idx = use_top(0);
      pop();
    }
    size_t base = vs_.size() - nparams;
    flush_from(base);
    // The callee's frame starts at the first argument: results come back there.
    uint64_t off = canon(base);
    pop(nparams);
    if (op == Op::call && fits16(*imms.begin(), off)) {
      emit(Op::call_p);
      code_.push_back(pack(*imms.begin(), off));
    } else {
      emit(op);
      if (indirect) k(idx);
      for (uint64_t v : imms) k(v);
      k(off);
    }
    note_site();
    for (uint32_t i = 0; i < nresults; ++i) push();
    // Room for the arguments (already counted) and the results; a host import writes both there.
    last_dst_ = kNone;
  }

  const wabt::Module& m_;
  uint32_t nparams_ = 0;
  uint32_t nresults_ = 0;
  // Streaming driver state: the part (as Walk::part) of each open list, `else` seen and not
  // yet resolved, nesting depth of unreachable blocks being skipped.
  std::vector<int> parts_;
  bool pending_else_ = false;
  uint32_t skip_ = 0;
  const std::vector<uint32_t>& canon_;
  const int32_t* h_;
  std::vector<Word> code_;
  std::vector<size_t> targets_;  // branch operands (they charge their target, see run())
  std::vector<Opnd> vs_;
  size_t first_virtual_ = 0;
  std::vector<std::vector<uint32_t>> pending_;
  std::vector<Ctl> ctl_;
  uint32_t nlocals_ = 0;
  uint32_t max_height_ = 0;
  size_t fuel_word_ = kNone;
  uint64_t fuel_count_ = 0;
  bool fuel_fused_ = false;  // fuel_word_ is a conditional branch's (its _f form), not a label
  // Instruction starts for fuse_pairs: the last one emitted, and every (a, b) where b was
  // emitted right after a (b's start is where a's words end).
  size_t prev_start_ = kNone;
  std::vector<std::pair<uint32_t, uint32_t>> adjacent_;
  size_t last_op_pc_ = kNone;
  Op last_op_ = Op::kCount;
  size_t last_dst_ = kNone;
  bool last_dst_packed_ = false;  // last_dst_ is the low half of a packed word
  bool reachable_ = true;
  bool overflow_ = false;  // an operand did not fit a word: the function is too large
  bool wide_ = false;

  // --- exception handling (legacy try/catch/delegate; docs/fast-interp.md) --------------
  // try, catch and delegate emit no code. Each try is an EhRegion; every call, throw and
  // rethrow inside a try body is an EhSite naming the innermost such try (cur_region_). A
  // handler is a code label (a fuel segment of its own) that finds the stack at the try's
  // height with the tag's values on top, in their canonical slots, like an else arm.
  static constexpr int kTryBody = 3;  // Walk::part of a try body; 4 + i: catch clause i

  void note_site() {
    if (cur_region_ >= 0) eh_->sites.push_back(EhSite{static_cast<uint32_t>(code_.size()), cur_region_});
  }
  uint32_t tag_arity(uint32_t tag) const {
    return static_cast<uint32_t>(decl_sig(m_, m_.tags[tag]->decl).param_types.size());
  }
  // The innermost try whose body holds the position just inside label `c` (delegate target).
  static int32_t region_at(const Ctl& c) {
    return c.kind == Ctl::kTry && !c.in_catch ? c.region : c.outer_region;
  }

  const wabt::ExprList* eh_expr(const wabt::Expr& e) {
    using ET = wabt::ExprType;
    if (!eh_) eh_ = std::make_unique<EhInfo>();
    switch (e.type()) {
      case ET::Try: {
        auto& te = static_cast<const wabt::TryExpr&>(e);
        flush_all();  // the handlers must find everything below the try in its slots
        open(Ctl::kTry, te.block.decl);
        Ctl& c = ctl_.back();
        c.try_expr = &te;
        c.region = static_cast<int32_t>(eh_->regions.size());
        EhRegion reg;
        reg.payload = canon(c.height);
        if (te.kind == wabt::TryKind::Delegate) {
          // The label counts from outside the try (the try's own label is not one of them).
          reg.next = region_at(ctl_[ctl_.size() - 2 - te.delegate_target.index()]);
        } else {
          reg.next = cur_region_;
        }
        eh_->regions.push_back(std::move(reg));
        cur_region_ = c.region;
        return &te.block.exprs;
      }
      case ET::Throw: {
        uint32_t tag = static_cast<const wabt::ThrowExpr&>(e).var.index();
        uint32_t n = tag_arity(tag);
        size_t base = vs_.size() - n;
        flush_from(base);
        emit(Op::throw_);
        k(tag);
        k(canon(base));
        note_site();
        pop(n);
        reachable_ = false;
        return nullptr;
      }
      case ET::Rethrow: {
        Ctl& c = label(static_cast<const wabt::RethrowExpr&>(e).var.index());
        eh_->regions[static_cast<size_t>(c.region)].rethrown = true;
        emit(Op::rethrow);
        k(static_cast<uint64_t>(c.region));
        note_site();
        reachable_ = false;
        return nullptr;
      }
      default: return nullptr;
    }
  }

  // The end of a try's body (part kTryBody) or of catch clause part-kTryBody-1: returns the
  // next handler's body to walk, or nullptr when the try ends (the caller closes it).
  const wabt::ExprList* try_part_end(Ctl& c, int part) {
    if (part == kTryBody) {
      cur_region_ = c.outer_region;  // a throw in a handler is not caught by its own try
      c.in_catch = true;
    }
    const wabt::TryExpr& te = *c.try_expr;
    size_t next = static_cast<size_t>(part - kTryBody);
    if (te.kind != wabt::TryKind::Catch || next >= te.catches.size()) return nullptr;
    if (reachable_) {
      flush_from(c.height);
      emit(Op::br);
      fixup(c);
    }
    const wabt::Catch& k = te.catches[next];
    set_stack_to(c.height);
    size_t l = new_segment();
    EhRegion& reg = eh_->regions[static_cast<size_t>(c.region)];
    if (k.IsCatchAll()) {
      reg.catch_all = static_cast<int32_t>(l);
    } else {
      uint32_t tag = k.var.index();
      reg.catches.push_back(EhCatch{tag, static_cast<uint32_t>(l)});
      for (uint32_t i = tag_arity(tag); i > 0; --i) push();
    }
    reachable_ = true;
    return &k.exprs;
  }

  std::unique_ptr<EhInfo> eh_;
  int32_t cur_region_ = -1;
};

// The streaming front end (translate_function_stream): wabt's binary reader reports each
// instruction of the body to this delegate, which makes the one Expr that wabt's IR reader
// (BinaryReaderIR) would have appended for it, on the stack, with the same fields, and hands it
// straight to the translator. Nothing of the body is kept: building and freeing wabt's IR of
// every body called was about a fifth of the CPU time of `wasmcap run --engine interp
// hello.wasm` (bench/notes/2026-11-23-hello-start.md, "Interp hello start-up").
//
// Only what the translator walks without exception handling or v128 is taken here; every other
// instruction stops the read (the caller then reads the body into wabt's IR as before). That
// is checked per instruction, not per opcode list: wabt calls OnOpcode before each
// instruction's own callback, and an instruction whose callback is not overridden below leaves
// `open_` set, which the next OnOpcode or the body's end refuses.
class StreamReader final : public wabt::BinaryReaderNop {
 public:
  StreamReader(const wabt::Module& m, uint32_t nparams, uint32_t nresults,
               const std::vector<uint32_t>& canon, uint64_t max_local_slots)
      : m_(m), nparams_(nparams), nresults_(nresults), canon_(canon), max_slots_(max_local_slots) {}

  std::unique_ptr<FuncCode> take() {
    if (!t_ || !done_ || !t_->stream_done()) return nullptr;
    return t_->finish();
  }

  bool OnError(const wabt::Error&) override { return true; }  // the caller falls back

  wabt::Result OnLocalDecl(wabt::Index, wabt::Index count, wabt::Type) override {
    locals_ += count;
    return wabt::Result::Ok;
  }
  wabt::Result OnOpcode(wabt::Opcode) override {
    if (open_) return wabt::Result::Error;  // the previous instruction was not taken
    if (!t_) {
      // The first instruction: the locals are all declared.
      uint64_t nlocals = uint64_t{nparams_} + locals_;
      // Locals beyond the value stack: the IR path handles them (FastInstance::translate).
      if (nlocals > max_slots_ || nlocals > UINT32_MAX) return wabt::Result::Error;
      t_.emplace(m_, nparams_, static_cast<uint32_t>(nlocals), nresults_, canon_, false);
      t_->begin_stream();
    }
    if (t_->stream_done()) return wabt::Result::Error;  // nothing follows the final `end`
    open_ = true;
    return wabt::Result::Ok;
  }
  wabt::Result EndFunctionBody(wabt::Index) override {
    if (open_ || !t_) return wabt::Result::Error;
    done_ = true;
    return wabt::Result::Ok;
  }

  // Structure.
  wabt::Result OnBlockExpr(wabt::Type sig) override {
    wabt::BlockExpr e;
    block_decl(&e.block.decl, sig);
    return step(e);
  }
  wabt::Result OnLoopExpr(wabt::Type sig) override {
    wabt::LoopExpr e;
    block_decl(&e.block.decl, sig);
    return step(e);
  }
  wabt::Result OnIfExpr(wabt::Type sig) override {
    wabt::IfExpr e;
    block_decl(&e.true_.decl, sig);
    return step(e);
  }
  wabt::Result OnElseExpr() override {
    open_ = false;
    t_->stream_else();
    return wabt::Result::Ok;
  }
  wabt::Result OnEndExpr() override {
    open_ = false;
    t_->stream_end();
    return wabt::Result::Ok;
  }

  // Control.
  wabt::Result OnUnreachableExpr() override { return step(wabt::UnreachableExpr()); }
  wabt::Result OnNopExpr() override { return step(wabt::NopExpr()); }
  wabt::Result OnBrExpr(wabt::Index depth) override { return step(wabt::BrExpr(var(depth))); }
  wabt::Result OnBrIfExpr(wabt::Index depth) override { return step(wabt::BrIfExpr(var(depth))); }
  wabt::Result OnBrTableExpr(wabt::Index n, wabt::Index* depths, wabt::Index def) override {
    wabt::BrTableExpr e;
    e.default_target = var(def);
    e.targets.resize(n);
    for (wabt::Index i = 0; i < n; ++i) e.targets[i] = var(depths[i]);
    return step(e);
  }
  wabt::Result OnReturnExpr() override { return step(wabt::ReturnExpr()); }
  wabt::Result OnCallExpr(wabt::Index func) override { return step(wabt::CallExpr(var(func))); }
  wabt::Result OnCallIndirectExpr(wabt::Index sig, wabt::Index table) override {
    wabt::CallIndirectExpr e;
    // As BinaryReaderIR::SetFuncDeclaration: the type index; its signature is the module's
    // (decl_sig), which is what the translator reads.
    e.decl.has_func_type = true;
    e.decl.type_var = var(sig);
    e.table = var(table);
    return step(e);
  }

  // Operands.
  wabt::Result OnDropExpr() override { return step(wabt::DropExpr()); }
  wabt::Result OnSelectExpr(wabt::Index n, wabt::Type* types) override {
    return step(wabt::SelectExpr(wabt::TypeVector(types, types + n)));
  }
  wabt::Result OnLocalGetExpr(wabt::Index i) override { return step(wabt::LocalGetExpr(var(i))); }
  wabt::Result OnLocalSetExpr(wabt::Index i) override { return step(wabt::LocalSetExpr(var(i))); }
  wabt::Result OnLocalTeeExpr(wabt::Index i) override { return step(wabt::LocalTeeExpr(var(i))); }
  wabt::Result OnGlobalGetExpr(wabt::Index i) override { return step(wabt::GlobalGetExpr(var(i))); }
  wabt::Result OnGlobalSetExpr(wabt::Index i) override { return step(wabt::GlobalSetExpr(var(i))); }
  wabt::Result OnI32ConstExpr(uint32_t v) override {
    return step(wabt::ConstExpr(wabt::Const::I32(v)));
  }
  wabt::Result OnI64ConstExpr(uint64_t v) override {
    return step(wabt::ConstExpr(wabt::Const::I64(v)));
  }
  wabt::Result OnF32ConstExpr(uint32_t bits) override {
    return step(wabt::ConstExpr(wabt::Const::F32(bits)));
  }
  wabt::Result OnF64ConstExpr(uint64_t bits) override {
    return step(wabt::ConstExpr(wabt::Const::F64(bits)));
  }
  wabt::Result OnBinaryExpr(wabt::Opcode op) override { return step(wabt::BinaryExpr(op)); }
  wabt::Result OnCompareExpr(wabt::Opcode op) override { return step(wabt::CompareExpr(op)); }
  wabt::Result OnUnaryExpr(wabt::Opcode op) override { return step(wabt::UnaryExpr(op)); }
  wabt::Result OnConvertExpr(wabt::Opcode op) override { return step(wabt::ConvertExpr(op)); }

  // Memory.
  wabt::Result OnLoadExpr(wabt::Opcode op, wabt::Index mem, wabt::Address align_log2,
                          wabt::Address offset) override {
    return step(wabt::LoadExpr(op, var(mem), wabt::Address{1} << align_log2, offset));
  }
  wabt::Result OnStoreExpr(wabt::Opcode op, wabt::Index mem, wabt::Address align_log2,
                           wabt::Address offset) override {
    return step(wabt::StoreExpr(op, var(mem), wabt::Address{1} << align_log2, offset));
  }
  wabt::Result OnMemorySizeExpr(wabt::Index mem) override {
    return step(wabt::MemorySizeExpr(var(mem)));
  }
  wabt::Result OnMemoryGrowExpr(wabt::Index mem) override {
    return step(wabt::MemoryGrowExpr(var(mem)));
  }
  wabt::Result OnMemoryFillExpr(wabt::Index mem) override {
    return step(wabt::MemoryFillExpr(var(mem)));
  }
  wabt::Result OnMemoryCopyExpr(wabt::Index a, wabt::Index b) override {
    return step(wabt::MemoryCopyExpr(var(a), var(b)));
  }
  wabt::Result OnMemoryInitExpr(wabt::Index segment, wabt::Index mem) override {
    return step(wabt::MemoryInitExpr(var(segment), var(mem)));
  }
  wabt::Result OnDataDropExpr(wabt::Index segment) override {
    return step(wabt::DataDropExpr(var(segment)));
  }

  // Tables and references.
  wabt::Result OnTableGetExpr(wabt::Index t) override { return step(wabt::TableGetExpr(var(t))); }
  wabt::Result OnTableSetExpr(wabt::Index t) override { return step(wabt::TableSetExpr(var(t))); }
  wabt::Result OnTableGrowExpr(wabt::Index t) override { return step(wabt::TableGrowExpr(var(t))); }
  wabt::Result OnTableSizeExpr(wabt::Index t) override { return step(wabt::TableSizeExpr(var(t))); }
  wabt::Result OnTableFillExpr(wabt::Index t) override { return step(wabt::TableFillExpr(var(t))); }
  wabt::Result OnTableCopyExpr(wabt::Index dst, wabt::Index src) override {
    return step(wabt::TableCopyExpr(var(dst), var(src)));
  }
  wabt::Result OnTableInitExpr(wabt::Index segment, wabt::Index table) override {
    return step(wabt::TableInitExpr(var(segment), var(table)));
  }
  wabt::Result OnElemDropExpr(wabt::Index segment) override {
    return step(wabt::ElemDropExpr(var(segment)));
  }
  wabt::Result OnRefFuncExpr(wabt::Index func) override { return step(wabt::RefFuncExpr(var(func))); }
  wabt::Result OnRefNullExpr(wabt::Type type) override { return step(wabt::RefNullExpr(type)); }
  wabt::Result OnRefIsNullExpr() override { return step(wabt::RefIsNullExpr()); }

 private:
  static wabt::Var var(wabt::Index i) { return wabt::Var(i, wabt::Location()); }
  // As BinaryReaderIR::SetBlockDeclaration.
  static void block_decl(wabt::BlockDeclaration* decl, wabt::Type sig) {
    if (sig.IsIndex()) {
      decl->has_func_type = true;
      decl->type_var = var(sig.GetIndex());
    } else {
      decl->has_func_type = false;
      decl->sig.param_types.clear();
      decl->sig.result_types = sig.GetInlineVector();
    }
  }
  wabt::Result step(const wabt::Expr& e) {
    open_ = false;
    t_->stream_expr(e);
    return wabt::Result::Ok;
  }

  const wabt::Module& m_;
  uint32_t nparams_, nresults_;
  const std::vector<uint32_t>& canon_;
  uint64_t max_slots_;
  uint64_t locals_ = 0;
  std::optional<FuncTranslator> t_;
  bool open_ = false;  // an instruction was announced (OnOpcode) and not yet taken
  bool done_ = false;
};

}  // namespace

const wabt::FuncSignature& decl_sig(const wabt::Module& m, const wabt::FuncDeclaration& d) {
  if (d.has_func_type) {
    if (const wabt::FuncType* ft = m.GetFuncType(d.type_var)) return ft->sig;
  }
  return d.sig;
}

std::vector<uint32_t> canonical_type_ids(const wabt::Module& m) {
  // Keyed by the signature's types (params, a separator, results): linear in the type section,
  // where comparing each type with every earlier one let a module of many types make loading
  // quadratic.
  std::vector<uint32_t> canon(m.types.size());
  std::map<std::vector<int32_t>, uint32_t> first;
  for (size_t i = 0; i < m.types.size(); ++i) {
    canon[i] = static_cast<uint32_t>(i);
    auto* fi = wabt::dyn_cast<wabt::FuncType>(m.types[i]);
    if (fi == nullptr) continue;
    std::vector<int32_t> key;
    key.reserve(fi->sig.param_types.size() + fi->sig.result_types.size() + 1);
    for (wabt::Type t : fi->sig.param_types) key.push_back(static_cast<int32_t>(t));
    key.push_back(0);  // no value type encodes as 0
    for (wabt::Type t : fi->sig.result_types) key.push_back(static_cast<int32_t>(t));
    canon[i] = first.emplace(std::move(key), static_cast<uint32_t>(i)).first->second;
  }
  return canon;
}

Op op_for(wabt::Opcode opcode) {
  size_t e = static_cast<size_t>(static_cast<wabt::Opcode::Enum>(opcode));
  return e < kNumOpcodes ? kOpcodeTable.op[e] : Op::kCount;
}
Op fuel_variant(Op op) { return kFuelVariants.op[static_cast<size_t>(op)]; }
Op packed_variant(Op op) { return kPackedVariants.op[static_cast<size_t>(op)]; }
Op ak_variant(Op op) { return kAkVariants.op[static_cast<size_t>(op)]; }
Op c_variant(Op op) { return kCVariants.op[static_cast<size_t>(op)]; }
const char* op_name(Op op) {
  return op < Op::kCount ? kOpNames[static_cast<size_t>(op)] : nullptr;
}

std::unique_ptr<FuncCode> translate_function(const wabt::Module& m, const wabt::Func& f,
                                             const std::vector<uint32_t>& canon, bool wide) {
  FuncTranslator t(m, f.GetNumParams(), f.GetNumParamsAndLocals(), f.GetNumResults(), canon,
                   wide);
  return t.run(f.exprs);
}

std::unique_ptr<FuncCode> translate_function_stream(const wabt::Module& m,
                                                    const wabt::FuncDeclaration& decl,
                                                    const uint8_t* mini, size_t size,
                                                    const wabt::Features& features,
                                                    const std::vector<uint32_t>& canon,
                                                    uint64_t max_local_slots) {
  const wabt::FuncSignature& sig = decl_sig(m, decl);
  StreamReader reader(m, static_cast<uint32_t>(sig.param_types.size()),
                      static_cast<uint32_t>(sig.result_types.size()), canon, max_local_slots);
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  if (wabt::Failed(wabt::ReadBinary(mini, size, &reader, options))) return nullptr;
  return reader.take();
}

void IrDeleter::operator()(wabt::Module* m) const {
  if (m == nullptr) return;
  std::vector<wabt::ExprList> work;
  for (wabt::Func* f : m->funcs) work.push_back(std::move(f->exprs));
  while (!work.empty()) {
    wabt::ExprList list = std::move(work.back());
    work.pop_back();
    for (wabt::Expr& e : list) {
      switch (e.type()) {
        case wabt::ExprType::Block:
          work.push_back(std::move(static_cast<wabt::BlockExpr&>(e).block.exprs));
          break;
        case wabt::ExprType::Loop:
          work.push_back(std::move(static_cast<wabt::LoopExpr&>(e).block.exprs));
          break;
        case wabt::ExprType::If:
          work.push_back(std::move(static_cast<wabt::IfExpr&>(e).true_.exprs));
          work.push_back(std::move(static_cast<wabt::IfExpr&>(e).false_));
          break;
        case wabt::ExprType::Try: {
          auto& t = static_cast<wabt::TryExpr&>(e);
          work.push_back(std::move(t.block.exprs));
          for (wabt::Catch& c : t.catches) work.push_back(std::move(c.exprs));
          break;
        }
        default: break;
      }
    }
    // `list` is freed here; its blocks no longer own anything nested.
  }
  delete m;
}

namespace translate_test_hooks {
std::vector<uint64_t> pair_uses() {
  std::vector<uint64_t> out;
  for (const auto& n : g_pair_uses) out.push_back(n.load(std::memory_order_relaxed));
  return out;
}
void set_pairs_enabled(bool on) { g_pairs_enabled.store(on, std::memory_order_relaxed); }
}  // namespace translate_test_hooks

}  // namespace wasmcap::fast
