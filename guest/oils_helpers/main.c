// The Oils spec tests' helper programs (spec/bin/ of the oils-spec test data) as one multi-call
// WASI module: argv[0] picks the program, as the shell passes the command's name. Only tests
// install this bundle (tests/shell/oils_spec.py); it is never part of the default toolbox.
//
//   argv.py ARGS...          prints ARGS as Python 3 prints a list of str: ['a', "it's"]
//   printenv.py NAMES...     prints each variable's value, or None
//   read_from_fd.py FDS...   prints "FD: " and up to 1024 bytes read from each descriptor
//   stdout_stderr.py [OUT [ERR [STATUS]]]   OUT on stdout, ERR on stderr, exits STATUS
//   show_fd_table.py         lists the descriptors the instance has (WASI has no /proc)
//
// argv.py matters most: 260 cases compare its output byte for byte, so it reproduces Python's
// repr() of a str whose bytes were decoded as UTF-8 with surrogateescape (what Python 3 does
// with argv), checked against python3 running the upstream script (tests/shell/oils_spec.py).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "printable.h"

static int is_printable(unsigned cp) {
  size_t lo = 0, hi = sizeof kNonPrintable / sizeof kNonPrintable[0];
  while (lo < hi) {  // the last range whose start is <= cp
    size_t mid = (lo + hi) / 2;
    if (kNonPrintable[mid][0] <= cp) lo = mid + 1;
    else hi = mid;
  }
  return lo == 0 || cp > kNonPrintable[lo - 1][1];
}

// The length of a valid UTF-8 sequence at s (as Python's strict decoder accepts: no overlong
// forms, no surrogates, nothing above U+10FFFF), its code point in *cp; 0 when invalid.
static size_t utf8_at(const unsigned char* s, size_t n, unsigned* cp) {
  unsigned char c = s[0];
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    *cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    *cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    *cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (s[i] & 0x3F);
  }
  return len;
}

static void put_escape(unsigned cp) {
  if (cp < 0x100) printf("\\x%02x", cp);
  else if (cp < 0x10000) printf("\\u%04x", cp);
  else printf("\\U%08x", cp);
}

// Python's repr() of the str that surrogateescape decoding makes of `s`.
static void put_repr(const char* arg) {
  const unsigned char* s = (const unsigned char*)arg;
  size_t n = strlen(arg);
  // Python picks " only when the text holds ' and no " (over the decoded text: the quote
  // characters are ASCII, so looking at the bytes is the same).
  char q = memchr(s, '\'', n) != NULL && memchr(s, '"', n) == NULL ? '"' : '\'';
  putchar(q);
  for (size_t i = 0; i < n;) {
    unsigned cp;
    size_t len = utf8_at(s + i, n - i, &cp);
    if (len == 0) {  // an undecodable byte becomes the lone surrogate U+DC80..U+DCFF
      put_escape(0xDC00 + s[i]);
      i += 1;
      continue;
    }
    if (cp == (unsigned)q || cp == '\\') printf("\\%c", (char)cp);
    else if (cp == '\t') fputs("\\t", stdout);
    else if (cp == '\n') fputs("\\n", stdout);
    else if (cp == '\r') fputs("\\r", stdout);
    else if (!is_printable(cp)) put_escape(cp);
    else fwrite(s + i, 1, len, stdout);
    i += len;
  }
  putchar(q);
}

static int argv_py(int argc, char** argv) {
  putchar('[');
  for (int i = 1; i < argc; ++i) {
    if (i > 1) fputs(", ", stdout);
    put_repr(argv[i]);
  }
  puts("]");
  return 0;
}

static int printenv_py(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* v = getenv(argv[i]);
    puts(v != NULL ? v : "None");
  }
  return 0;
}

static int read_from_fd_py(int argc, char** argv) {
  static char buf[1024];
  for (int i = 1; i < argc; ++i) {
    int fd = atoi(argv[i]);
    // The shell passes its descriptors at their numbers; a preopened directory is not one of
    // them (upstream's program, on Linux, would find that number closed).
    __wasi_prestat_t pre;
    int preopen = fd > 2 && __wasi_fd_prestat_get(fd, &pre) == 0 &&
                  pre.tag == __WASI_PREOPENTYPE_DIR;
    ssize_t got = fd >= 0 && !preopen ? read(fd, buf, sizeof buf) : (errno = EBADF, -1);
    if (got < 0) {
      fflush(stdout);
      fprintf(stderr, "FATAL: Error reading from fd %d: [Errno %d] %s\n", fd, errno,
              strerror(errno));
      return 1;
    }
    printf("%d: ", fd);
    fwrite(buf, 1, (size_t)got, stdout);
  }
  return 0;
}

static int stdout_stderr_py(int argc, char** argv) {
  // As Python with stdout not a terminal (as in every case): stdout is block-buffered, flushed
  // at exit, after stderr (explicitly, whatever the guest's stdout is).
  static char buf[BUFSIZ];
  setvbuf(stdout, buf, _IOFBF, sizeof buf);
  puts(argc > 1 ? argv[1] : "STDOUT");
  fprintf(stderr, "%s\n", argc > 2 ? argv[2] : "STDERR");
  return argc > 3 ? atoi(argv[3]) : 0;
}

// The open descriptors 0..255 (a closed number is skipped): "N NAME" for stdio and preopens,
// "N ACCESS" (r, w, rw or -, from the rights) for any other.
static int show_fd_table_py(void) {
  for (int fd = 0; fd < 256; ++fd) {
    __wasi_fdstat_t st;
    if (__wasi_fd_fdstat_get(fd, &st) != 0) continue;
    __wasi_prestat_t pre;
    char name[256];
    if (fd > 2 && __wasi_fd_prestat_get(fd, &pre) == 0 && pre.tag == __WASI_PREOPENTYPE_DIR &&
        pre.u.dir.pr_name_len < sizeof name &&
        __wasi_fd_prestat_dir_name(fd, (uint8_t*)name, pre.u.dir.pr_name_len) == 0) {
      name[pre.u.dir.pr_name_len] = '\0';
      printf("%d %s\n", fd, name);
    } else if (fd <= 2) {
      printf("%d %s\n", fd, fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr");
    } else {
      int r = (st.fs_rights_base & __WASI_RIGHTS_FD_READ) != 0;
      int w = (st.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0;
      printf("%d %s\n", fd, r && w ? "rw" : r ? "r" : w ? "w" : "-");
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  const char* name = argc > 0 ? strrchr(argv[0], '/') : NULL;
  name = name != NULL ? name + 1 : argc > 0 ? argv[0] : "";
  if (strcmp(name, "argv.py") == 0) return argv_py(argc, argv);
  if (strcmp(name, "printenv.py") == 0) return printenv_py(argc, argv);
  if (strcmp(name, "read_from_fd.py") == 0) return read_from_fd_py(argc, argv);
  if (strcmp(name, "stdout_stderr.py") == 0) return stdout_stderr_py(argc, argv);
  if (strcmp(name, "show_fd_table.py") == 0) return show_fd_table_py();
  fprintf(stderr, "oils helpers: unknown program (argv[0] names it: argv.py, printenv.py, "
                  "read_from_fd.py, stdout_stderr.py, show_fd_table.py)\n");
  return 2;
}
