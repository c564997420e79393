// libFuzzer target: what nested shells' command lines and scripts' #! lines ask for
// (src/shell/nested.cc). Both are script-controlled text. Beyond "no crash, no sanitizer report":
// - a #! line is refused or names a non-empty interpreter with no '/' and no blank, and never
//   one from past the first kMaxShebangBytes bytes;
// - an error message is bounded (its words are shown escaped, at most 64 input bytes each, the
//   shell's name at most 32);
// - a nested command line's source and operands come from the words given.
// Input: the first byte picks the parser; the rest is the #! head, or NUL-separated words.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "shell/nested.h"

using namespace wasmcap;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto s = shell::parse_shebang(text);
    if (!s) {
      check(s.error().message.size() < 400);
      return 0;
    }
    if (s->interpreter.empty()) return 0;
    check(text.size() >= 2 && text[0] == '#' && text[1] == '!');
    check(s->interpreter.find('/') == std::string::npos);
    check(s->interpreter.find_first_of(" \t\n") == std::string::npos);
    size_t nl = text.find('\n');
    check((nl == std::string_view::npos ? text.size() : nl) <= shell::kMaxShebangBytes);
    return 0;
  }
  std::vector<std::string_view> words;
  for (size_t i = 0; i <= text.size();) {
    size_t j = text.find('\0', i);
    if (j == std::string_view::npos) j = text.size();
    words.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  auto n = shell::parse_nested_argv(words);
  if (!n) {
    check(n.error().message.size() < 600);
    return 0;
  }
  check(n->args.size() < words.size());
  return 0;
}
