#define _GNU_SOURCE
/* Linked into libwasmcap.so only.
 *
 * Debian's libwabt.a is compiled as position-independent *executable* code (-fPIE), not -fPIC:
 * its code reads glibc's stdin/stdout/stderr through PC-relative relocations, which only work
 * in an executable (through a copy relocation), never in a shared library, and the link fails.
 * These are the only such references (checked when this was written: every other symbol libwabt
 * references PC-relatively is its own, made local by libwasmcap.map). So the library defines
 * hidden variables with those three names, for wabt's code to bind to at link time, and sets
 * them to the process's streams before anything can use them. */
#include <dlfcn.h>

struct _IO_FILE;

__attribute__((visibility("hidden"))) struct _IO_FILE* stdin;
__attribute__((visibility("hidden"))) struct _IO_FILE* stdout;
__attribute__((visibility("hidden"))) struct _IO_FILE* stderr;

static struct _IO_FILE* process_stream(const char* name) {
  /* RTLD_DEFAULT finds the process's definition (glibc's, or the executable's copy): the hidden
   * ones above are not in the dynamic symbol table. */
  struct _IO_FILE** p = (struct _IO_FILE**)dlsym(RTLD_DEFAULT, name);
  return p != 0 ? *p : 0;
}

__attribute__((constructor(101))) static void wasmcap_bind_stdio(void) {
  stdin = process_stream("stdin");
  stdout = process_stream("stdout");
  stderr = process_stream("stderr");
}
