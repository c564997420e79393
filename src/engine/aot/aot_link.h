// Internal to wasmcap (not a public header): the AOT engine with the link check that runs
// before any compile (docs/aot.md, "Imports are checked first"). run_module() uses it.
#pragma once

#include <memory>

#include "wasmcap/engine.h"

namespace wasmcap {

// Like make_aot_engine(options), and load() first checks every imported function against
// `link_check` (names and signatures only; nothing in it is ever called). A module that cannot
// link is not translated or compiled: load() returns it without an object and instantiate()
// reports the interpreter's link error (same code, same message).
std::unique_ptr<Engine> make_aot_engine_linked(AotOptions options,
                                               std::shared_ptr<const HostFuncTable> link_check);

}  // namespace wasmcap
