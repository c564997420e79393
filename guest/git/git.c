// The sandbox's `git` (README.md): git's commands that agents run most, on libgit2 1.5.1 built
// from Debian's source package, with git's output format; anything else is refused with
// "git: 'X' is not supported in the sandbox" (exit 1), never answered differently.
//
// Working directory (the guest SDK's wasmcap_enter_workdir, guest/sdk/wasmcap_workdir.h): $PWD when the environment has it (wasmcap sh
// passes the shell's), else the first preopen; `-C DIR` then changes to DIR as git's does.
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include <git2/sys/config.h>

#include "git.h"
#include "wasmcap_workdir.h"

// git's vreportf (usage.c): PREFIX and the message formatted into 4096 bytes (the rest cut),
// every control character but tab and newline shown as '?', so a name from the repository or
// the command line cannot drive the terminal through an error; on a terminal the C1 and
// bidirectional controls and bytes that are not UTF-8 left are escaped too (put_text).
static void vreport(const char *prefix, const char *fmt, va_list ap) {
  char msg[4096];
  size_t n = strlen(prefix);
  memcpy(msg, prefix, n);
  vsnprintf(msg + n, sizeof msg - n, fmt, ap);
  for (unsigned char *p = (unsigned char *)msg + n; *p != '\0'; p++)
    if ((*p < 0x20 || *p == 0x7f) && *p != '\t' && *p != '\n') *p = '?';
  fflush(stdout);
  put_text(stderr, msg, strlen(msg));
  fputc('\n', stderr);
}

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("fatal: ", fmt, ap);
  va_end(ap);
  exit(EXIT_FATAL);
}

void die_message(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("fatal: ", fmt, ap);
  va_end(ap);
}

void error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("error: ", fmt, ap);
  va_end(ap);
}

void warning(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("warning: ", fmt, ap);
  va_end(ap);
}

void die_git(const char *what) {
  const git_error *e = git_error_last();
  die("%s: %s", what, e != NULL && e->message != NULL ? e->message : "unknown error");
}

void refuse(const char *what) {
  fflush(stdout);
  char *shown = strdup(what);
  if (shown == NULL) die("out of memory");
  for (unsigned char *p = (unsigned char *)shown; *p != '\0'; p++)  // as vreport's
    if (*p < 0x20 || *p == 0x7f) *p = '?';
  fprintf(stderr, "git: '%s' is not supported in the sandbox\n", term_str(stderr, shown));
  free(shown);
  exit(EXIT_REFUSED);
}

void check(int err, const char *what) {
  if (err < 0) die_git(what);
}

// libgit2's in-memory configuration backend (config_mem.c; not in its public headers).
int git_config_backend_from_string(git_config_backend **out, const char *cfg, size_t len);

// WASI reports no permission bits, so every file would look non-executable: like git on a
// filesystem without them, the index's modes are kept (core.filemode = false), whatever the
// repository's own configuration (which the host's git may have written as true). The override
// is the highest configuration level, before any value is read.
static void override_config(git_repository *repo) {
  static const char text[] = "[core]\n\tfilemode = false\n";
  git_config *cfg = NULL;
  git_config_backend *mem = NULL;
  check(git_repository_config(&cfg, repo), "cannot read the configuration");
  check(git_config_backend_from_string(&mem, text, sizeof text - 1), "configuration");
  check(git_config_add_backend(cfg, mem, GIT_CONFIG_LEVEL_APP, repo, 0), "configuration");
  git_config_free(cfg);
}

// core.quotePath (open_repo reads it; true by default): bytes >= 0x80 quoted as octal.
static bool quote_path_fully = true;

git_repository *open_repo(void) {
  git_repository *repo = NULL;
  int err = git_repository_open_ext(&repo, ".", 0, NULL);
  char cwd[2];
  // Not found, or in the guest root above the preopens (the shell's `cd /`), where "." cannot
  // be read and so holds no repository: git's answer outside every repository.
  if (err == GIT_ENOTFOUND || (err < 0 && getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, "/") == 0))
    die("not a git repository (or any of the parent directories): .git");
  check(err, "cannot open the repository");
  if (git_repository_is_bare(repo)) refuse("a bare repository");
  // HEAD naming a ref whose name check-ref-format refuses (written by hand): git's commands
  // each fail their own way; refused here, so the name is never printed.
  git_reference *head = NULL;
  if (git_reference_lookup(&head, repo, "HEAD") == 0 && git_reference_symbolic_target(head) != NULL) {
    int valid = 0;
    if (git_reference_name_is_valid(&valid, git_reference_symbolic_target(head)) != 0 || !valid)
      refuse("a HEAD that names a branch whose name git's check-ref-format refuses");
  }
  git_reference_free(head);
  git_error_clear();
  override_config(repo);
  git_config *cfg = NULL;
  int fully = 1;
  if (git_repository_config_snapshot(&cfg, repo) == 0 && git_config_get_bool(&fully, cfg, "core.quotepath") == 0)
    quote_path_fully = fully != 0;
  git_config_free(cfg);
  git_error_clear();
  return repo;
}

const char *cwd_prefix(git_repository *repo) {
  static char prefix[4096];
  char cwd[4096];
  const char *wd = git_repository_workdir(repo);  // ends with '/'
  if (wd == NULL) return "";
  if (getcwd(cwd, sizeof cwd - 1) == NULL) die("cannot read the working directory: %s", strerror(errno));
  size_t n = strlen(cwd);
  if (n == 0 || cwd[n - 1] != '/') {
    cwd[n++] = '/';
    cwd[n] = '\0';
  }
  size_t w = strlen(wd);
  if (n < w || strncmp(cwd, wd, w) != 0) return "";
  snprintf(prefix, sizeof prefix, "%s", cwd + w);
  return prefix;
}

// PATH relative to PREFIX ("dir/sub/"), with "../" for each prefix component not shared.
static char *relative(const char *path, const char *prefix) {
  if (prefix == NULL || prefix[0] == '\0') return strdup(path);
  // Longest common directory prefix.
  size_t common = 0;
  for (size_t i = 0; prefix[i] != '\0' && path[i] == prefix[i]; i++)
    if (prefix[i] == '/') common = i + 1;
  size_t ups = 0;
  for (const char *p = prefix + common; *p != '\0'; p++)
    if (*p == '/') ups++;
  const char *rest = path + common;
  size_t len = ups * 3 + strlen(rest);
  char *out = malloc(len + 2);
  if (out == NULL) die("out of memory");
  char *o = out;
  for (size_t i = 0; i < ups; i++, o += 3) memcpy(o, "../", 3);
  strcpy(o, rest);
  if (out[0] == '\0') strcpy(out, "./");  // the prefix itself (a directory)
  return out;
}

static bool needs_quote(unsigned char c, bool quote_sp) {
  if (c >= 0x80) return quote_path_fully;
  return c < 0x20 || c == '"' || c == '\\' || c == 0x7f || (quote_sp && c == ' ');
}

// PATH as git's quote_c_style writes it (git.h, put_path), whatever the output.
static char *quote_path(const char *path, const char *prefix, bool quote_sp) {
  char *rel = relative(path, prefix);
  bool quote = false;
  for (const unsigned char *p = (const unsigned char *)rel; *p != '\0'; p++)
    if (needs_quote(*p, quote_sp)) quote = true;
  if (!quote) return rel;
  size_t n = strlen(rel);
  char *out = malloc(n * 4 + 3);
  if (out == NULL) die("out of memory");
  char *o = out;
  *o++ = '"';
  for (const unsigned char *p = (const unsigned char *)rel; *p != '\0'; p++) {
    unsigned char c = *p;
    const char *esc = NULL;
    switch (c) {
      case '\a': esc = "\\a"; break;
      case '\b': esc = "\\b"; break;
      case '\t': esc = "\\t"; break;
      case '\n': esc = "\\n"; break;
      case '\v': esc = "\\v"; break;
      case '\f': esc = "\\f"; break;
      case '\r': esc = "\\r"; break;
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      default: break;
    }
    if (esc != NULL) {
      memcpy(o, esc, 2);
      o += 2;
    } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && quote_path_fully)) {
      o += sprintf(o, "\\%03o", c);
    } else {
      *o++ = (char)c;
    }
  }
  *o++ = '"';
  *o = '\0';
  free(rel);
  return out;
}

char *requote_header_line(const char *line, size_t len) {
  char *out = NULL;
  size_t olen = 0;
  FILE *m = open_memstream(&out, &olen);
  if (m == NULL) die("out of memory");
  for (size_t i = 0; i < len;) {
    if (line[i] != '"' || quote_path_fully) {
      fputc(line[i++], m);
      continue;
    }
    // a C-quoted name: unquote it, then quote it again by this repository's rule
    char *raw = malloc(len + 1);
    if (raw == NULL) die("out of memory");
    size_t r = 0, j = i + 1;
    while (j < len && line[j] != '"') {
      if (line[j] != '\\' || j + 1 >= len) {
        raw[r++] = line[j++];
        continue;
      }
      char c = line[j + 1];
      const char *from = "abtnvfr\"\\", *to = "\a\b\t\n\v\f\r\"\\";
      const char *k = strchr(from, c);
      if (c >= '0' && c <= '7' && j + 3 < len) {
        raw[r++] = (char)(((line[j + 1] - '0') << 6) | ((line[j + 2] - '0') << 3) | (line[j + 3] - '0'));
        j += 4;
      } else if (k != NULL && c != '\0') {
        raw[r++] = to[k - from];
        j += 2;
      } else {
        raw[r++] = line[j++];
      }
    }
    raw[r] = '\0';
    if (j >= len || memchr(raw, '\0', r) != NULL) {  // not a quoted name after all: as it is
      fputc(line[i++], m);
      free(raw);
      continue;
    }
    char *q = quote_path(raw, NULL, false);
    fputs(q, m);
    free(q);
    free(raw);
    i = j + 1;
  }
  fclose(m);
  return out;
}

char *path_str(const char *path, const char *prefix, bool quote_sp) {
  char *s = quote_path(path, prefix, quote_sp);
  if (!on_terminal(stdout)) return s;
  char *shown = strdup(term_str(stdout, s));  // quoted names are ASCII; not with core.quotePath off
  if (shown == NULL) die("out of memory");
  free(s);
  return shown;
}

int display_width(const char *s) {
  int width = 0;
  size_t len = strlen(s);
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  while (p < end) {
    unsigned c = *p;
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || p + n > end) return (int)len;
    wchar_t wc = n == 1 ? c : (wchar_t)(c & (0x7f >> n));
    for (int k = 1; k < n; k++) {
      if ((p[k] & 0xc0) != 0x80) return (int)len;
      wc = (wc << 6) | (p[k] & 0x3f);
    }
    int w = wcwidth(wc);
    if (w > 0) width += w;
    p += n;
  }
  return width;
}

bool on_terminal(FILE *f) {
  static int tty[3] = {-1, -1, -1};
  int fd = fileno(f);
  if (fd < 0 || fd > 2) return false;
  if (tty[fd] < 0) tty[fd] = isatty(fd) == 1;
  return tty[fd] == 1;
}

// The length of the strict UTF-8 sequence at S[I] (shortest form, no surrogates, <= U+10FFFF)
// and its code point into CP; 0 when it is none.
static size_t utf8_sequence(const unsigned char *s, size_t n, size_t i, unsigned *cp) {
  unsigned char c = s[i];
  size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (len == 0) return 0;
  unsigned v = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
  for (size_t k = 1; k < len; k++) {
    if (i + k >= n || (s[i + k] & 0xc0) != 0x80) return 0;
    v = (v << 6) | (s[i + k] & 0x3f);
  }
  if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) || (len == 4 && (v < 0x10000 || v > 0x10ffff)))
    return 0;
  *cp = v;
  return len;
}

// The host's escape_for_terminal with ControlStyle::kCaret (src/common/escape.cc), in C.
static void put_escaped(FILE *out, const char *text, size_t n) {
  const unsigned char *s = (const unsigned char *)text;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if ((c < 0x20 || c == 0x7f) && c != '\t' && c != '\n') {
        fputc('^', out);
        fputc(c == 0x7f ? '?' : c + 0x40, out);
      } else {
        fputc(c, out);
      }
      i++;
      continue;
    }
    unsigned cp = 0;
    size_t len = utf8_sequence(s, n, i, &cp);
    if (len == 0) {
      fprintf(out, "\\x%02x", c);
      i++;
    } else {
      bool bidi = cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
                  (cp >= 0x2066 && cp <= 0x2069);
      if ((cp >= 0x80 && cp <= 0x9f) || bidi) fprintf(out, "<U+%04X>", cp);
      else fwrite(s + i, 1, len, out);
      i += len;
    }
  }
}

void put_text(FILE *out, const char *s, size_t n) {
  if (on_terminal(out)) put_escaped(out, s, n);
  else fwrite(s, 1, n, out);
}

const char *term_str(FILE *out, const char *s) {
  static char *ring[8];
  static size_t next;
  if (s == NULL || !on_terminal(out)) return s;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (m == NULL) die("out of memory");
  put_escaped(m, s, strlen(s));
  fclose(m);
  free(ring[next]);
  ring[next] = buf;
  next = (next + 1) % 8;
  return buf;
}

void put_path(FILE *out, const char *path, const char *prefix, bool quote_sp) {
  char *s = quote_path(path, prefix, quote_sp);
  put_text(out, s, strlen(s));
  free(s);
}

const char *short_id(git_repository *repo, const git_oid *id) {
  static char hex[4][GIT_OID_HEXSZ + 1];
  static int slot;
  char *out = hex[slot++ % 4];
  git_object *obj = NULL;
  git_buf buf = {0};
  if (git_object_lookup(&obj, repo, id, GIT_OBJECT_ANY) == 0 && git_object_short_id(&buf, obj) == 0) {
    snprintf(out, GIT_OID_HEXSZ + 1, "%s", buf.ptr);
  } else {
    git_oid_tostr(out, 8, id);
  }
  git_buf_dispose(&buf);
  git_object_free(obj);
  return out;
}

static const struct {
  const char *name;
  int (*run)(int, char **);
} commands[] = {
    {"init", cmd_init},     {"add", cmd_add},   {"commit", cmd_commit},
    {"status", cmd_status}, {"log", cmd_log},   {"ls-files", cmd_ls_files},
    {"diff", cmd_diff},     {"show", cmd_show}, {"branch", cmd_branch},
    {"checkout", cmd_checkout}, {"restore", cmd_restore}, {"grep", cmd_grep},
    {"blame", cmd_blame}, {"switch", cmd_switch},
};

int main(int argc, char **argv) {
  if (wasmcap_enter_workdir("git") != 0) return EXIT_FATAL;
  int i = 1;
  // Global options: -C DIR only.
  while (i < argc && argv[i][0] == '-') {
    if (strcmp(argv[i], "-C") == 0 && i + 1 < argc) {
      if (argv[i + 1][0] != '\0' && chdir(argv[i + 1]) != 0)
        die("cannot change to '%s': %s", argv[i + 1], strerror(errno));
      i += 2;
    } else {
      refuse(argv[i]);
    }
  }
  if (i >= argc) {
    fputs("usage: git [-C <path>] <command> [<args>]\n"
          "commands in the sandbox: init add commit status log ls-files diff show branch\n"
          "checkout switch restore grep blame\n",
          stderr);
    return 1;
  }
  for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
    if (strcmp(argv[i], commands[c].name) == 0) {
      git_libgit2_init();
      // No system or XDG configuration in the sandbox; global = $HOME/.gitconfig as git's.
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, "");
      int rc = commands[c].run(argc - i, argv + i);
      fflush(stdout);
      return rc;
    }
  }
  refuse(argv[i]);
}
