// The AOT engine's module descriptions against the load of the wabt oracle (wabt's interpreter,
// tests/support/wabt_engine; describe_compare.cc), for tests/engine/validate_equiv.cc --describe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace wasmcap::fast_test {

struct DescribeVerdicts {
  // testing::make_wabt_reference_engine()->load(): "ok: <ModuleInfo>" or "error <code>: <message>"
  std::string reference;
  std::string own;        // describe_module(): the AOT engine's own description
  std::string via_fast;   // describe_via_fast(): --engine auto's, from the fast engine's load
  bool reference_ok = false;
  bool same() const { return reference == own && reference == via_fast; }
};

DescribeVerdicts compare_descriptions(const uint8_t* bytes, size_t size);

}  // namespace wasmcap::fast_test
