// Module -> C translation for the AOT tier: wabt's wasm2c C writer, run in-process on wabt IR that
// wasmcap instruments first, plus a generated glue file binding the module to wasmcap's runtime.
//
// Kept C++17-compatible: translate*.cc include wabt headers and are built as C++17.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/aot_bounds.h"
#include "wasmcap/error.h"

namespace wasmcap::aot {

// Bumped whenever the instrumentation or the glue changes what a compiled object does: it is
// part of the cache key, so old objects are never reused across such changes.
// Version 3: module names no longer reach the C (imports h.i<N>, exports e<N>); objects built by
// versions 1-2 are never loaded again.
// Version 4: function entries are checked only where needed (call-graph rule, docs/aot.md), and
// loaded floats may stay in vector registers (load barrier constraint).
// Version 5: big modules are translated in chunks of functions and compiled as many translation
// units (functions are extern-hidden Z_mZ_f<N>, the instance points to itself for cross-unit calls).
// Version 6: no interrupt checks at all where the runtime preempts guest code with a signal
// (kAsyncPreemption), and every function reads the linear-memory base once (a local copy of
// memory 0's descriptor that loads and stores use; the runtime never moves linear memory).
// Version 7: data segments are string literals, and runs of data-segment loads a table and a loop
// (the generated module.c changed; objects of v6 builds are never loaded).
// Version 8: table.copy, table.fill and externref table.init call the runtime's bulk_done after
// an operation of 64 KiB or more, like the memory bulk operations (asynchronous preemption).
// Version 9: objects are compiled with kReassocFlag (below; same C, a different object).
// Version 10: counted loops get a copy that runs the iterations known to stay in bounds without
// load barriers (loop_version.h); objects are compiled with -fvect-cost-model=cheap and
// -ffp-contract=off (kVectorFlags).
// Version 11: the versioned copy's two entry tests are marked unlikely (register allocation and
// layout of the function follow the original loop); objects are compiled with kLoopAlignFlag.
// Version 12: memory.fill/copy run in chunks of 1 MiB with the interrupt flag checked between
// two, and the bulk helpers' bounds checks use the page count (memories grow to 65,536 pages).
// Version 13: memories and globals imported from and exported to other instances (the glue's
// import accessors and extern descriptors, ABI 3).
// Version 14: tables imported from and exported to other instances: call_indirect switches to
// the callee's context when the element belongs to another instance, and an element or ref.func
// of an imported function names the importer (ABI 4).
constexpr int kInstrumentationVersion = 14;

// Passed to the C compiler on every compile (part of the cache key through the flags).
// wasm2c's loads compute their address in three steps (the u32 sum, the widening to u64, the
// memory base) and GCC's reassociation ranks a value by the depth of its definition, so a
// loaded value ranks after a rotate-and-xor of a loop-carried one: in a sum such as SHA-256's
// t1 = h + S1(e) + ch(e,f,g) + K[i] + w[i] it adds the two loads one after the other at the end,
// on the e -> e chain (one add more per round than native gcc -O2). Width 2 lets reassociation
// pair operands (w[i] + K[i] beside S1 + ch). Integer sums only: floating-point sums are never
// reassociated without -fassociative-math, and u32/u64 adds wrap, so results are unchanged.
// Measured: bench/notes/2026-11-23-aot-v9-sha256-strsearch.md, "2026-11-23: the sha256 and strsearch gaps".
constexpr const char* kReassocFlag = "--param=tree-reassoc-width=2";

// Passed to the C compiler on every compile too (part of the cache key through the flags):
//  - -fvect-cost-model=cheap: GCC 12's -O2 default ("very cheap") never versions a loop for
//    aliasing, and a versioned loop's copy (loop_version.h) reads and writes one linear memory
//    through pointers GCC cannot tell apart, so it would never be vectorised;
//  - -ffp-contract=off: wasm rounds after every multiply and add; GCC's GNU-mode default
//    (fast) fuses a*b+c into one FMA where the target has it (AArch64 always), which changes
//    results. (x86-64 at the default -march has no FMA, so this changes no object there.)
constexpr const char* kVectorFlags[] = {"-fvect-cost-model=cheap", "-ffp-contract=off"};

// Passed to the C compiler on every compile too: loop heads aligned to 32 bytes (GCC's generic
// x86-64 tuning aligns them to 16, and only when that skips at most 10 bytes), so that where a
// loop lands modulo 32 no longer depends on the size of the code before it. It does not remove
// the placement effects of this project's reference machine (AMD Zen 5), it re-deals them: at
// the four placements bench/run.py --aot-shifts measures, matmul's vectorised loop ran 1.1x
// native at all four with it and 1.75-1.9x at one without it, but with -falign-functions=32
// added it is 1.75x at one again (the same loop bytes at the same offset modulo 64). Kept for the
// geomean over placements; bench/notes/2026-11-24-aot-v11-loop-alignment.md, "loop heads aligned to 32 bytes".
constexpr const char* kLoopAlignFlag = "-falign-loops=32";

// Deadlines and interrupts stop guest code by asynchronous preemption (docs/aot.md,
// "Deadlines"): the watchdog signals the thread, and the runtime unwinds when the interrupted PC
// lies in the guest object's code. The runtime reads the PC from the signal context on x86-64
// and AArch64 Linux; elsewhere the translator keeps polling a flag at loop headers and selected
// function entries (docs/aot.md, "Where function entries are checked").
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
constexpr bool kAsyncPreemption = true;
#else
constexpr bool kAsyncPreemption = false;
#endif

// Splitting into translation units (docs/aot.md, "Compile at scale"). A module with more defined
// functions than `unit_functions` is translated chunk by chunk (wabt's C writer sees only one
// chunk and the functions it references, so translation stays linear in the module's size) and
// each chunk becomes a C file of its own, compiled in parallel. 0 = never split.
constexpr uint32_t kDefaultUnitFunctions = 1000;
// A unit also closes once its functions hold this many wasm expressions (C compile time and
// memory grow with a unit's size)...
constexpr uint64_t kUnitExpressions = 60000;
// ...and a function this big gets a unit of its own, compiled at -O1 (at most): gcc's -O2 passes
// are superlinear in a function's size. Set above the biggest hot functions seen in real
// modules (CPython's eval loop: ~50 KB of code) so that those stay at -O2; generated
// initialisers and tables-as-code are the target.
constexpr uint64_t kHugeFunctionExpressions = 100000;
// ...and before functions x referenced symbols passes this (wabt's per-function copy cost).
constexpr uint64_t kChunkSymbolBudget = 4000000;

// Extra C compiler flags of the units of a split module (docs/aot.md, "Compile at scale"), part
// of the cache key. Measured on esbuild's units (gcc 12, -ftime-report): RTL GCSE ("PRE") is
// quadratic in a function's size (blocks x pseudo-registers) and took 29% of the compile of a
// unit holding one 54,000-line function (13.8 -> 8.7 s without it) while tree-level PRE does the
// same job earlier; the limit skips it only in functions whose GCSE tables would pass 1 MiB
// (roughly 5,000 lines of C and more): small and mid-size functions keep it, and modules that
// are not split (bench/programs) get none of these flags.
constexpr const char* kSplitUnitFlags[] = {"--param=max-gcse-memory=1024"};
// Units of one huge function (compiled at -O1): points-to analysis took 27% of such a unit
// (esbuild, 85,000 lines: 10.9 -> 8.3 s without it).
constexpr const char* kHugeUnitFlags[] = {"-fno-tree-pta"};

// Bounds checked on the bytes before a module is translated, so translation never exhausts the
// host's stack or memory: kMaxNestingDepth, kMaxFunctionLocals, kMaxFunctionParams,
// kMaxFunctionResults, kMaxBrTableTargets, kMaxFunctions, kMaxTotalLocals and
// kMaxFunctionBodySize, in engine/aot_bounds.h (the fast engine's validating pass notes them too).

// One translation unit of function definitions (split translations only).
struct CodeUnit {
  std::string c;            // includes "wasmcap_common.h"
  uint32_t functions = 0;   // defined functions in it
  uint64_t expressions = 0;  // their wasm expressions (progress weight)
  bool huge = false;        // one function over kHugeFunctionExpressions: compile at -O1 at most
};

struct TranslatedModule {
  std::string module_c;  // wasm2c output (patched: trap classification, volatile interrupt flag)
  std::string module_h;  // wasm2c header, to be saved as "module.h"
  std::string glue_c;    // wasmcap glue: wasm-rt forwarders, import trampolines, export thunks
  // Split translations: module_c holds the module's data, tables, exports and instantiation but
  // no function body; the bodies are in `units`, which include common_h ("wasmcap_common.h":
  // wasm2c's helpers and the shared function-type table). Unsplit: both empty.
  std::string common_h;
  std::vector<CodeUnit> units;
  uint32_t functions = 0;  // defined functions in the module
  uint32_t versioned_loops = 0;  // loops given a bounds-checked copy (loop_version.h)
};

// The wabt version the translation comes from ("1.0.32").
std::string_view wabt_version();

// The bounds above, checked on the bytes alone (a decode-only pass, nothing built): Ok, or
// module_unsupported naming the bound. Malformed bytes pass (translate() reports them).
Result<void> check_bounds(const uint8_t* bytes, size_t size);

// link_error naming the first memory, table or global import the AOT engine cannot take from
// another aot instance (tables; 64-bit or shared memories; globals of a type other than
// i32/i64/f32/f64), else ok. A decoding pass over the module's header sections, before any
// compile: load() compiles no module that could never link.
Result<void> check_extern_imports(const uint8_t* bytes, size_t size);

// Translates a module (checking the bounds first) on a thread of its own. No byte of a name in
// the module reaches the C (imports become h.i<N>, exports e<N>: the host links and calls by
// position). Errors: module_malformed (invalid), module_unsupported (beyond a bound, out of
// memory, or a construct the AOT tier cannot translate: SIMD, tags, non-scalar imports, ...),
// link_error (non-function imports). `interruptible`: the module can be stopped at a deadline
// (an interrupt flag; with `poll` also the checks at loop headers and selected entries, which
// the runtime needs where it cannot preempt: !kAsyncPreemption; tests set it to see where the
// checks would land). `unit_functions`: split when the module defines more functions than this
// (0: never).
Result<TranslatedModule> translate(const uint8_t* bytes, size_t size, bool interruptible = true,
                                   uint32_t unit_functions = kDefaultUnitFunctions,
                                   bool poll = !kAsyncPreemption);

}  // namespace wasmcap::aot
