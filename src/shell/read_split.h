// IFS field splitting as bash does it, for the `read` builtin and for word splitting of
// expansions. A pure module: `read`'s input comes byte by byte from the executor (ReadRecord),
// and splitting works on text the executor already holds.
//
// IFS: unset is " \t\n"; empty splits nothing. Its whitespace characters (space, tab, newline)
// and its other characters delimit differently: a delimiter is a run of IFS whitespace, with at
// most one other IFS character inside it. IFS whitespace at the start and end of the text is
// dropped; each other IFS character ends a field, even an empty one, except at the very end
// (`a:` is one field, `:a` two, `a::b` three).
//
// read: without -r a backslash makes the next character literal (never a delimiter, never
// stripped) and backslash-newline joins lines. With names, each name but the last takes one
// field; the last takes the rest of the line (trailing IFS whitespace stripped; a lone trailing
// delimiter after a single last field dropped, as bash: `IFS=: read a b <<< 1:2:` gives b=2,
// `<<< 1:2:3:` gives b=2:3:). With no names (REPLY) the line is kept whole; with -a all fields;
// with -N nothing is split.
//
// Why ours: the rules are bash's own (POSIX's plus its read's last-variable rule); no library
// implements them. Bounds: ReadRecord holds at most Options::max_bytes (the caller's budget);
// splitting allocates at most the size of its input in fields.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::shell {

class Ifs {
 public:
  // `ifs`: the value of IFS, nullopt when unset.
  explicit Ifs(std::optional<std::string_view> ifs);
  bool empty() const { return empty_; }
  bool is_space(char c) const { return table_[static_cast<unsigned char>(c)] == 1; }
  bool is_other(char c) const { return table_[static_cast<unsigned char>(c)] == 2; }
  bool is_delim(char c) const { return table_[static_cast<unsigned char>(c)] != 0; }

 private:
  unsigned char table_[256] = {};
  bool empty_ = false;
};

// One record of `read`: bytes fed one at a time until the delimiter (or -n/-N's count).
class ReadRecord {
 public:
  struct Options {
    char delim = '\n';      // -d ('\0' for -d '')
    bool raw = false;       // -r
    size_t nchars = 0;      // -n / -N: stop after this many characters (0: no count)
    bool exact = false;     // -N: the delimiter is an ordinary character
    size_t max_bytes = 1 << 20;
  };
  explicit ReadRecord(Options o) : o_(o) {}

  enum class State { kMore, kDone };
  // Feeds one input byte. kDone when the record is complete (the delimiter, not stored, or
  // the count reached); the caller stops reading then. Errors: kMemoryLimit past max_bytes.
  Result<State> feed(char c);
  // Whether the delimiter ended the record (else: end of input or the count; read's status is 1
  // when the input ended before a delimiter).
  bool saw_delim() const { return saw_delim_; }

  const std::string& text() const { return text_; }
  // Per byte of text(): true for a character a backslash made literal.
  const std::vector<bool>& literal() const { return literal_; }
  bool exact() const { return o_.exact; }

 private:
  Options o_;
  std::string text_;
  std::vector<bool> literal_;
  bool escape_ = false;
  bool saw_delim_ = false;
  size_t count_ = 0;
};

// The values `read NAME...` assigns: exactly `names` strings (names >= 1). With -N (rec.exact())
// the first name takes the whole text and the others are empty.
std::vector<std::string> read_assign(const ReadRecord& rec, const Ifs& ifs, size_t names);
// `read -a`: every field.
std::vector<std::string> read_fields(const ReadRecord& rec, const Ifs& ifs);
// The same on plain text with a literal mask (empty = none literal), for callers without a
// ReadRecord.
std::vector<std::string> read_assign(std::string_view text, const std::vector<bool>& literal,
                                     const Ifs& ifs, size_t names);
std::vector<std::string> read_fields(std::string_view text, const std::vector<bool>& literal,
                                     const Ifs& ifs);

// Word splitting of one word after expansion. The word is a sequence of segments: text from an
// unquoted expansion (`split`: its IFS characters delimit) or anything else (literal text,
// quoted text; an empty quoted segment, `""`, still makes a field exist). Each field is a list
// of pieces of the segments, so the caller can carry its own per-byte data (glob marks) along.
struct SplitSegment {
  std::string_view text;
  bool split = false;
};
struct FieldPiece {
  size_t segment = 0;
  size_t begin = 0;
  size_t end = 0;
};
using SplitField = std::vector<FieldPiece>;
std::vector<SplitField> split_word(const std::vector<SplitSegment>& segments, const Ifs& ifs);

// Convenience: the fields of one unquoted expansion's text, as strings.
std::vector<std::string> split_text(std::string_view text, const Ifs& ifs);

}  // namespace wasmcap::shell
