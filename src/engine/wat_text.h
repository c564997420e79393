// Modules in the WebAssembly text format (.wat) given where a module file is read
// (read_module_file: `run`, `plan`, `inspect`, `compile`, the C API's module_new_from_file),
// turned into the binary format by wabt's text parser (docs/cli.md, "Text modules").
//
// Threat: the text is as hostile as any module, and wabt's parser has no bounds of its own: it
// recurses once per level of nesting (parentheses, and block/loop/if/try ... end), so deep
// nesting overflows the host's stack, and it allocates host structures per token. Bounds, each
// checked before wabt sees a byte:
// - the text is at most kMaxTextBytes (read_module_file reads no more of a .wat file);
// - its nesting, counted by a scan that follows the text format's comments and strings, is at
//   most kMaxNesting levels, and wabt runs on a thread whose stack holds that many levels with
//   room to spare (kParserStackBytes);
// Errors are module_malformed, naming the file, line and column of the first error, with the
// text's own words quoted as untrusted text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::wat {

inline constexpr size_t kMaxTextBytes = size_t{4} << 20;
inline constexpr uint32_t kMaxNesting = 2048;
inline constexpr size_t kParserStackBytes = size_t{64} << 20;

// True when `path` names a text module (it ends in ".wat").
bool is_text_path(std::string_view path);

// The deepest nesting of `text` (parentheses plus unfolded block instructions), as the bound
// counts it.
uint32_t nesting_depth(std::string_view text);

// The binary module `text` describes. `name` names it in messages (the path).
Result<std::vector<uint8_t>> text_to_binary(std::string_view name, std::string_view text);

}  // namespace wasmcap::wat
