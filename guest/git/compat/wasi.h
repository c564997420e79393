// Forced into every libgit2 object (-include, build.sh): what libgit2's Unix port calls and
// wasi-libc does not have. WASI has no users and no permission bits (README.md, "What git sees").
#ifndef WASMCAP_GIT_COMPAT_WASI_H
#define WASMCAP_GIT_COMPAT_WASI_H
#include <sys/stat.h>
#include <sys/types.h>

// No users: every file's st_uid is 0 in wasi-libc, and so is the caller. libgit2's ownership
// check (safe.directory) then accepts the granted repository, as git does for one's own files.
static inline uid_t geteuid(void) { return 0; }
static inline uid_t getuid(void) { return 0; }
static inline gid_t getgid(void) { return 0; }
// No processes: libgit2 mixes these into its random seed (after the time and getpid()).
static inline pid_t getppid(void) { return 0; }
static inline pid_t getpgid(pid_t pid) { (void)pid; return 0; }
static inline pid_t getsid(pid_t pid) { (void)pid; return 0; }

// No permission bits: chmod is a no-op that succeeds, so libgit2 sees that the mode did not
// change and `git init` writes core.filemode = false (as git does on a filesystem without
// them); directories it creates keep the host's modes.
static inline int chmod(const char *path, mode_t mode) {
  (void)path;
  (void)mode;
  return 0;
}

// wasi-libc leaves realpath() out ("WASI has no absolute paths"); libgit2 canonicalizes the
// repository's paths with it. compat.c makes the path absolute against the working directory
// and removes "." and ".." by name (no symlinks are followed: a granted directory's links are
// resolved by the host, which confines them to the grant).
char *realpath(const char *path, char *resolved);
#endif
