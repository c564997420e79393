// [[ =~ ]]'s regular expressions (regex.h): POSIX ERE translated to RE2's syntax, matched by RE2.
#include "shell/regex.h"

#include <re2/re2.h>

#include <array>
#include <cstdio>
#include <memory>

#include "common/escape.h"

namespace wasmcap::shell {

namespace {

constexpr size_t kMessageTextBytes = 64;

std::string shown(std::string_view s) { return text::escape_ascii(s, kMessageTextBytes, ""); }

tl::unexpected<Error> refused(std::string message) {
  return tl::unexpected(Error(ErrorCode::kInvalidArgument, std::move(message)));
}

// A regex glibc would refuse too, or one RE2 cannot match: what is wrong, then the regex.
tl::unexpected<Error> invalid(std::string_view why, std::string_view detail) {
  return refused("invalid regular expression (" + std::string(why) + "): " + shown(detail));
}

bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The bytes of the character at `i`: a whole UTF-8 sequence when its lead byte says so (cut at
// the end; RE2 refuses an invalid one), else one byte.
std::string_view char_at(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return s.substr(i, n);
}

// The character's code point, for range endpoints (a malformed sequence: its lead byte).
uint32_t code_point(std::string_view ch) {
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(ch[k])); };
  if (ch.size() == 2) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (ch.size() == 3) return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  if (ch.size() == 4) {
    return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
  return b(0);
}

// One character as an RE2 literal, inside brackets or out: letters, digits and multibyte
// characters as they are, controls as \x{..}, every other ASCII character escaped (RE2 reads
// `\` + punctuation as the character itself, never as an operator).
void literal(std::string& out, std::string_view ch) {
  auto c = static_cast<unsigned char>(ch[0]);
  if (ch.size() > 1 || c >= 0x80 || is_alnum(c)) {
    out.append(ch);
  } else if (c < 0x20 || c == 0x7F) {
    std::array<char, 8> hex{};
    std::snprintf(hex.data(), hex.size(), "\\x{%02x}", c);
    out += hex.data();
  } else {
    out += '\\';
    out += static_cast<char>(c);
  }
}

constexpr std::array<std::string_view, 12> kClasses = {"alnum", "alpha", "blank", "cntrl",
                                                        "digit", "graph", "lower", "print",
                                                        "punct", "space", "upper", "xdigit"};

// A bracket expression starting at re[i] == '['; appends its RE2 class, returns the index past
// its ']'. POSIX's rules: a ']' first is a member, a backslash is a member, `[:class:]`,
// `[=c=]` and `[.c.]` (single characters only), ranges by code point.
Result<size_t> bracket(std::string_view re, size_t i, std::string& out) {
  ++i;
  out += '[';
  if (i < re.size() && re[i] == '^') {
    out += '^';
    ++i;
  }
  bool first = true;
  while (true) {
    if (i >= re.size()) return invalid("unterminated bracket expression", re);
    if (re[i] == ']' && !first) break;
    first = false;
    // One member: a class, or a character (maybe a collating element) that may start a range.
    std::string_view ch;
    if (re[i] == '[' && i + 1 < re.size() &&
        (re[i + 1] == ':' || re[i + 1] == '=' || re[i + 1] == '.')) {
      char kind = re[i + 1];
      size_t close = re.find(std::string{kind, ']'}, i + 2);
      if (close == std::string_view::npos) {
        return invalid("unterminated bracket expression", re);
      }
      std::string_view name = re.substr(i + 2, close - i - 2);
      i = close + 2;
      if (kind == ':') {
        bool known = false;
        for (std::string_view k : kClasses) known = known || k == name;
        if (!known) return invalid("unknown character class", name);
        out += "[:";
        out.append(name);
        out += ":]";
        if (i + 1 < re.size() && re[i] == '-' && re[i + 1] != ']') {
          return invalid("a character class cannot start a range", re);
        }
        continue;
      }
      if (name.empty() || char_at(name, 0).size() != name.size()) {
        return invalid("only single-character collating elements are supported", name);
      }
      ch = name;
    } else {
      ch = char_at(re, i);
      i += ch.size();
    }
    if (i + 1 < re.size() && re[i] == '-' && re[i + 1] != ']') {
      std::string_view hi;
      if (re[i + 1] == '[' && i + 2 < re.size() && (re[i + 2] == '.' || re[i + 2] == '=')) {
        char kind = re[i + 2];
        size_t close = re.find(std::string{kind, ']'}, i + 3);
        if (close == std::string_view::npos) {
          return invalid("unterminated bracket expression", re);
        }
        hi = re.substr(i + 3, close - i - 3);
        if (hi.empty() || char_at(hi, 0).size() != hi.size()) {
          return invalid("only single-character collating elements are supported", hi);
        }
        i = close + 2;
      } else {
        hi = char_at(re, i + 1);
        i += 1 + hi.size();
      }
      if (code_point(hi) < code_point(ch)) {
        return invalid("invalid range end", std::string(ch) + "-" + std::string(hi));
      }
      literal(out, ch);
      out += '-';
      literal(out, hi);
      continue;
    }
    literal(out, ch);
  }
  out += ']';
  return i + 1;
}

// `{n}`, `{n,}`, `{n,m}`, `{,m}` at re[i] == '{': appends RE2's form, returns the index past '}'.
Result<size_t> interval(std::string_view re, size_t i, std::string& out) {
  size_t close = re.find('}', i);
  auto bad = [&] { return invalid("invalid repetition count", re.substr(i, 16)); };
  if (close == std::string_view::npos) return bad();
  std::string_view body = re.substr(i + 1, close - i - 1);
  size_t comma = body.find(',');
  std::string_view lo = body.substr(0, comma);
  std::string_view hi = comma == std::string_view::npos ? std::string_view() : body.substr(comma + 1);
  auto digits = [](std::string_view s) {
    if (s.size() > 6) return false;  // past RE2's 1000 anyway; keeps the number small
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (body.empty() || !digits(lo) || !digits(hi) || (lo.empty() && comma == std::string_view::npos)) {
    return bad();
  }
  if (!lo.empty() && !hi.empty() && std::stoul(std::string(hi)) < std::stoul(std::string(lo))) {
    return bad();
  }
  out += '{';
  out.append(lo.empty() ? std::string_view("0") : lo);
  if (comma != std::string_view::npos) {
    out += ',';
    out.append(hi);
  }
  out += '}';
  return close + 1;
}

}  // namespace

Result<std::string> translate_ere(std::string_view re) {
  if (re.size() > kMaxRegexBytes) {
    return refused("regular expression too long for =~: " + std::to_string(re.size()) +
                   " bytes (at most " + std::to_string(kMaxRegexBytes) + ")");
  }
  if (re.find('\0') != std::string_view::npos) return invalid("it holds a NUL byte", "");
  std::string out;
  size_t groups = 0;  // open groups
  // Whether there is something a repetition may apply to: not after `(`, `|`, an anchor or at
  // the start, where POSIX leaves a repetition undefined and glibc refuses it. A repetition of a
  // repetition is one (glibc reads `a**` as `(a*)*`, and so does RE2 in POSIX mode).
  bool operand = false;
  auto repetition = [&]() -> Result<void> {
    if (!operand) return invalid("a repetition operator needs something to repeat", re);
    return {};
  };
  for (size_t i = 0; i < re.size();) {
    char c = re[i];
    bool atom = true;
    switch (c) {
      case '\\': {
        if (i + 1 >= re.size()) return invalid("it ends in a backslash", re);
        std::string_view next = char_at(re, i + 1);
        i += 1 + next.size();
        switch (next[0]) {
          case 'w': out += "[[:alnum:]_]"; break;
          case 'W': out += "[^[:alnum:]_]"; break;
          case 's': out += "[[:space:]]"; break;
          case 'S': out += "[^[:space:]]"; break;
          case 'b': out += "\\b", atom = false; break;
          case 'B': out += "\\B", atom = false; break;
          case '`': out += "\\A", atom = false; break;
          case '\'': out += "\\z", atom = false; break;
          case '<':
          case '>':
            return invalid("\\< and \\> are not supported, use \\b", re);
          default:
            if (next[0] >= '1' && next[0] <= '9') {
              return invalid("back-references are not supported", re);
            }
            literal(out, next);
        }
        break;
      }
      case '[': {
        WASMCAP_TRY_ASSIGN(i, bracket(re, i, out));
        break;
      }
      case '(':
        ++groups;
        out += '(';
        ++i;
        atom = false;
        break;
      case ')':
        ++i;
        if (groups == 0) {
          out += "\\)";  // an unmatched ')' is an ordinary character (glibc)
        } else {
          --groups;
          out += ')';
        }
        break;
      case '|':
      case '^':
      case '$':
        out += c;
        ++i;
        atom = false;
        break;
      case '.':
        out += '.';
        ++i;
        break;
      case '*':
      case '+':
      case '?':
        WASMCAP_TRY(repetition());
        out += c;
        ++i;
        continue;
      case '{': {
        WASMCAP_TRY(repetition());
        WASMCAP_TRY_ASSIGN(i, interval(re, i, out));
        continue;
      }
      default: {
        std::string_view ch = char_at(re, i);
        literal(out, ch);
        i += ch.size();
      }
    }
    operand = atom;
  }
  if (groups != 0) return invalid("unmatched (", re);
  return out;
}

Result<RegexMatch> regex_match(std::string_view subject, std::string_view regex, bool ignore_case) {
  std::string translated;
  WASMCAP_TRY_ASSIGN(translated, translate_ere(regex));
  RE2::Options o;
  o.set_posix_syntax(true);   // POSIX classes, no Perl extensions but those translated to
  o.set_longest_match(true);  // leftmost-longest, as POSIX matches
  o.set_one_line(true);       // ^ and $ at the subject's ends only (no REG_NEWLINE)
  o.set_dot_nl(true);         // . matches a newline
  o.set_word_boundary(true);  // \b \B
  o.set_case_sensitive(!ignore_case);
  o.set_max_mem(kRegexMemory);
  o.set_log_errors(false);
  RE2 re(translated, o);
  if (!re.ok()) {
    return invalid(re.error(), regex);
  }
  uint64_t work = uint64_t(subject.size()) * uint64_t(std::max(re.ProgramSize(), 1));
  if (work > kMaxRegexWork) {
    return refused("=~ would cost too much: a " + std::to_string(subject.size()) +
                   "-byte subject times a regex of " + std::to_string(re.ProgramSize()) +
                   " instructions is past " + std::to_string(kMaxRegexWork) +
                   " (match a shorter string or a simpler regex)");
  }
  int n = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> m(static_cast<size_t>(n));
  RegexMatch out;
  re2::StringPiece text(subject.data(), subject.size());
  if (!re.Match(text, 0, subject.size(), RE2::UNANCHORED, m.data(), n)) return out;
  out.matched = true;
  for (const re2::StringPiece& g : m) out.groups.emplace_back(g.data() ? std::string(g) : std::string());
  return out;
}

std::string quote_regex(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\.[]()*+?{}|^$").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace wasmcap::shell
