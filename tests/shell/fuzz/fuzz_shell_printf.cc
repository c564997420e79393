// libFuzzer target: the printf builtin's format language, echo -e's escapes and %q
// (src/shell/printf.h). Formats and arguments come from scripts. Input: one flags byte (utf8),
// then NUL-separated fields: the format, then the arguments. Beyond "no crash, no sanitizer
// report, no hang, no allocation past -malloc_limit_mb":
// - the output stays within max_output, or the result is output_limit;
// - at most kMaxPrintfMessages messages, each printable ASCII (untrusted text escaped);
// - echo_escapes grows its input at most 2.5 times (`\U80` prints as `\U00000080` in the C
//   locale), and %q of any argument contains no control byte.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "shell/printf.h"

using namespace wasmcap;
using namespace wasmcap::shell;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
bool printable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  PrintfOptions opts;
  opts.utf8 = data[0] & 1;
  opts.max_output = 1 << 16;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> fields;
  while (true) {
    size_t nul = rest.find('\0');
    fields.emplace_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  std::string format = fields.front();
  std::vector<std::string> args(fields.begin() + 1, fields.end());
  auto r = format_printf(format, args, opts);
  if (r) {
    check(r->out.size() <= opts.max_output);
    check(r->messages.size() <= kMaxPrintfMessages);
    for (const auto& m : r->messages) check(printable(m));
    check(r->status == 0 || r->status == 1);
  } else {
    check(r.error().code == ErrorCode::kOutputLimit);
  }
  for (const auto& a : fields) {
    bool stop = false;
    std::string e = echo_escapes(a, opts.utf8, &stop);
    check(e.size() <= a.size() * 5 / 2 + 1);
    std::string q = shell_quote(a, opts.utf8);
    for (char c : q) check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
  }
  return 0;
}
