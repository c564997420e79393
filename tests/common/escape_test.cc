// The one escaper for untrusted text (src/common/escape.h).
#include <gtest/gtest.h>

#include <string>

#include "common/escape.h"
#include "wasmcap/error.h"

namespace wasmcap::text {
namespace {

TEST(EscapeAscii, KeepsPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(escape_ascii("plain name_1.2-x", 64, ""), "plain name_1.2-x");
  EXPECT_EQ(escape_ascii("a\nb\x1b[2J\x7f\xc3\xa9", 64, ""), "a\\x0ab\\x1b[2J\\x7f\\xc3\\xa9");
  EXPECT_EQ(escape_ascii(std::string("nul\0x", 5), 64, ""), "nul\\x00x");
  // The caller's quote and the escape character itself, so \xNN stays unambiguous.
  EXPECT_EQ(escape_ascii("it's a\\b \"q\"", 64, "'\\"), "it\\x27s a\\x5cb \"q\"");
  // Bounded: at most max_bytes input bytes, then "...".
  EXPECT_EQ(escape_ascii(std::string(100000, 'a'), 8, ""), "aaaaaaaa...");
  EXPECT_EQ(escape_ascii("12345678", 8, ""), "12345678");
  EXPECT_EQ(escape_ascii(std::string(10, '\x1b'), 2, ""), "\\x1b\\x1b...");
}

TEST(EscapeAscii, QuoteUntrustedIsIt) {
  EXPECT_EQ(quote_untrusted("a\"b\\c\n", 64), "\"a\\x22b\\x5cc\\x0a\"");
  EXPECT_EQ(display_untrusted("main", 64), "main");
  EXPECT_EQ(display_untrusted("ma in", 64), "\"ma in\"");
}

TEST(EscapeForTerminal, ContentKeepsTabsNewlinesAndUtf8) {
  EXPECT_EQ(escape_for_terminal("a\tb\nc\r\x1b[2K\x07\x7f", ControlStyle::kCaret), "a\tb\nc^M^[[2K^G^?");
  EXPECT_EQ(escape_for_terminal("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", ControlStyle::kCaret),
            "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
  // C1 controls and the bidi controls as <U+XXXX>.
  EXPECT_EQ(escape_for_terminal("\xc2\x9b\xc2\x80\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\xaa\xe2\x80\xae"
                                "\xe2\x81\xa6\xe2\x81\xa9",
                                ControlStyle::kCaret),
            "<U+009B><U+0080><U+061C><U+200E><U+200F><U+202A><U+202E><U+2066><U+2069>");
  // Not strict UTF-8: over-long, surrogate, above U+10FFFF, truncated, stray continuation.
  EXPECT_EQ(escape_for_terminal("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x80\x80\xbf", ControlStyle::kCaret),
            "\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80\xe2\x80\x80\\xbf");
  EXPECT_EQ(escape_for_terminal("\xe2\x80", ControlStyle::kCaret), "\\xe2\\x80");
}

TEST(EscapeForTerminal, NamesEscapeEveryControlAndTheBackslash) {
  EXPECT_EQ(escape_for_terminal("a\tb\nc\\d\x7f", ControlStyle::kHex), "a\\x09b\\x0ac\\\\d\\x7f");
  EXPECT_EQ(escape_for_terminal("x\xe2\x80\xaey\xff", ControlStyle::kHex), "x<U+202E>y\\xff");
}

}  // namespace
}  // namespace wasmcap::text
