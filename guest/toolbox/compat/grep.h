/* wasmcap: GNU grep 3.8 (and GNU find: find/find.h includes it) for WASI, included before every
   source file when compiling (not at configure time: <dirent.h>'s declarations would clash with
   configure's own probes).  */
#ifndef WASMCAP_TOOLBOX_GREP_H
#define WASMCAP_TOOLBOX_GREP_H
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
/* wasi-libc maps DT_* to WASI file types and has no DT_SOCK, which gnulib's fts names: a value
   no other DT_ has (WASI's datagram socket type; nothing the sandbox lists is one). */
#ifndef DT_SOCK
#define DT_SOCK __WASI_FILETYPE_SOCKET_DGRAM
#endif
/* C23's width macros, which gnulib uses (rawmemchr) and wasi-libc's headers lack. */
#ifndef UINTPTR_WIDTH
#define UINTPTR_WIDTH __UINTPTR_WIDTH__
#endif
#ifndef UCHAR_WIDTH
#define UCHAR_WIDTH CHAR_BIT
#endif
#endif
