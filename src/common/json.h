// Internal: the one JSON decoder for bytes wasmcap did not just produce itself in this call
// (tool output, manifests, host configs, workspace records, JSON-RPC messages, audit lines) and
// for the re-reads of its own output. Every `parse` of JSON text in src/ goes through
// json::parse (tests/common/json_test.cc fails the build's tests when a raw nlohmann parse
// call appears anywhere else).
//
// Why: nlohmann's parser is iterative, but copying, comparing and serialising a value recurse
// once per nesting level. A tool printing `[[[[...` 400,000 levels deep (800 KB) used to parse
// fine and then overflow the server's stack when the value was copied into the response
// (SIGSEGV: every session and call in flight died). Here the depth bound is enforced *while*
// parsing, by our own SAX handler that builds the value and stops at the first level over the
// bound, so no value deeper than the bound ever exists and every later walk is bounded too.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wasmcap/error.h"

namespace wasmcap::json {

using Json = nlohmann::json;

// The nesting bound of JSON wasmcap reads that is not a policy document (those have their own,
// lower policy::kMaxNestingDepth): JSON-RPC messages, tool output, records, and re-reads of
// text wasmcap produced. Real MCP traffic nests well under 20 levels; 64 levels keep every
// recursive walk (copy, compare, dump, schema validation) at a few KB of stack.
inline constexpr size_t kMaxDepth = 64;

// Bounds of one parse. Each call site names its own (see the constants at the sites); there
// is no unbounded parse.
struct Limits {
  size_t max_bytes;   // larger text is refused unread
  size_t max_depth;   // arrays/objects nested deeper than this are refused (1 = flat object)
  bool unique_keys = false;  // refuse an object with a repeated key (policy documents)
};

// Why a parse failed. `path` is the JSON path of the offending value ("$" for the whole text),
// `message` the reason without it ("nested deeper than 16 levels", "duplicate key",
// "malformed JSON at line 1, column 7: ..."). Untrusted text in either is escaped and cut.
struct ParseError {
  enum class Kind { kTooLarge, kTooDeep, kDuplicateKey, kSyntax };
  Kind kind = Kind::kSyntax;
  std::string path = "$";
  std::string message;
  // "PATH: MESSAGE", the path cut to a readable length (a path of 64 long keys would be KBs).
  std::string to_string() const;
};

// Parses `text` within `limits`. Never throws, never recurses per nesting level.
tl::expected<Json, ParseError> parse(std::string_view text, const Limits& limits);

// The same as a Result: Error(code, WHAT + ": " + error.to_string()).
Result<Json> parse(std::string_view text, const Limits& limits, ErrorCode code,
                   std::string_view what);

// Serialises a value (compact; invalid UTF-8 replaced by U+FFFD instead of throwing).
std::string dump(const Json& value);

// Nesting depth of `value` (a scalar is 0, `[]` and `{}` are 1), computed without recursion.
size_t depth(const Json& value);

// Quotes untrusted text for an error message: printable ASCII kept, the rest escaped (\xNN),
// at most 80 bytes of it, so a hostile document cannot forge or flood diagnostics.
std::string quote(std::string_view s);

// JSON path of member `key` of the value at `path`: "$.a.b", or $.a["odd key"] when the key is
// not a plain identifier; of element `index`: "$.a[3]".
std::string member_path(const std::string& path, std::string_view key);
std::string index_path(const std::string& path, size_t index);

}  // namespace wasmcap::json
