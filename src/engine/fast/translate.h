// wasm -> fast-interpreter code (translate.cc). C++17 (wabt headers), see fast.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/fast/fast.h"
#include "wabt/cast.h"
#include "wabt/ir.h"

namespace wasmcap::fast {

// Canonical signature ids: canon[type index] = smallest index of a structurally equal type.
std::vector<uint32_t> canonical_type_ids(const wabt::Module& m);

// Signature of a block / function declaration.
const wabt::FuncSignature& decl_sig(const wabt::Module& m, const wabt::FuncDeclaration& d);

// Translates module function `func` (index in m.funcs, a defined function).
// `wide`: the module uses v128, every value takes two Slots (simd_ops.h).
std::unique_ptr<FuncCode> translate_function(const wabt::Module& m, uint32_t func,
                                             const std::vector<uint32_t>& canon, bool wide);

// Destroys wabt's IR without recursion: wabt's destructors recurse once per nesting level of
// blocks, so a hostile module nesting a million blocks would overflow the host stack. Nested
// lists are moved out onto a heap work list first, then freed one level at a time.
struct IrDeleter {
  void operator()(wabt::Module* m) const;
};
using IrPtr = std::unique_ptr<wabt::Module, IrDeleter>;

// One pass over the module: the first feature this engine cannot run yet ("exception
// handling", "tail calls", ...; "" when it runs all of it) and whether it uses v128 anywhere
// (types, globals, locals, blocks, instructions), which selects the wide slot layout.
struct FeatureScan {
  std::string unsupported;
  bool simd = false;
};
FeatureScan scan_features(const wabt::Module& m);
std::string unsupported_feature(const wabt::Module& m);

}  // namespace wasmcap::fast
