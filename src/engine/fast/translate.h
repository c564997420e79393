// wasm -> fast-interpreter code (translate.cc). C++17 (wabt headers), see fast.h.
#pragma once

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

}  // namespace wasmcap::fast
