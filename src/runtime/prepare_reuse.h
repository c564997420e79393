// A module loaded on the interpreter once, to be run many times (PreparedModule), for the two
// caches of loaded modules: a shell session's per bundle (shell::ToolModule::interp) and the MCP
// server's per verified module hash (mcp::ToolHost). One rule for both of what is kept.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wasmcap/runtime.h"

namespace wasmcap {

struct Reusable {
  // The loaded module; null when it does not prepare (a component, a module that does not
  // load): the caller runs the bytes, which reports the error as before, and need not try again.
  std::shared_ptr<const PreparedModule> module;
  // The load was refused by this caller's load budget (memory_limit): keep nothing, a caller
  // with a larger limit may load it.
  bool retry = false;
};

// Loads `bytes` (verified, hashing to `module_sha256`; shared with the loaded module, not
// copied) on the interpreter, checked against the load budget of `max_memory_bytes` (each run
// checks it again against its own limit).
inline Reusable prepare_for_reuse(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                  uint64_t max_memory_bytes,
                                  const std::string& module_sha256) {
  PrepareOptions po;
  po.engine = "interp";
  po.max_memory_bytes = max_memory_bytes;
  po.module_sha256 = module_sha256;
  auto p = PreparedModule::prepare(std::move(bytes), po);
  Reusable r;
  if (p) {
    r.module = std::move(*p);
  } else {
    r.retry = p.error().code == ErrorCode::kMemoryLimit;
  }
  return r;
}

}  // namespace wasmcap
