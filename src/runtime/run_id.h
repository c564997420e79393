// The run's invocation id, as run_module and the run pipeline (resolve_run) both settle it.
#pragma once

#include <string>

#include "wasmcap/error.h"

namespace wasmcap::runtime_detail {

// Empty: a new random id (make_invocation_id). Otherwise it must pass is_valid_invocation_id
// (invalid_argument). Defined in runtime.cc.
Result<void> settle_invocation_id(std::string& id);

}  // namespace wasmcap::runtime_detail
