// Component values as JSON, and their JSON Schema (docs/components.md, "Values as JSON"): the one
// mapping `wasmcap call --json`, MCP component tools and typed C API calls share. json_to_val
// converts a JSON value into a component value (val.h) of a WIT type, refusing anything the type
// does not admit with an error naming the JSON path; val_to_json converts a value a component
// returned back; json_schema describes, as JSON Schema 2020-12, exactly the JSON json_to_val
// accepts for a type (MCP's inputSchema/outputSchema).
//
// Every JSON value and every component value given here is hostile. The work one conversion does
// is bounded by JsonValOptions (nesting depth, JSON values, string and byte-list bytes) in both
// directions, checked before the memory is taken; recursion follows the WIT type, whose depth the
// decoder bounds (kMaxValTypeDepth), and JSON nesting is checked against max_depth before any
// element of an array or object is read. Every error is invalid_argument, "PATH: what was
// expected, got what" (untrusted text quoted and cut).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "component/component.h"
#include "component/val.h"
#include "wasmcap/error.h"

namespace wasmcap::component {

// The largest integer magnitude a JSON number carries exactly in every JSON implementation
// (IEEE doubles, JavaScript's Number.MAX_SAFE_INTEGER = 2^53 - 1). s64/u64 values beyond it are
// decimal strings; JSON numbers beyond it are refused for them (a client may have rounded them).
inline constexpr uint64_t kJsonMaxSafeInteger = (uint64_t{1} << 53) - 1;

// Bounds of one conversion (params of one call share them). Defaults: docs/components.md.
struct JsonValOptions {
  // The JSON path of the value converted, the prefix of every error's path ("$.params.arguments").
  std::string path = "$";
  // Arrays/objects nested deeper than this are refused ([] is 1 level, a scalar 0), before any
  // of their elements is read. Each WIT type level takes at most one JSON level, so a value of
  // any type the decoder accepts (at most kMaxValTypeDepth deep) fits, inside a parameter
  // object too.
  size_t max_depth = kMaxValTypeDepth + 1;
  // JSON values (every scalar, array, object and member) one conversion may visit or produce; a
  // list longer than what is left is refused before its elements are converted.
  uint64_t max_nodes = 1000000;
  // Bytes of strings, chars and byte lists (list<u8>, decoded) one conversion may copy.
  uint64_t max_bytes = uint64_t{64} << 20;
};

// Converts `j` into a value of type `t` (a type of d.types, or a primitive).
Result<Val> json_to_val(const Decoded& d, ValType t, const nlohmann::json& j, const JsonValOptions& o = {});

// Converts a value of type `t` into JSON. A value that does not have the type (a wrong kind, a
// case out of range, a string that is not UTF-8) is an error, never mangled.
Result<nlohmann::json> val_to_json(const Decoded& d, ValType t, const Val& v, const JsonValOptions& o = {});

// A function's arguments from a JSON object of its named parameters (the WIT names): an unknown
// name is an error, a missing one too unless its type is option<T> (then it is none). `func` is a
// kFunc TypeDef (exported_func_type, component.h).
Result<std::vector<Val>> json_to_args(const Decoded& d, const TypeDef& func, const nlohmann::json& args,
                                      const JsonValOptions& o = {});

// A function's results as JSON: its result's value, or null for a function without one.
Result<nlohmann::json> results_to_json(const Decoded& d, const TypeDef& func, const std::vector<Val>& results,
                                       const JsonValOptions& o = {});

// Parses JSON text for json_to_args/json_to_val with the project's bounded parser: at most
// o.max_bytes bytes, nested at most o.max_depth deep, and an object with a repeated key refused
// (which of two values was meant is unknowable; JSON parsers disagree).
Result<nlohmann::json> parse_json_value(std::string_view text, const JsonValOptions& o = {});

// JSON Schema 2020-12 of the JSON json_to_val accepts for type `t` (resources: `false`). The
// bounds of JsonValOptions are not part of it.
nlohmann::json json_schema(const Decoded& d, ValType t);
// ... of the object json_to_args accepts: properties per parameter, `required` the parameters
// that are not options, additionalProperties false.
nlohmann::json params_schema(const Decoded& d, const TypeDef& func);
// ... of what results_to_json produces (null for a function without a result).
nlohmann::json result_schema(const Decoded& d, const TypeDef& func);

}  // namespace wasmcap::component
