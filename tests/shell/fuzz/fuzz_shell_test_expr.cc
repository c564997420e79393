// libFuzzer target: test / [ and [[ ]]'s leaves (src/shell/test_expr.h) on arbitrary argument
// lists, and =~'s regex bounds. Input: NUL-separated arguments. Beyond "no crash, no sanitizer
// report, no hang":
// - eval_test's error is invalid_argument, and `[` with the same arguments plus "]" gives the
//   same result as test;
// - regex_match with the first argument as the regex and the second as the subject either
//   refuses the regex (invalid_argument) or returns groups that are substrings of the subject.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "shell/regex.h"
#include "shell/test_expr.h"

using namespace wasmcap;
using namespace wasmcap::shell;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}

// A deterministic file system: a path exists when its length is even; its kind and times
// follow from its bytes.
class FakeEnv : public TestEnv {
 public:
  std::optional<FileInfo> stat(std::string_view path, bool follow) override {
    if (path.size() % 2 != 0) return std::nullopt;
    FileInfo f;
    unsigned h = 0;
    for (char c : path) h = h * 31 + static_cast<unsigned char>(c);
    f.type = static_cast<FileInfo::Type>(h % (follow ? 7 : 8));
    f.size = h % 3;
    f.mode = h & 07777;
    f.ino = h;
    f.mtime_ns = h % 5;
    f.atime_ns = h % 7;
    return f;
  }
  bool access(std::string_view path, char mode) override { return (path.size() + mode) % 3 == 0; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> argv;
  while (!in.empty() && argv.size() < 64) {
    size_t nul = in.find('\0');
    argv.emplace_back(in.substr(0, nul));
    if (nul == std::string_view::npos) break;
    in.remove_prefix(nul + 1);
  }
  FakeEnv env;
  auto t = eval_test(argv, false, env);
  if (!t) check(t.error().code == ErrorCode::kInvalidArgument);
  std::vector<std::string> bracket = argv;
  bracket.emplace_back("]");
  auto b = eval_test(bracket, true, env);
  check(t.has_value() == b.has_value());
  if (t) check(*t == *b);
  if (argv.size() >= 2) {
    auto m = regex_match(argv[1], argv[0]);
    if (!m) {
      check(m.error().code == ErrorCode::kInvalidArgument);
    } else if (m->matched) {
      for (const auto& g : m->groups) check(g.empty() || argv[1].find(g) != std::string::npos);
    }
  }
  return 0;
}
