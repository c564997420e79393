// The one escaper for untrusted text (#29 item 7): every byte a module, guest, tool, bundle,
// workspace or client chose that reaches a message, a log line or a terminal goes through one of
// these two functions, so the rules cannot drift between callers.
//
// Threats: a hostile name or output forging lines (newlines), driving the reader's terminal
// (ESC/CSI/OSC sequences: erase lines, set the clipboard with OSC 52, plant OSC 8 links),
// reordering what is read (Unicode bidirectional controls), or flooding a log (length).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wasmcap::text {

// For messages and log lines: printable ASCII (0x20-0x7E) kept, except the bytes in
// `also_escaped` (a caller's quote character, '\\'); every other byte as \xNN. At most
// `max_bytes` input bytes, then "..." when more follow.
std::string escape_ascii(std::string_view s, size_t max_bytes, std::string_view also_escaped);

// For a terminal, UTF-8 aware: valid UTF-8 is kept, so names and text in any script read as
// written, except C1 controls (U+0080-U+009F) and the bidirectional controls (U+061C, U+200E,
// U+200F, U+202A-U+202E, U+2066-U+2069), shown as <U+XXXX>; bytes that are not strict UTF-8
// (over-long forms, surrogates, > U+10FFFF, stray bytes) as \xNN. ASCII controls by `style`.
enum class ControlStyle {
  kCaret,  // content (diffs): TAB and LF kept, other C0 controls and DEL as cat -v shows them
           // (ESC is ^[, CR is ^M, DEL is ^?)
  kHex,    // names (paths): every C0 control and DEL as \xNN, '\\' as \\ (so \xNN is unambiguous)
};
std::string escape_for_terminal(std::string_view s, ControlStyle style);

}  // namespace wasmcap::text
