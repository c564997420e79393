// Sandbox-escape suite. Run as:
//   wasmcap run --dir WS::/work --dir RO::/ro:ro escape.wasm
// with the layout the test harness (tests/runtime/escape_test.cc) creates:
//   TMP/secret.txt                  outside; must stay unchanged
//   TMP/outside_dir/file.txt        outside directory
//   TMP/empty_outside/              outside, empty (rmdir target)
//   TMP/ws/                         the workspace, preopened as /work
//     inside.txt, victim.txt, victim2.txt, sub/nested.txt
//     etc_link -> /etc              absolute symlink
//     updir -> ..                   relative symlink to TMP
//     up2 -> ../../                 relative symlink above TMP
//     secret_link -> ../secret.txt
//     abs_secret_link -> TMP/secret.txt
//     chain1 -> chain2 -> chain3 -> ../secret.txt
//     dangle -> ../created_by_guest.txt      (dangling, outside)
//     dangle_abs -> TMP/created_abs.txt      (dangling, outside, absolute)
//     hidden_dir_link -> ../outside_dir
//     sub/up_link -> ../../secret.txt
//     good_link -> inside.txt       (stays inside: must work)
//   TMP/ro/                         preopened read-only as /ro
//     ro.txt, ro_sub/
//
// Each way out prints `ATTEMPT <name>: refused (<errno>)` or `ATTEMPT <name>: ESCAPED`; each
// positive control prints `CONTROL <name>: ok` or `CONTROL <name>: FAILED (<why>)`. The
// controls make sure a runtime that refuses everything (ENOSYS) cannot pass. Exit status is
// 0 only when every attempt was refused and every control passed.
//
// Most attempts use raw WASI imports with explicit lengths, so it is the runtime (not
// wasi-libc's path resolution) that has to refuse them; a few go through libc as real
// programs do.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define WASI_IMPORT(name) \
  __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

WASI_IMPORT(path_open)
int32_t raw_path_open(int32_t fd, int32_t dirflags, const char* path, size_t path_len,
                      int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
                      int32_t* fd_out);
WASI_IMPORT(path_create_directory)
int32_t raw_path_create_directory(int32_t fd, const char* path, size_t path_len);
WASI_IMPORT(path_remove_directory)
int32_t raw_path_remove_directory(int32_t fd, const char* path, size_t path_len);
WASI_IMPORT(path_unlink_file)
int32_t raw_path_unlink_file(int32_t fd, const char* path, size_t path_len);
WASI_IMPORT(path_rename)
int32_t raw_path_rename(int32_t fd, const char* old_path, size_t old_len, int32_t new_fd,
                        const char* new_path, size_t new_len);
WASI_IMPORT(path_link)
int32_t raw_path_link(int32_t old_fd, int32_t old_flags, const char* old_path, size_t old_len,
                      int32_t new_fd, const char* new_path, size_t new_len);
WASI_IMPORT(path_symlink)
int32_t raw_path_symlink(const char* old_path, size_t old_len, int32_t fd, const char* new_path,
                         size_t new_len);
WASI_IMPORT(path_readlink)
int32_t raw_path_readlink(int32_t fd, const char* path, size_t path_len, char* buf,
                          size_t buf_len, size_t* used);
WASI_IMPORT(path_filestat_get)
int32_t raw_path_filestat_get(int32_t fd, int32_t flags, const char* path, size_t path_len,
                              __wasi_filestat_t* out);
WASI_IMPORT(path_filestat_set_times)
int32_t raw_path_filestat_set_times(int32_t fd, int32_t flags, const char* path,
                                    size_t path_len, int64_t atim, int64_t mtim,
                                    int32_t fst_flags);

static const char* const kErrnoNames[] = {
    "SUCCESS", "E2BIG", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL", "EAFNOSUPPORT", "EAGAIN",
    "EALREADY", "EBADF", "EBADMSG", "EBUSY", "ECANCELED", "ECHILD", "ECONNABORTED",
    "ECONNREFUSED", "ECONNRESET", "EDEADLK", "EDESTADDRREQ", "EDOM", "EDQUOT", "EEXIST",
    "EFAULT", "EFBIG", "EHOSTUNREACH", "EIDRM", "EILSEQ", "EINPROGRESS", "EINTR", "EINVAL",
    "EIO", "EISCONN", "EISDIR", "ELOOP", "EMFILE", "EMLINK", "EMSGSIZE", "EMULTIHOP",
    "ENAMETOOLONG", "ENETDOWN", "ENETRESET", "ENETUNREACH", "ENFILE", "ENOBUFS", "ENODEV",
    "ENOENT", "ENOEXEC", "ENOLCK", "ENOLINK", "ENOMEM", "ENOMSG", "ENOPROTOOPT", "ENOSPC",
    "ENOSYS", "ENOTCONN", "ENOTDIR", "ENOTEMPTY", "ENOTRECOVERABLE", "ENOTSOCK", "ENOTSUP",
    "ENOTTY", "ENXIO", "EOVERFLOW", "EOWNERDEAD", "EPERM", "EPIPE", "EPROTO",
    "EPROTONOSUPPORT", "EPROTOTYPE", "ERANGE", "EROFS", "ESPIPE", "ESRCH", "ESTALE",
    "ETIMEDOUT", "ETXTBSY", "EXDEV", "ENOTCAPABLE"};

static const char* errno_name(int e) {
  static char buf[32];
  if (e >= 0 && e < (int)(sizeof kErrnoNames / sizeof kErrnoNames[0])) return kErrnoNames[e];
  snprintf(buf, sizeof buf, "errno%d", e);
  return buf;
}

static int attempts, escaped, controls, controls_failed;

// e == 0 means the operation succeeded, i.e. the sandbox was escaped.
static void attempt(const char* name, int e) {
  attempts++;
  if (e == 0) {
    escaped++;
    printf("ATTEMPT %s: ESCAPED\n", name);
  } else {
    printf("ATTEMPT %s: refused (%s)\n", name, errno_name(e));
  }
}

static void control(const char* name, int ok, const char* why) {
  controls++;
  if (ok) {
    printf("CONTROL %s: ok\n", name);
  } else {
    controls_failed++;
    printf("CONTROL %s: FAILED (%s)\n", name, why);
  }
}

static void control_errno(const char* name, int e) { control(name, e == 0, errno_name(e)); }

static const int64_t kReadRights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK |
                                   __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET;
static const int64_t kWriteRights = kReadRights | __WASI_RIGHTS_FD_WRITE |
                                    __WASI_RIGHTS_FD_FILESTAT_SET_SIZE |
                                    __WASI_RIGHTS_FD_FILESTAT_SET_TIMES;
static const int64_t kDirRights =
    __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_FILESTAT_GET |
    __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_PATH_READLINK;

static int ws = -1, ro = -1;

// path_open with strlen(path); returns errno, closes the fd on success unless fd_out.
static int open_at(int dir, int follow, const char* path, int oflags, int64_t base,
                   int fdflags, int* fd_out) {
  int32_t fd = -1;
  int e = raw_path_open(dir, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path,
                        strlen(path), oflags, base, fd_out ? base | kReadRights | kDirRights : 0,
                        fdflags, &fd);
  if (e == 0) {
    if (fd_out) {
      *fd_out = fd;
    } else {
      (void)__wasi_fd_close(fd);
    }
  }
  return e;
}

static int open_read(int dir, const char* path) {
  return open_at(dir, 1, path, 0, kReadRights, 0, NULL);
}

static int open_dir(int dir, const char* path) {
  return open_at(dir, 1, path, __WASI_OFLAGS_DIRECTORY, kDirRights, 0, NULL);
}

// Opens for writing; counts as an escape only if a write then succeeds.
static int write_through(int dir, int follow, const char* path, int oflags, int fdflags) {
  int fd = -1;
  int e = open_at(dir, follow, path, oflags, kWriteRights, fdflags, &fd);
  if (e != 0) return e;
  __wasi_ciovec_t iov = {(const uint8_t*)"PWNED", 5};
  __wasi_size_t n = 0;
  e = __wasi_fd_write(fd, &iov, 1, &n);
  (void)__wasi_fd_close(fd);
  if (e == 0 && n == 0) e = __WASI_ERRNO_IO;  // nothing written: not an escape
  return e;
}

static int mkdir_at(int dir, const char* p) { return raw_path_create_directory(dir, p, strlen(p)); }
static int rmdir_at(int dir, const char* p) { return raw_path_remove_directory(dir, p, strlen(p)); }
static int unlink_at(int dir, const char* p) { return raw_path_unlink_file(dir, p, strlen(p)); }
static int rename_at(int d1, const char* a, int d2, const char* b) {
  return raw_path_rename(d1, a, strlen(a), d2, b, strlen(b));
}
static int link_at(int d1, int follow, const char* a, int d2, const char* b) {
  return raw_path_link(d1, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, a, strlen(a), d2, b,
                       strlen(b));
}
static int symlink_at(const char* target, int dir, const char* p) {
  return raw_path_symlink(target, strlen(target), dir, p, strlen(p));
}
static int stat_at(int dir, int follow, const char* p) {
  __wasi_filestat_t st;
  return raw_path_filestat_get(dir, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, p,
                               strlen(p), &st);
}

// libc result: 0 on success, else errno (wasi-libc errno values are WASI errno values).
static int libc_open(const char* path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  return errno ? errno : -1;
}

static int read_all(int fd, char* buf, size_t cap) {
  size_t got = 0;
  while (got + 1 < cap) {
    __wasi_iovec_t iov = {(uint8_t*)buf + got, cap - 1 - got};
    __wasi_size_t n = 0;
    if (__wasi_fd_read(fd, &iov, 1, &n) != 0) return -1;
    if (n == 0) break;
    got += n;
  }
  buf[got] = 0;
  return (int)got;
}

static void find_preopens(void) {
  for (int fd = 3; fd < 64; fd++) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0) continue;
    char name[64] = {0};
    if (ps.u.dir.pr_name_len >= sizeof name) continue;
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t*)name, ps.u.dir.pr_name_len) != 0) continue;
    if (strcmp(name, "/work") == 0) ws = fd;
    if (strcmp(name, "/ro") == 0) ro = fd;
  }
}

static void run_controls(void) {
  control("preopens_found", ws >= 0 && ro >= 0, "missing /work or /ro preopen");

  // libc read inside the workspace.
  {
    FILE* f = fopen("/work/inside.txt", "r");
    char buf[64] = {0};
    int ok = f && fgets(buf, sizeof buf, f) && strcmp(buf, "inside data\n") == 0;
    control("libc_read_inside", ok, f ? "wrong content" : errno_name(errno));
    if (f) fclose(f);
  }
  // libc write + read back inside the workspace.
  {
    FILE* f = fopen("/work/written.txt", "w");
    int ok = f && fputs("written by guest\n", f) >= 0;
    if (f) ok = (fclose(f) == 0) && ok;
    char buf[64] = {0};
    FILE* g = ok ? fopen("/work/written.txt", "r") : NULL;
    ok = g && fgets(buf, sizeof buf, g) && strcmp(buf, "written by guest\n") == 0;
    if (g) fclose(g);
    control("libc_write_inside", ok, errno_name(errno));
  }
  // Listing the workspace shows its files.
  {
    DIR* d = opendir("/work");
    int seen_inside = 0, seen_sub = 0;
    if (d) {
      struct dirent* de;
      while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, "inside.txt") == 0) seen_inside = 1;
        if (strcmp(de->d_name, "sub") == 0) seen_sub = 1;
      }
      closedir(d);
    }
    control("list_workspace", seen_inside && seen_sub, d ? "entries missing" : errno_name(errno));
  }
  // Raw open of "." and a subdirectory, reading through the subdirectory's fd.
  {
    int dot = -1;
    int e = open_at(ws, 0, ".", __WASI_OFLAGS_DIRECTORY, kDirRights, 0, &dot);
    control_errno("raw_open_dot", e);
    if (e == 0) (void)__wasi_fd_close(dot);
  }
  {
    int sub = -1, f = -1;
    char buf[64];
    int e = open_at(ws, 0, "sub", __WASI_OFLAGS_DIRECTORY, kDirRights, 0, &sub);
    if (e == 0) {
      e = open_at(sub, 0, "nested.txt", 0, kReadRights, 0, &f);
      (void)__wasi_fd_close(sub);
    }
    int ok = e == 0 && read_all(f, buf, sizeof buf) >= 0 && strcmp(buf, "nested\n") == 0;
    if (f >= 0) (void)__wasi_fd_close(f);
    control("read_via_subdir_fd", ok, e ? errno_name(e) : "wrong content");
  }
  // A symlink that stays inside the workspace is followed.
  {
    int f = -1;
    char buf[64];
    int e = open_at(ws, 1, "good_link", 0, kReadRights, 0, &f);
    int ok = e == 0 && read_all(f, buf, sizeof buf) >= 0 && strcmp(buf, "inside data\n") == 0;
    if (f >= 0) (void)__wasi_fd_close(f);
    control("symlink_inside_followed", ok, e ? errno_name(e) : "wrong content");
  }
  // Reading a symlink's text is allowed (it is the workspace's own data).
  {
    char buf[64] = {0};
    size_t used = 0;
    int e = raw_path_readlink(ws, "etc_link", 8, buf, sizeof buf - 1, &used);
    control("readlink_inside", e == 0 && used == 4 && memcmp(buf, "/etc", 4) == 0,
            e ? errno_name(e) : "wrong link text");
  }
  control_errno("mkdir_inside", mkdir_at(ws, "made_by_guest"));
  control_errno("rename_inside", rename_at(ws, "made_by_guest", ws, "sub/moved_dir"));
  // The read-only preopen can be read.
  {
    FILE* f = fopen("/ro/ro.txt", "r");
    char buf[64] = {0};
    int ok = f && fgets(buf, sizeof buf, f) && strcmp(buf, "read only\n") == 0;
    control("ro_read", ok, f ? "wrong content" : errno_name(errno));
    if (f) fclose(f);
  }
}

static void run_workspace_attempts(void) {
  attempt("libc_open_dotdot", libc_open("../secret.txt", O_RDONLY));
  attempt("libc_open_abs_etc_passwd", libc_open("/etc/passwd", O_RDONLY));
  attempt("libc_open_work_dotdot_etc", libc_open("/work/../../etc/passwd", O_RDONLY));
  attempt("libc_open_work_dotdot_secret", libc_open("/work/../secret.txt", O_RDONLY));
  attempt("libc_create_outside", libc_open("/work/../libc_created.txt", O_CREAT | O_WRONLY));
  {
    DIR* d = opendir("/");
    attempt("libc_opendir_root", d ? 0 : (errno ? errno : -1));
    if (d) closedir(d);
  }
  {
    DIR* d = opendir("/work/..");
    attempt("libc_opendir_work_parent", d ? 0 : (errno ? errno : -1));
    if (d) closedir(d);
  }
  // openat() on a directory fd obtained from the workspace.
  {
    int dfd = open("/work", O_RDONLY | O_DIRECTORY);
    int e = dfd < 0 ? errno : 0;
    if (dfd >= 0) {
      int fd = openat(dfd, "../secret.txt", O_RDONLY);
      e = fd >= 0 ? 0 : errno;
      if (fd >= 0) close(fd);
      close(dfd);
    }
    attempt("libc_openat_dirfd_dotdot", e);
  }

  attempt("raw_dotdot", open_read(ws, "../secret.txt"));
  attempt("raw_absolute_path", open_read(ws, "/etc/passwd"));
  attempt("raw_absolute_secret", open_read(ws, "/secret.txt"));
  attempt("raw_sub_dotdot_dotdot", open_read(ws, "sub/../../secret.txt"));
  attempt("raw_many_dotdot", open_read(ws, "../../../../../../../../../../etc/passwd"));
  attempt("raw_dot_dotdot", open_read(ws, "./../secret.txt"));
  attempt("raw_open_root_dir", open_dir(ws, "/"));
  attempt("raw_open_parent_dir", open_dir(ws, ".."));
  attempt("raw_open_parent_dir_slash", open_dir(ws, "sub/../.."));

  // Symlinks planted by the harness.
  attempt("symlink_abs_intermediate", open_read(ws, "etc_link/passwd"));
  attempt("symlink_abs_intermediate_nofollow",
          open_at(ws, 0, "etc_link/passwd", 0, kReadRights, 0, NULL));
  attempt("symlink_abs_dir", open_dir(ws, "etc_link"));
  attempt("symlink_rel_updir_component", open_read(ws, "updir/secret.txt"));
  attempt("symlink_rel_up2_dir", open_dir(ws, "up2"));
  attempt("symlink_to_secret", open_read(ws, "secret_link"));
  attempt("symlink_abs_to_secret", open_read(ws, "abs_secret_link"));
  attempt("symlink_chain", open_read(ws, "chain1"));
  attempt("symlink_in_subdir", open_read(ws, "sub/up_link"));
  attempt("symlink_dir_outside_component", open_read(ws, "hidden_dir_link/file.txt"));
  attempt("symlink_write_truncate_secret",
          write_through(ws, 1, "secret_link", __WASI_OFLAGS_TRUNC, 0));
  attempt("symlink_append_secret", write_through(ws, 1, "secret_link", 0, __WASI_FDFLAGS_APPEND));
  attempt("dangling_symlink_create", write_through(ws, 1, "dangle", __WASI_OFLAGS_CREAT, 0));
  attempt("dangling_abs_symlink_create",
          write_through(ws, 1, "dangle_abs", __WASI_OFLAGS_CREAT, 0));
  attempt("stat_outside", stat_at(ws, 0, "../secret.txt"));
  attempt("stat_via_symlink", stat_at(ws, 1, "etc_link"));
  attempt("stat_via_symlink_component", stat_at(ws, 0, "etc_link/passwd"));
  attempt("set_times_via_symlink",
          raw_path_filestat_set_times(ws, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "secret_link", 11,
                                      0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));

  // readlink, then follow the text it returned.
  {
    char buf[256] = {0};
    size_t used = 0;
    int e = raw_path_readlink(ws, "etc_link", 8, buf, 200, &used);
    if (e == 0) {
      buf[used < 200 ? used : 200] = 0;
      strcat(buf, "/passwd");
      e = open_read(ws, buf);
    }
    attempt("readlink_then_follow", e);
  }
  // Symlinks the guest creates itself.
  {
    (void)symlink_at("/etc", ws, "guest_abs_link");
    attempt("guest_symlink_abs_follow", open_read(ws, "guest_abs_link/passwd"));
    (void)symlink_at("../secret.txt", ws, "guest_rel_link");
    attempt("guest_symlink_rel_follow", open_read(ws, "guest_rel_link"));
    (void)symlink_at("../../../../../../../..", ws, "guest_deep_link");
    attempt("guest_symlink_deep_dir", open_dir(ws, "guest_deep_link/etc"));
  }
  attempt("symlink_created_outside", symlink_at("inside.txt", ws, "../evil_link"));

  // Hard links.
  attempt("hardlink_from_outside", link_at(ws, 0, "../secret.txt", ws, "hl_secret"));
  attempt("hardlink_via_symlink", link_at(ws, 1, "secret_link", ws, "hl_secret2"));
  attempt("hardlink_via_symlink_dir", link_at(ws, 0, "updir/secret.txt", ws, "hl_secret3"));
  attempt("hardlink_to_outside", link_at(ws, 0, "inside.txt", ws, "../hl_out.txt"));

  // Renames across the boundary.
  attempt("rename_out", rename_at(ws, "victim.txt", ws, "../moved_out.txt"));
  attempt("rename_out_via_symlink_dir", rename_at(ws, "victim.txt", ws, "updir/moved_out2.txt"));
  attempt("rename_in_from_outside", rename_at(ws, "../secret.txt", ws, "stolen.txt"));
  attempt("rename_outside_to_outside", rename_at(ws, "../secret.txt", ws, "../secret2.txt"));

  // Directory and file removal / creation outside.
  attempt("mkdir_dotdot", mkdir_at(ws, "../newdir"));
  attempt("mkdir_via_symlink_dir", mkdir_at(ws, "updir/newdir2"));
  attempt("mkdir_absolute", mkdir_at(ws, "/tmp_wasmcap_escape_dir"));
  attempt("rmdir_outside", rmdir_at(ws, "../empty_outside"));
  attempt("unlink_outside", unlink_at(ws, "../secret.txt"));
  attempt("unlink_via_symlink_dir", unlink_at(ws, "updir/secret.txt"));
  attempt("create_file_dotdot",
          write_through(ws, 0, "../created_by_guest2.txt", __WASI_OFLAGS_CREAT, 0));

  // Directory fds derived from the workspace do not widen it.
  {
    int dot = -1;
    int e = open_at(ws, 0, ".", __WASI_OFLAGS_DIRECTORY, kDirRights, 0, &dot);
    if (e == 0) {
      e = open_read(dot, "../secret.txt");
      (void)__wasi_fd_close(dot);
    }
    attempt("dirfd_dot_then_dotdot", e);
  }
  {
    int sub = -1;
    int e = open_at(ws, 0, "sub", __WASI_OFLAGS_DIRECTORY, kDirRights, 0, &sub);
    if (e == 0) {
      e = open_read(sub, "../../secret.txt");
      (void)__wasi_fd_close(sub);
    }
    attempt("subdir_fd_dotdot_dotdot", e);
  }

  // Malformed paths.
  {
    static const char nul_path[] = "inside.txt\0/../../secret.txt";
    int32_t fd = -1;
    int e = raw_path_open(ws, 0, nul_path, sizeof nul_path - 1, 0, kReadRights, 0, 0, &fd);
    if (e == 0) (void)__wasi_fd_close(fd);
    attempt("nul_byte_in_path", e);
    static const char nul_path2[] = "../secret.txt\0";
    e = raw_path_open(ws, 0, nul_path2, sizeof nul_path2 - 1, 0, kReadRights, 0, 0, &fd);
    if (e == 0) (void)__wasi_fd_close(fd);
    attempt("nul_byte_trailing_dotdot", e);
  }
  {
    static char long_path[16384];
    size_t n = 0;
    while (n + 2 < 12000) {
      long_path[n++] = 'a';
      long_path[n++] = '/';
    }
    long_path[n++] = 'x';
    long_path[n] = 0;
    attempt("very_long_path", open_read(ws, long_path));
    n = 0;
    while (n + 3 < 12000) {
      memcpy(long_path + n, "../", 3);
      n += 3;
    }
    strcpy(long_path + n, "etc/passwd");
    attempt("very_long_dotdot_path", open_read(ws, long_path));
  }
  // A preopen fd the guest does not have.
  attempt("unopened_fd", open_read(200, "secret.txt"));

  // chdir-style tricks through wasi-libc's emulated cwd.
  {
    int e = chdir("/work") == 0 ? 0 : errno;
    if (e == 0) e = libc_open("../secret.txt", O_RDONLY);
    attempt("chdir_work_then_dotdot", e);
    e = chdir("/work/sub") == 0 ? 0 : errno;
    if (e == 0) e = libc_open("../../etc/passwd", O_RDONLY);
    attempt("chdir_sub_then_dotdot_dotdot", e);
    int c = chdir("/work/..");
    attempt("chdir_work_parent", c == 0 ? libc_open("secret.txt", O_RDONLY) : errno);
    (void)chdir("/");
  }
}

static void run_readonly_attempts(void) {
  attempt("ro_create", write_through(ro, 0, "new.txt", __WASI_OFLAGS_CREAT, 0));
  {
    int32_t fd = -1;
    int e = raw_path_open(ro, 0, "new_readonly_rights.txt", 23, __WASI_OFLAGS_CREAT,
                          __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (e == 0) (void)__wasi_fd_close(fd);
    attempt("ro_create_with_read_rights", e);
  }
  {
    int32_t fd = -1;
    int e = raw_path_open(ro, 0, "ro.txt", 6, __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_READ, 0, 0,
                          &fd);
    if (e == 0) (void)__wasi_fd_close(fd);
    attempt("ro_truncate", e);
  }
  attempt("ro_open_for_write", write_through(ro, 0, "ro.txt", 0, 0));
  attempt("ro_append", write_through(ro, 0, "ro.txt", 0, __WASI_FDFLAGS_APPEND));
  attempt("ro_unlink", unlink_at(ro, "ro.txt"));
  attempt("ro_mkdir", mkdir_at(ro, "newdir"));
  attempt("ro_rmdir", rmdir_at(ro, "ro_sub"));
  attempt("ro_rename", rename_at(ro, "ro.txt", ro, "renamed.txt"));
  attempt("ro_rename_out_to_workspace", rename_at(ro, "ro.txt", ws, "from_ro.txt"));
  attempt("ro_rename_into", rename_at(ws, "victim2.txt", ro, "into_ro.txt"));
  attempt("ro_symlink", symlink_at("ro.txt", ro, "ro_link"));
  attempt("ro_hardlink_into", link_at(ws, 0, "inside.txt", ro, "hl.txt"));
  attempt("ro_set_times",
          raw_path_filestat_set_times(ro, 0, "ro.txt", 6, 0, 0,
                                      __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
  {
    int fd = -1;
    int e = open_at(ro, 0, "ro.txt", 0, kReadRights, 0, &fd);
    if (e == 0) {
      e = __wasi_fd_filestat_set_size(fd, 0);
      (void)__wasi_fd_close(fd);
    }
    attempt("ro_fd_set_size", e);
  }
  {
    int fd = -1;
    int e = open_at(ro, 0, "ro.txt", 0, kReadRights, 0, &fd);
    if (e == 0) {
      e = __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM);
      (void)__wasi_fd_close(fd);
    }
    attempt("ro_fd_set_times", e);
  }
  {
    // Rights can only shrink: asking for all rights back must not make creation possible.
    (void)__wasi_fd_fdstat_set_rights(ro, ~(__wasi_rights_t)0, ~(__wasi_rights_t)0);
    attempt("ro_rights_escalation", write_through(ro, 0, "escalated.txt", __WASI_OFLAGS_CREAT, 0));
  }
  {
    int sub = -1;
    int e = open_at(ro, 0, "ro_sub", __WASI_OFLAGS_DIRECTORY, kDirRights, 0, &sub);
    if (e == 0) {
      e = write_through(sub, 0, "f.txt", __WASI_OFLAGS_CREAT, 0);
      (void)__wasi_fd_close(sub);
    }
    attempt("ro_subdir_create", e);
  }
  attempt("ro_libc_fopen_w", libc_open("/ro/ro.txt", O_WRONLY | O_TRUNC));
  attempt("ro_libc_create", libc_open("/ro/libc_new.txt", O_CREAT | O_WRONLY));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  find_preopens();
  run_controls();
  if (ws >= 0) run_workspace_attempts();
  if (ro >= 0) run_readonly_attempts();
  printf("SUMMARY attempts=%d escaped=%d controls=%d controls_failed=%d\n", attempts, escaped,
         controls, controls_failed);
  return (escaped == 0 && controls_failed == 0 && ws >= 0 && ro >= 0) ? 0 : 1;
}
