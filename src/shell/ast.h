// The shell's syntax tree: one AST for the whole grammar of docs/shell.md ("Grammar"). The
// parser (parse.h) builds it; the executor (exec*.cc, expand.cc) walks it. It knows nothing of
// WASI, tools or files.
//
// Recursive types hold their children in std::vector (allowed for incomplete types since C++17)
// or shared_ptr: a parameter expansion's operand words, a command substitution's script and a
// function's body are shared, so the executor can keep a function defined by one input of an
// interactive session after that input's tree is gone.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace wasmcap::shell {

struct Script;
struct Word;
struct Command;

// ${NAME OP ARG}: what a parameter expansion does with the value (kNone: the plain value).
struct ParamOp {
  enum class Kind {
    kNone,
    kLength,       // ${#x}
    kDefault,      // ${x-w} ${x:-w}
    kAssign,       // ${x=w} ${x:=w}
    kError,        // ${x?w} ${x:?w}
    kAlternative,  // ${x+w} ${x:+w}
    kTrimPrefix,   // ${x#p}   (kLongest: ${x##p})
    kTrimSuffix,   // ${x%p}   (kLongest: ${x%%p})
    kReplace,      // ${x/p/r} (all: ${x//p/r}, anchored: ${x/#p/r} ${x/%p/r})
    kSlice,        // ${x:offset} ${x:offset:length}
    kCase,         // ${x^p} ${x^^p} ${x,p} ${x,,p} (arg: the pattern, may be null)
    kTransform,    // ${x@Q} and the other letters
  };
  Kind kind = Kind::kNone;
  // ${a[i]} ${a[@]} ${a[*]}: the subscript (kIndex: `index`, an arithmetic expression).
  enum class Sub { kNone, kIndex, kAll, kStar } sub = Sub::kNone;
  std::shared_ptr<const Word> index;
  // ${!x}: the variable named by x's value; ${!a[@]}: the array's indices (keys); ${!pre*}
  // ${!pre@}: the names of the set variables starting with `pre` (names).
  bool indirect = false;
  bool keys = false;
  bool names = false;
  // ${x^} ${x^^} ${x,} ${x,,} (case: '^' or ','; longest: all); ${x@Q} ${x@E} ${x@P} ${x@A}
  // ${x@a} ${x@U} ${x@u} ${x@L} ${x@K} (transform: the letter).
  char case_op = 0;
  char transform = 0;
  bool colon = false;    // kDefault..kAlternative: the ':' form (unset *or empty*)
  bool longest = false;  // ## %%
  enum class Anchor { kNone, kAll, kStart, kEnd } anchor = Anchor::kNone;  // kReplace
  std::shared_ptr<const Word> arg;   // the word, pattern or offset (may be null: empty)
  std::shared_ptr<const Word> arg2;  // kReplace: the replacement; kSlice: the length
  // ${#NAME} followed by an operator (${#v:1:3}): parsed as ${NAME...}, and bash's "bad
  // substitution" when it expands (not a syntax error: the script runs up to it).
  bool bad_length = false;
};

// A word is a sequence of parts; quoting is kept per part so the executor knows what may be
// split (unquoted parameters and substitutions) and globbed (unquoted literal * ? [).
struct WordPart {
  enum class Kind {
    kLiteral,
    kVar,    // $NAME ${NAME...}: text = the name ("x", "1", "@", "*", "#", "?", "$", "!", "-", "0")
    kSubst,  // $(...) or `...`: text = its source, script = the parsed inner script
    kTilde,  // ~ or ~user at the start of a word (unquoted): text = the user name
    kArith,  // $((expr)): arith = the expression as a word (its $x and $(...) expand first)
    kArray,  // NAME=(w1 w2 ...) as the value of an assignment: elems (a word [k]=v sets index k)
    kProcSub,  // <(...) >(...) (unquoted): text = its source, script = the list (procsub.cc)
  };
  Kind kind = Kind::kLiteral;
  std::string text;
  bool quoted = false;
  bool to_list = false;  // kProcSub: >(list), the command writes what the list reads
  std::shared_ptr<const Script> script{};  // kSubst, kProcSub
  std::shared_ptr<const ParamOp> op{};     // kVar with an operator (null: the plain value)
  std::shared_ptr<const Word> arith{};     // kArith
  std::shared_ptr<const std::vector<Word>> elems{};  // kArray
};

struct Word {
  std::vector<WordPart> parts;
};

// A here-document's body, read after the line that holds its `<<` operator.
struct HereDoc {
  std::string delimiter;  // after quote removal
  bool quoted = false;    // any quoting in the delimiter: the body is literal (no expansion)
  bool strip_tabs = false;  // <<- : leading tabs of every body line (and the delimiter's) go
  bool complete = false;    // its body has been read (the parser fills it in at the newline)
  Word body;  // quoted: one literal part; else parts as in "..." (only $ ` \ are special)
};

// Descriptors a script may name: 0 .. kMaxFds-1 (`exec 20>f`, `{fd}>f` from 10 up). Threat: a
// script opening descriptors without end; each command's table is this size.
inline constexpr int kMaxFds = 64;

struct Redirect {
  enum class Op {
    kOut,         // >
    kAppend,      // >>
    kIn,          // <
    kDup,         // N>&M (M in dup_to) and N<&M
    kClose,       // N>&- N<&-
    kReadWrite,   // <>
    kClobber,     // >| (as > : noclobber is not supported, so the same)
    kHereDoc,     // << <<-
    kHereString,  // <<<
    kOutErr,      // &>  (stdout and stderr to the file)
    kAppendErr,   // &>>
    kMove,        // N>&M- and N<&M-: M duplicated to N, then M closed
    kDupWord,     // N>&WORD / N<&WORD with an expansion: a number, `-`, `M-`, or (out_err) a file
  };
  int fd = 1;
  std::string fd_var;     // {NAME}>...: the descriptor is chosen (from 10) and NAME set to it
  bool out_err = false;   // kDupWord: `>&WORD` without a descriptor: a non-number is a file
                          // for stdout and stderr (as `&>WORD`)
  Op op = Op::kOut;
  Word target;     // a file name, or kHereString's word
  int dup_to = 1;  // kDup
  std::shared_ptr<HereDoc> heredoc{};  // kHereDoc
};

struct Pipeline;
struct AndOr;

// [[ ... ]]: bash's conditional expression, parsed before anything in it expands (an operator
// that comes from a variable is an operand, not an operator).
struct CondExpr {
  enum class Kind {
    kWord,    // [[ w ]]: w is not empty
    kUnary,   // op words[0]: -f -z -n ... (test_expr.h)
    kBinary,  // words[0] op words[1]: == = != =~ < > -eq -ne -lt -le -gt -ge -nt -ot -ef
    kNot,     // ! kids[0]
    kAnd,     // kids[0] && kids[1]
    kOr,      // kids[0] || kids[1]
  };
  Kind kind = Kind::kWord;
  std::string op;
  std::vector<Word> words;
  std::vector<CondExpr> kids;
};

// One arm of a case: `pat1 | pat2) body ;;`.
struct CaseItem {
  std::vector<Word> patterns;
  std::vector<AndOr> body;
  enum class End { kBreak, kFallThrough, kTestNext } end = End::kBreak;  // ;;  ;&  ;;&
};

struct Command {
  enum class Kind {
    kSimple,    // assigns, words
    kGroup,     // { body; }
    kSubshell,  // ( body )
    kIf,        // if conds[0] then bodies[0] elif conds[1] then bodies[1] ... else else_body
    kWhile,     // while conds[0] do body done
    kUntil,     // until conds[0] do body done
    kFor,       // for name [in words] do body done (no `in`: "$@")
    kCase,      // case words[0] in items esac
    kFunction,  // name() function_body (a compound command)
    kArith,     // (( words[0] ))
    kArithFor,  // for (( words[0]; words[1]; words[2] )) do body done
    kCond,      // [[ cond ]]
  };
  Kind kind = Kind::kSimple;
  int line = 1;
  std::vector<std::pair<std::string, Word>> assigns;  // kSimple: NAME=value prefixes
  // NAME[index]=value and NAME+=value: empty when no assignment has either, else one per
  // assigns entry.
  struct AssignTarget {
    std::shared_ptr<const Word> index;  // NAME[index]= (an arithmetic expression)
    bool append = false;                // +=
  };
  std::vector<AssignTarget> assign_targets;
  std::vector<Word> words;  // kSimple: the words; kFor: the list; kCase: the subject
  std::vector<Redirect> redirects;  // on any kind of command
  std::vector<AndOr> body;          // group, subshell, loops, if's else
  std::vector<std::vector<AndOr>> conds;   // if / elif conditions, while / until condition
  std::vector<std::vector<AndOr>> bodies;  // if / elif bodies
  bool has_else = false;
  bool for_in = false;  // kFor: `in` was written (else the loop runs over "$@")
  std::string name;     // kFor: the variable; kFunction: the function's name
  std::vector<CaseItem> items;               // kCase
  std::shared_ptr<const Command> function_body{};  // kFunction
  std::shared_ptr<const CondExpr> cond{};          // kCond
};

struct Pipeline {
  std::vector<Command> commands;
  bool negate = false;  // `! pipeline`
  bool timed = false;       // `time pipeline`: real, user and system time on stderr after it
  bool time_posix = false;  // `time -p`: POSIX's format
};

struct AndOr {
  std::vector<Pipeline> pipelines;
  std::vector<bool> and_ops;  // between pipelines[i] and [i+1]: true = &&, false = ||
  bool background = false;    // ended by '&'
  std::string text;           // background: the list as written (`jobs` shows it)
  // A script's top-level list: where the line this item starts is (its first token's offset in
  // the script's text, and its line), for an item that starts one (the first of the script or
  // after a newline); npos for the others. The executor reads the script again from there, one
  // complete command at a time, when aliases are to be expanded (alias.cc).
  size_t line_begin = std::string::npos;
  int line_no = 0;
};

struct Script {
  std::vector<AndOr> items;  // separated by ';', '&' or newlines
};

// The shell's aliases (`alias NAME=VALUE`): the parser expands them (parse.h parse_unit).
using AliasTable = std::map<std::string, std::string, std::less<>>;

}  // namespace wasmcap::shell
