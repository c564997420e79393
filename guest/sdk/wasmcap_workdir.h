/* wasmcap_workdir.h — a guest's working directory from what wasmcap grants.
 *
 * wasi-libc starts every program with the working directory "/", where only the preopens' own
 * paths resolve. A tool guest calls wasmcap_enter_workdir() before it looks at a path: it enters $PWD
 * when the environment has it (wasmcap sh passes the shell's working directory), else the first
 * preopened directory (fd 3, the WASI convention). $PWD "/" (the shell's `cd /`: the guest root
 * above the preopens, which is no preopen) leaves the program where wasi-libc started it, in "/":
 * relative paths lead to the preopens by their names, "." is outside the grants. A $PWD that
 * cannot be entered is an error, never silently replaced by another directory.
 *
 * Used by the bundles built from other projects' sources (guest/toolbox/toolbox.c,
 * guest/git/git.c): their build scripts compile wasmcap_workdir.c with the module.
 */
#ifndef WASMCAP_WORKDIR_H_
#define WASMCAP_WORKDIR_H_

#ifdef __cplusplus
extern "C" {
#endif

/* 0 when the working directory is $PWD ("/": left as it is), the first preopen, or (neither
 * given) left as it is;
 * -1 after writing "PROGRAM: cannot enter ...: REASON" to stderr. */
int wasmcap_enter_workdir(const char *program);

#ifdef __cplusplus
}
#endif

#endif /* WASMCAP_WORKDIR_H_ */
