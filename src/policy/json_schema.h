// Internal: the subset of JSON Schema (2020-12 vocabulary) that tool manifests may use, and a
// validator for it. Written here rather than taken from a library because Debian 12 packages no
// C++ JSON Schema validator, and because the subset must be *closed*: a manifest using a keyword
// we do not implement is refused at parse time, so no constraint an author wrote is silently
// ignored when arguments are checked. Keywords that could cost the host unbounded work
// (`pattern`: regular expressions, `$ref`: recursion) are deliberately outside the subset.
//
// Accepted keywords (docs/manifest.md#tool-schemas): type, properties, required, items, enum,
// const, additionalProperties, minLength, maxLength, minimum, maximum, minItems, maxItems, and
// the annotations title, description, default, examples, $schema.
#pragma once

#include <optional>
#include <string>

#include "policy/json_doc.h"

namespace wasmcap::policy {

// At most this many keywords in one schema document (all levels): bounds validation cost per
// value to (value size) × (schema size), both capped.
constexpr size_t kMaxSchemaNodes = 4096;

// Checks that `schema` uses only the accepted subset, with well-typed keyword values. Errors use
// `d`'s file name and the JSON path of the offending keyword.
Result<void> check_schema(const Doc& d, const Json& schema, const std::string& path);

// Validates `value` against a schema that passed check_schema. Returns the first violation as
// "$.path: problem" (untrusted text quoted), or nullopt when the value conforms.
std::optional<std::string> validate_against_schema(const Json& schema, const Json& value);

}  // namespace wasmcap::policy
