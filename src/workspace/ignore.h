// What `ws create` leaves out of a workspace (docs/workspace.md, "What is copied"): the rules of
// SOURCE's .gitignore files (the root one and those in subdirectories, each relative to its
// directory) and the operator's --exclude patterns, in git's pattern syntax and precedence
// (gitignore(5)): the last rule that matches decides, a `!` rule re-includes, a deeper file's
// rules come after its parents', --exclude comes last (git's command-line patterns win), and a
// path inside a left-out directory is never looked at (git cannot re-include it either).
//
// The rules are fixed when the workspace is created and kept in its snapshot: `ws diff` and
// `ws apply` leave the same paths out, whatever a tool later writes into the tree's .gitignore.
//
// Threat: .gitignore files are SOURCE's bytes, as hostile as the rest of it. Bounds: a file is
// read up to kMaxFileBytes (a bigger one is an error naming it), at most kMaxRules rules in all,
// a pattern of at most kMaxPatternBytes; matching is iterative, O(pattern x name) per path
// component and O(segments x components) per path (no backtracking blow-up, whatever the
// stars).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/workspace.h"

namespace wasmcap::workspace::detail {

class Ignore {
 public:
  static constexpr size_t kMaxFileBytes = 256u << 10;
  static constexpr size_t kMaxRules = 4096;
  static constexpr size_t kMaxPatternBytes = 4096;

  // Adds the lines of the .gitignore file of directory `base` ("" = the tree's root; `file`
  // names it in errors).
  Result<void> add_file(const std::string& base, std::string_view text, const std::string& file);
  // Adds one --exclude pattern (relative to the root; after every file's rules).
  Result<void> add_exclude(const std::string& pattern);
  // True when `path` (relative to the root, '/'-separated) is left out.
  bool ignored(const std::string& path, bool is_dir) const;
  bool empty() const { return rules_.empty() && excludes_.empty(); }
  // As recorded in the snapshot: each file rule with its directory, then the excludes.
  const std::vector<IgnoreRule>& file_rules() const { return recorded_; }
  const std::vector<std::string>& exclude_patterns() const { return exclude_text_; }

 private:
  struct Rule {
    std::string base;
    std::vector<std::string> segments;  // the pattern split at '/' (anchored rules)
    std::string name;                   // the pattern (unanchored rules: matched to a basename)
    bool negate = false, dir_only = false, anchored = false;
  };
  // One gitignore line: nullopt for a blank line or a comment.
  static Result<std::optional<Rule>> parse_line(const std::string& base, std::string_view line);
  static bool matches(const Rule& r, const std::string& path, bool is_dir);
  Result<void> count();

  std::vector<Rule> rules_, excludes_;
  std::vector<IgnoreRule> recorded_;
  std::vector<std::string> exclude_text_;
};

// The rules a workspace was created with (Info::ignore, Info::exclude), into `out`.
Result<void> ignore_of(const Info& info, Ignore& out);

// fnmatch(3)-style match of one path component: * ? [set] [!set] and \ escapes, '*' never
// crossing a '/' (there is none in a component). Iterative: O(|pattern| x |name|).
bool glob_match(std::string_view pattern, std::string_view name);

}  // namespace wasmcap::workspace::detail
