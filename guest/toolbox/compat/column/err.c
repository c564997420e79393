/* compat/column/err.c — BSD's err(3) family, which util-linux reports its errors with: wasi-libc
 * declares them (<err.h>, from musl) but does not build musl's src/legacy/err.c. The same
 * output as glibc's and musl's: "PROGRAM: MESSAGE: STRERROR" (warn, err), "PROGRAM: MESSAGE"
 * (warnx, errx), PROGRAM being program_invocation_short_name (toolbox.c sets it). Compiled
 * into column's unit only (build.sh build_column). */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char *program_invocation_short_name;

void vwarn(const char *fmt, va_list ap) {
  int e = errno;
  fprintf(stderr, "%s: ", program_invocation_short_name);
  if (fmt != NULL) {
    vfprintf(stderr, fmt, ap);
    fputs(": ", stderr);
  }
  fprintf(stderr, "%s\n", strerror(e));
}

void vwarnx(const char *fmt, va_list ap) {
  fprintf(stderr, "%s: ", program_invocation_short_name);
  if (fmt != NULL) vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void verr(int status, const char *fmt, va_list ap) {
  vwarn(fmt, ap);
  exit(status);
}

void verrx(int status, const char *fmt, va_list ap) {
  vwarnx(fmt, ap);
  exit(status);
}

void warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwarn(fmt, ap);
  va_end(ap);
}

void warnx(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwarnx(fmt, ap);
  va_end(ap);
}

void err(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verr(status, fmt, ap);
}

void errx(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verrx(status, fmt, ap);
}
