// Line diff for `wasmcap ws diff`: unified format with context.
//
// Written here rather than taken from a library: the only packaged C++ candidate in Debian is
// dtl (libdtl-dev 1.20, header-only, upstream quiet for years); its unified output has no
// "\ No newline at end of file" marker and no bound on the work a hostile pair of files can
// cause. This is ~150 lines: common prefix/suffix trimmed, then a longest-common-subsequence
// table over the middle, bounded by kMaxCells; past the bound the middle is emitted as one
// replacement (still a correct diff, just not a minimal one).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "wasmcap/workspace.h"

namespace wasmcap::workspace {

namespace {

constexpr size_t kMaxCells = 16u << 20;  // LCS table cells (uint32 each: 64 MiB at most)

// Lines keep their '\n'; a last line without one is its own distinct line.
std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('\n', i);
    if (j == std::string::npos) j = s.size() - 1;
    out.push_back(s.substr(i, j - i + 1));
    i = j + 1;
  }
  return out;
}

struct Op {
  char kind;  // ' ', '-', '+'
  size_t line;  // index into a (for ' ' and '-') or b (for '+')
};

std::vector<Op> edit_script(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) {
    ++suf;
  }
  std::vector<Op> ops;
  for (size_t i = 0; i < pre; ++i) ops.push_back({' ', i});
  size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  if (n != 0 && m != 0 && (n + 1) <= kMaxCells / (m + 1)) {
    // lcs[i][j] = LCS length of a[pre+i..] and b[pre+j..]
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) = a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1
                                            : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        ops.push_back({' ', pre + i});
        ++i;
        ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        ops.push_back({'-', pre + i});  // deletions first, as GNU diff prints them
        ++i;
      } else {
        ops.push_back({'+', pre + j});
        ++j;
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) ops.push_back({'-', pre + i});
    for (size_t j = 0; j < m; ++j) ops.push_back({'+', pre + j});
  }
  for (size_t i = 0; i < suf; ++i) ops.push_back({' ', a.size() - suf + i});
  return ops;
}

void emit_line(std::string& out, char kind, const std::string& line) {
  out.push_back(kind);
  out += line;
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

std::string unified_diff(const std::string& path, const std::string& a_text,
                         const std::string& b_text, int context) {
  if (a_text == b_text) return "";
  auto a = split_lines(a_text);
  auto b = split_lines(b_text);
  auto ops = edit_script(a, b);
  size_t ctx = static_cast<size_t>(std::max(context, 0));
  // Old/new line numbers before each op.
  std::vector<size_t> a_before(ops.size() + 1), b_before(ops.size() + 1);
  for (size_t k = 0; k < ops.size(); ++k) {
    a_before[k + 1] = a_before[k] + (ops[k].kind != '+' ? 1 : 0);
    b_before[k + 1] = b_before[k] + (ops[k].kind != '-' ? 1 : 0);
  }
  std::vector<size_t> changed;
  for (size_t k = 0; k < ops.size(); ++k) {
    if (ops[k].kind != ' ') changed.push_back(k);
  }
  std::string out;
  out.append("--- a/").append(path).append("\n+++ b/").append(path).append("\n");
  size_t h = 0;
  while (h < changed.size()) {
    size_t first = changed[h], last = changed[h];
    while (h + 1 < changed.size() && changed[h + 1] - last <= 2 * ctx + 1) last = changed[++h];
    ++h;
    size_t from = first > ctx ? first - ctx : 0;
    size_t to = std::min(ops.size(), last + ctx + 1);
    size_t a_len = a_before[to] - a_before[from], b_len = b_before[to] - b_before[from];
    // An empty range names the line before it (0 at the start), as GNU diff does.
    size_t a_start = a_len == 0 ? a_before[from] : a_before[from] + 1;
    size_t b_start = b_len == 0 ? b_before[from] : b_before[from] + 1;
    out.append("@@ -").append(std::to_string(a_start));
    if (a_len != 1) out.append(",").append(std::to_string(a_len));
    out.append(" +").append(std::to_string(b_start));
    if (b_len != 1) out.append(",").append(std::to_string(b_len));
    out.append(" @@\n");
    for (size_t k = from; k < to; ++k) {
      const Op& op = ops[k];
      emit_line(out, op.kind, op.kind == '+' ? b[op.line] : a[op.line]);
    }
  }
  return out;
}

}  // namespace wasmcap::workspace
