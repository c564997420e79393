/* compat/gzip-inproc.h — gzip 1.12 inside another program's process (patches/gzip/
 * 02-in-process.patch): GNU tar's -z in the toolbox, where WASI has no processes to run gzip in.
 *
 * gzip_inproc(decompress, in, out, io) compresses or decompresses as `gzip -c` (level 6) or
 * `gzip -dc` reading a pipe would (no name, time stamp 0: GNU tar's child gzip reads a pipe), so
 * the bytes are gzip's own. A negative descriptor is the caller's memory, read or written through
 * io->read / io->write (which return what read(2) and write(2) would). Returns gzip's exit
 * status (0, or 2 after a warning such as trailing garbage); a fatal error (not in gzip format,
 * a corrupt or truncated stream, a failed write) is reported by gzip ("gzip: stdin: ...") and
 * then io->fail(status) is called, which must not return. Once per process: gzip's state is
 * not reset. */
#ifndef WASMCAP_GZIP_INPROC_H
#define WASMCAP_GZIP_INPROC_H
struct gzip_inproc_io {
  int (*read)(void *buf, unsigned int n);
  int (*write)(const void *buf, unsigned int n);
  void (*fail)(int status);
};
int gzip_inproc(int decompress, int in, int out, const struct gzip_inproc_io *io);
#endif
