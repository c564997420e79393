// mkdir, rm, cp, mv, touch, ln. WASI has no permission bits: new files and directories get the
// host's defaults, and -m / -p (preserve) are not offered; for the same reason there is no chmod
// (WASI Preview 1 has no call that sets a mode: fd_filestat_set_* set only sizes and times).
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "cu.h"

// --- touch ----------------------------------------------------------------------------------
// touch [-c] FILE...: creates FILE if missing (unless -c), then sets its access and modification
// times to now (WASI's *_NOW flags: the host's clock, a pinned clock under --clock fixed=...,
// ENOTCAPABLE without a wall-clock grant).

int cu_touch(int argc, char **argv) {
  int no_create = 0, c;
  while ((c = getopt(argc, argv, "c")) != -1) {
    if (c != 'c') {
      fprintf(stderr, "usage: touch [-c] FILE...\n");
      return 1;
    }
    no_create = 1;
  }
  if (optind >= argc) {
    cu_errx("missing file operand");
    return 1;
  }
  int status = 0;
  for (int i = optind; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      if (errno != ENOENT) {
        cu_err("cannot touch", argv[i], errno);
        status = 1;
        continue;
      }
      if (no_create) continue;
      int fd = open(argv[i], O_WRONLY | O_CREAT | O_NOCTTY, 0666);
      if (fd < 0) {
        cu_err("cannot touch", argv[i], errno);
        status = 1;
        continue;
      }
      close(fd);
    }
    // "Now" through the raw WASI call: this wasi-libc's utimensat/futimens read times[] even
    // for a NULL argument instead of sending the *_NOW flags.
    int fd = open(argv[i], O_RDONLY | O_NOCTTY);
    if (fd < 0) {
      cu_err("setting times of", argv[i], errno);
      status = 1;
      continue;
    }
    __wasi_errno_t e = __wasi_fd_filestat_set_times(
        (__wasi_fd_t)fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW);
    close(fd);
    if (e != 0) {
      cu_err("setting times of", argv[i], e);
      status = 1;
    }
  }
  return status;
}

// --- mkdir ----------------------------------------------------------------------------------

static int mkdir_parents(const char *path) {
  char *p = cu_xstrdup(path);
  size_t len = strlen(p);
  int rc = 0;
  for (size_t i = 1; i <= len && rc == 0; ++i) {
    if (p[i] != '/' && p[i] != '\0') continue;
    if (p[i - 1] == '/') continue;  // doubled slash
    char saved = p[i];
    p[i] = '\0';
    if (mkdir(p, 0777) != 0) {
      int e = errno;
      struct stat st;
      // EEXIST: fine if it is a directory. Other errors on an existing directory (the preopen
      // root itself cannot be created: ENOTCAPABLE/EPERM) are fine too, as in GNU.
      if (stat(p, &st) != 0) {
        cu_err("cannot create directory", p, e == EEXIST ? errno : e);
        rc = 1;
      } else if (!S_ISDIR(st.st_mode)) {
        cu_err("cannot create directory", p, e == EEXIST ? ENOTDIR : e);
        rc = 1;
      }
    }
    p[i] = saved;
  }
  free(p);
  return rc;
}

int cu_mkdir(int argc, char **argv) {
  static const struct option longopts[] = {{"parents", no_argument, 0, 'p'}, {0, 0, 0, 0}};
  int parents = 0, c;
  while ((c = getopt_long(argc, argv, "p", longopts, NULL)) != -1) {
    if (c != 'p') {
      fprintf(stderr, "usage: mkdir [-p] DIR...\n");
      return 1;
    }
    parents = 1;
  }
  if (optind >= argc) {
    cu_errx("missing operand");
    return 1;
  }
  int status = 0;
  for (int i = optind; i < argc; ++i) {
    if (parents) {
      status |= mkdir_parents(argv[i]);
    } else if (mkdir(argv[i], 0777) != 0) {
      cu_err("cannot create directory", argv[i], errno);
      status = 1;
    }
  }
  return status;
}

// --- rm -------------------------------------------------------------------------------------

int cu_rm(int argc, char **argv) {
  static const struct option longopts[] = {{"recursive", no_argument, 0, 'r'},
                                           {"force", no_argument, 0, 'f'},
                                           {"dir", no_argument, 0, 'd'},
                                           {0, 0, 0, 0}};
  int recursive = 0, force = 0, dirs = 0, c;
  while ((c = getopt_long(argc, argv, "rRfd", longopts, NULL)) != -1) {
    switch (c) {
      case 'r': case 'R': recursive = 1; break;
      case 'f': force = 1; break;
      case 'd': dirs = 1; break;
      default:
        fprintf(stderr, "usage: rm [-rfd] PATH...\n");
        return 1;
    }
  }
  if (optind >= argc) {
    if (force) return 0;
    cu_errx("missing operand");
    return 1;
  }
  int status = 0;
  for (int i = optind; i < argc; ++i) {
    const char *path = argv[i];
    char *base = cu_path_base(path);
    int dots = strcmp(base, ".") == 0 || strcmp(base, "..") == 0;
    free(base);
    if (dots) {
      cu_errx("refusing to remove '.' or '..' directory: skipping '%s'", path);
      status = 1;
      continue;
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
      if (!(force && errno == ENOENT)) {
        cu_err("cannot remove", path, errno);
        status = 1;
      }
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (recursive) {
        status |= cu_remove_tree(path, force);
      } else if (dirs) {
        if (rmdir(path) != 0) {
          cu_err("cannot remove", path, errno);
          status = 1;
        }
      } else {
        cu_err("cannot remove", path, EISDIR);
        status = 1;
      }
      continue;
    }
    if (unlink(path) != 0) {
      cu_err("cannot remove", path, errno);
      status = 1;
    }
  }
  return status;
}

// --- cp / mv --------------------------------------------------------------------------------

// "a/b/" -> is "a/b" lexically beneath or equal to "a"? Used to refuse copying or moving a
// directory into itself before any byte is written.
static int lexically_within(const char *inner, const char *outer) {
  char *a = cu_abspath(inner), *b = cu_abspath(outer);
  size_t n = strlen(b);
  int r = strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/' || strcmp(b, "/") == 0);
  free(a);
  free(b);
  return r;
}

// The destination for SRC: TARGET itself, or TARGET/basename(SRC) when TARGET is a directory.
static char *destination(const char *src, const char *target, int into_dir) {
  if (!into_dir) return cu_xstrdup(target);
  char *base = cu_path_base(src);
  char *d = cu_join(target, base);
  free(base);
  return d;
}

// Parses operands shared by cp and mv. Returns 0 and sets *into_dir, or prints and returns 1.
static int plan_operands(int nops, char **ops, int *into_dir) {
  if (nops < 1) {
    cu_errx("missing file operand");
    return 1;
  }
  if (nops < 2) {
    cu_errx("missing destination file operand after '%s'", ops[0]);
    return 1;
  }
  struct stat st;
  *into_dir = stat(ops[nops - 1], &st) == 0 && S_ISDIR(st.st_mode);
  if (nops > 2 && !*into_dir) {
    cu_errx("target '%s' is not a directory", ops[nops - 1]);
    return 1;
  }
  return 0;
}

int cu_cp(int argc, char **argv) {
  static const struct option longopts[] = {{"recursive", no_argument, 0, 'r'},
                                           {"force", no_argument, 0, 'f'},
                                           {"no-clobber", no_argument, 0, 'n'},
                                           {0, 0, 0, 0}};
  int recursive = 0, no_clobber = 0, c;
  while ((c = getopt_long(argc, argv, "rRfn", longopts, NULL)) != -1) {
    switch (c) {
      case 'r': case 'R': recursive = 1; break;
      case 'f': break;  // never prompts; files are replaced
      case 'n': no_clobber = 1; break;
      default:
        fprintf(stderr, "usage: cp [-rfn] SRC DEST | SRC... DIR\n");
        return 1;
    }
  }
  int nops = argc - optind, into_dir;
  char **ops = argv + optind;
  if (plan_operands(nops, ops, &into_dir) != 0) return 1;
  int status = 0;
  for (int i = 0; i < nops - 1; ++i) {
    const char *src = ops[i];
    struct stat st;
    // Without -r symlinks are followed; with -r they are copied as links (GNU).
    if ((recursive ? lstat(src, &st) : stat(src, &st)) != 0) {
      cu_err("cannot stat", src, errno);
      status = 1;
      continue;
    }
    char *dst = destination(src, ops[nops - 1], into_dir);
    if (S_ISDIR(st.st_mode)) {
      if (!recursive) {
        cu_errx("-r not specified; omitting directory '%s'", src);
        status = 1;
      } else if (lexically_within(dst, src)) {
        cu_errx("cannot copy a directory, '%s', into itself, '%s'", src, dst);
        status = 1;
      } else {
        status |= cu_copy_tree(src, dst, 0, no_clobber);
      }
    } else {
      struct stat dt;
      if (stat(dst, &dt) == 0 && dt.st_dev == st.st_dev && dt.st_ino == st.st_ino) {
        cu_errx("'%s' and '%s' are the same file", src, dst);
        status = 1;
      } else {
        status |= cu_copy_tree(src, dst, !recursive, no_clobber);
      }
    }
    free(dst);
  }
  return status;
}

int cu_mv(int argc, char **argv) {
  static const struct option longopts[] = {{"force", no_argument, 0, 'f'},
                                           {"no-clobber", no_argument, 0, 'n'},
                                           {0, 0, 0, 0}};
  int no_clobber = 0, c;
  while ((c = getopt_long(argc, argv, "fn", longopts, NULL)) != -1) {
    switch (c) {
      case 'f': no_clobber = 0; break;
      case 'n': no_clobber = 1; break;
      default:
        fprintf(stderr, "usage: mv [-fn] SRC DEST | SRC... DIR\n");
        return 1;
    }
  }
  int nops = argc - optind, into_dir;
  char **ops = argv + optind;
  if (plan_operands(nops, ops, &into_dir) != 0) return 1;
  int status = 0;
  for (int i = 0; i < nops - 1; ++i) {
    const char *src = ops[i];
    struct stat st, dt;
    if (lstat(src, &st) != 0) {
      cu_err("cannot stat", src, errno);
      status = 1;
      continue;
    }
    char *dst = destination(src, ops[nops - 1], into_dir);
    int dst_exists = lstat(dst, &dt) == 0;
    if (dst_exists && dt.st_dev == st.st_dev && dt.st_ino == st.st_ino) {
      cu_errx("'%s' and '%s' are the same file", src, dst);
      status = 1;
    } else if (dst_exists && no_clobber) {
      // -n: keep the existing destination
    } else if (S_ISDIR(st.st_mode) && lexically_within(dst, src)) {
      cu_errx("cannot move '%s' to a subdirectory of itself, '%s'", src, dst);
      status = 1;
    } else if (dst_exists && S_ISDIR(dt.st_mode) && !S_ISDIR(st.st_mode)) {
      cu_errx("cannot overwrite directory '%s' with non-directory", dst);
      status = 1;
    } else if (dst_exists && !S_ISDIR(dt.st_mode) && S_ISDIR(st.st_mode)) {
      cu_errx("cannot overwrite non-directory '%s' with directory '%s'", dst, src);
      status = 1;
    } else if (rename(src, dst) != 0) {
      if (errno == EXDEV) {
        // Different host file systems (two grants): copy, then remove the source.
        if (cu_copy_tree(src, dst, 0, 0) == 0) {
          status |= cu_remove_tree(src, 0);
        } else {
          status = 1;
        }
      } else {
        int e = errno;
        fprintf(stderr, "mv: cannot move '%s' to '%s': %s\n", src, dst, cu_strerror(e));
        status = 1;
      }
    }
    free(dst);
  }
  return status;
}

// --- ln -------------------------------------------------------------------------------------
// ln [-s] [-f] [-v] TARGET [LINK_NAME] | TARGET... DIRECTORY: WASI path_link / path_symlink.
// The sandbox accepts only symlink targets that descend from the link (no "..", not absolute:
// such a link could later be made to point outside), so those are refused with EPERM.

static int ln_one(const char *src, const char *dst, int sym, int force, int verbose) {
  struct stat st;
  if (!sym) {
    if (lstat(src, &st) != 0) {
      int e = errno;
      fputs("ln: failed to access ", stderr);
      cu_quote_always(stderr, src);
      fprintf(stderr, ": %s\n", cu_strerror(e));
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      fputs("ln: ", stderr);
      cu_quote_name(stderr, src);
      fputs(": hard link not allowed for directory\n", stderr);
      return 1;
    }
  }
  struct stat sst;
  if (force && sym && lstat(dst, &st) == 0 && stat(src, &sst) == 0 && st.st_dev == sst.st_dev &&
      st.st_ino == sst.st_ino) {  // GNU: replacing the file by a link to itself would lose it
    fputs("ln: ", stderr);
    cu_quote_always(stderr, src);
    fputs(" and ", stderr);
    cu_quote_always(stderr, dst);
    fputs(" are the same file\n", stderr);
    return 1;
  }
  if (force && lstat(dst, &st) == 0 && !S_ISDIR(st.st_mode)) unlink(dst);
  if ((sym ? symlink(src, dst) : link(src, dst)) != 0) {
    int e = errno;
    fprintf(stderr, "ln: failed to create %s link ", sym ? "symbolic" : "hard");
    cu_quote_always(stderr, dst);
    if (sym && src[0] == '\0') fputs(" -> ''", stderr);
    const char *note = "";
    if (sym && e == EPERM && (src[0] == '/' || strstr(src, "..") != NULL)) {
      note = " (the sandbox allows only link targets in the link's directory or below it, with no '..')";
    }
    fprintf(stderr, ": %s%s\n", cu_strerror(e), note);
    return 1;
  }
  if (verbose) {
    cu_quote_always(stdout, dst);
    fputs(sym ? " -> " : " => ", stdout);
    cu_quote_always(stdout, src);
    putchar('\n');
  }
  return 0;
}

int cu_ln(int argc, char **argv) {
  static const struct option longopts[] = {{"symbolic", no_argument, 0, 's'},
                                           {"force", no_argument, 0, 'f'},
                                           {"verbose", no_argument, 0, 'v'},
                                           {"physical", no_argument, 0, 'P'},
                                           {0, 0, 0, 0}};
  int sym = 0, force = 0, verbose = 0, c;
  while ((c = getopt_long(argc, argv, "sfvP", longopts, NULL)) != -1) {
    switch (c) {
      case 's': sym = 1; break;
      case 'f': force = 1; break;
      case 'v': verbose = 1; break;
      case 'P': break;  // the default: a symlink source is linked as itself
      default: return cu_try_help(1);
    }
  }
  int n = argc - optind;
  char **ops = argv + optind;
  if (n == 0) {
    cu_errx("missing file operand");
    return cu_try_help(1);
  }
  struct stat st;
  const char *dir = NULL;
  int r = n == 1 ? 0 : stat(ops[n - 1], &st), e = errno;
  if (n == 1) {
    dir = ".";
  } else if (r == 0 && S_ISDIR(st.st_mode)) {
    dir = ops[n - 1];
  } else if (n > 2) {
    fputs("ln: target ", stderr);
    cu_quote_always(stderr, ops[n - 1]);
    if (r == 0) fputs(" is not a directory\n", stderr);
    else fprintf(stderr, ": %s\n", cu_strerror(e));
    return 1;
  }
  if (dir == NULL) return ln_one(ops[0], ops[1], sym, force, verbose);
  int status = 0, nsrc = n == 1 ? 1 : n - 1;
  for (int i = 0; i < nsrc; ++i) {
    char *base = cu_path_base(ops[i]);
    char *dst = cu_join(dir, base);
    status |= ln_one(ops[i], dst, sym, force, verbose);
    free(dst);
    free(base);
  }
  return status;
}
