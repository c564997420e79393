// The toolbox's multi-call entry point: one module, several programs built from Debian's source
// packages (README.md). Each program's objects are linked into one unit whose only public symbol
// is its renamed main (build.sh), so the programs' own globals never meet; this picks one by
// argv[0]'s last component (the shell's command name, `--argv0`) or else, as in
// `toolbox TOOL ARGS...`, by the first argument.
//
// Working directory (as guest/coreutils): wasi-libc starts the cwd at "/", where no relative
// path resolves. Before the tool runs it becomes $PWD when the environment has it (wasmcap sh
// passes the shell's working directory), else the first preopened directory. A $PWD that cannot
// be entered is an error (exit 2), never silently replaced.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

int mawk_main(int argc, char **argv);
int jq_main(int argc, char **argv);
int diff_main(int argc, char **argv);
int cmp_main(int argc, char **argv);
// wasi-libc declares these (glibc's names) but never sets them; gnulib's error() prints the
// short one as the program name.
extern char *program_invocation_name;
extern char *program_invocation_short_name;

static const struct {
  const char *name;
  int (*main)(int, char **);
} tools[] = {
    {"awk", mawk_main},
    {"mawk", mawk_main},
    {"jq", jq_main},
    {"diff", diff_main},
    {"cmp", cmp_main},
};

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static int (*find(const char *name))(int, char **) {
  for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
    if (strcmp(name, tools[i].name) == 0) return tools[i].main;
  return NULL;
}

// Enters $PWD, else the first preopen (fd 3, the WASI convention). 0, or -1 after saying why.
static int enter_workdir(void) {
  const char *pwd = getenv("PWD");
  if (pwd != NULL && pwd[0] != '\0') {
    if (chdir(pwd) == 0) return 0;
    fprintf(stderr, "toolbox: cannot enter the working directory $PWD: %s\n", strerror(errno));
    return -1;
  }
  __wasi_prestat_t ps;
  if (__wasi_fd_prestat_get(3, &ps) != 0 || ps.tag != __WASI_PREOPENTYPE_DIR) return 0;
  char name[4097];
  size_t n = ps.u.dir.pr_name_len;
  if (n >= sizeof name || __wasi_fd_prestat_dir_name(3, (uint8_t *)name, n) != 0) return 0;
  name[n] = '\0';
  if (chdir(name) == 0) return 0;
  fprintf(stderr, "toolbox: cannot enter the granted directory: %s\n", strerror(errno));
  return -1;
}

int main(int argc, char **argv) {
  int (*tool)(int, char **) = argc > 0 ? find(base_name(argv[0])) : NULL;
  if (tool == NULL && argc > 1 && (tool = find(argv[1])) != NULL) {
    argv++;  // toolbox TOOL ARGS...: TOOL is the program's argv[0]
    argc--;
  }
  if (tool != NULL) {
    program_invocation_name = argv[0];
    program_invocation_short_name = (char *)base_name(argv[0]);
    return enter_workdir() == 0 ? tool(argc, argv) : 2;
  }
  fputs("toolbox: usage: toolbox TOOL [ARGS...] (or run as TOOL); tools:", stderr);
  for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) fprintf(stderr, " %s", tools[i].name);
  fputc('\n', stderr);
  return 2;
}
