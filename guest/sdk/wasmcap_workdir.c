/* wasmcap_workdir.c — see wasmcap_workdir.h. */
#include "wasmcap_workdir.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

int wasmcap_enter_workdir(const char *program) {
  const char *pwd = getenv("PWD");
  if (pwd != NULL && pwd[0] != '\0') {
    // "/" (wasmcap sh's `cd /`, above the preopens): where wasi-libc starts every program, and
    // where relative paths lead to the preopens by their names (`work/f`); chdir would look for
    // a preopen holding "/" and fail. Stay, as the core-utils bundle does.
    if (strcmp(pwd, "/") == 0) return 0;
    if (chdir(pwd) == 0) return 0;
    fprintf(stderr, "%s: cannot enter the working directory $PWD: %s\n", program, strerror(errno));
    return -1;
  }
  __wasi_prestat_t ps;
  if (__wasi_fd_prestat_get(3, &ps) != 0 || ps.tag != __WASI_PREOPENTYPE_DIR) return 0;
  char name[4097];
  size_t n = ps.u.dir.pr_name_len;
  if (n >= sizeof name || __wasi_fd_prestat_dir_name(3, (uint8_t *)name, n) != 0) return 0;
  name[n] = '\0';
  if (chdir(name) == 0) return 0;
  fprintf(stderr, "%s: cannot enter the granted directory: %s\n", program, strerror(errno));
  return -1;
}
