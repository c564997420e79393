// rmdir, printenv, nproc, true, false, egrep, fgrep, hostname, uname, arch, whoami and id
// (README.md).
//
// hostname, whoami and id would name the host: the sandbox answers with what leaks nothing.
// `hostname` prints "localhost" (the sandbox has no network and no name of its own; RFC 6761's
// name for "this machine") and refuses to set one. The sandbox's user is uid/gid 1000, never
// the host's: `whoami` names it only when the operator did (cu_user_name), and otherwise fails
// as GNU's whoami does for a user ID without a name.
#include <errno.h>
#include <stdio.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cu.h"
#include "wasmcap_user.h"

extern char **environ;

// --- rmdir -------------------------------------------------------------------------------------

static int rmdir_ignore_nonempty, rmdir_verbose;

// GNU's ignorable_failure: with --ignore-fail-on-non-empty, a directory that is not empty.
static int rmdir_ignorable(int err, const char *dir) {
  if (!rmdir_ignore_nonempty) return 0;
  if (err == ENOTEMPTY || err == EEXIST) return 1;
  if (err != EACCES && err != EPERM && err != EROFS && err != EBUSY) return 0;
  struct cu_list names = {0};
  int nonempty = cu_read_dir(dir, 0, &names) == 0 && names.n > 0;
  cu_list_free(&names);
  return nonempty;
}

static void rmdir_say(const char *dir) {
  if (!rmdir_verbose) return;
  fputs("rmdir: removing directory, ", stdout);
  cu_quote_always(stdout, dir);
  fputc('\n', stdout);
}

static void rmdir_fail(const char *what, const char *dir, int err) {
  fflush(stdout);
  fprintf(stderr, "rmdir: %s ", what);
  cu_quote_always(stderr, dir);
  fprintf(stderr, ": %s\n", cu_strerror(err));
}

// -p: DIR's ancestors, nearest first, until one fails (GNU's remove_parents).
static int rmdir_parents(char *dir) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') dir[--n] = '\0';
  for (;;) {
    char *slash = strrchr(dir, '/');
    if (slash == NULL) return 1;
    while (slash > dir && *slash == '/') --slash;
    slash[1] = '\0';
    rmdir_say(dir);
    if (rmdir(dir) != 0) {
      int err = errno;
      if (rmdir_ignorable(err, dir)) return 1;
      rmdir_fail(err == ENOTDIR ? "failed to remove" : "failed to remove directory", dir, err);
      return 0;
    }
  }
}

int cu_rmdir(int argc, char **argv) {
  static const struct option longopts[] = {{"ignore-fail-on-non-empty", no_argument, 0, 'I'},
                                           {"parents", no_argument, 0, 'p'},
                                           {"verbose", no_argument, 0, 'v'},
                                           {0, 0, 0, 0}};
  int parents = 0, c;
  rmdir_ignore_nonempty = rmdir_verbose = 0;
  while ((c = getopt_long(argc, argv, "pv", longopts, NULL)) != -1) {
    switch (c) {
      case 'I': rmdir_ignore_nonempty = 1; break;
      case 'p': parents = 1; break;
      case 'v': rmdir_verbose = 1; break;
      default: return cu_try_help(1);
    }
  }
  if (optind >= argc) {
    cu_errx("missing operand");
    return cu_try_help(1);
  }
  int ok = 1;
  for (int i = optind; i < argc; ++i) {
    char *dir = argv[i];
    rmdir_say(dir);
    if (rmdir(dir) != 0) {
      int err = errno;
      if (rmdir_ignorable(err, dir)) continue;
      rmdir_fail("failed to remove", dir, err);
      ok = 0;
    } else if (parents) {
      ok &= rmdir_parents(dir);
    }
  }
  return ok ? 0 : 1;
}

// --- printenv ----------------------------------------------------------------------------------

int cu_printenv(int argc, char **argv) {
  static const struct option longopts[] = {{"null", no_argument, 0, '0'}, {0, 0, 0, 0}};
  int eol = '\n', c;
  while ((c = getopt_long(argc, argv, "+0", longopts, NULL)) != -1) {
    if (c != '0') return cu_try_help(2);
    eol = '\0';
  }
  if (optind >= argc) {
    for (char **e = environ; e && *e; ++e) printf("%s%c", *e, eol);
    return 0;
  }
  int missing = 0;
  for (int i = optind; i < argc; ++i) {
    int found = 0;
    size_t k = strlen(argv[i]);
    if (strchr(argv[i], '=') == NULL) {
      for (char **e = environ; e && *e; ++e) {
        if (strncmp(*e, argv[i], k) == 0 && (*e)[k] == '=') {
          printf("%s%c", *e + k + 1, eol);
          found = 1;
        }
      }
    }
    if (!found) missing = 1;
  }
  return missing;
}

// --- nproc -------------------------------------------------------------------------------------

// A wasm instance runs on one thread (WASI preview 1 has no threads): one processing unit is
// what the tool has, whatever the host's count, which is not shown. GNU's OpenMP variables are
// honoured as GNU's nproc honours them (without --all).
static unsigned long omp_value(const char *name) {
  const char *s = getenv(name);
  if (s == NULL) return 0;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\v' || *s == '\f' || *s == '\r') ++s;
  if (*s < '0' || *s > '9') return 0;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0) return 0;
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\v' || *end == '\f' || *end == '\r') ++end;
  if (*end != '\0' && *end != ',') return 0;
  return v;
}

int cu_nproc(int argc, char **argv) {
  static const struct option longopts[] = {{"all", no_argument, 0, 'a'},
                                           {"ignore", required_argument, 0, 'i'},
                                           {0, 0, 0, 0}};
  int all = 0, c;
  unsigned long long ignore = 0;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
      case 'a': all = 1; break;
      case 'i': {
        const char *s = optarg;
        while (*s == ' ' || *s == '\t') ++s;
        char *end;
        errno = 0;
        ignore = strtoull(s, &end, 10);
        if (*s == '-' || *s == '\0' || *end != '\0' || end == s) {
          fprintf(stderr, "nproc: invalid number: ");
          cu_quote_always(stderr, optarg);
          fputc('\n', stderr);
          return 1;
        }
        if (errno == ERANGE) ignore = ~0ULL;
        break;
      }
      default: return cu_try_help(1);
    }
  }
  if (optind < argc) {
    return cu_extra_operand(argv[optind]);
  }
  unsigned long long n = 1;
  if (!all) {
    unsigned long threads = omp_value("OMP_NUM_THREADS"), limit = omp_value("OMP_THREAD_LIMIT");
    if (threads != 0) n = limit != 0 && limit < threads ? limit : threads;
  }
  n = ignore < n ? n - ignore : 1;
  printf("%llu\n", n);
  return 0;
}

// --- true, false -------------------------------------------------------------------------------

int cu_true(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int cu_false(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return 1;
}

// --- egrep, fgrep ------------------------------------------------------------------------------

// Debian 12's egrep and fgrep are `exec grep -E "$@"` / `exec grep -F "$@"` (Debian dropped
// grep 3.8's obsolescence warning): grep's messages, grep's statuses.
static int grep_with(const char *flag, int argc, char **argv) {
  char **v = cu_xmalloc(((size_t)argc + 2) * sizeof(char *));
  v[0] = "grep";
  v[1] = (char *)flag;
  for (int i = 1; i < argc; ++i) v[i + 1] = argv[i];
  v[argc + 1] = NULL;
  cu_prog = "grep";
  int rc = cu_grep(argc + 1, v);
  free(v);
  return rc;
}

int cu_egrep(int argc, char **argv) { return grep_with("-E", argc, argv); }
int cu_fgrep(int argc, char **argv) { return grep_with("-F", argc, argv); }

// --- hostname, whoami --------------------------------------------------------------------------

int cu_hostname(int argc, char **argv) {
  static const struct option longopts[] = {{"short", no_argument, 0, 's'},
                                           {"fqdn", no_argument, 0, 'f'},
                                           {"long", no_argument, 0, 'f'},
                                           {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "sf", longopts, NULL)) != -1) {
    if (c != 's' && c != 'f') {
      cu_errx("only -s and -f are offered in the sandbox (it has no network and no host name)");
      return 1;
    }
  }
  if (optind < argc) {
    cu_errx("the host name cannot be set from the sandbox");
    return 1;
  }
  puts(CU_SANDBOX_HOSTNAME);
  return 0;
}

// --- uname, arch -------------------------------------------------------------------------------
// What uname(2) tells a WASI program (wasi-libc's: kernel "wasi", release and version "0.0.0",
// machine "wasm32"; Python's os.uname() says the same), never the host's kernel; the node name is
// the sandbox's, as `hostname` prints it; processor and hardware platform "unknown" (left out
// of -a, as GNU leaves them); the operating system "WASI". GNU coreutils 9.1's options, order
// and messages.
enum { U_S = 1, U_N = 2, U_R = 4, U_V = 8, U_M = 16, U_P = 32, U_I = 64, U_O = 128 };

static int print_uname(unsigned want, int all) {
  struct utsname u;
  if (uname(&u) != 0) {
    cu_errx("cannot get system name");
    return 1;
  }
  const char *fields[] = {u.sysname, CU_SANDBOX_HOSTNAME, u.release, u.version, u.machine,
                          "unknown", "unknown", "WASI"};
  int first = 1;
  for (int k = 0; k < 8; ++k) {
    if (!(want & (1u << k))) continue;
    if (all && ((1u << k) & (U_P | U_I)) && strcmp(fields[k], "unknown") == 0) continue;
    if (!first) putchar(' ');
    fputs(fields[k], stdout);
    first = 0;
  }
  putchar('\n');
  return 0;
}

int cu_uname(int argc, char **argv) {
  static const struct option longopts[] = {{"all", no_argument, 0, 'a'},
                                           {"kernel-name", no_argument, 0, 's'},
                                           {"sysname", no_argument, 0, 's'},
                                           {"nodename", no_argument, 0, 'n'},
                                           {"kernel-release", no_argument, 0, 'r'},
                                           {"release", no_argument, 0, 'r'},
                                           {"kernel-version", no_argument, 0, 'v'},
                                           {"machine", no_argument, 0, 'm'},
                                           {"processor", no_argument, 0, 'p'},
                                           {"hardware-platform", no_argument, 0, 'i'},
                                           {"operating-system", no_argument, 0, 'o'},
                                           {0, 0, 0, 0}};
  unsigned want = 0;
  int all = 0, c;
  while ((c = getopt_long(argc, argv, "asnrvmpio", longopts, NULL)) != -1) {
    switch (c) {
      case 'a': all = 1; want = ~0u; break;
      case 's': want |= U_S; break;
      case 'n': want |= U_N; break;
      case 'r': want |= U_R; break;
      case 'v': want |= U_V; break;
      case 'm': want |= U_M; break;
      case 'p': want |= U_P; break;
      case 'i': want |= U_I; break;
      case 'o': want |= U_O; break;
      default: return cu_try_help(1);
    }
  }
  if (optind < argc) {
    return cu_extra_operand(argv[optind]);
  }
  return print_uname(want == 0 ? U_S : want, all);
}

int cu_arch(int argc, char **argv) {
  int c;
  while ((c = getopt_long(argc, argv, "", NULL, NULL)) != -1) return cu_try_help(1);
  if (optind < argc) {
    return cu_extra_operand(argv[optind]);
  }
  return print_uname(U_M, 0);
}

// The sandbox's user: uid and gid 1000, named only when the operator named it (the guest SDK's
// wasmcap_user.h: the rule the toolbox's GNU ls and find follow too).
const char *cu_user_name(void) { return wasmcap_user_name(); }

int cu_whoami(int argc, char **argv) {
  if (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0' && strcmp(argv[1], "--") != 0) {
    fputs("whoami: invalid option -- ", stderr);
    cu_quote_always(stderr, argv[1] + 1);
    fputc('\n', stderr);
    return cu_try_help(1);
  }
  int first = argc > 1 && strcmp(argv[1], "--") == 0 ? 2 : 1;
  if (first < argc) {
    return cu_extra_operand(argv[first]);
  }
  const char *name = cu_user_name();
  if (name == NULL) {
    cu_errx("cannot find name for user ID %d", CU_SANDBOX_UID);
    return 1;
  }
  puts(name);
  return 0;
}

// id [-u|-g|-G] [-n] [-r] [USER]: the sandbox's one user (cu_user_name), as GNU's id prints it.
int cu_id(int argc, char **argv) {
  static const struct option longopts[] = {{"user", no_argument, 0, 'u'},
                                           {"group", no_argument, 0, 'g'},
                                           {"groups", no_argument, 0, 'G'},
                                           {"name", no_argument, 0, 'n'},
                                           {"real", no_argument, 0, 'r'},
                                           {0, 0, 0, 0}};
  int which = 0, names = 0, c;
  while ((c = getopt_long(argc, argv, "ugGnr", longopts, NULL)) != -1) {
    if (c == 'u' || c == 'g' || c == 'G') {
      if (which != 0 && which != c) {
        cu_errx("cannot print \"only\" of more than one choice");
        return 1;
      }
      which = c;
    } else if (c == 'n') {
      names = 1;
    } else if (c != 'r') {
      return cu_try_help(1);
    }
  }
  const char *name = cu_user_name();
  if (optind < argc) {
    // Only the sandbox's own user exists.
    if (optind + 1 < argc) {
      return cu_extra_operand(argv[optind + 1]);
    }
    const char *u = argv[optind];
    if (!(name != NULL && strcmp(u, name) == 0) && strcmp(u, CU_STR_UID) != 0) {
      fputs("id: ", stderr);
      cu_quote_always(stderr, u);
      fputs(": no such user\n", stderr);
      return 1;
    }
  }
  if (names && which == 0) {
    cu_errx("cannot print only names or real IDs in default format");
    return 1;
  }
  if (which != 0) {
    if (!names) {
      printf("%d\n", which == 'u' ? CU_SANDBOX_UID : CU_SANDBOX_GID);
      return 0;
    }
    if (name == NULL) {
      cu_errx("cannot find name for %s ID %d", which == 'u' ? "user" : "group",
              which == 'u' ? CU_SANDBOX_UID : CU_SANDBOX_GID);
      printf("%d\n", which == 'u' ? CU_SANDBOX_UID : CU_SANDBOX_GID);
      return 1;
    }
    printf("%s\n", name);
    return 0;
  }
  if (name != NULL) {
    printf("uid=%d(%s) gid=%d(%s) groups=%d(%s)\n", CU_SANDBOX_UID, name, CU_SANDBOX_GID, name,
           CU_SANDBOX_GID, name);
  } else {
    printf("uid=%d gid=%d groups=%d\n", CU_SANDBOX_UID, CU_SANDBOX_GID, CU_SANDBOX_GID);
  }
  return 0;
}
