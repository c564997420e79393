// The fast interpreter's dispatch loop (docs/fast-interp.md).
//
// Threaded code: every instruction starts with the address of its handler (a label of this
// function, computed goto), followed by its operands, which the translator has already resolved
// to frame-relative slot indices or immediates. There is no operand stack at run time: values
// live in untagged 8-byte slots of a flat value stack, addressed as fp[index]. Wasm calls push
// a Frame on our own call stack and jump; the C stack never grows with the guest's recursion.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "engine/bulk.h"
#include "engine/fast/fast.h"

#ifdef WASMCAP_BENCH_FAST_PROFILE
#include <cstdio>
#include <unordered_map>
#endif

namespace wasmcap::fast {
namespace {

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

// Fuel units the loop may run between two checks of the deadline and interrupt flag.
constexpr int64_t kSlice = 1 << 16;

inline uint32_t U32(Slot s) { return static_cast<uint32_t>(s); }
inline int32_t I32(Slot s) { return static_cast<int32_t>(static_cast<uint32_t>(s)); }
inline uint64_t U64(Slot s) { return s; }
inline int64_t I64(Slot s) { return static_cast<int64_t>(s); }
inline float F32(Slot s) { return std::bit_cast<float>(static_cast<uint32_t>(s)); }
inline double F64(Slot s) { return std::bit_cast<double>(s); }
inline Slot W32(uint32_t v) { return v; }
inline Slot WF32(float v) { return std::bit_cast<uint32_t>(v); }
inline Slot WF64(double v) { return std::bit_cast<uint64_t>(v); }

template <class T>
T wasm_min(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return a + b;  // a quiet NaN
  if (a == b) return std::signbit(a) ? a : b;        // min(-0, +0) = -0
  return a < b ? a : b;
}
template <class T>
T wasm_max(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return a + b;
  if (a == b) return std::signbit(a) ? b : a;  // max(-0, +0) = +0
  return a > b ? a : b;
}
// ceil/floor/trunc/nearest: a NaN operand gives a quiet NaN (libm may return a signalling
// NaN unchanged, which wasm does not allow).
template <class T, class F>
T round_op(T x, F f) {
  if (std::isnan(x)) return x + x;
  return f(x);
}
inline uint32_t rotl32(uint32_t a, uint32_t b) { return std::rotl(a, static_cast<int>(b & 31)); }
inline uint32_t rotr32(uint32_t a, uint32_t b) { return std::rotr(a, static_cast<int>(b & 31)); }
inline uint64_t rotl64(uint64_t a, uint64_t b) { return std::rotl(a, static_cast<int>(b & 63)); }
inline uint64_t rotr64(uint64_t a, uint64_t b) { return std::rotr(a, static_cast<int>(b & 63)); }

// Saturating truncation (nontrapping float-to-int).
template <class I, class F>
I trunc_sat(F x) {
  if (std::isnan(x)) return 0;
  constexpr F lo = static_cast<F>(std::numeric_limits<I>::min());
  // 2^N (exactly representable) as the exclusive upper bound.
  constexpr F hi = std::numeric_limits<I>::is_signed
                       ? -static_cast<F>(std::numeric_limits<I>::min())
                       : static_cast<F>(std::numeric_limits<I>::max() / 2 + 1) * F(2);
  if (x < lo) return std::numeric_limits<I>::min();
  if (x >= hi) return std::numeric_limits<I>::max();
  return static_cast<I>(x);
}
// Trapping truncation: 0 = ok, 1 = NaN, 2 = out of range.
template <class I, class F>
int trunc_check(F x) {
  if (std::isnan(x)) return 1;
  constexpr F hi = std::numeric_limits<I>::is_signed
                       ? -static_cast<F>(std::numeric_limits<I>::min())
                       : static_cast<F>(std::numeric_limits<I>::max() / 2 + 1) * F(2);
  if (std::numeric_limits<I>::is_signed) {
    constexpr F lo = static_cast<F>(std::numeric_limits<I>::min());
    // lo is exact (-2^(N-1)); values in (lo-1, lo) truncate to lo and are fine.
    if (!(x > lo - F(1)) || !(x < hi)) {
      if (x >= lo && x < hi) return 0;
      return 2;
    }
    return 0;
  }
  if (!(x > F(-1)) || !(x < hi)) return 2;
  return 0;
}

}  // namespace

#include "engine/fast/simd_lanes.inc"

namespace {
// Index of a word's low 16 bits among its two 16-bit halves in memory.
constexpr int kLoHalf = std::endian::native == std::endian::little ? 0 : 1;
inline uint32_t half16(const Word* w, int half) {
  uint16_t v;
  std::memcpy(&v, reinterpret_cast<const char*>(w) + 2 * half, sizeof(v));
  return v;
}
}  // namespace

// noinline/noclone: the handler offsets are taken from one copy of the function and must be
// valid in the copy that runs.
#if defined(__clang__)
#define WASMCAP_FAST_LOOP_ATTR __attribute__((noinline))
#else
#define WASMCAP_FAST_LOOP_ATTR __attribute__((noinline, noclone))
#endif
WASMCAP_FAST_LOOP_ATTR static Stop run_impl(Runtime* rtp, uint32_t entry,
                                            const int32_t** table_out);

const int32_t* handler_table() {
  static const int32_t* table = [] {
    const int32_t* t = nullptr;
    run_impl(nullptr, 0, &t);
    return t;
  }();
  return table;
}

namespace {
std::atomic<uint64_t> g_max_code_words{kMaxCodeWords};
}  // namespace
uint64_t max_code_words() { return g_max_code_words.load(std::memory_order_relaxed); }
void set_max_code_words_for_testing(uint64_t words) {
  g_max_code_words.store(words == 0 ? kMaxCodeWords : std::min(words, kMaxCodeWords),
                         std::memory_order_relaxed);
}


#ifdef WASMCAP_BENCH_FAST_PROFILE
// Bench only (-DWASMCAP_BENCH_FAST_PROFILE=ON, docs/fast-interp.md "Statistics for
// benchmarks"): counts every dispatched handler and every pair of consecutive handlers, and
// prints the most frequent at exit. Finds candidates for superinstructions.
namespace {
constexpr const char* kOpNames[] = {
#define WASMCAP_FAST_X(name) #name,
    WASMCAP_FAST_OPS(WASMCAP_FAST_X) WASMCAP_FAST_SIMD_OPS(WASMCAP_FAST_X)
    WASMCAP_FAST_PAIRS(WASMCAP_FAST_PAIR_OP)
#undef WASMCAP_FAST_X
};
constexpr size_t kNOps = static_cast<size_t>(Op::kCount);
struct OpProfile {
  std::unordered_map<int32_t, uint32_t> by_offset;
  std::vector<uint64_t> pairs = std::vector<uint64_t>(kNOps * kNOps);
  std::vector<uint64_t> ops = std::vector<uint64_t>(kNOps);
  uint32_t prev = 0;
  uint64_t total = 0;
  void note(int32_t off) {
    if (by_offset.empty()) {
      const int32_t* t = handler_table();
      for (uint32_t i = 0; i < kNOps; ++i) by_offset[t[i]] = i;
    }
    auto it = by_offset.find(off);
    if (it == by_offset.end()) {
      std::fprintf(stderr, "wasmcap-fast-profile: not a handler after %s\n", kOpNames[prev]);
      std::abort();
    }
    uint32_t op = it->second;
    ++ops[op];
    ++pairs[prev * kNOps + op];
    prev = op;
    ++total;
  }
  void print() {
    if (total < 1000) return;
    auto top = [&](const std::vector<uint64_t>& v, size_t n, bool pair) {
      std::vector<size_t> idx;
      for (size_t i = 0; i < v.size(); ++i)
        if (v[i] != 0) idx.push_back(i);
      std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] > v[b]; });
      for (size_t i = 0; i < idx.size() && i < n; ++i) {
        size_t k = idx[i];
        if (pair) {
          std::fprintf(stderr, "  %6.2f%%  %s -> %s\n", 100.0 * v[k] / total,
                       kOpNames[k / kNOps], kOpNames[k % kNOps]);
        } else {
          std::fprintf(stderr, "  %6.2f%%  %s\n", 100.0 * v[k] / total, kOpNames[k]);
        }
      }
    };
    std::fprintf(stderr, "wasmcap-fast-profile: %llu dispatches so far; ops:\n",
                 static_cast<unsigned long long>(total));
    top(ops, 40, false);
    std::fprintf(stderr, "pairs:\n");
    top(pairs, 40, true);
  }
};
OpProfile g_profile;
}  // namespace
#define PROFILE_NOTE(off) g_profile.note(off)
#define PROFILE_PRINT() g_profile.print()
#else
#define PROFILE_PRINT() ((void)0)
#define PROFILE_NOTE(off) ((void)0)
#endif

Stop run(Runtime& rt, uint32_t func) {
  Stop s = run_impl(&rt, func, nullptr);
  PROFILE_PRINT();  // cumulative over the process (the CLI leaves with _exit)
  return s;
}

// The loop. Registers: pc (next operand), fp (frame), mem/memsize (linear memory; they change
// only in memory.grow, which runs here), budget (fuel left before the next slow-path check).
WASMCAP_FAST_LOOP_ATTR static Stop run_impl(Runtime* rtp, uint32_t entry,
                                            const int32_t** table_out) {
  // Handlers are reached as `base + offset` (a code word holds the 32-bit offset), base being
  // the first handler's label.
  const char* const base = static_cast<const char*>(&&L_fuel);
  if (table_out != nullptr) {
    static const void* const kTable[] = {
#define WASMCAP_FAST_X(name) &&L_##name,
        WASMCAP_FAST_OPS(WASMCAP_FAST_X)
        WASMCAP_FAST_SIMD_OPS(WASMCAP_FAST_X)
        WASMCAP_FAST_PAIRS(WASMCAP_FAST_PAIR_OP)
#undef WASMCAP_FAST_X
    };
    static int32_t offsets[static_cast<size_t>(Op::kCount)];
    for (size_t i = 0; i < static_cast<size_t>(Op::kCount); ++i) {
      offsets[i] = static_cast<int32_t>(static_cast<const char*>(kTable[i]) - base);
    }
    *table_out = offsets;
    return Stop::kReturn;
  }
  Runtime& rt = *rtp;
  FuncEntry* const funcs = rt.funcs.data();
  Slot* const globals = rt.global_store->data();
  Slot* const* const global_imports = rt.global_imports.data();
  Slot* const stack_end = rt.stack + rt.stack_slots;
  Frame* const frames = rt.frames.get();
  const size_t max_frames = rt.max_frames;
  // A re-entrant call (a host function calling back into this instance) starts above the
  // frames and slots of the call it serves (rt.entry_depth, rt.entry_fp): depth is absolute.
  size_t depth = rt.entry_depth;
  uint8_t* mem = rt.memory ? rt.memory->base : nullptr;
  uint64_t memsize = rt.memory ? rt.memory->size : 0;
// The memory's size after anything outside the loop ran (a host call, which may grow a memory
// shared with another instance or call back in to grow it): the loop's copy is stale otherwise.
#define RELOAD_MEMORY()                  \
  do {                                   \
    if (rt.memory) memsize = rt.memory->size; \
  } while (0)
  const ExecLimits& limits = *rt.limits;

  // Fuel: `granted` units were handed to the loop at the last refill, `budget` remain.
  int64_t granted = 0;
  int64_t budget = 0;
#define SYNC_FUEL()                                            \
  do {                                                         \
    rt.consumed += static_cast<uint64_t>(granted - budget);    \
    granted = budget;                                          \
  } while (0)

  const Word* pc = nullptr;
  Slot* fp = rt.entry_fp != nullptr ? rt.entry_fp : rt.stack;
  uint32_t cur = entry;
  const char* trap_msg = nullptr;
  Slot* nfp = nullptr;     // callee frame of the call being made
  uint32_t callee = 0;
  ErrorCode trap_code = ErrorCode::kTrapOther;

#define NEXT()                                                       \
  do {                                                               \
    PROFILE_NOTE(static_cast<int32_t>(*pc));                         \
    goto* const_cast<char*>(base + static_cast<int32_t>(*pc++));     \
  } while (0)
#define S(i) fp[pc[i]]
// The two 16-bit fields of a packed word (the _p forms): low half, high half. Each is read as
// its own 16-bit load (one movzwl) rather than as the word then a shift or mask: on the hot
// load/store/arithmetic forms that is two instructions and one dependent step fewer
// (nbody: -7% instructions executed in the loop, bench/notes/2026-11-23-fast-code32.md).
#define LO(i) half16(pc + (i), kLoHalf)
#define HI(i) half16(pc + (i), 1 - kLoHalf)
// A 64-bit immediate at words i, i+1 (low half first).
#define K64(i) (static_cast<uint64_t>(pc[i]) | (static_cast<uint64_t>(pc[(i) + 1]) << 32))
// Branch to the target of the branch-offset operand at word i.
#define JUMP(i) pc += (i) + static_cast<int32_t>(pc[i])
// A taken branch (every branch but br_table): the target is the first instruction after the
// `fuel N` that starts the target's segment, and the branch charges those N units itself
// (CHARGE: N is the word before the target), so a taken branch is one dispatch, not two
// (docs/fast-interp.md, "Fuel"). Without metering (bench-only build) there is no `fuel`.
#ifdef WASMCAP_BENCH_FAST_NO_FUEL
#define TAKEN(i) JUMP(i)
#else
#define TAKEN(i) \
  do {           \
    JUMP(i);     \
    CHARGE();    \
  } while (0)
#endif
// Charges the units in pc[-1] for the block starting at pc (L_fuel and the _f branches).
#define CHARGE()                                 \
  do {                                           \
    budget -= static_cast<int64_t>(pc[-1]);      \
    if (UNLIKELY(budget < 0)) goto fuel_slow;    \
  } while (0)
// Bulk work (wasmcap/engine.h, kFuelBytesPerUnit): `units` more on top of the instruction's own
// unit, charged before the work is done. Within the granted budget it is a subtraction; past it
// charge_bulk checks the fuel limit (the run stops before the work when it does not cover it)
// and the deadline, and the next block refills the grant (fuel_slow).
#define BULK_CHARGE(units)                                                             \
  do {                                                                                 \
    uint64_t u_ = (units);                                                             \
    if (LIKELY(budget >= 0 && u_ <= static_cast<uint64_t>(budget))) {                  \
      budget -= static_cast<int64_t>(u_);                                              \
    } else {                                                                           \
      SYNC_FUEL();                                                                     \
      if (!charge_bulk(rt, u_)) goto stop_error;                                       \
      granted = budget = 0;                                                            \
    }                                                                                  \
  } while (0)
// The deadline and interrupt, checked between two chunks of a long bulk operation (bulk.h).
#define BULK_KEEP_GOING [&rt] { return check_deadline(rt); }
#define TRAP(code, msg)      \
  do {                       \
    trap_code = code;        \
    trap_msg = msg;          \
    goto trap;               \
  } while (0)

  {
    FuncEntry& fe = funcs[entry];
    if (fe.host >= 0) return call_host_from(rt, fe, fp, depth);
    if (!fe.code) fe.code = rt.translator->translate(entry);
    const FuncCode* c = fe.code.get();
    if (depth >= max_frames || fp + c->frame_slots > stack_end) {
      TRAP(ErrorCode::kTrapStackExhausted, "call stack exhausted");
    }
    frames[depth++] = Frame{nullptr, fp, entry};
    std::memset(fp + c->nparams, 0, sizeof(Slot) * (c->nlocals - c->nparams));
    pc = c->code.data();
    NEXT();
  }

// The bodies of handlers that start pairs (exec_pairs.inc) are macros, shared by both: each
// leaves pc at the next instruction's handler word.
#define BODY_fuel \
  pc += 1;        \
  CHARGE();
L_fuel:
  BODY_fuel
  NEXT();
fuel_slow : {
  // The block about to run (at pc) costs pc[-1] units and they are not all granted: check the
  // deadline and the fuel limit, refill the grant.
  int64_t n = static_cast<int64_t>(pc[-1]);
  {
    budget += n;
    SYNC_FUEL();
    if (!check_deadline(rt)) goto stop_error;
    int64_t slice = std::max<int64_t>(kSlice, n);
    if (limits.fuel != 0) {
      uint64_t left = limits.fuel - std::min(limits.fuel, rt.consumed);
      if (left < static_cast<uint64_t>(n)) {
        rt.error = Error(ErrorCode::kFuelExhausted, "fuel exhausted after " +
                                                        std::to_string(rt.consumed) +
                                                        " instructions; raise --fuel");
        rt.trap_func = cur;
        return Stop::kTrap;
      }
      slice = static_cast<int64_t>(std::min<uint64_t>(static_cast<uint64_t>(slice), left));
    }
    granted = budget = slice;
    budget -= n;
  }
  NEXT();
}
L_br:
  TAKEN(0);
  NEXT();
L_br_if:
  if (U32(S(0)) != 0) {
    TAKEN(1);
  } else {
    pc += 2;
  }
  NEXT();
L_br_unless:
  if (U32(S(0)) == 0) {
    TAKEN(1);
  } else {
    pc += 2;
  }
  NEXT();
L_br_if_f:
  if (U32(S(0)) != 0) {
    TAKEN(1);
    NEXT();
  }
  pc += 3;
  CHARGE();
  NEXT();
L_br_unless_f:
  if (U32(S(0)) == 0) {
    TAKEN(1);
    NEXT();
  }
  pc += 3;
  CHARGE();
  NEXT();
L_br_table : {
  uint64_t i = U32(S(0));
  uint64_t n = pc[1];
  if (i > n) i = n;
  pc += 2 + i + static_cast<int32_t>(pc[2 + i]);
#ifndef WASMCAP_BENCH_FAST_NO_FUEL
  CHARGE();  // the target's `fuel N` (a label's, or a stub's `fuel 0`), as TAKEN
#endif
  NEXT();
}
L_ret_copy:
  fp[0] = fp[pc[0]];
  // (falls through into ret)
L_ret : {
  Frame& f = frames[--depth];
  if (f.ret_pc == nullptr) {
    SYNC_FUEL();
    return Stop::kReturn;
  }
  pc = f.ret_pc;
  fp = f.fp;
  cur = f.func;
  NEXT();
}
L_unreachable:
  TRAP(ErrorCode::kTrapUnreachable, "unreachable executed");
L_too_large:
  TRAP(ErrorCode::kModuleUnsupported,
       "function too large for the fast interpreter (its translated code would exceed the "
       "32-bit code offsets)");

L_call_p:
  callee = LO(0);
  nfp = fp + HI(0);
  pc += 1;
  goto do_call;
L_call:
  callee = static_cast<uint32_t>(pc[0]);
  nfp = fp + pc[1];
  pc += 2;
do_call : {
  FuncEntry& fe = funcs[callee];
  if (fe.host >= 0) {
    SYNC_FUEL();
    Stop s = call_host_from(rt, fe, nfp, depth);
    if (s != Stop::kReturn) return s;
    RELOAD_MEMORY();
    // The host call may have charged fuel for its work: drop the loop's remaining grant so
    // the next block re-reads what is left from rt.consumed (exact, and never over budget).
    granted = budget = 0;
    NEXT();
  }
  if (UNLIKELY(!fe.code)) fe.code = rt.translator->translate(callee);
  const FuncCode* c = fe.code.get();
  if (UNLIKELY(depth >= max_frames || nfp + c->frame_slots > stack_end)) {
    TRAP(ErrorCode::kTrapStackExhausted, "call stack exhausted");
  }
  frames[depth++] = Frame{pc, fp, cur};
  fp = nfp;
  for (uint32_t i = c->nparams; i < c->nlocals; ++i) fp[i] = 0;
  cur = callee;
  pc = c->code.data();
#ifndef WASMCAP_BENCH_FAST_NO_FUEL
  // Every function's code starts with the `fuel N` of its entry segment (translate.cc): the
  // call charges it and starts after it, as a taken branch does.
  pc += 2;
  CHARGE();
#endif
  NEXT();
}
L_call_indirect : {
  uint64_t i = U32(S(0));
  const Table& t = *rt.tables[pc[1]];
  uint32_t type = static_cast<uint32_t>(pc[2]);
  nfp = fp + pc[3];
  pc += 4;
  if (UNLIKELY(i >= t.elems.size())) TRAP(ErrorCode::kTrapTableOutOfBounds, "undefined element");
  uint64_t ref = t.elems[i];
  if (UNLIKELY(ref == 0)) TRAP(ErrorCode::kTrapIndirectCallNull, "uninitialized element");
  if (UNLIKELY(ref & kSharedRef)) {
    const FuncHandle& h = *reinterpret_cast<const FuncHandle*>(ref & ~kSharedRef);
    if (h.owner->rt != &rt) {
      SYNC_FUEL();
      Stop s = call_shared(rt, h, type, nfp, depth);
      if (s != Stop::kReturn) return s;
      RELOAD_MEMORY();
      granted = budget = 0;  // as after a host call: re-read what fuel is left
      NEXT();
    }
    ref = h.func + 1;  // one of this instance's
  }
  callee = static_cast<uint32_t>(ref - 1);
  if (UNLIKELY(funcs[callee].type_id != type)) {
    TRAP(ErrorCode::kTrapIndirectCallMismatch, "indirect call type mismatch");
  }
  goto do_call;
}

L_copy:
  S(0) = S(1);
  pc += 2;
  NEXT();
#define BODY_copy_p      \
  fp[LO(0)] = fp[HI(0)]; \
  pc += 1;
L_copy_p:
  BODY_copy_p
  NEXT();
#define BODY_copy2_p     \
  fp[LO(0)] = fp[HI(0)]; \
  fp[LO(1)] = fp[HI(1)]; \
  pc += 2;
L_copy2_p:
  BODY_copy2_p
  NEXT();
#define BODY_i32_add_k_p2                      \
  fp[LO(0)] = W32(U32(fp[HI(0)]) + pc[1]);     \
  fp[LO(2)] = W32(U32(fp[HI(2)]) + pc[3]);     \
  pc += 4;
L_i32_add_k_p2:
  BODY_i32_add_k_p2
  NEXT();
L_copy2:
  S(0) = S(1);
  S(2) = S(3);
  pc += 4;
  NEXT();
L_copy_n:
  std::memmove(fp + pc[0], fp + pc[1], pc[2] * sizeof(Slot));
  pc += 3;
  NEXT();
L_const_:
  S(0) = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(pc[1])));
  pc += 2;
  NEXT();
#define BODY_const_p                                                                 \
  fp[LO(0)] = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(HI(0)))); \
  pc += 1;
L_const_p:
  BODY_const_p
  NEXT();
L_const64:
  S(0) = K64(1);
  pc += 3;
  NEXT();
L_select:
  S(0) = U32(S(3)) != 0 ? S(1) : S(2);
  pc += 4;
  NEXT();
#define BODY_global_get  \
  S(0) = globals[pc[1]]; \
  pc += 2;
L_global_get:
  BODY_global_get
  NEXT();
L_global_get_i:
  S(0) = *global_imports[pc[1]];
  pc += 2;
  NEXT();
L_global_set_i:
  *global_imports[pc[0]] = S(1);
  pc += 2;
  NEXT();
L_global_set:
  globals[pc[0]] = S(1);
  pc += 2;
  NEXT();

  // --- memory -------------------------------------------------------------------------------
#define LOAD_P_BODY(T, conv)                                       \
  {                                                                \
    uint64_t ea = static_cast<uint64_t>(U32(fp[HI(0)])) + pc[1];   \
    if (UNLIKELY(ea + sizeof(T) > memsize)) goto trap_oob;         \
    T v;                                                           \
    std::memcpy(&v, mem + ea, sizeof(T));                          \
    fp[LO(0)] = conv;                                              \
    pc += 2;                                                       \
  }
#define LOAD_AK_BODY(T, conv)                                              \
  {                                                                        \
    uint64_t ea = static_cast<uint64_t>(U32(fp[HI(0)]) + pc[1]) + pc[2];   \
    if (UNLIKELY(ea + sizeof(T) > memsize)) goto trap_oob;                 \
    T v;                                                                   \
    std::memcpy(&v, mem + ea, sizeof(T));                                  \
    fp[LO(0)] = conv;                                                      \
    pc += 3;                                                               \
  }
#define LOAD(name, T, conv)                                                       \
  L_##name : {                                                                    \
    uint64_t ea = static_cast<uint64_t>(U32(S(1))) + pc[2];                       \
    if (UNLIKELY(ea + sizeof(T) > memsize)) goto trap_oob;                        \
    T v;                                                                          \
    std::memcpy(&v, mem + ea, sizeof(T));                                         \
    S(0) = conv;                                                                  \
    pc += 3;                                                                      \
    NEXT();                                                                       \
  }                                                                               \
  L_##name##_p : {                                                                \
    LOAD_P_BODY(T, conv)                                                          \
    NEXT();                                                                       \
  }                                                                               \
  L_##name##_ak : {                                                               \
    LOAD_AK_BODY(T, conv)                                                         \
    NEXT();                                                                       \
  }                                                                               \
  L_##name##_c : {                                                                \
    uint64_t ea = pc[1];                                                          \
    if (UNLIKELY(ea + sizeof(T) > memsize)) goto trap_oob;                        \
    T v;                                                                          \
    std::memcpy(&v, mem + ea, sizeof(T));                                         \
    S(0) = conv;                                                                  \
    pc += 2;                                                                      \
    NEXT();                                                                       \
  }
  LOAD(i32_load, uint32_t, v)
  LOAD(i64_load, uint64_t, v)
  LOAD(f32_load, uint32_t, v)
  LOAD(f64_load, uint64_t, v)
  LOAD(i32_load8_s, int8_t, W32(static_cast<uint32_t>(static_cast<int32_t>(v))))
  LOAD(i32_load8_u, uint8_t, W32(v))
  LOAD(i32_load16_s, int16_t, W32(static_cast<uint32_t>(static_cast<int32_t>(v))))
  LOAD(i32_load16_u, uint16_t, W32(v))
  LOAD(i64_load8_s, int8_t, static_cast<uint64_t>(static_cast<int64_t>(v)))
  LOAD(i64_load8_u, uint8_t, static_cast<uint64_t>(v))
  LOAD(i64_load16_s, int16_t, static_cast<uint64_t>(static_cast<int64_t>(v)))
  LOAD(i64_load16_u, uint16_t, static_cast<uint64_t>(v))
  LOAD(i64_load32_s, int32_t, static_cast<uint64_t>(static_cast<int64_t>(v)))
  LOAD(i64_load32_u, uint32_t, static_cast<uint64_t>(v))
#undef LOAD
#define STORE_P_BODY(T)                                            \
  {                                                                \
    uint64_t ea = static_cast<uint64_t>(U32(fp[LO(0)])) + pc[1];   \
    if (UNLIKELY(ea + sizeof(T) > memsize)) goto trap_oob;         \
    T v = static_cast<T>(fp[HI(0)]);                               \
    std::memcpy(mem + ea, &v, sizeof(T));                          \
    pc += 2;                                                       \
  }
#define STORE(name, T)                                                            \
  L_##name : {                                                                    \
    uint64_t ea = static_cast<uint64_t>(U32(S(0))) + pc[2];                       \
    if (UNLIKELY(ea + sizeof(T) > memsize)) goto trap_oob;                        \
    T v = static_cast<T>(S(1));                                                   \
    std::memcpy(mem + ea, &v, sizeof(T));                                         \
    pc += 3;                                                                      \
    NEXT();                                                                       \
  }                                                                               \
  L_##name##_p : {                                                                \
    STORE_P_BODY(T)                                                               \
    NEXT();                                                                       \
  }                                                                               \
  L_##name##_ak : {                                                               \
    uint64_t ea = static_cast<uint64_t>(U32(fp[LO(0)]) + pc[1]) + pc[2];          \
    if (UNLIKELY(ea + sizeof(T) > memsize)) goto trap_oob;                        \
    T v = static_cast<T>(fp[HI(0)]);                                              \
    std::memcpy(mem + ea, &v, sizeof(T));                                         \
    pc += 3;                                                                      \
    NEXT();                                                                       \
  }                                                                               \
  L_##name##_c : {                                                                \
    uint64_t ea = pc[1];                                                          \
    if (UNLIKELY(ea + sizeof(T) > memsize)) goto trap_oob;                        \
    T v = static_cast<T>(S(0));                                                   \
    std::memcpy(mem + ea, &v, sizeof(T));                                         \
    pc += 2;                                                                      \
    NEXT();                                                                       \
  }
  STORE(i32_store, uint32_t)
  STORE(i64_store, uint64_t)
  STORE(f32_store, uint32_t)
  STORE(f64_store, uint64_t)
  STORE(i32_store8, uint8_t)
  STORE(i32_store16, uint16_t)
  STORE(i64_store8, uint8_t)
  STORE(i64_store16, uint16_t)
  STORE(i64_store32, uint32_t)
#undef STORE
L_memory_size:
  S(0) = W32(static_cast<uint32_t>(memsize / kWasmPageSize));
  pc += 1;
  NEXT();
L_memory_grow : {
  uint64_t delta = U32(S(1));
  int64_t r = memory_grow(*rt.memory, delta);
  memsize = rt.memory->size;
  S(0) = W32(static_cast<uint32_t>(r));
  pc += 2;
  // The pages made available cost their bytes (as wabt's zeroing of them does).
  if (r >= 0) BULK_CHARGE(fuel_for_bytes(delta * kWasmPageSize));
  NEXT();
}
L_memory_fill : {
  uint64_t d = U32(S(0)), n = U32(S(2));
  if (UNLIKELY(d + n > memsize)) goto trap_oob;
  BULK_CHARGE(fuel_for_bytes(n));
  if (!bulk::fill(mem + d, static_cast<int>(U32(S(1)) & 0xff), n, BULK_KEEP_GOING)) {
    SYNC_FUEL();
    goto stop_error;
  }
  pc += 3;
  NEXT();
}
L_memory_copy : {
  uint64_t d = U32(S(0)), s = U32(S(1)), n = U32(S(2));
  if (UNLIKELY(d + n > memsize || s + n > memsize)) goto trap_oob;
  BULK_CHARGE(fuel_for_bytes(n));
  if (!bulk::move(mem + d, mem + s, n, BULK_KEEP_GOING)) {
    SYNC_FUEL();
    goto stop_error;
  }
  pc += 3;
  NEXT();
}
L_memory_init : {
  const std::vector<uint8_t>& seg = rt.data[pc[0]];
  uint64_t d = U32(S(1)), s = U32(S(2)), n = U32(S(3));
  if (UNLIKELY(d + n > memsize || s + n > seg.size())) goto trap_oob;
  BULK_CHARGE(fuel_for_bytes(n));
  if (n != 0 && !bulk::move(mem + d, seg.data() + s, n, BULK_KEEP_GOING)) {
    SYNC_FUEL();
    goto stop_error;
  }
  pc += 4;
  NEXT();
}
L_data_drop:
  rt.data[pc[0]].clear();
  rt.data[pc[0]].shrink_to_fit();
  pc += 1;
  NEXT();

  // --- tables and references ----------------------------------------------------------------
L_table_get : {
  const Table& t = *rt.tables[pc[1]];
  uint64_t i = U32(S(2));
  if (UNLIKELY(i >= t.elems.size())) goto trap_table;
  S(0) = t.elems[i];
  pc += 3;
  NEXT();
}
L_table_set : {
  Table& t = *rt.tables[pc[0]];
  uint64_t i = U32(S(1));
  if (UNLIKELY(i >= t.elems.size())) goto trap_table;
  t.elems[i] = table_value(rt, t, S(2));
  pc += 3;
  NEXT();
}
L_table_size:
  S(0) = W32(static_cast<uint32_t>(rt.tables[pc[1]]->elems.size()));
  pc += 2;
  NEXT();
L_table_grow : {
  Table& t = *rt.tables[pc[1]];
  uint64_t n = U32(S(3));
  uint64_t old = t.elems.size();
  if (old + n > t.max) {
    S(0) = W32(0xffffffffu);
  } else {
    t.elems.resize(old + n, table_value(rt, t, S(2)));
    S(0) = W32(static_cast<uint32_t>(old));
    pc += 4;
    BULK_CHARGE(fuel_for_bytes(n * kFuelBytesPerTableElement));
    NEXT();
  }
  pc += 4;
  NEXT();
}
L_table_fill : {
  Table& t = *rt.tables[pc[0]];
  uint64_t i = U32(S(1)), n = U32(S(3));
  if (UNLIKELY(i + n > t.elems.size())) goto trap_table;
  BULK_CHARGE(fuel_for_bytes(n * kFuelBytesPerTableElement));
  std::fill(t.elems.begin() + static_cast<ptrdiff_t>(i),
            t.elems.begin() + static_cast<ptrdiff_t>(i + n), table_value(rt, t, S(2)));
  pc += 4;
  NEXT();
}
L_table_copy : {
  Table& dt = *rt.tables[pc[0]];
  const Table& st = *rt.tables[pc[1]];
  uint64_t d = U32(S(2)), s = U32(S(3)), n = U32(S(4));
  if (UNLIKELY(d + n > dt.elems.size() || s + n > st.elems.size())) goto trap_table;
  BULK_CHARGE(fuel_for_bytes(n * kFuelBytesPerTableElement));
  if (n != 0) std::memmove(dt.elems.data() + d, st.elems.data() + s, n * sizeof(uint64_t));
  if (dt.funcref && (dt.shared || st.shared) && &dt != &st) {  // shared refs, kept by dt
    for (uint64_t k = d; k < d + n; ++k) dt.elems[k] = shared_ref(rt, dt, dt.elems[k]);
  }
  pc += 5;
  NEXT();
}
L_table_init : {
  Table& t = *rt.tables[pc[0]];
  const std::vector<uint64_t>& seg = rt.elems[pc[1]];
  uint64_t d = U32(S(2)), s = U32(S(3)), n = U32(S(4));
  if (UNLIKELY(d + n > t.elems.size() || s + n > seg.size())) goto trap_table;
  BULK_CHARGE(fuel_for_bytes(n * kFuelBytesPerTableElement));
  if (n != 0) std::memcpy(t.elems.data() + d, seg.data() + s, n * sizeof(uint64_t));
  if (t.shared && t.funcref) {
    for (uint64_t k = d; k < d + n; ++k) t.elems[k] = shared_ref(rt, t, t.elems[k]);
  }
  pc += 5;
  NEXT();
}
L_elem_drop:
  rt.elems[pc[0]].clear();
  rt.elems[pc[0]].shrink_to_fit();
  pc += 1;
  NEXT();
L_ref_func:
  S(0) = pc[1] + 1;
  pc += 2;
  NEXT();
L_ref_is_null:
  S(0) = W32(S(1) == 0 ? 1 : 0);
  pc += 2;
  NEXT();

#include "engine/fast/exec_numeric.inc"
#include "engine/fast/exec_simd.inc"
#include "engine/fast/exec_eh.inc"
#include "engine/fast/exec_pairs.inc"

trap_oob:
  TRAP(ErrorCode::kTrapMemoryOutOfBounds, "out of bounds memory access");
trap_table:
  TRAP(ErrorCode::kTrapTableOutOfBounds, "out of bounds table access");
trap:
  SYNC_FUEL();
  rt.error = Error(trap_code, trap_msg);
  rt.trap_func = cur;
  return Stop::kTrap;
stop_error:
  rt.trap_func = cur;
  return Stop::kTrap;
#undef NEXT
#undef S
#undef K64
#undef LO
#undef HI
#undef JUMP
#undef TAKEN
#undef CHARGE
#undef BULK_CHARGE
#undef BULK_KEEP_GOING
#undef TRAP
#undef SYNC_FUEL
#undef RELOAD_MEMORY
}

}  // namespace wasmcap::fast
