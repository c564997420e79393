// test / [ and the leaves of [[ ]] (test_expr.h).
#include "shell/test_expr.h"

#include <cctype>
#include <memory>

#include "common/escape.h"

namespace wasmcap::shell {

namespace {

constexpr size_t kMessageTextBytes = 64;

std::string shown(std::string_view s) { return text::escape_ascii(s, kMessageTextBytes, ""); }

tl::unexpected<Error> syntax(std::string message) {
  return tl::unexpected(Error(ErrorCode::kInvalidArgument, std::move(message)));
}

Result<int64_t> integer(std::string_view s) {
  if (auto v = legal_number(s)) return *v;
  return syntax(shown(s) + ": integer expression expected");
}

constexpr std::string_view kUnary[] = {"-a", "-b", "-c", "-d", "-e", "-f", "-g", "-h", "-k",
                                       "-n", "-o", "-p", "-r", "-s", "-t", "-u", "-v", "-w",
                                       "-x", "-z", "-G", "-L", "-N", "-O", "-R", "-S"};
constexpr std::string_view kBinary[] = {"=",   "==",  "!=",  "<",   ">",   "-nt", "-ot", "-ef",
                                        "-eq", "-ne", "-lt", "-le", "-gt", "-ge"};

}  // namespace

std::optional<int64_t> legal_number(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  while (n > i && std::isspace(static_cast<unsigned char>(s[n - 1]))) --n;
  bool negative = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i == n) return std::nullopt;
  uint64_t v = 0;
  const uint64_t limit = negative ? uint64_t(INT64_MAX) + 1 : uint64_t(INT64_MAX);
  for (; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    uint64_t d = uint64_t(s[i] - '0');
    if (v > (limit - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

Result<int64_t> TestEnv::arith(std::string_view expr) { return integer(expr); }

bool is_test_unary_op(std::string_view op) {
  for (std::string_view u : kUnary) {
    if (u == op) return true;
  }
  return false;
}

bool is_test_binary_op(std::string_view op, bool dbracket) {
  if (dbracket && op == "=~") return true;
  for (std::string_view b : kBinary) {
    if (b == op) return true;
  }
  return false;
}

Result<bool> test_unary(std::string_view op, std::string_view arg, TestEnv& env) {
  using T = FileInfo::Type;
  if (op.size() != 2 || op[0] != '-') return syntax(shown(op) + ": unary operator expected");
  char c = op[1];
  switch (c) {
    case 'n': return !arg.empty();
    case 'z': return arg.empty();
    case 'o': return env.option_set(arg);
    case 'v': return env.variable_set(arg);
    case 'R': return false;  // namerefs are not supported
    case 't': {
      auto fd = legal_number(arg);
      return fd.has_value() && env.isatty(*fd);
    }
    case 'r': case 'w': case 'x': return env.access(arg, c);
    default: break;
  }
  bool follow = c != 'h' && c != 'L';
  if (!is_test_unary_op(op)) return syntax(shown(op) + ": unary operator expected");
  std::optional<FileInfo> info = env.stat(arg, follow);
  if (!info) return false;
  switch (c) {
    case 'a': case 'e': return true;
    case 'b': return info->type == T::kBlock;
    case 'c': return info->type == T::kChar;
    case 'd': return info->type == T::kDirectory;
    case 'f': return info->type == T::kRegular;
    case 'p': return info->type == T::kFifo;
    case 'S': return info->type == T::kSocket;
    case 'h': case 'L': return info->type == T::kSymlink;
    case 's': return info->size > 0;
    case 'g': return (info->mode & 02000) != 0;
    case 'u': return (info->mode & 04000) != 0;
    case 'k': return (info->mode & 01000) != 0;
    case 'G': return info->group_is_egid;
    case 'O': return info->owned_by_euid;
    case 'N': return info->mtime_ns > info->atime_ns;
    default: return syntax(shown(op) + ": unary operator expected");
  }
}

namespace {

Result<bool> compare_files(std::string_view lhs, std::string_view op, std::string_view rhs,
                           TestEnv& env) {
  std::optional<FileInfo> a = env.stat(lhs, true), b = env.stat(rhs, true);
  if (op == "-ef") return a && b && a->dev == b->dev && a->ino == b->ino;
  if (op == "-nt") return a && (!b || a->mtime_ns > b->mtime_ns);
  return b && (!a || a->mtime_ns < b->mtime_ns);  // -ot
}

}  // namespace

Result<bool> test_binary(std::string_view lhs, std::string_view op, std::string_view rhs,
                         TestEnv& env, const BinaryOptions& opts) {
  if (op == "=" || op == "==" || op == "!=") {
    bool equal = lhs == rhs;
    if (opts.dbracket) {
      if (opts.work == nullptr) {
        return make_error(ErrorCode::kInternal, "[[ == ]] needs a MatchWork");
      }
      Pattern p;
      WASMCAP_TRY_ASSIGN(p, Pattern::compile(rhs, opts.pattern));
      WASMCAP_TRY_ASSIGN(equal, p.match(lhs, *opts.work));
    }
    return op == "!=" ? !equal : equal;
  }
  if (op == "<") return lhs < rhs;
  if (op == ">") return lhs > rhs;
  if (op == "-nt" || op == "-ot" || op == "-ef") return compare_files(lhs, op, rhs, env);
  if (op.size() == 3 && op[0] == '-') {
    int64_t a = 0, b = 0;
    if (opts.dbracket) {
      WASMCAP_TRY_ASSIGN(a, env.arith(lhs));
      WASMCAP_TRY_ASSIGN(b, env.arith(rhs));
    } else {
      WASMCAP_TRY_ASSIGN(a, integer(lhs));
      WASMCAP_TRY_ASSIGN(b, integer(rhs));
    }
    if (op == "-eq") return a == b;
    if (op == "-ne") return a != b;
    if (op == "-lt") return a < b;
    if (op == "-le") return a <= b;
    if (op == "-gt") return a > b;
    if (op == "-ge") return a >= b;
  }
  return syntax(shown(op) + ": binary operator expected");
}

// --- the test builtin --------------------------------------------------------------------------

namespace {

// bash's test grammar over argv[pos, end).
class TestParser {
 public:
  TestParser(const std::vector<std::string>& argv, size_t end, TestEnv& env)
      : a_(argv), end_(end), env_(env) {}

  Result<bool> run() {
    bool v = false;
    WASMCAP_TRY_ASSIGN(v, by_count(end_));
    if (pos_ < end_) {
      if (a_[pos_].size() > 1 && a_[pos_][0] == '-') {
        return syntax("syntax error: `" + shown(a_[pos_]) + "' unexpected");
      }
      return syntax("too many arguments");
    }
    return v;
  }

 private:
  const std::string& at(size_t i) const { return a_[pos_ + i]; }
  bool is(size_t i, std::string_view s) const { return pos_ + i < end_ && at(i) == s; }

  // POSIX's rules for up to four arguments; bash's grammar beyond.
  Result<bool> by_count(size_t end) {
    size_t n = end - pos_;
    switch (n) {
      case 0: return false;
      case 1: {
        bool v = !at(0).empty();
        pos_ = end;
        return v;
      }
      case 2: return two();
      case 3: return three();
      case 4:
        if (is(0, "!")) {
          ++pos_;
          bool v = false;
          WASMCAP_TRY_ASSIGN(v, three());
          return !v;
        }
        if (is(0, "(") && is(3, ")")) {
          ++pos_;
          bool v = false;
          WASMCAP_TRY_ASSIGN(v, two());
          ++pos_;  // the ")"
          return v;
        }
        return or_expr();
      default: return or_expr();
    }
  }

  Result<bool> two() {
    if (is(0, "!")) {
      bool v = !at(1).empty();
      pos_ += 2;
      return !v;
    }
    if (is_test_unary_op(at(0))) {
      bool v = false;
      WASMCAP_TRY_ASSIGN(v, test_unary(at(0), at(1), env_));
      pos_ += 2;
      return v;
    }
    return syntax(shown(at(0)) + ": unary operator expected");
  }

  Result<bool> three() {
    if (is_test_binary_op(at(1), false)) {
      bool v = false;
      WASMCAP_TRY_ASSIGN(v, test_binary(at(0), at(1), at(2), env_));
      pos_ += 3;
      return v;
    }
    if (is(1, "-a") || is(1, "-o")) {
      bool l = !at(0).empty(), r = !at(2).empty();
      bool v = at(1) == "-a" ? (l && r) : (l || r);
      pos_ += 3;
      return v;
    }
    if (is(0, "!")) {
      ++pos_;
      bool v = false;
      WASMCAP_TRY_ASSIGN(v, two());
      return !v;
    }
    if (is(0, "(") && is(2, ")")) {
      bool v = !at(1).empty();
      pos_ += 3;
      return v;
    }
    return syntax(shown(at(1)) + ": binary operator expected");
  }

  Result<bool> or_expr() {
    bool v = false;
    WASMCAP_TRY_ASSIGN(v, and_expr());
    while (is(0, "-o")) {
      ++pos_;
      bool r = false;
      WASMCAP_TRY_ASSIGN(r, and_expr());
      v = v || r;
    }
    return v;
  }

  Result<bool> and_expr() {
    bool v = false;
    WASMCAP_TRY_ASSIGN(v, term());
    while (is(0, "-a")) {
      ++pos_;
      bool r = false;
      WASMCAP_TRY_ASSIGN(r, term());
      v = v && r;
    }
    return v;
  }

  Result<bool> term() {
    if (pos_ >= end_) return syntax("argument expected");
    // `! ! ! x` is counted, not recursed into; `( ( ( x ) ) )` nests at most kMaxTestNesting
    // deep. Threat: the host stack. Each level is a few hundred bytes of it, and a command may
    // have 100,000 words (--max-words, or none): before, 90,000 `!` took 19 MB of stack, past a
    // pipeline stage's (src/shell/state.h).
    if (is(0, "!")) {
      bool negate = false;
      while (is(0, "!")) {
        negate = !negate;
        ++pos_;
      }
      bool v = false;
      WASMCAP_TRY_ASSIGN(v, term());
      return negate ? !v : v;
    }
    if (is(0, "(")) {
      if (++nesting_ > kMaxTestNesting) {
        return syntax("expression nested deeper than " + std::to_string(kMaxTestNesting) +
                      " levels of `('");
      }
      ++pos_;
      bool v = false;
      WASMCAP_TRY_ASSIGN(v, or_expr());
      --nesting_;
      if (!is(0, ")")) {
        if (pos_ >= end_) return syntax("`)' expected");
        return syntax("`)' expected, found " + shown(at(0)));
      }
      ++pos_;
      return v;
    }
    if (pos_ + 3 <= end_ && is_test_binary_op(at(1), false)) {
      bool v = false;
      WASMCAP_TRY_ASSIGN(v, test_binary(at(0), at(1), at(2), env_));
      pos_ += 3;
      return v;
    }
    if (pos_ + 2 <= end_ && is_test_unary_op(at(0))) {
      bool v = false;
      WASMCAP_TRY_ASSIGN(v, test_unary(at(0), at(1), env_));
      pos_ += 2;
      return v;
    }
    return !a_[pos_++].empty();
  }

  const std::vector<std::string>& a_;
  size_t end_;
  TestEnv& env_;
  size_t pos_ = 0;
  int nesting_ = 0;  // `(` levels open
};

}  // namespace

Result<bool> eval_test(const std::vector<std::string>& argv, bool bracket, TestEnv& env) {
  size_t end = argv.size();
  if (bracket) {
    if (argv.empty() || argv.back() != "]") return syntax("missing `]'");
    --end;
  }
  return TestParser(argv, end, env).run();
}

}  // namespace wasmcap::shell
