// libFuzzer target: the shell parser (src/shell/parse.cc) on arbitrary bytes. Scripts come from
// agents and users, so the parser sees hostile text. Beyond "no crash, no sanitizer report,
// no hang" (libFuzzer's -timeout) and bounded memory (-rss_limit_mb / -malloc_limit_mb):
// - an error is invalid_argument with a "line N: " message naming a line of the input;
// - a parsed script prints back (tests/shell/shell_ast.h) to text that parses to the same AST
//   (the round-trip oracle: one meaning per AST, whatever the quoting);
// - "incomplete" on success only for a text ending in a line continuation or holding a
//   here-document (whose delimiter line may not have come).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "shell/parse.h"
#include "shell_ast.h"

using namespace wasmcap;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  bool incomplete = false;
  auto r = shell::parse(text, &incomplete);
  if (!r) {
    check(r.error().code == ErrorCode::kInvalidArgument);
    const std::string& m = r.error().message;
    check(m.rfind("line ", 0) == 0);
    long line = std::strtol(m.c_str() + 5, nullptr, 10);
    size_t newlines = 0;
    for (char c : text) newlines += c == '\n';
    check(line >= 1 && static_cast<size_t>(line) <= newlines + 1);
    return 0;
  }
  if (incomplete) {
    check((text.size() >= 2 && text.compare(text.size() - 2, 2, "\\\n") == 0) ||
          text.find("<<") != std::string::npos);
  }
  std::string printed = shell::testing::print(*r);
  auto again = shell::parse(printed);
  check(static_cast<bool>(again));
  check(shell::testing::dump(*again) == shell::testing::dump(*r));
  return 0;
}
