#include "wasmcap/error.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "test_paths.h"

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
  std::ifstream in(std::string(test_paths::source_dir()) + "/docs/cli.md");
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

// --- WASMCAP_TRY / WASMCAP_TRY_ASSIGN ----------------------------------------------------------

Result<int> int_or_error(bool ok, int* calls) {
  ++*calls;
  if (!ok) return make_error(ErrorCode::kNotFound, "no such thing");
  return 7;
}

Result<void> void_or_error(bool ok) {
  if (!ok) return make_error(ErrorCode::kIo, "disk on fire");
  return {};
}

// A function of another Result type: the error crosses over unchanged.
Result<std::string> uses_try(bool int_ok, bool void_ok, int* calls, bool* reached_end) {
  WASMCAP_TRY(int_or_error(int_ok, calls));
  WASMCAP_TRY(void_or_error(void_ok));
  *reached_end = true;
  return std::string("done");
}

TEST(ErrorTry, PropagatesTheFirstErrorUnchangedAndEvaluatesOnce) {
  int calls = 0;
  bool end = false;
  auto r = uses_try(false, true, &calls, &end);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "no such thing");
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(end) << "WASMCAP_TRY went on after an error";

  calls = 0;
  r = uses_try(true, false, &calls, &end);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_EQ(r.error().message, "disk on fire");
  EXPECT_FALSE(end);

  r = uses_try(true, true, &calls, &end);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, "done");
  EXPECT_TRUE(end);
}

// A named Result (here one that outlives the function, as a member would) is left as it was:
// its error is copied out, not moved (a moved-from message would be empty afterwards). A
// move-only value compiles: the Result itself is never copied.
Result<void> try_named(Result<std::unique_ptr<int>>& outer) {
  WASMCAP_TRY(outer);
  return {};
}

TEST(ErrorTry, NamedResultIsNeitherCopiedNorMovedFrom) {
  Result<std::unique_ptr<int>> outer = make_error(ErrorCode::kGrantDenied, "not granted: fs /w");
  auto r = try_named(outer);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "not granted: fs /w");
  ASSERT_FALSE(outer.has_value());
  EXPECT_EQ(outer.error().message, "not granted: fs /w");
  Result<std::unique_ptr<int>> fine = std::make_unique<int>(3);
  EXPECT_TRUE(try_named(fine).has_value());
  EXPECT_EQ(**fine, 3);
}

Result<int> assign_from(Result<std::unique_ptr<int>> temp, Result<std::string>& named,
                        std::string* copy) {
  std::unique_ptr<int> p;
  WASMCAP_TRY_ASSIGN(p, std::move(temp));  // a temporary's value is moved
  WASMCAP_TRY_ASSIGN(*copy, named);        // a named Result's value is copied
  return *p;
}

TEST(ErrorTry, AssignTakesTheValueOrReturnsTheError) {
  std::string copy;
  Result<std::string> named = std::string("kept");
  auto r = assign_from(std::make_unique<int>(41), named, &copy);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, 41);
  EXPECT_EQ(copy, "kept");
  EXPECT_EQ(*named, "kept");

  copy.clear();
  r = assign_from(make_error(ErrorCode::kBundleInvalid, "bad entry"), named, &copy);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  EXPECT_EQ(r.error().message, "bad entry");
  EXPECT_EQ(copy, "") << "WASMCAP_TRY_ASSIGN went on after an error";

  Result<std::string> failed = make_error(ErrorCode::kConfigInvalid, "bad config");
  r = assign_from(std::make_unique<int>(1), failed, &copy);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "bad config");
  EXPECT_EQ(failed.error().message, "bad config");
}

}  // namespace
}  // namespace wasmcap
