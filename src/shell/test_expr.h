// `test` / `[` and the leaves of `[[ ]]`, evaluated as bash does. A pure module: files, the
// terminal, variables and options are queried through TestEnv, which the executor implements
// (so every file test resolves inside the script's preopens, as the executor decides).
//
// test / [: POSIX's rules by argument count (0: false; 1: non-empty; 2: `!` or a unary operator;
// 3: a binary operator, `-a`/`-o`, `!`, or `( x )`; 4: `!` or `( x y )`), beyond that bash's
// grammar (`!`, `( )`, `-a` binding tighter than `-o`); integers are decimal with optional sign
// and surrounding blanks; errors are bash's ("a: unary operator expected", "too many arguments",
// "missing `]'", "x: integer expression expected"), for status 2.
//
// [[ ]]: the executor parses and walks `&& || ! ( )` and calls test_unary / test_binary on the
// expanded operands. There `== != =` match the right side as a pattern (pattern.h: quoted
// characters backslash-escaped), `-eq` and friends evaluate both sides as arithmetic
// (TestEnv::arith), and `=~` is regex_match (shell/regex.h).
//
// Why ours: the semantics are bash's own (its argument-count rules, error texts, [[ ]]'s
// pattern and arithmetic operands); no library implements them.
//
// Bounds: `( )` nests at most kMaxTestNesting levels; pattern matches charge the caller's
// MatchWork.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shell/pattern.h"
#include "wasmcap/error.h"

namespace wasmcap::shell {

// `test ( ( ... ) )` nests at most this deep (the evaluator recurses once per level; `! ! !` is
// counted without recursion). Past it: a syntax error, status 2.
inline constexpr int kMaxTestNesting = 256;

// What a file test needs to know of a path (the executor's stat, inside the preopens).
struct FileInfo {
  enum class Type { kRegular, kDirectory, kSymlink, kFifo, kSocket, kBlock, kChar, kOther };
  Type type = Type::kRegular;
  uint64_t size = 0;
  uint32_t mode = 0;  // permission bits with setuid (04000), setgid (02000), sticky (01000)
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t mtime_ns = 0;
  int64_t atime_ns = 0;
  bool owned_by_euid = false;  // -O
  bool group_is_egid = false;  // -G
};

class TestEnv {
 public:
  virtual ~TestEnv() = default;
  // The path's metadata (of the link itself when !follow), nullopt when it does not exist or
  // is outside what the script may see.
  virtual std::optional<FileInfo> stat(std::string_view path, bool follow) = 0;
  // -r -w -x: whether the script may read / write / execute the path (mode 'r', 'w' or 'x').
  virtual bool access(std::string_view path, char mode) = 0;
  // -t FD.
  virtual bool isatty(int64_t /*fd*/) { return false; }
  // -v NAME: the variable is set (NAME may be `a[i]`).
  virtual bool variable_set(std::string_view /*name*/) { return false; }
  // -o NAME: the shell option is on.
  virtual bool option_set(std::string_view /*name*/) { return false; }
  // [[ ]]'s integer operands: an arithmetic expression (arith.h with the script's variables).
  // The default reads a decimal integer as test does.
  virtual Result<int64_t> arith(std::string_view expr);
};

// Whether `op` is a unary / binary operator of test (binary: = == != < > -eq -ne -lt -le -gt
// -ge -nt -ot -ef; with `dbracket`, =~ too). For the [[ ]] parser as well.
// bash's legal_number: optional blanks, an optional sign, decimal digits, optional blanks;
// nullopt when it is not one or overflows int64_t (test's integers, mapfile's counts).
std::optional<int64_t> legal_number(std::string_view s);

bool is_test_unary_op(std::string_view op);
bool is_test_binary_op(std::string_view op, bool dbracket);

// One unary test (`-f path`, `-n s`, ...). Errors only for an unknown operator.
Result<bool> test_unary(std::string_view op, std::string_view arg, TestEnv& env);

struct BinaryOptions {
  bool dbracket = false;  // [[ ]]: patterns for == != =, arithmetic for -eq..., =~ allowed
  PatternOptions pattern{};   // [[ ]]: how the right side of == is matched (utf8, ignore_case)
  MatchWork* work = nullptr;  // [[ ]]: required for == != =
};

// One binary test. Errors (status 2): "x: integer expression expected", the arithmetic's own,
// a pattern match past its work. `=~` is not handled here (regex_match).
Result<bool> test_binary(std::string_view lhs, std::string_view op, std::string_view rhs,
                         TestEnv& env, const BinaryOptions& opts = {});

// The test builtin: `argv` are its arguments (for `[`, with `bracket`, the last must be "]").
// Errors are kInvalidArgument with bash's message (status 2); the caller prefixes "test: " or
// "[: ".
Result<bool> eval_test(const std::vector<std::string>& argv, bool bracket, TestEnv& env);


}  // namespace wasmcap::shell
