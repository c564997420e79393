// Internal to wasmcap: the engine "auto" (make_engine("auto", ...), wasmcap/engine.h).
#pragma once

#include <memory>

#include "wasmcap/engine.h"

namespace wasmcap {

// Tiering as an engine of its own (docs/aot.md, "Engine choice"): each load() puts the module on
// the AOT engine when the cache holds its compiled object, and otherwise on the interpreter while
// a background compile prepares the object for a later load (or, with
// config.wait_for_compile, compiles first). The interpreter also takes modules that need fuel
// (config.metered), hosts without a C compiler, modules with exception handling, modules the AOT
// engine refuses (module_unsupported, compile_limit) and caches that fail on I/O. Module::engine()
// says which engine a loaded module runs on; config.notice hears why.
std::unique_ptr<Engine> make_tiered_engine(EngineConfig config);

}  // namespace wasmcap
