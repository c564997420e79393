#include "wasmcap/error.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace wasmcap {
namespace {

TEST(ErrorTest, EveryCodeHasAUniqueStableName) {
  std::set<std::string_view> names;
#define WASMCAP_X(e, name, exit) names.insert(error_code_name(ErrorCode::e));
  WASMCAP_ERROR_CODES(WASMCAP_X)
#undef WASMCAP_X
  size_t count = 0;
#define WASMCAP_X(e, name, exit) ++count;
  WASMCAP_ERROR_CODES(WASMCAP_X)
#undef WASMCAP_X
  EXPECT_EQ(names.size(), count);
  EXPECT_EQ(error_code_name(ErrorCode::kTrapUnreachable), "trap_unreachable");
}

TEST(ErrorTest, ExitCodesAreNonZeroAndDocumentedValues) {
#define WASMCAP_X(e, name, exit) EXPECT_NE(error_exit_code(ErrorCode::e), 0) << name;
  WASMCAP_ERROR_CODES(WASMCAP_X)
#undef WASMCAP_X
  EXPECT_EQ(error_exit_code(ErrorCode::kFuelExhausted), 81);
  EXPECT_EQ(error_exit_code(ErrorCode::kDeadlineExceeded), 82);
  EXPECT_EQ(error_exit_code(ErrorCode::kInvalidArgument), 64);
}

// wasmcap's own exit codes stay out of 126-165 (shell "not executable"/"not found" and
// "killed by signal N-128": 137 reads as OOM-killed to supervisors).
TEST(ErrorTest, ExitCodesStayOutOfTheShellAndSignalRange) {
#define WASMCAP_X(e, name, exit) \
  EXPECT_TRUE(error_exit_code(ErrorCode::e) < 126) << name << " exits " << error_exit_code(ErrorCode::e);
  WASMCAP_ERROR_CODES(WASMCAP_X)
#undef WASMCAP_X
}

// docs/cli.md "Exit status" lists every code with the number the code uses: a table row
// "| N | ... `name` ..." (trap codes are listed once as `trap_*`).
TEST(ErrorTest, CliDocListsEveryExitCode) {
  std::ifstream in(std::string(WASMCAP_SOURCE_DIR) + "/docs/cli.md");
  ASSERT_TRUE(in) << "docs/cli.md";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  auto row_has = [&](int exit, const std::string& name) {
    std::string prefix = "\n| " + std::to_string(exit) + " | ";
    for (size_t at = doc.find(prefix); at != std::string::npos; at = doc.find(prefix, at + 1)) {
      size_t eol = doc.find('\n', at + 1);
      if (doc.substr(at, eol - at).find("`" + name + "`") != std::string::npos) return true;
    }
    return false;
  };
#define WASMCAP_X(e, name, exit)                                                          \
  EXPECT_TRUE(row_has(exit, is_trap(ErrorCode::e) ? std::string("trap_*") : std::string(name))) \
      << "docs/cli.md has no row '| " << exit << " | ... `" << name << "`'";
  WASMCAP_ERROR_CODES(WASMCAP_X)
#undef WASMCAP_X
}

TEST(ErrorTest, ToStringPrefixesTheCodeName) {
  Error e(ErrorCode::kLinkError, "unknown import x.y");
  EXPECT_EQ(e.to_string(), "link_error: unknown import x.y");
  EXPECT_TRUE(is_trap(ErrorCode::kTrapStackExhausted));
  EXPECT_FALSE(is_trap(ErrorCode::kFuelExhausted));
}

TEST(ErrorTest, QuoteUntrustedEscapesEverythingButPrintableAscii) {
  EXPECT_EQ(quote_untrusted("env.f"), "\"env.f\"");
  // Line breaks, terminal escapes, quotes, backslashes, NUL and non-ASCII are hex-escaped, so a
  // name can neither start a new log line nor close the quotes around it.
  EXPECT_EQ(quote_untrusted(std::string("a\nb\x1b[2J\"\\\0\xe2\x80\xa8", 13)),
            "\"a\\x0ab\\x1b[2J\\x22\\x5c\\x00\\xe2\\x80\\xa8\"");
  std::string huge(1 << 20, 'x');
  std::string q = quote_untrusted(huge);
  EXPECT_EQ(q.size(), 1 + 64 + 3 + 1);
  EXPECT_EQ(q.substr(q.size() - 4), "...\"");
  EXPECT_EQ(quote_untrusted(huge, 8), "\"xxxxxxxx...\"");
  EXPECT_EQ(display_untrusted("wasi_snapshot_preview1"), "wasi_snapshot_preview1");
  EXPECT_EQ(display_untrusted("a b"), "\"a b\"");
  EXPECT_EQ(display_untrusted(""), "\"\"");
  EXPECT_EQ(display_untrusted("x\ny"), "\"x\\x0ay\"");
  EXPECT_EQ(display_untrusted(huge).size(), 1 + 64 + 3 + 1);
}

}  // namespace
}  // namespace wasmcap
