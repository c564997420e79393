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
int gzip_main(int argc, char **argv);
int patch_main(int argc, char **argv);
int tar_main(int argc, char **argv);
int grep_main(int argc, char **argv);
int find_main(int argc, char **argv);  // GNU find (findutils)
int ls_main(int argc, char **argv);
int cat_main(int argc, char **argv);
int xxd_main(int argc, char **argv);     // xxd (vim's src/xxd)
int column_main(int argc, char **argv);  // column (util-linux)
int tree_main(int argc, char **argv);
int bc_main(int argc, char **argv);  // GNU bc
// wasi-libc declares these (glibc's names) but never sets them; gnulib's error() prints the
// short one as the program name.
extern char *program_invocation_name;
extern char *program_invocation_short_name;

// as_argv0 and option: Debian's gunzip and zcat are scripts running `gzip -d` and `gzip -cd`,
// and its egrep and fgrep run `grep -E` and `grep -F` (with no obsolescence warning), so the
// program sees those arguments and names itself gzip or grep in its messages. Debian's dir and
// vdir are ls.c built with columns and with the long format, both with -b's escapes, as their
// defaults: here `ls -C -b` and `ls -l -b`, named dir and vdir.
static const struct {
  const char *name;
  int (*main)(int, char **);
  const char *as_argv0;
  const char *option;
} tools[] = {
    {"awk", mawk_main, NULL, NULL},    {"mawk", mawk_main, NULL, NULL},
    {"jq", jq_main, NULL, NULL},       {"diff", diff_main, NULL, NULL},
    {"cmp", cmp_main, NULL, NULL},     {"gzip", gzip_main, NULL, NULL},
    {"gunzip", gzip_main, "gzip", "-d"}, {"zcat", gzip_main, "gzip", "-cd"},
    {"patch", patch_main, NULL, NULL},
    {"tar", tar_main, NULL, NULL},
    {"grep", grep_main, NULL, NULL},
    {"egrep", grep_main, "grep", "-E"}, {"fgrep", grep_main, "grep", "-F"},
    {"find", find_main, NULL, NULL},
    {"ls", ls_main, NULL, NULL},
    {"dir", ls_main, "dir", "-Cb"}, {"vdir", ls_main, "vdir", "-lb"},
    {"cat", cat_main, NULL, NULL},
    {"xxd", xxd_main, NULL, NULL},
    {"column", column_main, NULL, NULL},
    {"tree", tree_main, NULL, NULL},
    {"bc", bc_main, NULL, NULL},
};
#define NTOOLS (sizeof tools / sizeof tools[0])

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static int find(const char *name) {
  for (size_t i = 0; i < NTOOLS; i++)
    if (strcmp(name, tools[i].name) == 0) return (int)i;
  return -1;
}

int main(int argc, char **argv) {
  int t = argc > 0 ? find(base_name(argv[0])) : -1;
  if (t < 0 && argc > 1 && (t = find(argv[1])) >= 0) {
    argv++;  // toolbox TOOL ARGS...: TOOL is the program's argv[0]
    argc--;
  }
  if (t < 0) {
    fputs("toolbox: usage: toolbox TOOL [ARGS...] (or run as TOOL); tools:", stderr);
    for (size_t i = 0; i < NTOOLS; i++) fprintf(stderr, " %s", tools[i].name);
    fputc('\n', stderr);
    return 2;
  }
  if (tools[t].as_argv0 != NULL) {  // ARGV0 OPTION ARGS...: argc + 2 slots, NULL-terminated
    char **v = calloc((size_t)argc + 2, sizeof *v);
    if (v == NULL) {
      fputs("toolbox: out of memory\n", stderr);
      return 2;
    }
    v[0] = (char *)tools[t].as_argv0;
    v[1] = (char *)tools[t].option;
    for (int i = 1; i < argc; i++) v[i + 1] = argv[i];
    argv = v;
    argc++;
  }
  program_invocation_name = argv[0];
  program_invocation_short_name = (char *)base_name(argv[0]);
  return wasmcap_enter_workdir("toolbox") == 0 ? tools[t].main(argc, argv) : 2;
}
