// The toolbox's multi-call entry point: one module, several programs built from Debian's source
// packages (README.md). Each program's objects are linked into one unit whose only public symbol
// is its renamed main (build.sh), so the programs' own globals never meet; this picks one by
// argv[0]'s last component (the shell's command name, `--argv0`) or else, as in
// `toolbox TOOL ARGS...`, by the first argument.
//
// Working directory: before the tool runs, $PWD when the environment has it (wasmcap sh passes
// the shell's working directory), else the first preopened directory (the guest SDK's
// wasmcap_enter_workdir, guest/sdk/wasmcap_workdir.h). A $PWD that cannot be entered is an error
// (exit 2), never silently replaced.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmcap_workdir.h"

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

int main(int argc, char **argv) {
  int (*tool)(int, char **) = argc > 0 ? find(base_name(argv[0])) : NULL;
  if (tool == NULL && argc > 1 && (tool = find(argv[1])) != NULL) {
    argv++;  // toolbox TOOL ARGS...: TOOL is the program's argv[0]
    argc--;
  }
  if (tool != NULL) {
    program_invocation_name = argv[0];
    program_invocation_short_name = (char *)base_name(argv[0]);
    return wasmcap_enter_workdir("toolbox") == 0 ? tool(argc, argv) : 2;
  }
  fputs("toolbox: usage: toolbox TOOL [ARGS...] (or run as TOOL); tools:", stderr);
  for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) fprintf(stderr, " %s", tools[i].name);
  fputc('\n', stderr);
  return 2;
}
