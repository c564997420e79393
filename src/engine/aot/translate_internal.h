// Internal to the AOT translator (translate*.cc): what its files share. Not an interface of
// the engine; translate.h is. Built as C++17 (wabt headers).
//
// The files, in the order a translation runs through them (docs/aot.md, "Translation"):
//  - translate.cc: translate(), its thread, and translate_checked(), which drives the steps;
//  - translate_check.cc: what is checked on the bytes (bounds, exceptions, non-function imports);
//  - translate_names.cc: wabt IR before the C writer (names replaced, interrupt checks);
//  - translate_split.cc: big modules written chunk by chunk into units;
//  - translate_patch.cc: reading and patching wasm2c's C (each patch verified);
//  - translate_glue.cc: the glue file binding the module to wasmcap's runtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/aot/loop_version.h"
#include "engine/aot/translate.h"
#include "wasmcap/error.h"

#include "wabt/binary-reader-nop.h"
#include "wabt/binary-reader.h"
#include "wabt/feature.h"
#include "wabt/ir.h"

namespace wasmcap::aot::detail {

inline constexpr const char* kModuleName = "m";  // symbols Z_m…, all hidden in the shared object

// --- translate_check.cc ----------------------------------------------------------------------
// The engines' feature set (the interpreters'), exceptions read so that they can be refused.
wabt::Features all_features();

// A reader that only decodes. Errors are handled by the caller (wabt would print unhandled ones
// to stderr).
class QuietReader : public wabt::BinaryReaderNop {
 public:
  bool OnError(const wabt::Error&) override { return true; }
};

// Whether the module uses exception handling (tags, try/catch/delegate/throw/rethrow).
bool uses_exceptions(const uint8_t* bytes, size_t size, const wabt::ReadBinaryOptions& options);

// Why a non-function import cannot be translated, or "".
std::string extern_import_refusal(const wabt::Import& imp);

// --- translate_names.cc ----------------------------------------------------------------------
// Replaces every name the module supplies (imports h.i<N>, exports e<N>, the rest cleared).
void replace_names(wabt::Module& m);
// After GenerateNames/ApplyNames: every name is one wasmcap or wabt made.
bool all_names_plain(const wabt::Module& m);
// Printable ASCII and newlines only.
bool plain_text(const std::string& s);
// A module-supplied name for an error message (escaped, cut).
std::string quote_name(std::string_view s);
// The interrupt check `if (global.get $flag) unreachable` at the start of `list`, and at every
// loop header in it.
void prepend_check(wabt::ExprList& list, wabt::Index flag);
void instrument_list(wabt::ExprList& list, wabt::Index flag);
// checked[i] for every function index i (imports: false, never instrumented).
std::vector<bool> entries_to_check(const wabt::Module& m);
void add_export(wabt::Module& m, const std::string& name, wabt::ExternalKind kind,
                wabt::Index index);

// --- translate_split.cc ----------------------------------------------------------------------
// wasm2c's C and header of `m`, in one piece.
Result<std::pair<std::string, std::string>> write_c(const wabt::Module& m);
// Whether a defined function uses memory.init, table.init, data.drop or elem.drop (such a
// module is not split: the segments' contents are in the main write only).
bool uses_segment_ops(const wabt::Module& m);
// Writes `m` (validated, named, instrumented) split into units. Fills out.module_c/module_h
// (main write) and out.units (function bodies, not yet patched).
Result<void> write_split(wabt::Module& m, uint32_t unit_functions, TranslatedModule& out);
// A split translation, patched and glued: the units' shared header (out.common_h) from
// module.c's prelude, and the units' references to the instance.
Result<void> share_prelude(TranslatedModule& out);

// --- translate_patch.cc ----------------------------------------------------------------------
// A declaration in wasm2c's header.
struct Decl {
  std::string ret;     // "u32", "void", "u32*"
  std::string name;    // C identifier
  std::string first;   // first parameter type ("struct Z_x_instance_t*")
};

// What translate_checked() knows of the module and of wasm2c's output, for the patches and the
// glue.
struct Translation {
  const wabt::Module* m = nullptr;  // validated, named, instrumented
  size_t num_user_exports = 0;      // the module's own; then wasmcap_interrupt (, wasmcap_memory)
  bool has_memory = false;
  bool extern_imports = false;      // memories or globals from another instance
  bool interruptible = false;
  bool poll = false;
  std::vector<VersionedLoop> versioned;
  std::vector<Decl> exports;  // every export's accessor in module.h, in export order
  std::vector<Decl> imports;  // every import's, in import order
};

// Fail closed: wabt's output does not look as this code expects.
tl::unexpected<Error> unexpected_output(const std::string& what);
// Replaces every occurrence of `from` in s, in one pass (linear in s); returns how many.
size_t replace_all(std::string& s, const std::string& from, const std::string& to);
// Patches 1-3d: wasm2c's helpers in the prelude of module.c.
// `shared_tables`: the module imports or exports a table, so a table of it may hold another
// instance's functions (patch 1b).
Result<void> patch_prelude(std::string& c, bool shared_tables);
// t.exports and t.imports from module.h.
Result<void> read_declarations(const std::string& h, Translation& t);
// Patches 4-6: the guest code (the interrupt flag's reads, the memory base, versioned loops).
Result<void> patch_guest_code(const Translation& t, TranslatedModule& out);
// Data segments as string literals and runs of their loads as loops (module.c).
size_t data_as_strings(std::string& c);
size_t data_loads_as_loops(std::string& c);

// --- translate_glue.cc -----------------------------------------------------------------------
// Whether every parameter and result is i32/i64/f32/f64 (a host import or export can bind it).
bool scalar_sig(const wabt::FuncSignature& sig);
// The glue file (out.glue_c): import trampolines, export thunks, descriptors, wasm-rt forwarders.
Result<std::string> write_glue(const Translation& t, const TranslatedModule& out);

}  // namespace wasmcap::aot::detail
