// The fast interpreter's internal code and runtime state (docs/fast-interp.md).
//
// Why our own interpreter: no well-kept embeddable interpreter fits. wabt's (the product's first
// engine, now the tests' reference oracle, tests/support/wabt_engine) is ~14x slower than wasm3
// and Debian builds it with assertions (../shared/NOTES-toolchain.md); wasm3 and WAMR are not
// packaged for Debian, would be vendored C code with their own validators, and neither meters
// fuel exactly or takes our host table.
//
// Three parts, three files:
//   translate.cc  wasm (wabt's validated IR) -> our code, lazily on a function's first call;
//   exec.cc       the dispatch loop (threaded code, computed goto);
//   host.cc       its side of the host boundary (engine/host_call.h: invoke_host).
// fast_engine.cc ties them to the Engine interface (loading, linking, instantiation).
//
// This header has no wabt types: exec.cc and host.cc are C++20 and never see wabt.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/fast/simd_ops.h"
#include "wasmcap/engine.h"
#include "wasmcap/error.h"

namespace wasmcap::fast {

// One word of translated code (docs/fast-interp.md, "The code"): 32 bits. An instruction is its
// handler, as the signed byte offset of the handler's label from the dispatch loop's base label,
// followed by its operands: slot indices, indices, 32-bit immediates, branch offsets (signed,
// in words, relative to the branch operand's own word); a 64-bit immediate takes two words,
// low half first.
using Word = uint32_t;

// The largest translated function, in words: relative branch offsets and code offsets (EH
// tables) are 32-bit. A function whose code would be larger (or that would need an operand that
// does not fit a word) is not run: its code is a single `too_large` instruction, whose call
// stops the run with module_unsupported. Tests lower it (set_max_code_words_for_testing).
constexpr uint64_t kMaxCodeWords = (uint64_t{1} << 31) - 1;
uint64_t max_code_words();
void set_max_code_words_for_testing(uint64_t words);  // 0 restores kMaxCodeWords

// One value-stack slot. Values are untagged: an i32/f32 lives in the low 32 bits.
using Slot = uint64_t;

// Exception handling (legacy try/catch/delegate, exec_eh.inc, docs/fast-interp.md). try, catch
// and delegate emit no code: they become a per-function handler table (EhInfo) that throw and
// rethrow consult while unwinding.
#define WASMCAP_FAST_EH_OPS(X)                                                                  \
  X(throw_) /* k tag, s payload base: the tag's values are slots [base, base+n) */               \
  X(rethrow) /* k region: rethrows the exception caught by that try's handler */

// The opcode list. Operands follow the handler word; "s" = slot index relative to the frame
// pointer, "k" = immediate. Kept in one X-macro so the translator and the loop agree.
#define WASMCAP_FAST_OPS(X)                                                                     \
  /* control */                                                                                 \
  X(fuel) /* k: units; charges a basic block at its entry */                                    \
  X(br) /* k target (a branch offset) */                                                        \
  X(br_if) /* s cond, k target */                                                               \
  X(br_unless) /* s cond, k target */                                                           \
  X(br_table) /* s index, k n, k targets[n+1] */                                                \
  X(ret)                                                                                        \
  X(ret_copy) /* s src: slot 0 = src, then ret (a function's single result) */                 \
  X(unreachable)                                                                                \
  X(too_large) /* the whole code of a function too large to translate (kMaxCodeWords) */       \
  X(call) /* k func, k frame offset */                                                          \
  X(call_indirect) /* s index, k table, k type, k frame offset */                               \
  X(copy) /* s dst, s src */                                                                    \
  X(copy2) /* s dst, s src, s dst, s src */                                                     \
  X(copy_n) /* s dst, s src, k n: slots [src, src+n) to [dst, dst+n), overlap allowed */        \
  X(const_) /* s dst, k value (sign-extended) */                                                \
  X(const64) /* s dst, k low, k high */                                                         \
  X(select) /* s dst, s a, s b, s cond */                                                       \
  X(global_get) /* s dst, k index */                                                            \
  X(global_set) /* k index, s src */                                                            \
  X(global_get_i) /* s dst, k import: an imported global, through Runtime::global_imports */     \
  X(global_set_i) /* k import, s src */                                                         \
  /* memory: s dst, s addr, k offset  |  stores: s addr, s value, k offset */                   \
  X(i32_load) X(i64_load) X(f32_load) X(f64_load) X(i32_load8_s) X(i32_load8_u)                 \
  X(i32_load16_s) X(i32_load16_u) X(i64_load8_s) X(i64_load8_u) X(i64_load16_s)                 \
  X(i64_load16_u) X(i64_load32_s) X(i64_load32_u)                                               \
  X(i32_store) X(i64_store) X(f32_store) X(f64_store) X(i32_store8) X(i32_store16)              \
  X(i64_store8) X(i64_store16) X(i64_store32)                                                   \
  X(memory_size) /* s dst */                                                                    \
  X(memory_grow) /* s dst, s delta */                                                           \
  X(memory_fill) /* s dst, s value, s n */                                                      \
  X(memory_copy) /* s dst, s src, s n */                                                        \
  X(memory_init) /* k seg, s dst, s src, s n */                                                 \
  X(data_drop) /* k seg */                                                                      \
  X(table_get) /* s dst, k table, s index */                                                    \
  X(table_set) /* k table, s index, s value */                                                  \
  X(table_size) /* s dst, k table */                                                            \
  X(table_grow) /* s dst, k table, s init, s n */                                               \
  X(table_fill) /* k table, s index, s value, s n */                                            \
  X(table_copy) /* k dst table, k src table, s dst, s src, s n */                               \
  X(table_init) /* k table, k seg, s dst, s src, s n */                                         \
  X(elem_drop) /* k seg */                                                                      \
  X(ref_func) /* s dst, k func */                                                               \
  X(ref_is_null) /* s dst, s src */                                                             \
  /* binary: s dst, s a, s b */                                                                 \
  X(i32_add) X(i32_sub) X(i32_mul) X(i32_div_s) X(i32_div_u) X(i32_rem_s) X(i32_rem_u)          \
  X(i32_and) X(i32_or) X(i32_xor) X(i32_shl) X(i32_shr_s) X(i32_shr_u) X(i32_rotl) X(i32_rotr)  \
  X(i64_add) X(i64_sub) X(i64_mul) X(i64_div_s) X(i64_div_u) X(i64_rem_s) X(i64_rem_u)          \
  X(i64_and) X(i64_or) X(i64_xor) X(i64_shl) X(i64_shr_s) X(i64_shr_u) X(i64_rotl) X(i64_rotr)  \
  X(f32_add) X(f32_sub) X(f32_mul) X(f32_div) X(f32_min) X(f32_max) X(f32_copysign)             \
  X(f64_add) X(f64_sub) X(f64_mul) X(f64_div) X(f64_min) X(f64_max) X(f64_copysign)             \
  X(i32_eq) X(i32_ne) X(i32_lt_s) X(i32_lt_u) X(i32_gt_s) X(i32_gt_u) X(i32_le_s) X(i32_le_u)   \
  X(i32_ge_s) X(i32_ge_u)                                                                       \
  X(i64_eq) X(i64_ne) X(i64_lt_s) X(i64_lt_u) X(i64_gt_s) X(i64_gt_u) X(i64_le_s) X(i64_le_u)   \
  X(i64_ge_s) X(i64_ge_u)                                                                       \
  X(f32_eq) X(f32_ne) X(f32_lt) X(f32_gt) X(f32_le) X(f32_ge)                                   \
  X(f64_eq) X(f64_ne) X(f64_lt) X(f64_gt) X(f64_le) X(f64_ge)                                   \
  /* binary with an immediate right operand: s dst, s a, k b (superinstructions; i64 and f64:  \
     k b is two words, low half first) */                                                             \
  X(i32_add_k) X(i32_sub_k) X(i32_and_k) X(i32_or_k) X(i32_xor_k) X(i32_shl_k) X(i32_shr_s_k)   \
  X(i32_shr_u_k) X(i32_mul_k) X(i32_rotl_k) X(i32_rotr_k) X(i64_add_k) X(i64_sub_k) X(i64_and_k) X(i64_shl_k)               \
  X(i64_shr_u_k) X(i64_mul_k) X(f64_add_k) X(f64_sub_k) X(f64_mul_k) X(f64_div_k)              \
  X(i32_eq_k) X(i32_ne_k) X(i32_lt_s_k) X(i32_lt_u_k) X(i32_gt_s_k) X(i32_gt_u_k)               \
  X(i32_le_s_k) X(i32_le_u_k) X(i32_ge_s_k) X(i32_ge_u_k)                                       \
  /* compare + branch (superinstructions): s a, s b, k target  |  _k: s a, k b, k target */     \
  X(br_i32_eq) X(br_i32_ne) X(br_i32_lt_s) X(br_i32_lt_u) X(br_i32_gt_s) X(br_i32_gt_u)         \
  X(br_i32_le_s) X(br_i32_le_u) X(br_i32_ge_s) X(br_i32_ge_u)                                   \
  X(br_i32_eq_k) X(br_i32_ne_k) X(br_i32_lt_s_k) X(br_i32_lt_u_k) X(br_i32_gt_s_k)              \
  X(br_i32_gt_u_k) X(br_i32_le_s_k) X(br_i32_le_u_k) X(br_i32_ge_s_k) X(br_i32_ge_u_k)          \
  X(br_i32_eqz) /* s a, k target */                                                             \
  /* the conditional branches with the fuel of their fall-through segment: the operands above,   \
     then k units (charged when the branch is not taken; saves a `fuel` instruction) */         \
  X(br_if_f) X(br_unless_f) X(br_i32_eqz_f)                                                     \
  X(br_i32_eq_f) X(br_i32_ne_f) X(br_i32_lt_s_f) X(br_i32_lt_u_f) X(br_i32_gt_s_f)              \
  X(br_i32_gt_u_f) X(br_i32_le_s_f) X(br_i32_le_u_f) X(br_i32_ge_s_f) X(br_i32_ge_u_f)          \
  X(br_i32_eq_k_f) X(br_i32_ne_k_f) X(br_i32_lt_s_k_f) X(br_i32_lt_u_k_f) X(br_i32_gt_s_k_f)    \
  X(br_i32_gt_u_k_f) X(br_i32_le_s_k_f) X(br_i32_le_u_k_f) X(br_i32_ge_s_k_f)                   \
  X(br_i32_ge_u_k_f)                                                                            \
  /* unary / conversions: s dst, s src */                                                       \
  X(i32_eqz) X(i64_eqz) X(i32_clz) X(i32_ctz) X(i32_popcnt) X(i64_clz) X(i64_ctz) X(i64_popcnt) \
  X(f32_abs) X(f32_neg) X(f32_ceil) X(f32_floor) X(f32_trunc) X(f32_nearest) X(f32_sqrt)        \
  X(f64_abs) X(f64_neg) X(f64_ceil) X(f64_floor) X(f64_trunc) X(f64_nearest) X(f64_sqrt)        \
  X(i32_extend8_s) X(i32_extend16_s) X(i64_extend8_s) X(i64_extend16_s) X(i64_extend32_s)       \
  X(i32_wrap_i64) X(i64_extend_i32_s) X(i64_extend_i32_u)                                       \
  X(i32_trunc_f32_s) X(i32_trunc_f32_u) X(i32_trunc_f64_s) X(i32_trunc_f64_u)                   \
  X(i64_trunc_f32_s) X(i64_trunc_f32_u) X(i64_trunc_f64_s) X(i64_trunc_f64_u)                   \
  X(i32_trunc_sat_f32_s) X(i32_trunc_sat_f32_u) X(i32_trunc_sat_f64_s) X(i32_trunc_sat_f64_u)   \
  X(i64_trunc_sat_f32_s) X(i64_trunc_sat_f32_u) X(i64_trunc_sat_f64_s) X(i64_trunc_sat_f64_u)   \
  X(f32_convert_i32_s) X(f32_convert_i32_u) X(f32_convert_i64_s) X(f32_convert_i64_u)           \
  X(f64_convert_i32_s) X(f64_convert_i32_u) X(f64_convert_i64_s) X(f64_convert_i64_u)           \
  X(f32_demote_f64) X(f64_promote_f32)                                                          \
  /* packed forms (superinstructions for size): two 16-bit fields in one word, the first operand \
     in the low half; the translator uses them when both fields fit */                          \
  X(copy_p) /* s dst | s src */                                                                 \
  X(copy2_p) /* s dst | s src, s dst | s src: two copy_p in one dispatch, in order */          \
  X(i32_add_k_p2) /* s dst | s a, k b, s dst | s a, k b: two i32_add_k_p, in order */          \
  X(const_p) /* s dst | k value (16 bits, sign-extended) */                                     \
  X(call_p) /* k func | k frame offset */                                                       \
  /* loads: s dst | s addr, k offset  |  stores: s addr | s value, k offset */                  \
  X(i32_load_p) X(i64_load_p) X(f32_load_p) X(f64_load_p) X(i32_load8_s_p) X(i32_load8_u_p)     \
  X(i32_load16_s_p) X(i32_load16_u_p) X(i64_load8_s_p) X(i64_load8_u_p) X(i64_load16_s_p)       \
  X(i64_load16_u_p) X(i64_load32_s_p) X(i64_load32_u_p)                                         \
  X(i32_store_p) X(i64_store_p) X(f32_store_p) X(f64_store_p) X(i32_store8_p) X(i32_store16_p)  \
  X(i64_store8_p) X(i64_store16_p) X(i64_store32_p)                                             \
  /* s dst | s a, k b */                                                                        \
  X(i32_add_k_p) X(i32_sub_k_p) X(i32_and_k_p) X(i32_or_k_p) X(i32_xor_k_p) X(i32_shl_k_p)      \
  X(i32_shr_s_k_p) X(i32_shr_u_k_p) X(i32_mul_k_p) X(i32_rotl_k_p) X(i32_rotr_k_p)              \
  /* a load or store whose address is an i32.add of an immediate (superinstructions: the        \
     address is (i32)(a + k) + offset, as the two instructions compute it). Loads: s dst | s a,  \
     k k, k offset  |  stores: s a | s value, k k, k offset */                                  \
  X(i32_load_ak) X(i64_load_ak) X(f32_load_ak) X(f64_load_ak) X(i32_load8_s_ak)                 \
  X(i32_load8_u_ak) X(i32_load16_s_ak) X(i32_load16_u_ak) X(i64_load8_s_ak) X(i64_load8_u_ak)   \
  X(i64_load16_s_ak) X(i64_load16_u_ak) X(i64_load32_s_ak) X(i64_load32_u_ak)                   \
  X(i32_store_ak) X(i64_store_ak) X(f32_store_ak) X(f64_store_ak) X(i32_store8_ak)              \
  X(i32_store16_ak) X(i64_store8_ak) X(i64_store16_ak) X(i64_store32_ak)                        \
  /* a load or store at a constant address (the constant plus the offset, < 2^32): loads: s dst, \
     k address  |  stores: s value, k address */                                               \
  X(i32_load_c) X(i64_load_c) X(f32_load_c) X(f64_load_c) X(i32_load8_s_c) X(i32_load8_u_c)     \
  X(i32_load16_s_c) X(i32_load16_u_c) X(i64_load8_s_c) X(i64_load8_u_c) X(i64_load16_s_c)       \
  X(i64_load16_u_c) X(i64_load32_s_c) X(i64_load32_u_c)                                         \
  X(i32_store_c) X(i64_store_c) X(f32_store_c) X(f64_store_c) X(i32_store8_c) X(i32_store16_c)  \
  X(i64_store8_c) X(i64_store16_c) X(i64_store32_c)                                             \
  WASMCAP_FAST_EH_OPS(X)

// Pairs (superinstructions for dispatch, docs/fast-interp.md "Pairs"): P(a, n, b) is the
// instruction a (n words, its handler included) followed directly by the instruction b that its
// code falls through to. After translation, a's handler word becomes `a_then_b`, which does a's
// work and then jumps straight into b's handler: one dispatch instead of two. b's words stay in
// place, so a branch to b, a trap in a or a fuel refill between them sees the code unchanged.
// Chosen from the most frequent consecutive pairs of real guests (bench/notes/2026-11-29-*).
#define WASMCAP_FAST_PAIRS(P)                                                                   \
  P(i32_add_k_p, 3, i32_and_k_p) P(i32_add_k_p, 3, i32_load_p) P(i32_add_k_p, 3, i32_store_p)   \
  P(i32_add_k_p, 3, global_set) P(i32_add_k_p, 3, br_table) P(i32_sub_k_p, 3, global_set)       \
  P(i32_add_k_p2, 5, i32_load8_u_p) P(i32_load8_u_p, 3, i32_load8_u_ak)                         \
  P(i32_load8_u_p, 3, i32_add_k_p) P(i32_load_p, 3, i32_store_p) P(i32_load_p, 3, i32_add_k_p)  \
  P(i32_load_p, 3, i32_load_p) P(i32_load_p, 3, br_i32_eqz_f) P(i32_store_p, 3, i32_add_k_p)    \
  P(i32_store_p, 3, i32_store_p) P(i32_store_p, 3, fuel) P(i32_load8_u_ak, 4, br_i32_ne_k_f)   \
  P(i32_load8_u_ak, 4, br_i32_eq_k_f) P(copy2_p, 3, br_i32_ge_u_f) P(copy2_p, 3, copy_p)        \
  P(copy_p, 2, i32_add_k_p2) P(copy_p, 2, i32_add_k_p) P(copy_p, 2, const_p)                    \
  P(const_p, 2, fuel) P(const_p, 2, i32_store8_p) P(const_p, 2, i32_store_p)                    \
  P(global_get, 3, i32_sub_k_p) P(fuel, 2, i32_add_k_p) P(fuel, 2, const_p)                     \
  P(br_i32_ge_u_f, 5, i32_add_k_p2) P(br_i32_ne_k_f, 5, copy2_p)                                \
  P(br_i32_gt_u_k_f, 5, i32_load_p) P(br_i32_lt_u_k_f, 5, i32_shr_u_k_p)                        \
  P(i32_and_k_p, 3, br_i32_gt_u_k_f) P(i32_shl_k_p, 3, i32_add)
#define WASMCAP_FAST_PAIR_OP(a, n, b) WASMCAP_FAST_X(a##_then_##b)

enum class Op : uint16_t {
#define WASMCAP_FAST_X(name) name,
  WASMCAP_FAST_OPS(WASMCAP_FAST_X)
  WASMCAP_FAST_SIMD_OPS(WASMCAP_FAST_X)
  WASMCAP_FAST_PAIRS(WASMCAP_FAST_PAIR_OP)
#undef WASMCAP_FAST_X
      kCount
};

// Handler offsets of the dispatch loop (the code word of each Op), indexed by Op (exec.cc).
const int32_t* handler_table();

// Exception handling tables of one function (built by translate.cc, used by exec_eh.cc).
// A region is one `try`: its catch clauses and, when no clause matches (or for try-delegate),
// the next region to try, or -1 for the caller. A site is a call, throw or rethrow inside some
// try body: `pc` is the code offset just after the instruction (a frame's return address),
// `region` the innermost try whose body holds it. Sites are sorted by pc.
struct EhCatch {
  uint32_t tag;
  uint32_t handler;  // code offset of the handler
};
struct EhRegion {
  int32_t next = -1;
  int32_t catch_all = -1;    // code offset of the catch_all handler, or -1
  uint32_t payload = 0;      // frame slot of the first payload value (the try's stack height)
  bool rethrown = false;     // some rethrow names this try: keep the caught exception
  std::vector<EhCatch> catches;
};
struct EhSite {
  uint32_t pc;
  int32_t region;
};
struct EhInfo {
  std::vector<EhRegion> regions;
  std::vector<EhSite> sites;
};

// Translated code of one defined function.
struct FuncCode {
  std::vector<Word> code;
  uint32_t nparams = 0;
  uint32_t nlocals = 0;      // params + declared locals
  uint32_t frame_slots = 0;  // locals + the deepest operand stack
  std::unique_ptr<EhInfo> eh;  // null when the function has no try
};

struct FuncEntry {
  uint32_t type_id = 0;  // canonical signature id: equal ids <=> equal signatures
  uint32_t nparams = 0;
  uint32_t nresults = 0;
  int32_t host = -1;              // index into Runtime::hosts for imports, else -1
  uint32_t defined = 0;           // index among defined functions (when host < 0)
  // Null until the first call translates it; immutable once made, and shared by every instance
  // of the module (FastModule's cache: translated once per module, not per instance).
  std::shared_ptr<const FuncCode> code;
};

// A function reference that means the same function in every instance (docs/fast-interp.md,
// "Shared tables"): kSharedRef | the address of a FuncHandle. A reference to a function of the
// running instance is its index + 1 (never has this bit); 0 is null.
constexpr uint64_t kSharedRef = uint64_t{1} << 63;

// Why the loop stopped.
enum class Stop : uint8_t { kReturn, kTrap, kExit };

struct Runtime;
struct FuncHandles;

// The instance side of a call through a shared table: runs function `func` of this instance
// with its arguments at `sp` in the caller's stack (`caller.stride` slots apart) and writes its
// results there. Fuel the callee spends is charged to the caller; a trap, a limit or an exit of
// the callee is the caller's (rt.error / rt.exit_code), the caller's own state untouched.
class SharedCallee {
 public:
  virtual Stop call_from(Runtime& caller, uint32_t func, const FuncSig& sig, Slot* sp) = 0;

 protected:
  ~SharedCallee() = default;
};

// One function of an instance as a shared reference.
struct FuncHandle {
  FuncHandles* owner;
  uint32_t func;
  FuncSig sig;  // compared structurally by call_indirect in another instance
};

// The shared references to an instance's functions, made on first use. Tables holding one keep
// the whole set (Table::keep): a handle stays valid while any table holds it; the instance
// clears `rt` and `callee` when it goes, and a call through a handle of a dropped instance traps.
struct FuncHandles {
  Runtime* rt = nullptr;
  SharedCallee* callee = nullptr;
  std::vector<std::unique_ptr<FuncHandle>> by_func;  // by function index, null until made
  std::weak_ptr<FuncHandles> self;
};

struct Table {
  // funcref: 0 = null, a function of this instance: index + 1, else a shared ref (kSharedRef);
  // externref: the host's value.
  std::vector<uint64_t> elems;
  uint64_t max = 0;             // growth cap (declared maximum and the table budget)
  bool funcref = true;
  bool has_max = false;         // declared maximum (import matching)
  uint64_t declared_max = 0;
  // Exported to or imported from another instance: a funcref table then holds shared refs only
  // (every write goes through shared_ref), and keeps the handle sets of the functions it holds.
  bool shared = false;
  std::vector<std::shared_ptr<FuncHandles>> keep;
};

// A call frame on the interpreter's own call stack (no C recursion per wasm call).
struct Frame {
  const Word* ret_pc;  // nullptr: return to the host
  Slot* fp;
  uint32_t func;
};


class Translator {
 public:
  virtual ~Translator() = default;
  // The translated code of defined function `func` (module index). Never fails on a validated
  // module.
  virtual std::shared_ptr<const FuncCode> translate(uint32_t func) = 0;
};

// A linear memory (memory.cc): reserved up to its cap, committed up to `size`. Owned by the
// instance that defines it and shared with every instance that imports it (SharedExtern): they
// all read `size` from here, so a grow by any of them is seen by all, and the cap (set once,
// from the defining instance's limits) bounds them together.
struct Memory {
  uint8_t* base = nullptr;
  uint64_t size = 0;       // bytes
  uint64_t max_pages = 0;  // min(declared max, ExecLimits cap of the defining instance)
  uint64_t reserved = 0;
  bool has_max = false;    // declared maximum (import matching)
  uint64_t declared_max = 0;
  // The pool its committed pages are taken from (the defining instance's), or null.
  std::shared_ptr<wasmcap_memory_pool> pool;
  Memory() = default;
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;
  ~Memory();
};

// Per-instance state the dispatch loop runs on.
struct Runtime {
  // Linear memory (defined or imported), or null. The loop keeps base and size in registers
  // and reloads them after every call out of the loop (a host call may grow a shared memory).
  std::shared_ptr<Memory> memory;

  std::vector<FuncEntry> funcs;
  // Tables, imported ones first; shared with the instances that import them.
  std::vector<std::shared_ptr<Table>> tables;
  // The function signature of each type index (canonical ids are type indices): what a call
  // through a shared ref of another instance is checked against.
  std::vector<FuncSig> type_sigs;
  // This instance's functions as shared refs (made when one is written into a shared table).
  std::shared_ptr<FuncHandles> handles = std::make_shared<FuncHandles>();
  // Globals, `stride` slots each (an imported global's slots hold its value at instantiation,
  // for constant expressions; its code reads and writes the exporter's through global_imports).
  // Shared so that an exported global outlives the instance (SharedExtern).
  std::shared_ptr<std::vector<Slot>> global_store = std::make_shared<std::vector<Slot>>();
  std::vector<Slot*> global_imports;  // the storage of each imported global, in import order
  std::vector<std::vector<uint8_t>> data;       // passive data (emptied by data.drop)
  std::vector<std::vector<uint64_t>> elems;     // element segments (emptied by elem.drop)
  std::vector<const HostFunc*> hosts;  // the host function of each import, linked in order
  Translator* translator = nullptr;
  // Slots per value: 1, or 2 when the module uses v128 ("wide" layout, simd_ops.h). Argument
  // and result positions, frame slots and globals are all `stride` Slots apart.
  uint32_t stride = 1;

  // Stacks (never the C stack): values and call frames.
  Slot* stack = nullptr;
  size_t stack_slots = 0;
  std::unique_ptr<Frame[]> frames;  // max_frames entries (allocated untouched)
  size_t max_frames = 0;

  // Where the next call into the instance starts: the bottom of the stacks (null, 0), or, while
  // a host function runs, just above the live frames and slots of the call it serves, so that a
  // call back into the instance (re-entrant) runs on top of them (call_host_from).
  Slot* entry_fp = nullptr;
  size_t entry_depth = 0;

  const ExecLimits* limits = nullptr;
  // Fuel: `consumed` is exact at every stop; `budget` is what the loop may spend before its
  // next slow-path check (fuel left, capped at a slice so deadlines are checked regularly).
  uint64_t consumed = 0;

  // Outcome of the last stop.
  Error error;          // when Stop::kTrap (a trap or a limit)
  int32_t exit_code = 0;  // when Stop::kExit
  int64_t trap_func = -1;  // function index where a trap happened, if known

  // Exception handling (exec_eh.cc). tag_arity[t]: payload slots of tag t (values x stride). The exception in
  // flight is (exn_tag, exn_payload); `held` keeps the exceptions caught by handlers that a
  // rethrow may still name (see exec_eh.cc for why this stack stays bounded).
  std::vector<uint32_t> tag_arity;
  uint32_t exn_tag = 0;
  std::vector<Slot> exn_payload;
  struct Held {
    size_t depth;
    int32_t region;
    uint32_t tag;
    size_t payload;  // offset in held_payload
  };
  std::vector<Held> held;
  std::vector<Slot> held_payload;
};

// Runs function `func` with its arguments in rt.stack[0..nparams); on kReturn the results are
// in rt.stack[0..nresults).
Stop run(Runtime& rt, uint32_t func);

// Calls host import `host` with its arguments at `sp` through invoke_host (engine/host_call.h:
// the deadline and interrupt are checked after the call); results are written back at `sp`.
// Returns kReturn to continue.
Stop call_host(Runtime& rt, uint32_t host, Slot* sp);
// call_host for the import `fe` called by the loop with its arguments at `sp`, `depth` frames
// live: a call back into the instance while it runs starts above them (Runtime::entry_fp).
Stop call_host_from(Runtime& rt, const FuncEntry& fe, Slot* sp, size_t depth);

// Exception unwinding (exec_eh.cc). `st` is the loop's state at a throw: pc is the offset
// just after the throw/rethrow instruction; depth the number of live frames. Finds the handler
// in this frame or a caller's, pops the frames above it, stores the payload in the handler's
// slots and points st at the handler: true. False when the run must stop (rt.error set: an
// uncaught exception, a deadline, a limit); st is then unchanged.
struct ExecState {
  const Word* pc;
  Slot* fp;
  uint32_t cur;
  size_t depth;
};
bool eh_unwind(Runtime& rt, ExecState& st);
// rethrow: makes the exception held for (st.depth, region) the one in flight.
bool eh_rethrow(Runtime& rt, const ExecState& st, int32_t region);

// The value to store in table `t` for reference `v` of the running instance: `v` itself, or, in a
// shared funcref table, its shared ref (a handle made on first use). A table that receives a
// shared ref keeps its owner's handle set.
uint64_t shared_ref(Runtime& rt, Table& t, uint64_t v);
inline uint64_t table_value(Runtime& rt, Table& t, uint64_t v) {
  return (t.shared && t.funcref) || (v & kSharedRef) != 0 ? shared_ref(rt, t, v) : v;
}
// call_indirect through a shared ref of another instance, the caller's arguments at `sp`,
// `depth` frames live (a call back into the caller starts above them, as in call_host_from).
// Checks `type` (the caller's canonical id) structurally against the callee's signature.
Stop call_shared(Runtime& rt, const FuncHandle& h, uint32_t type, Slot* sp, size_t depth);

// Deadline / interrupt check; fills rt.error and returns false when the run must stop.
bool check_deadline(Runtime& rt);
// Charges `units` of bulk work (memory.fill/copy/init/grow, table.*: wasmcap/engine.h,
// kFuelBytesPerUnit) to rt.consumed, then checks the deadline. False (rt.error set) when the
// fuel left does not cover them (nothing is charged: the instruction does not run) or the
// deadline or interrupt stops the run.
bool charge_bulk(Runtime& rt, uint64_t units);

// Linear memory (memory.cc): reserve the cap's range, commit `pages`.
Result<std::shared_ptr<Memory>> memory_create(uint64_t pages, uint64_t max_pages,
                                              std::shared_ptr<wasmcap_memory_pool> pool = nullptr);
// memory.grow: returns the old size in pages, or -1.
int64_t memory_grow(Memory& m, uint64_t delta_pages);

}  // namespace wasmcap::fast
