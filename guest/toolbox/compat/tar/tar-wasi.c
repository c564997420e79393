/* compat/tar/tar-wasi.c — GNU tar's compression child and remote-tape library, for WASI.
 *
 * GNU tar runs gzip as a child process for -z (src/system.c: fork, a pipe, exec "gzip"); WASI has
 * no processes. Here the archive's uncompressed stream is held in this process's memory and the
 * toolbox's own gzip 1.12 runs in the same process (gzip_inproc, compat/gzip-inproc.h), so
 * `tar czf` writes gzip's bytes, exactly what `tar czf` with Debian's gzip writes:
 *   - create: tar writes its records into memory; when it closes the archive, gzip compresses
 *     them into the archive file (or stdout);
 *   - read (-t, -x, -d, and an archive tar recognises as gzip'd without -z): gzip decompresses
 *     the archive file (or stdin) into memory, which tar then reads.
 * The memory is the only bound needed: an archive that decompresses past the run's memory limit
 * (a "tar bomb") stops tar with "Cannot allocate memory" before anything is extracted. The
 * memory archive is tar's "remote" descriptor (lib/rmt.h: _isrmt), so tar's reads, writes,
 * seeks and close reach it through rmt_*__ below, which replace lib/rtapelib.c: remote tapes
 * (rsh to a host) cannot exist in WASI either, and a HOST:FILE archive name is refused as
 * "Function not implemented" (--force-local takes it as a file).
 * Other compressors (-j, -J, --zstd, -I PROG) are refused: no program can be run. */
#include <config.h>
#include <system.h>

#include "common.h"
#include <rmt.h>

#include "gzip-inproc.h"

char const *rmt_command = "rmt";
char const *rmt_dev_name__;
bool force_local_option;

#define MEM_FD 0 /* the memory archive: tar's descriptor __REM_BIAS + 0 */

static struct {
  char *p;
  size_t len, cap, pos;
  int out;    /* create: where the compressed archive goes */
  bool open;
  int status; /* gzip's exit status after a warning (2), reported when tar closes */
} mem;

static int mem_read(void *buf, unsigned int n) {
  size_t k = mem.len - mem.pos < n ? mem.len - mem.pos : n;
  memcpy(buf, mem.p + mem.pos, k);
  mem.pos += k;
  return (int)k;
}

static int mem_append(const void *buf, size_t n) {
  if (n > mem.cap - mem.len) {
    size_t cap = mem.cap ? mem.cap : 1 << 20;
    while (cap - mem.len < n) {
      if (cap > SIZE_MAX / 2) return errno = ENOMEM, -1;
      cap *= 2;
    }
    char *p = realloc(mem.p, cap);
    if (p == NULL) return errno = ENOMEM, -1;
    mem.p = p;
    mem.cap = cap;
  }
  memcpy(mem.p + mem.len, buf, n);
  mem.len += n;
  return 0;
}

static int mem_write(const void *buf, unsigned int n) {
  return mem_append(buf, n) == 0 ? (int)n : -1;
}

static void gzip_failed(int status) {
  FATAL_ERROR((0, 0, _("Child returned status %d"), status));
}

static const struct gzip_inproc_io io = {mem_read, mem_write, gzip_failed};

/* Only gzip runs in this process; for another compressor, tar's message when it cannot be run. */
static void only_gzip(const char *p) {
  if (p == NULL) p = "gzip";
  const char *base = strrchr(p, '/');
  base = base ? base + 1 : p;
  if (strcmp(base, "gzip") != 0 && strcmp(p, "gzip -d") != 0)
    FATAL_ERROR((0, 0, _("%s: Cannot exec: %s"), p,
                 "no processes in the WASI sandbox (-z runs gzip in tar's process; no other compressor)"));
}

pid_t wasmcap_tar_open_compress(void) {
  only_gzip(use_compress_program_option);
  if (strcmp(archive_name_array[0], "-") == 0) {
    mem.out = STDOUT_FILENO;
  } else {
    mem.out = creat(archive_name_array[0], MODE_RW);
    if (mem.out < 0) open_fatal(archive_name_array[0]);
  }
  mem.len = mem.pos = 0;
  mem.open = true;
  archive = __REM_BIAS + MEM_FD;
  return 1;
}

pid_t wasmcap_tar_open_uncompress(void) {
  int state;  /* -z, or what tar recognised the archive as (buffer.c) */
  only_gzip(first_decompress_program(&state));
  int in = STDIN_FILENO;
  if (strcmp(archive_name_array[0], "-") != 0) {
    in = open(archive_name_array[0], O_RDONLY | O_BINARY);
    if (in < 0) open_fatal(archive_name_array[0]);
  }
  mem.len = mem.pos = 0;
  mem.out = -1;
  mem.open = true;
  mem.status = gzip_inproc(1, in, -1, &io);
  if (in != STDIN_FILENO) close(in);
  archive = __REM_BIAS + MEM_FD;
  return 1;
}

/* tar closed the archive: report a warning of gzip's as tar reports a child's status. */
void wasmcap_tar_wait(void) {
  if (mem.status != 0) FATAL_ERROR((0, 0, _("Child returned status %d"), mem.status));
}

int rmt_open__(const char *name, int flags, int bias, const char *command) {
  (void)name; (void)flags; (void)bias; (void)command;
  errno = ENOSYS;
  return -1;
}

int rmt_close__(int fd) {
  if (fd != MEM_FD || !mem.open) return errno = EBADF, -1;
  mem.open = false;
  if (mem.out >= 0) {  /* create: compress into the archive file */
    mem.pos = 0;
    mem.status = gzip_inproc(0, -1, mem.out, &io);
    if (mem.out != STDOUT_FILENO && close(mem.out) != 0) return -1;
  }
  free(mem.p);
  mem.p = NULL;
  mem.len = mem.cap = mem.pos = 0;
  return 0;
}

size_t rmt_read__(int fd, char *buf, size_t n) {
  if (fd != MEM_FD || !mem.open) return errno = EBADF, SAFE_READ_ERROR;
  if (n > INT_MAX) n = INT_MAX;
  return (size_t)mem_read(buf, (unsigned int)n);
}

size_t rmt_write__(int fd, char *buf, size_t n) {
  if (fd != MEM_FD || !mem.open || mem.out < 0) return errno = EBADF, 0;
  return mem_append(buf, n) == 0 ? n : 0;
}

off_t rmt_lseek__(int fd, off_t off, int whence) {
  if (fd != MEM_FD || !mem.open) return errno = EBADF, -1;
  off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (off_t)mem.pos : (off_t)mem.len;
  if (off < -base || base + off > (off_t)mem.len) return errno = EINVAL, -1;
  mem.pos = (size_t)(base + off);
  return (off_t)mem.pos;
}

int rmt_ioctl__(int fd, int request, char *arg) {
  (void)fd; (void)request; (void)arg;
  errno = ENOTTY;
  return -1;
}
