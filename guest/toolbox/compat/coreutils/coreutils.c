/* compat/coreutils/coreutils.c — what GNU coreutils' ls and cat, and GNU find, need that WASI
   does not report or have: the sandbox's user and what a file's status lacks. Compiled into each
   of those programs' units (build.sh), so ls and find show the same owner, modes and blocks. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasmcap_user.h"

/* The sandbox's one user, as the core-utils bundle's ls, id and whoami show it (the guest SDK's
   wasmcap_user.h): uid and gid 1000, named by $USER when the operator set it to a plain login
   name, else nameless (ls -l then prints the number, as GNU's for an unknown id). */
struct passwd *getpwuid(uid_t u) {
  static struct passwd pw;
  const char *name = wasmcap_user_name();
  if (u != WASMCAP_SANDBOX_ID || name == NULL) return NULL;
  pw = (struct passwd){
      .pw_name = (char *)name, .pw_uid = WASMCAP_SANDBOX_ID, .pw_gid = WASMCAP_SANDBOX_ID};
  return &pw;
}

struct passwd *getpwnam(const char *n) {
  const char *name = wasmcap_user_name();
  return name != NULL && strcmp(n, name) == 0 ? getpwuid(WASMCAP_SANDBOX_ID) : NULL;
}

struct group *getgrgid(gid_t g) {
  static struct group gr;
  static char *no_members[] = {NULL};
  const char *name = wasmcap_user_name();
  if (g != WASMCAP_SANDBOX_ID || name == NULL) return NULL;
  gr = (struct group){
      .gr_name = (char *)name, .gr_gid = WASMCAP_SANDBOX_ID, .gr_mem = no_members};
  return &gr;
}

struct group *getgrnam(const char *n) {
  const char *name = wasmcap_user_name();
  return name != NULL && strcmp(n, name) == 0 ? getgrgid(WASMCAP_SANDBOX_ID) : NULL;
}

/* WASI's filestat has a type, size, links and times, but no owner, mode or block count
   (wasi-libc leaves them 0). Filled in as the core-utils bundle's ls shows them:
   - owner and group: the sandbox's user;
   - permission bits: r and w are what the grant lets this program do (access(), which wasi-libc
     answers from the rights the directory hands down: a read-only grant shows r--r--r--), in the
     usual pattern (the owner's read and write, everyone's read), x on directories; symlinks
     rwxrwxrwx as on Linux. An executable file's x bits are not known (WASI has none);
   - blocks (ls -s, ls -l's total): the size rounded up to 4 KiB, in 512-byte units, what ext4
     allocates for a regular file or directory that is not sparse; a symlink's target of fewer
     than 60 bytes is kept in its inode (no block), a longer one takes a block.
   NAME is relative to DIRFD (AT_FDCWD: the working directory), as for fstatat. */
int wasmcap_stat_fill_at(int dirfd, const char *name, struct stat *st, int rc) {
  if (rc != 0) return rc;
  const int saved = errno;
  st->st_uid = WASMCAP_SANDBOX_ID;
  st->st_gid = WASMCAP_SANDBOX_ID;
  mode_t perm;
  if (S_ISLNK(st->st_mode)) {
    perm = 0777;
    st->st_blocks = st->st_size < 60 ? 0 : 8;
  } else {
    const int r = faccessat(dirfd, name, R_OK, 0) == 0, w = faccessat(dirfd, name, W_OK, 0) == 0;
    const int dir = S_ISDIR(st->st_mode);
    perm = (r ? 0444 : 0) | (w ? 0200 : 0) | (dir ? 0111 : 0);
    st->st_blocks = S_ISREG(st->st_mode) || dir ? (st->st_size + 4095) / 4096 * 8 : 0;
  }
  st->st_mode = (st->st_mode & S_IFMT) | perm;
  errno = saved;
  return rc;
}

int wasmcap_stat_fill(const char *name, struct stat *st, int rc) {
  return wasmcap_stat_fill_at(AT_FDCWD, name, st, rc);
}

/* faccessat as the filled modes above answer it: wasi-libc checks read and write against the
   grant's rights but grants X_OK to every file (WASI has no execute permission), where the
   modes give x to directories only (find -executable). */
int wasmcap_faccessat(int dirfd, const char *name, int mode, int flags) {
  if (faccessat(dirfd, name, mode, flags) != 0) return -1;
  if (mode & X_OK) {
    struct stat st;
    if (fstatat(dirfd, name, &st, 0) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
      errno = EACCES;
      return -1;
    }
  }
  return 0;
}
