/* wasmcap: GNU find (findutils 4.9.0) for WASI, included before every source file when compiling
   (after compat.h, gzip.h and tar/tar.h; not at configure time: <dirent.h>'s declarations would
   clash with configure's own probes).  */
#ifndef WASMCAP_TOOLBOX_FIND_H
#define WASMCAP_TOOLBOX_FIND_H
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <__mode_t.h> /* wasi-libc's S_IF* (what <sys/stat.h> includes) */
/* wasi-libc maps DT_* to WASI file types and has no DT_SOCK, which gnulib's fts names: a value
   no other DT_ has (as compat/grep.h). */
#ifndef DT_SOCK
#define DT_SOCK __WASI_FILETYPE_SOCKET_DGRAM
#endif
/* C23's width macros, which gnulib uses and wasi-libc's headers lack. */
#ifndef UINTPTR_WIDTH
#define UINTPTR_WIDTH __UINTPTR_WIDTH__
#endif
#ifndef UCHAR_WIDTH
#define UCHAR_WIDTH CHAR_BIT
#endif
/* wasi-libc gives FIFOs and sockets one S_IF value (0xc000: WASI has no FIFO type and reports
   sockets), so find's switch over the file types has a duplicate case. A FIFO gets Linux's value,
   which no WASI file has: -type p matches nothing, -type s sockets. */
#undef S_IFIFO
#define S_IFIFO 0x1000
#endif
