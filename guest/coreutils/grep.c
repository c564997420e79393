// grep [-EFiRrvcnlLoqsHhxw] [-e PATTERN]... [PATTERN] [FILE...]: POSIX regular expressions
// (wasi-libc's regcomp: basic by default, extended with -E). Exit 0 if a line was selected,
// 1 if none, 2 on an error (unless -q and a line was selected), like GNU grep.
#define _GNU_SOURCE  // memmem, memrchr
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu.h"

static int o_ext, o_fixed, o_icase, o_invert, o_count, o_number, o_list, o_list_none, o_quiet,
    o_silent, o_recursive, o_follow, o_line, o_word, o_only;
static int o_with_name = -1;  // -1: decided by the number of inputs
static regex_t *g_res;
static size_t g_nres;
static int g_error;  // an input could not be read
static int g_found;  // a line was selected somewhere

// --- literal prefilter -------------------------------------------------------------------------
// The regex engine costs milliseconds per line on the interpreter. When every match must contain
// a known literal string (one pattern, no alternation), grep first looks for that string in
// the whole buffer (memmem) and runs regexec only on lines holding it; lines before the next
// occurrence are skipped without being matched.
static char *g_lit;  // the required literal (lowercase under -i), or NULL
static size_t g_litlen;

// Longest run of literal characters at parenthesis depth 0, none quantified, in a pattern
// without alternation: every match contains it. Writes it to OUT (malloc'd) and returns its
// length, or 0 when the pattern gives none.
static size_t required_literal(const char *p, int ere, char **out) {
  size_t n = strlen(p), best = 0, cur = 0;
  char *run = cu_xmalloc(n + 1), *best_run = cu_xmalloc(n + 1);
  int depth = 0;
  for (size_t i = 0; i < n;) {
    char lit = 0;
    int is_lit = 0;
    size_t next = i + 1;
    char c = p[i];
    if (c == '\\' && i + 1 < n) {
      char d = p[i + 1];
      next = i + 2;
      if (!ere && d == '|') goto none;
      if (!ere && d == '(') ++depth;
      if (!ere && d == ')') --depth;
      if (!ere && d == '{') {  // interval "\{m,n\}": skip it whole
        const char *close = strstr(p + i + 2, "\\}");
        next = close ? (size_t)(close - p) + 2 : n;
      }
      // "\." and other escaped punctuation are literal; "\w", "\<", "\1", "\(", ... are not.
      if (!((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9') ||
            strchr("(){}|+?<>`'", d))) {
        is_lit = 1;
        lit = d;
      }
    } else if (c == '[') {
      // Skip the bracket expression: "[]..." / "[^]..." hold a literal ']', "[:x:]" classes.
      size_t j = i + 1;
      if (j < n && p[j] == '^') ++j;
      if (j < n && p[j] == ']') ++j;
      while (j < n && p[j] != ']') {
        if (p[j] == '[' && j + 1 < n && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
          const char *close = strstr(p + j + 2, p[j + 1] == ':' ? ":]" : p[j + 1] == '.' ? ".]" : "=]");
          j = close ? (size_t)(close - p) + 2 : n;
        } else {
          ++j;
        }
      }
      next = j < n ? j + 1 : n;
    } else if (ere && c == '|') {
      goto none;
    } else if (ere && c == '{') {  // interval "{m,n}": skip it whole
      const char *close = strchr(p + i + 1, '}');
      next = close ? (size_t)(close - p) + 1 : n;
    } else if (ere && c == '(') {
      ++depth;
    } else if (ere && c == ')') {
      --depth;
    } else if (strchr(".*^$", c) == NULL && !(ere && strchr("+?{}", c))) {
      is_lit = 1;
      lit = c;
    }
    // A quantifier after this token makes it optional or repeated: it ends the run.
    int quantified = next < n && (p[next] == '*' || (ere && strchr("+?{", p[next])) ||
                                  (!ere && p[next] == '\\' && next + 1 < n && strchr("{?+", p[next + 1])));
    // Under -i only ASCII letters are folded here; a non-ASCII byte ends the run, so the
    // prefilter never rejects a line the regex engine's own case folding would accept.
    if (o_icase && (unsigned char)lit >= 0x80) is_lit = 0;
    if (is_lit && depth == 0 && !quantified && lit != '\n') {
      run[cur++] = o_icase && lit >= 'A' && lit <= 'Z' ? (char)(lit + 32) : lit;
      if (cur > best) {
        best = cur;
        memcpy(best_run, run, cur);
      }
    } else {
      cur = 0;
    }
    i = next;
  }
  free(run);
  if (best == 0) {
    free(best_run);
    return 0;
  }
  *out = best_run;
  return best;
none:
  free(run);
  free(best_run);
  return 0;
}

// ASCII lowercase copy of BUF, 8 bytes at a time (for the -i prefilter).
static char *lower_copy(const char *buf, size_t len) {
  char *out = cu_xmalloc(len + 1);
  const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, buf + i, 8);
    uint64_t h = w & ~high;                  // each byte's low 7 bits (no carries between bytes)
    uint64_t ge_a = h + ones * (0x80 - 'A');  // high bit: byte >= 'A'
    uint64_t gt_z = h + ones * (0x7f - 'Z');  // high bit: byte > 'Z'
    uint64_t upper = (ge_a ^ gt_z) & ~w & high;
    w |= upper >> 2;  // 0x80 >> 2 = 0x20
    memcpy(out + i, &w, 8);
  }
  for (; i < len; ++i) out[i] = buf[i] >= 'A' && buf[i] <= 'Z' ? (char)(buf[i] + 32) : buf[i];
  out[len] = '\0';
  return out;
}

// -F: the pattern with every BRE metacharacter escaped.
static char *escape_fixed(const char *p) {
  char *out = cu_xmalloc(strlen(p) * 2 + 1), *o = out;
  for (; *p; ++p) {
    if (strchr("\\.[]*^$", *p)) *o++ = '\\';
    *o++ = *p;
  }
  *o = '\0';
  return out;
}

static int compile(const char *pat) {
  char *p = o_fixed ? escape_fixed(pat) : cu_xstrdup(pat);
  if (o_line) {
    char *w = cu_xmalloc(strlen(p) + 8);
    sprintf(w, o_ext && !o_fixed ? "^(%s)$" : "^\\(%s\\)$", p);
    free(p);
    p = w;
  }
  g_res = cu_xrealloc(g_res, (g_nres + 1) * sizeof(regex_t));
  int flags = (o_ext && !o_fixed ? REG_EXTENDED : 0) | (o_icase ? REG_ICASE : 0);
  int rc = regcomp(&g_res[g_nres], p, flags);
  if (rc != 0) {
    char msg[256];
    regerror(rc, &g_res[g_nres], msg, sizeof(msg));
    cu_errx("invalid regular expression '%s': %s", pat, msg);
    free(p);
    return -1;
  }
  free(p);
  ++g_nres;
  return 0;
}

static int is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Does the segment LINE (NUL-terminated, no newline or NUL inside) match any pattern?
static int segment_matches(const char *line, size_t len) {
  for (size_t i = 0; i < g_nres; ++i) {
    if (!o_word) {
      if (regexec(&g_res[i], line, 0, NULL, 0) == 0) return 1;
      continue;
    }
    // -w: a match must be bounded by non-word characters; try later starts until one is.
    size_t off = 0;
    while (off <= len) {
      regmatch_t m;
      if (regexec(&g_res[i], line + off, 1, &m, off > 0 ? REG_NOTBOL : 0) != 0) break;
      size_t s = off + (size_t)m.rm_so, e = off + (size_t)m.rm_eo;
      int left = s == 0 || !is_word_char(line[s - 1]);
      int right = e >= len || !is_word_char(line[e]);
      if (left && right) return 1;  // an empty match counts too (GNU)
      off = s + 1;
    }
  }
  return 0;
}

// Does LINE[0..len) match? regexec stops at a NUL byte, so a line of a binary file is matched
// piece by piece between its NULs (GNU treats those NULs as line ends too).
static int line_matches(char *line, size_t len) {
  size_t start = 0;
  for (;;) {
    char *nul = memchr(line + start, '\0', len - start);
    size_t end = nul ? (size_t)(nul - line) : len;
    char saved = line[end];
    line[end] = '\0';
    int m = segment_matches(line + start, end - start);
    line[end] = saved;
    if (m || nul == NULL) return m;
    start = end + 1;
  }
}

// -o: prints each non-empty match of a selected line on a line of its own: at each position
// the leftmost match of any pattern, the longest among those starting there.
static void print_only_matches(char *line, size_t len, const char *prefix_name,
                               unsigned long long lineno) {
  size_t start = 0;
  while (start <= len) {
    char *nul = memchr(line + start, '\0', len - start);
    size_t end = nul ? (size_t)(nul - line) : len;
    char saved = line[end];
    line[end] = '\0';
    size_t pos = start;
    while (pos < end) {
      size_t best_s = (size_t)-1, best_e = 0;
      for (size_t i = 0; i < g_nres; ++i) {
        regmatch_t m;
        if (regexec(&g_res[i], line + pos, 1, &m, pos > start ? REG_NOTBOL : 0) != 0) continue;
        size_t s = pos + (size_t)m.rm_so, e = pos + (size_t)m.rm_eo;
        if (s < best_s || (s == best_s && e > best_e)) {
          best_s = s;
          best_e = e;
        }
      }
      if (best_s == (size_t)-1) break;
      if (best_e == best_s) {  // empty matches are not printed; move on
        pos = best_s + 1;
        continue;
      }
      if (prefix_name) printf("%s:", prefix_name);
      if (o_number) printf("%llu:", lineno);
      cu_out(line + best_s, best_e - best_s);
      putchar('\n');
      pos = best_e;
    }
    line[end] = saved;
    if (nul == NULL) break;
    start = end + 1;
  }
}

static void grep_buffer(char *buf, size_t len, const char *name) {
  // An input with a NUL byte is binary: matches are counted and named, never printed (GNU
  // prints "binary file matches" once, on stderr).
  int binary = memchr(buf, '\0', len) != NULL;
  unsigned long long count = 0, lineno = 0;
  int show_name = o_with_name == 1;
  int said_binary = 0;
  char *lowered = g_lit && o_icase ? lower_copy(buf, len) : NULL;
  const char *hay = lowered ? lowered : buf;
  size_t hit = 0;  // offset of the literal's next occurrence, or len
  int hit_valid = 0;
  size_t i = 0;
  while (i < len) {
    if (g_lit && (!hit_valid || hit < i)) {
      const char *h = memmem(hay + i, len - i, g_lit, g_litlen);
      hit = h ? (size_t)(h - hay) : len;
      hit_valid = 1;
    }
    if (g_lit && !o_invert && hit > i) {
      // No line before the one holding the next occurrence can match: skip them (counting
      // them for -n), or stop when there is none.
      if (hit >= len) break;
      const char *prev = memrchr(hay + i, '\n', hit - i);
      if (prev != NULL) {
        size_t line_start = (size_t)(prev - hay) + 1;
        lineno += cu_count_newlines(buf + i, line_start - i);
        i = line_start;
      }
    }
    char *nl = memchr(buf + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - buf) : len;
    ++lineno;
    int may_match = !g_lit || (hit >= i && hit + g_litlen <= end);
    int sel = (may_match && line_matches(buf + i, end - i)) != o_invert;
    if (sel) {
      ++count;
      g_found = 1;
      if (o_quiet) break;
      if (o_list || o_list_none) break;
      if (!o_count) {
        if (binary) {
          if (!said_binary) {
            fflush(stdout);
            fprintf(stderr, "grep: %s: binary file matches\n", name);
            said_binary = 1;
          }
          break;
        }
        if (o_only) {
          if (!o_invert) print_only_matches(buf + i, end - i, show_name ? name : NULL, lineno);
        } else {
          if (show_name) printf("%s:", name);
          if (o_number) printf("%llu:", lineno);
          cu_out(buf + i, end - i);
          putchar('\n');
        }
      }
    }
    i = end + 1;
  }
  free(lowered);
  if (o_quiet) return;
  if (o_count) {
    if (show_name) printf("%s:", name);
    printf("%llu\n", count);
  }
  if (o_list && count > 0) printf("%s\n", name);
  if (o_list_none && count == 0) printf("%s\n", name);
}

static void grep_fd(int fd, const char *name) {
  char *buf;
  size_t len;
  if (cu_read_all(fd, &buf, &len) != 0) {
    if (!o_silent) cu_err(NULL, name, errno);
    g_error = 1;
    return;
  }
  grep_buffer(buf, len, name);
  free(buf);
}

// One operand or walked path. `operand`: named on the command line (symlinks followed even
// under -r, as GNU does).
static void grep_path(const char *path, const char *shown, int operand) {
  if (strcmp(path, "-") == 0 && operand) {
    grep_fd(STDIN_FILENO, "(standard input)");
    return;
  }
  struct stat st;
  int r = (operand || o_follow) ? stat(path, &st) : lstat(path, &st);
  if (r != 0) {
    if (!o_silent) cu_err(NULL, path, errno);
    g_error = 1;
    return;
  }
  if (S_ISLNK(st.st_mode)) return;  // -r skips symlinks met while walking
  if (S_ISDIR(st.st_mode)) {
    if (!o_recursive) {
      if (!o_silent) cu_err(NULL, path, EISDIR);
      g_error = 1;
      return;
    }
    if (o_with_name == -1) o_with_name = 1;
    struct cu_list names = {0};
    if (cu_read_dir(path, 0, &names) != 0) {
      if (!o_silent) cu_err(NULL, path, errno);
      g_error = 1;
      return;
    }
    for (size_t i = 0; i < names.n && !(o_quiet && g_found); ++i) {
      char *child = cu_join(path, names.v[i]);
      // With no operand grep -r searches "." and shows paths without the "./" prefix.
      char *child_shown = shown[0] ? cu_join(shown, names.v[i]) : cu_xstrdup(names.v[i]);
      grep_path(child, child_shown, 0);
      free(child);
      free(child_shown);
    }
    cu_list_free(&names);
    return;
  }
  if (!operand && !S_ISREG(st.st_mode)) return;  // devices/FIFOs met while walking
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    if (!o_silent) cu_err(NULL, path, errno);
    g_error = 1;
    return;
  }
  grep_fd(fd, shown);
  close(fd);
}

// Adds each newline-separated pattern of P.
static int add_patterns(const char *p, struct cu_list *pats) {
  const char *s = p;
  for (;;) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    char *one = cu_xmalloc(n + 1);
    memcpy(one, s, n);
    one[n] = '\0';
    cu_list_push(pats, one);
    if (!nl) break;
    s = nl + 1;
  }
  return 0;
}

int cu_grep(int argc, char **argv) {
  static const struct option longopts[] = {
      {"extended-regexp", no_argument, 0, 'E'}, {"fixed-strings", no_argument, 0, 'F'},
      {"ignore-case", no_argument, 0, 'i'},     {"invert-match", no_argument, 0, 'v'},
      {"count", no_argument, 0, 'c'},           {"line-number", no_argument, 0, 'n'},
      {"files-with-matches", no_argument, 0, 'l'}, {"files-without-match", no_argument, 0, 'L'},
      {"quiet", no_argument, 0, 'q'},           {"silent", no_argument, 0, 'q'},
      {"no-messages", no_argument, 0, 's'},     {"recursive", no_argument, 0, 'r'},
      {"dereference-recursive", no_argument, 0, 'R'}, {"with-filename", no_argument, 0, 'H'},
      {"no-filename", no_argument, 0, 'h'},     {"regexp", required_argument, 0, 'e'},
      {"line-regexp", no_argument, 0, 'x'},     {"word-regexp", no_argument, 0, 'w'},
      {"only-matching", no_argument, 0, 'o'},
      {0, 0, 0, 0}};
  struct cu_list pats = {0};
  int have_e = 0, c;
  while ((c = getopt_long(argc, argv, "EFGivcnlLqsrRHhe:xwyo", longopts, NULL)) != -1) {
    switch (c) {
      case 'E': o_ext = 1; o_fixed = 0; break;
      case 'F': o_fixed = 1; o_ext = 0; break;
      case 'G': o_ext = o_fixed = 0; break;
      case 'i': case 'y': o_icase = 1; break;
      case 'v': o_invert = 1; break;
      case 'c': o_count = 1; break;
      case 'n': o_number = 1; break;
      case 'l': o_list = 1; o_list_none = 0; break;
      case 'L': o_list_none = 1; o_list = 0; break;
      case 'q': o_quiet = 1; break;
      case 's': o_silent = 1; break;
      case 'r': o_recursive = 1; break;
      case 'R': o_recursive = 1; o_follow = 1; break;
      case 'H': o_with_name = 1; break;
      case 'h': o_with_name = 0; break;
      case 'e': add_patterns(optarg, &pats); have_e = 1; break;
      case 'x': o_line = 1; break;
      case 'w': o_word = 1; break;
      case 'o': o_only = 1; break;
      default:
        fprintf(stderr, "usage: grep [-EFiRrvcnlLoqsHhxw] [-e PATTERN]... [PATTERN] [FILE...]\n");
        return 2;
    }
  }
  if (!have_e) {
    if (optind >= argc) {
      fprintf(stderr, "usage: grep [-EFiRrvcnlLoqsHhxw] [-e PATTERN]... [PATTERN] [FILE...]\n");
      return 2;
    }
    add_patterns(argv[optind++], &pats);
  }
  for (size_t i = 0; i < pats.n; ++i) {
    if (compile(pats.v[i]) != 0) return 2;
  }
  if (pats.n == 1) {
    if (o_fixed) {
      g_litlen = strlen(pats.v[0]);
      int ascii = 1;
      for (size_t k = 0; k < g_litlen; ++k) ascii &= (unsigned char)pats.v[0][k] < 0x80;
      if (g_litlen == 0 || (o_icase && !ascii)) {
        g_litlen = 0;  // no prefilter (see required_literal on -i and non-ASCII)
      } else {
        g_lit = lower_copy(pats.v[0], g_litlen);
        if (!o_icase) memcpy(g_lit, pats.v[0], g_litlen);
      }
    } else {
      g_litlen = required_literal(pats.v[0], o_ext, &g_lit);
    }
  }
  int nops = argc - optind;
  // Names are shown for several operands; under -r, once a directory is searched (GNU: a
  // single regular-file operand shows no names even with -r).
  if (o_with_name == -1 && (nops > 1 || !o_recursive)) o_with_name = nops > 1;
  if (nops == 0) {
    if (o_recursive) {
      grep_path(".", "", 1);
    } else {
      grep_fd(STDIN_FILENO, "(standard input)");
    }
  } else {
    for (int i = optind; i < argc && !(o_quiet && g_found); ++i) grep_path(argv[i], argv[i], 1);
  }
  if (o_quiet && g_found) return 0;
  if (g_error) return 2;
  return g_found ? 0 : 1;
}
