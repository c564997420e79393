// Internal: RFC 8785 JSON Canonicalization Scheme (JCS). The bytes a bundle signature covers are
// the JCS form of the manifest, so two spellings of one manifest (key order, whitespace, number
// and string spellings) verify alike, and one spelling cannot mean two things.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "wasmcap/error.h"

namespace wasmcap::bundle {

// Largest integer magnitude JCS can carry exactly: JCS numbers are IEEE-754 doubles, so a larger
// integer would be signed as a different (rounded) value than the one written.
constexpr uint64_t kMaxExactInteger = uint64_t{1} << 53;

// The canonical UTF-8 text of `value` (RFC 8785): object members sorted by the UTF-16 code units
// of their names, strings with the minimal escaping of RFC 8785 §3.2.2.2 (non-ASCII literal,
// control characters as \u00xx unless they have a short form), numbers in ECMAScript
// Number.prototype.toString form (RFC 8785 §3.2.2.3), no whitespace.
// Errors (invalid_argument): a NaN or infinite number, an integer beyond ±2^53, a string or key
// that is not valid UTF-8, a binary or discarded value.
Result<std::string> canonicalize(const nlohmann::json& value);

// One number in ECMAScript shortest round-trip form ("1e+21", "0.000001", "1e-7", -0 → "0").
// invalid_argument for NaN and infinities.
Result<std::string> format_number(double d);

}  // namespace wasmcap::bundle
