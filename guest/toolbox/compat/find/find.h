/* wasmcap: GNU find (findutils 4.9.0) for WASI, included before every source file when compiling
   (after compat.h, gzip.h and tar/tar.h; not at configure time: <dirent.h>'s declarations would
   clash with configure's own probes).  */
#ifndef WASMCAP_TOOLBOX_FIND_H
#define WASMCAP_TOOLBOX_FIND_H
/* DT_SOCK and C23's width macros, which gnulib's fts and rawmemchr use, as for grep. */
#include "../grep.h"
#include <__mode_t.h> /* wasi-libc's S_IF* (what <sys/stat.h> includes) */
/* wasi-libc gives FIFOs and sockets one S_IF value (0xc000: WASI has no FIFO type and reports
   sockets), so find's switch over the file types has a duplicate case. A FIFO gets Linux's value,
   which no WASI file has: -type p matches nothing, -type s sockets. */
#undef S_IFIFO
#define S_IFIFO 0x1000
#endif
