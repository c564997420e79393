// stat -c FORMAT / --printf FORMAT: what WASI's filestat reports (type, size, inode, links, the
// three times) in GNU's format. WASI reports no permission bits, owners, blocks or birth time,
// so their directives (and the default format, which shows them) are refused, never invented.
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cu.h"

static const char *stat_type(const struct stat *st) {
  if (S_ISREG(st->st_mode)) return st->st_size == 0 ? "regular empty file" : "regular file";
  if (S_ISDIR(st->st_mode)) return "directory";
  if (S_ISLNK(st->st_mode)) return "symbolic link";
  if (S_ISFIFO(st->st_mode)) return "fifo";
  if (S_ISSOCK(st->st_mode)) return "socket";
  if (S_ISCHR(st->st_mode)) return "character special file";
  if (S_ISBLK(st->st_mode)) return "block special file";
  return "weird file";
}

// GNU's %y: "2026-01-01 00:00:00.000000000 +0000" (the guest's time zone is UTC).
static void stat_time(char *buf, size_t n, struct timespec ts) {
  struct tm tm;
  time_t t = ts.tv_sec;
  gmtime_r(&t, &tm);
  size_t k = strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(buf + k, n - k, ".%09ld +0000", (long)ts.tv_nsec);
}

// Directives WASI cannot answer, and why.
static const char *stat_unsupported(char c) {
  switch (c) {
    case 'a': case 'A': case 'f': return "WASI reports no permission bits";
    case 'u': case 'U': case 'g': case 'G': return "WASI reports no owners";
    case 'b': case 'B': case 'o': return "WASI reports no block counts";
    case 'w': case 'W': return "WASI reports no birth time";
    case 'd': case 'D': case 't': case 'T': case 'm': return "WASI reports no device numbers";
    case 'C': return "WASI has no security contexts";
    default: return NULL;
  }
}

// Checks FMT before any output: a directive WASI cannot answer ends the tool. Returns 0 or -1.
static int stat_check(const char *fmt) {
  for (const char *p = fmt; *p; ++p) {
    if (*p != '%') continue;
    ++p;
    p += strspn(p, "-+ #0'");
    p += strspn(p, "0123456789");
    if (*p == '.') p += 1 + strspn(p + 1, "0123456789");
    if (*p == '\0') break;
    const char *why = stat_unsupported(*p);
    if (why != NULL) {
      cu_errx("%%%c is not supported in the sandbox (%s)", *p, why);
      return -1;
    }
  }
  return 0;
}

static void stat_escape(const char **pp) {
  const char *p = *pp;  // at the character after the backslash
  static const char from[] = "abfnrtv\\\"", to[] = "\a\b\f\n\r\t\v\\\"";
  const char *e = *p ? strchr(from, *p) : NULL;
  if (e != NULL) {
    putchar(to[e - from]);
  } else if (*p >= '0' && *p <= '7') {
    int v = 0;
    for (int i = 0; i < 3 && *p >= '0' && *p <= '7'; ++i) v = v * 8 + (*p++ - '0');
    putchar(v);
    *pp = p - 1;
    return;
  } else if (*p == 'x' && strchr("0123456789abcdefABCDEF", p[1]) && p[1]) {
    int v = 0;
    ++p;
    for (int i = 0; i < 2 && *p && strchr("0123456789abcdefABCDEF", *p); ++i, ++p) {
      v = v * 16 + (*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
    }
    putchar(v);
    *pp = p - 1;
    return;
  } else if (*p == '\0') {
    putchar('\\');
    *pp = p - 1;
    return;
  } else {
    cu_errx("warning: unrecognized escape '\\%c'", *p);
    putchar(*p);
  }
  *pp = p;
}

static void stat_print(const char *fmt, int escapes, const char *name, const struct stat *st) {
  for (const char *p = fmt; *p; ++p) {
    if (escapes && *p == '\\') {
      ++p;
      stat_escape(&p);
      continue;
    }
    if (*p != '%') {
      putchar(*p);
      continue;
    }
    const char *spec = p++;
    p += strspn(p, "-+ #0'");
    p += strspn(p, "0123456789");
    if (*p == '.') p += 1 + strspn(p + 1, "0123456789");
    if (*p == '\0') {  // a trailing lone directive prints as it is
      fputs(spec, stdout);
      break;
    }
    // The flags and width as a printf conversion (at most a few characters: bounded).
    char conv[64];
    int flen = (int)(p - spec - 1);
    if (flen > 40) flen = 40;
    long long num = 0;
    const char *str = NULL;
    char tbuf[64];
    switch (*p) {
      case '%': putchar('%'); continue;
      case 'n': str = name; break;
      case 's': num = (long long)st->st_size; break;
      case 'i': num = (long long)st->st_ino; break;
      case 'h': num = (long long)st->st_nlink; break;
      case 'X': num = (long long)st->st_atim.tv_sec; break;
      case 'Y': num = (long long)st->st_mtim.tv_sec; break;
      case 'Z': num = (long long)st->st_ctim.tv_sec; break;
      case 'F': str = stat_type(st); break;
      case 'x': stat_time(tbuf, sizeof(tbuf), st->st_atim); str = tbuf; break;
      case 'y': stat_time(tbuf, sizeof(tbuf), st->st_mtim); str = tbuf; break;
      case 'z': stat_time(tbuf, sizeof(tbuf), st->st_ctim); str = tbuf; break;
      case 'N': {
        cu_quote_always(stdout, name);
        if (S_ISLNK(st->st_mode)) {
          char target[4096];
          ssize_t n = readlink(name, target, sizeof(target) - 1);
          if (n >= 0) {
            target[n] = '\0';
            fputs(" -> ", stdout);
            cu_quote_always(stdout, target);
          }
        }
        continue;
      }
      default: putchar('?'); continue;  // GNU: an unknown directive prints '?'
    }
    if (str != NULL) {
      // strings take the '-' flag and the width only
      const char *f = spec + 1;
      size_t nf = strspn(f, "-+ #0'"), nw = strspn(f + nf, "0123456789");
      snprintf(conv, sizeof(conv), "%%%s%.*ss", memchr(f, '-', nf) ? "-" : "", (int)(nw > 20 ? 20 : nw), f + nf);
      printf(conv, str);
    } else {
      snprintf(conv, sizeof(conv), "%%%.*slld", flen, spec + 1);
      printf(conv, num);
    }
  }
}

int cu_stat(int argc, char **argv) {
  static const struct option longopts[] = {{"format", required_argument, 0, 'c'},
                                           {"printf", required_argument, 0, 'p'},
                                           {"dereference", no_argument, 0, 'L'},
                                           {0, 0, 0, 0}};
  const char *fmt = NULL;
  int escapes = 0, follow = 0, c;
  while ((c = getopt_long(argc, argv, "c:L", longopts, NULL)) != -1) {
    switch (c) {
      case 'c': fmt = optarg, escapes = 0; break;
      case 'p': fmt = optarg, escapes = 1; break;
      case 'L': follow = 1; break;
      default: return cu_try_help(1);
    }
  }
  if (optind == argc) {
    cu_errx("missing operand");
    return cu_try_help(1);
  }
  if (fmt == NULL) {
    cu_errx("the default format shows permission bits and owners, which WASI does not report: "
            "give -c FORMAT (%%n %%s %%F %%i %%h %%x %%y %%z %%X %%Y %%Z %%N)");
    return 1;
  }
  if (stat_check(fmt) != 0) return 1;
  int status = 0;
  for (int i = optind; i < argc; ++i) {
    struct stat st;
    if ((follow ? stat(argv[i], &st) : lstat(argv[i], &st)) != 0) {
      int e = errno;
      fputs("stat: cannot statx ", stderr);
      cu_quote_always(stderr, argv[i]);
      fprintf(stderr, ": %s\n", cu_strerror(e));
      status = 1;
      continue;
    }
    stat_print(fmt, escapes, argv[i], &st);
    if (!escapes) putchar('\n');
  }
  return status;
}
