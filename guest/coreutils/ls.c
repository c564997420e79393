// ls [-1aAdlR] [PATH...]: one name per line, sorted bytewise (GNU ls under LC_ALL=C with
// output to a pipe). -l shows what WASI can know: type, links, size, mtime (UTC), link target,
// and modes from the file type and the grant (WASI has no permission bits: r and w are what the
// sandbox lets this tool do, x marks directories; a read-only grant shows r--r--r--); owner and
// group are the sandbox's user (uid/gid 1000, or the name the operator gave it: sysinfo.c).
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cu.h"

static int opt_all, opt_almost, opt_long, opt_recursive, opt_dirself;
static int g_printed;  // something was printed (a blank line precedes the next header)
static int g_status;

struct entry {
  char *name;  // as displayed
  char *path;  // for lstat/readlink
  struct stat st;
  int ok;      // st is valid
  int hidden_parent;  // ".." of a granted directory's root: the sandbox keeps it unknowable
};

static char type_char(mode_t m) {
  if (S_ISDIR(m)) return 'd';
  if (S_ISLNK(m)) return 'l';
  if (S_ISCHR(m)) return 'c';
  if (S_ISBLK(m)) return 'b';
  if (S_ISFIFO(m)) return 'p';
  if (S_ISSOCK(m)) return 's';
  return '-';
}

// The nine mode characters: what the grant allows (access(), which wasi-libc answers from the
// rights the directory hands down: a read-only grant has no write right), as GNU shows the
// usual modes: the owner's read and write, everyone's read, x on directories. Symlinks show
// rwxrwxrwx as on Linux.
static void mode_chars(const struct entry *e, char out[10]) {
  if (S_ISLNK(e->st.st_mode)) {
    memcpy(out, "rwxrwxrwx", 10);
    return;
  }
  const int r = access(e->path, R_OK) == 0, w = access(e->path, W_OK) == 0;
  const int x = S_ISDIR(e->st.st_mode);
  const char rc = r ? 'r' : '-', xc = x ? 'x' : '-';
  const char m[10] = {rc, w ? 'w' : '-', xc, rc, '-', xc, rc, '-', xc, '\0'};
  memcpy(out, m, 10);
}

static int digits(unsigned long long v) {
  int d = 1;
  while (v >= 10) {
    v /= 10;
    ++d;
  }
  return d;
}

static void print_long(struct entry *e, int nlw, int szw, time_t now) {
  char date[32];
  time_t t = e->st.st_mtim.tv_sec;
  struct tm tm;
  gmtime_r(&t, &tm);
  // GNU's rule: a time within the last six months (of an average Gregorian year) shows the
  // clock time, anything else the year.
  const time_t six_months = 31556952 / 2;
  if (t > now - six_months && t <= now) {
    strftime(date, sizeof(date), "%b %e %H:%M", &tm);
  } else {
    strftime(date, sizeof(date), "%b %e  %Y", &tm);
  }
  char mode[10];
  mode_chars(e, mode);
  // Every file belongs to the sandbox's user: its name when the operator gave one, else its
  // ids (never the host's owners, which WASI does not report).
  const char *owner = cu_user_name();
  if (owner == NULL) owner = CU_STR_UID;
  printf("%c%s %*llu %s %s %*llu %s %s", type_char(e->st.st_mode), mode, nlw,
         (unsigned long long)e->st.st_nlink, owner, owner, szw, (unsigned long long)e->st.st_size,
         date, e->name);
  if (S_ISLNK(e->st.st_mode)) {
    char target[4096];
    ssize_t n = readlink(e->path, target, sizeof(target) - 1);
    if (n >= 0) {
      target[n] = '\0';
      printf(" -> %s", target);
    }
  }
  putchar('\n');
}

// Prints entries (stat'ed already in -l mode); `total` prints the "total" line of a directory.
static void print_entries(struct entry *v, size_t n, int total) {
  if (!opt_long) {
    for (size_t i = 0; i < n; ++i) {
      if (v[i].ok || v[i].hidden_parent || !opt_recursive) printf("%s\n", v[i].name);
    }
    return;
  }
  int nlw = 1, szw = 1;
  unsigned long long blocks = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!v[i].ok) continue;
    int a = digits((unsigned long long)v[i].st.st_nlink), b = digits((unsigned long long)v[i].st.st_size);
    if (a > nlw) nlw = a;
    if (b > szw) szw = b;
    // WASI has no block counts: 1 KiB units of the sizes (symlinks and directories too).
    blocks += ((unsigned long long)v[i].st.st_size + 1023) / 1024;
  }
  if (total) printf("total %llu\n", blocks);
  time_t now = time(NULL);
  for (size_t i = 0; i < n; ++i) {
    if (v[i].ok) {
      print_long(&v[i], nlw, szw, now);
    } else if (v[i].hidden_parent) {
      printf("d????????? %*s ? ? %*s %12s %s\n", nlw, "?", szw, "?", "?", v[i].name);
    }
  }
}

static void list_dir(const char *path, int header) {
  struct cu_list names = {0};
  if (cu_read_dir(path, opt_all, &names) != 0) {
    cu_err("cannot open directory", path, errno);
    g_status = g_status ? g_status : 1;  // a directory we were led to: minor trouble (GNU: 1; 2 on operands)
    return;
  }
  if (header) {
    if (g_printed) putchar('\n');
    printf("%s:\n", path);
  }
  g_printed = 1;
  struct entry *v = cu_xmalloc((names.n ? names.n : 1) * sizeof(struct entry));
  size_t n = 0;
  for (size_t i = 0; i < names.n; ++i) {
    const char *name = names.v[i];
    if (!opt_all && name[0] == '.' && !opt_almost) continue;
    struct entry *e = &v[n++];
    e->name = names.v[i];
    e->path = cu_join(path, name);
    e->ok = 0;
    e->hidden_parent = 0;
    if (opt_long || opt_recursive) {
      if (lstat(e->path, &e->st) == 0) {
        e->ok = 1;
      } else if (strcmp(name, "..") == 0 && (errno == EPERM || errno == ENOTCAPABLE)) {
        e->hidden_parent = 1;  // listed by readdir, but above the root: not an error
      } else {
        cu_err("cannot access", e->path, errno);
        g_status = 1;
      }
    }
  }
  print_entries(v, n, 1);
  if (opt_recursive) {
    for (size_t i = 0; i < n; ++i) {
      if (!v[i].ok || !S_ISDIR(v[i].st.st_mode)) continue;
      if (strcmp(v[i].name, ".") == 0 || strcmp(v[i].name, "..") == 0) continue;
      list_dir(v[i].path, 1);
    }
  }
  for (size_t i = 0; i < n; ++i) free(v[i].path);
  free(v);
  cu_list_free(&names);
}

int cu_ls(int argc, char **argv) {
  static const struct option longopts[] = {{"all", no_argument, 0, 'a'},
                                           {"almost-all", no_argument, 0, 'A'},
                                           {"recursive", no_argument, 0, 'R'},
                                           {"directory", no_argument, 0, 'd'},
                                           {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "1aAdlR", longopts, NULL)) != -1) {
    switch (c) {
      case '1': break;
      case 'a': opt_all = 1; opt_almost = 0; break;
      case 'A': opt_almost = 1; opt_all = 0; break;
      case 'd': opt_dirself = 1; break;
      case 'l': opt_long = 1; break;
      case 'R': opt_recursive = 1; break;
      default:
        fprintf(stderr, "usage: ls [-1aAdlR] [PATH...]\n");
        return 2;
    }
  }
  if (opt_dirself) opt_recursive = 0;
  char *dot[] = {".", NULL};
  char **ops = optind < argc ? argv + optind : dot;
  size_t nops = optind < argc ? (size_t)(argc - optind) : 1;

  // Operands: files (and, with -d, directories) first, then directories; each group sorted.
  struct cu_list files = {0}, dirs = {0};
  for (size_t i = 0; i < nops; ++i) {
    struct stat st;
    // Without -l/-d, a symlink operand naming a directory lists the directory (GNU).
    int r = (opt_long || opt_dirself) ? lstat(ops[i], &st) : stat(ops[i], &st);
    if (r != 0 && errno == ENOENT && !(opt_long || opt_dirself)) r = lstat(ops[i], &st);
    if (r != 0) {
      cu_err("cannot access", ops[i], errno);
      g_status = 2;
      continue;
    }
    if (S_ISDIR(st.st_mode) && !opt_dirself) {
      cu_list_push(&dirs, cu_xstrdup(ops[i]));
    } else {
      cu_list_push(&files, cu_xstrdup(ops[i]));
    }
  }
  cu_list_sort(&files);
  cu_list_sort(&dirs);
  if (files.n > 0) {
    struct entry *v = cu_xmalloc(files.n * sizeof(struct entry));
    size_t n = 0;
    for (size_t i = 0; i < files.n; ++i) {
      struct entry *e = &v[n++];
      e->name = e->path = files.v[i];
      e->hidden_parent = 0;
      e->ok = lstat(e->path, &e->st) == 0;
      if (!e->ok) {
        // Rechecked for -l: the operand was reachable a moment ago (a race); report it.
        cu_err("cannot access", e->path, errno);
        g_status = 2;
        --n;
      }
    }
    print_entries(v, n, 0);
    free(v);
    g_printed = 1;
  }
  int header = opt_recursive || nops > 1;
  for (size_t i = 0; i < dirs.n; ++i) list_dir(dirs.v[i], header);
  cu_list_free(&files);
  cu_list_free(&dirs);
  return g_status;
}
