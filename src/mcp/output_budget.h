// Internal: a call's output bound counted in what it costs as JSON (docs/mcp.md, "Limits").
//
// A tool's stdout and stderr travel as JSON strings, where a control byte takes six bytes
// (\u001b), a quote, backslash or line break two, and a byte that is not UTF-8 the three of
// U+FFFD. Counted in raw bytes, a 1 MiB bound let a call send ~6 MiB of JSON (and the server
// build, copy and write it). These helpers measure and cut text by its escaped size, exactly as
// the server's JSON writer (nlohmann::json's dump, ensure_ascii off, invalid UTF-8 replaced)
// will write it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wasmcap::mcp {

// An output bound (--max-output-bytes; 0: none) as a budget for cut_to_json_budget.
inline uint64_t json_budget(uint64_t max_output_bytes) {
  return max_output_bytes != 0 ? max_output_bytes : UINT64_MAX;
}

// The bytes `s` takes between the quotes of a JSON string.
uint64_t json_text_size(std::string_view s);

// Cuts `s` to its longest prefix (ending on a character: never inside a UTF-8 sequence) whose
// JSON size fits in `budget`, and takes that size from `budget`. Texts that share one bound are
// cut one after the other with the same budget. Returns whether anything was cut.
bool cut_to_json_budget(std::string& s, uint64_t& budget);

}  // namespace wasmcap::mcp
