/* compat/tree/tree.h — forced into every file of tree's unit (build.sh build_tree), after tree's
 * own flags. find/find.h's rule for wasi-libc's one S_IF value of FIFOs and sockets (color.c's
 * and tree.c's switches over the file types have a duplicate case otherwise), and the
 * declaration of wasmcap_stat_fill (compat/coreutils/coreutils.c, compiled into tree's unit as
 * into ls's), which patches/tree/01 calls after getinfo's lstat and stat. */
#ifndef WASMCAP_COMPAT_TREE_H
#define WASMCAP_COMPAT_TREE_H
#include "../find/find.h"
struct stat;
int wasmcap_stat_fill(const char *name, struct stat *st, int rc);
#endif
