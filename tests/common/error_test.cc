#include "wasmcap/error.h"

#include <gtest/gtest.h>

#include <set>

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
  EXPECT_EQ(error_exit_code(ErrorCode::kFuelExhausted), 137);
  EXPECT_EQ(error_exit_code(ErrorCode::kDeadlineExceeded), 142);
  EXPECT_EQ(error_exit_code(ErrorCode::kInvalidArgument), 64);
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
}

}  // namespace
}  // namespace wasmcap
