// wasm -> fast-interpreter code (translate.cc). C++17 (wabt headers), see fast.h.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/fast/fast.h"
#include "wabt/binary-reader.h"
#include "wabt/cast.h"
#include "wabt/ir.h"

namespace wasmcap::fast {

// Canonical signature ids: canon[type index] = smallest index of a structurally equal type.
std::vector<uint32_t> canonical_type_ids(const wabt::Module& m);

// Signature of a block / function declaration.
const wabt::FuncSignature& decl_sig(const wabt::Module& m, const wabt::FuncDeclaration& d);

// Translates function `f` of module `m`. `m` gives the module-level declarations (types,
// functions' signatures, tags); `f` need not belong to it: the lazy front end reads each body
// into a one-function module of its own at first call (fast_engine.cc), so `m` holds no bodies.
// `wide`: the module uses v128, every value takes two Slots (simd_ops.h).
std::unique_ptr<FuncCode> translate_function(const wabt::Module& m, const wabt::Func& f,
                                             const std::vector<uint32_t>& canon, bool wide);

// The translator's op tables (built at compile time from the ops' names, translate.cc):
// wabt opcode -> our op of the same name ("i32.add" -> i32_add), or Op::kCount.
Op op_for(wabt::Opcode opcode);
// Conditional branch -> its form that also charges the fall-through segment ("x" -> "x_f").
Op fuel_variant(Op op);
// An op with a packed form ("x" -> "x_p": two 16-bit fields in one word).
Op packed_variant(Op op);
// A load or store -> its form whose address is an i32.add of an immediate ("x" -> "x_ak").
Op ak_variant(Op op);
// A load or store -> its form at a constant address ("x" -> "x_c").
Op c_variant(Op op);
// Each of them is Op::kCount where there is no such op. op_name: "i32_add", or null.
const char* op_name(Op op);

// The same translation without wabt's IR: `mini` is the one-function module that
// FastModule::read_body gives wabt's IR reader (fast_engine.cc), read here by wabt's binary
// reader straight into the translator. For modules without v128 (`wide` is false) and bodies
// without exception handling; `decl` is the function's module-level declaration. Null when the
// body holds anything else, declares more than `max_local_slots` locals (with its parameters),
// or does not read: the caller then translates from wabt's IR (translate_function), which
// gives the same code word for word where both apply (tests/engine/fast_translate_test.cc).
std::unique_ptr<FuncCode> translate_function_stream(const wabt::Module& m,
                                                    const wabt::FuncDeclaration& decl,
                                                    const uint8_t* mini, size_t size,
                                                    const wabt::Features& features,
                                                    const std::vector<uint32_t>& canon,
                                                    uint64_t max_local_slots);

// Destroys wabt's IR without recursion: wabt's destructors recurse once per nesting level of
// blocks, so a hostile module nesting a million blocks would overflow the host stack. Nested
// lists are moved out onto a heap work list first, then freed one level at a time.
struct IrDeleter {
  void operator()(wabt::Module* m) const;
};
using IrPtr = std::unique_ptr<wabt::Module, IrDeleter>;

// The first feature this engine cannot run yet ("tail calls", ...; "" when it runs all of it)
// and whether the module uses v128 anywhere (types, globals, locals, blocks, instructions),
// which selects the wide slot layout. Collected by validate_module (validate.h) in the
// validating pass itself.
struct FeatureScan {
  std::string unsupported;
  bool simd = false;
  // Exception handling anywhere (a tag, try/catch/catch_all/delegate/rethrow/throw): what
  // WebAssembly 2.0 alone would refuse (describe.h).
  bool exceptions = false;
  // Whether the module may exceed one of the AOT translator's bounds (engine/aot_bounds.h), noted
  // from the same reader events aot::check_bounds counts: false on a module that validated means
  // check_bounds would find every bound held, so the AOT engine need not run that extra decoding
  // pass (docs/aot.md, "Cold start"). True can be a module the pass stopped in (the verdict is
  // then the check's own). `aot_locals`: locals declared in the bodies this pass validated.
  bool beyond_aot_bounds = false;
  uint64_t aot_locals = 0;
};

// Test hook (tests/engine/fast_translate_test.cc, fast_engine.cc): translates every defined
// function of `module` (loaded by the fast engine) through both front ends and returns the
// first difference in their code ("" when there is none); `streamed` counts the functions the
// streaming front end took, `funcs` the defined functions. `gate` false: also modules the
// engine never streams (v128, exception handling), to see the front end refuse them.
namespace translate_test_hooks {
std::string compare_front_ends(const Module& module, uint32_t* streamed, uint32_t* funcs,
                               bool gate = true);
// Functions translated for a call, in this process (FastModule::shared_code: once per module).
extern std::atomic<uint64_t> translations;
// Pairs (fast.h, WASMCAP_FAST_PAIRS): how many instructions each pair took, in the list's order,
// over every function translated in this process; and translation without pairs (the code
// is then what it was before pairs existed), to compare the two.
std::vector<uint64_t> pair_uses();
void set_pairs_enabled(bool on);
}

}  // namespace wasmcap::fast
