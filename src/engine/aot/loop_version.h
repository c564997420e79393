// Loop versioning for the AOT tier (docs/aot.md, "Loop versioning").
//
// wasm2c's C cannot be vectorised or freed of its load barriers by the C compiler: every address
// is a u32 sum that may wrap (so GCC cannot see an affine access), and every load carries an
// empty asm statement that keeps a dead load trapping. For a simple counted loop the translator
// can decide both questions once, at the loop's entry, from the values the loop starts with:
// how many iterations will certainly run, and whether every access of those iterations is in
// bounds and does not wrap. When both hold, a copy of the body runs all the iterations with
// plain, affine, barrier-free accesses (nothing in it can trap) and jumps past the loop. When
// they do not hold, or for any loop this analysis does not understand, the original loop runs
// alone, exactly as before.
//
// Why our own code: no library analyses wasm loops for a C back end, and GCC 12 cannot version
// a loop for a wrapping 32-bit index itself (its data-reference analysis gives up).
//
// Kept C++17-compatible: it reads wabt IR (built as part of wasmcap_aot_translate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wasmcap/error.h"

namespace wabt {
struct Module;
}

namespace wasmcap::aot {

// One versioned loop: a block of C inserted just before the loop's label in its function.
struct VersionedLoop {
  std::string func;                 // the function's C name ("w2c_f7")
  std::string label;                // the loop's C label ("w2c_L10")
  std::string exit;                 // the C label just after the loop ("w2c_V3")
  std::vector<std::string> locals;  // the function's C locals the block reads or writes
  std::string c;                    // the block
};

// Bounds of what is versioned (the C a loop adds is proportional to its body).
constexpr size_t kVersionMaxBody = 400;     // expressions in the body
constexpr size_t kVersionMaxAccesses = 32;  // loads and stores in the body
constexpr size_t kVersionMaxTerms = 6;      // locals in one address
constexpr size_t kVersionMaxLocals = 64;    // locals the body touches
// The copy runs only for loops of at least this many iterations: below it, its checks and the
// vectorised loop's own set-up (GCC's alias check, prologue and epilogue) cost more than the
// barriers they save (measured on `lz`, whose memcpy copies are short: bench/notes/2026-11-24-aot-v11-loop-alignment.md).
constexpr uint64_t kVersionMinIterations = 16;

// Plans for every loop of `m`'s defined functions that can be versioned. `m` is validated, and
// named by GenerateNames/ApplyNames (the names are the C writer's). Only memory 0, a 32-bit
// unshared memory, is accessed by the blocks. Each planned loop is wrapped in a block labelled
// `$V<n>` that ends with `br $V<n>` (a no-op), so that its end has a C label to jump to.
std::vector<VersionedLoop> plan_versioned_loops(wabt::Module& m);

// A wabt name without its leading '$': the C writer's spelling of a function or label name
// after "w2c_" (GenerateNames gives every name a '$').
std::string strip_dollar(const std::string& s);

// C helpers the blocks use; inserted once into the prelude. `mem_field` is the instance's
// field of memory 0 (the blocks read its current size there).
std::string versioned_loop_prelude(const std::string& mem_field);

// Inserts every plan's block into the text that holds its function's definition (module.c, or
// the units of a split translation). Each function, label and local must be found where
// expected in the writer's output, else the output is refused (unexpected output: fail closed).
// Returns how many blocks were inserted.
Result<size_t> insert_versioned_loops(const std::vector<std::string*>& texts,
                                      const std::vector<VersionedLoop>& plans);

}  // namespace wasmcap::aot
