// du [-a] [-s] [-c] [-h] [-b] [-k] [-m] [-l] [-d N] [--apparent-size] [FILE...]: GNU's du with
// apparent sizes always. WASI's filestat reports a file's size but not the blocks allocated to
// it, so every size here is what GNU's `du --apparent-size` reports (README.md): bytes of
// regular files, the length of a symlink's target, a directory's own st_size; in 1 KiB units
// rounded up by default, bytes with -b, GNU's -h form. Directories are walked in bytewise
// order (GNU: directory order). A file with several links (and, with several operands, any
// entry) is counted once, as GNU's.
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"

static int g_all, g_human, g_total, g_count_links;
static long g_max_depth = -1;
static unsigned long long g_block = 1024;
static int g_hash_all;
static int g_status;

// The (dev, ino) pairs seen: an open-addressing hash set (bounded by the run's memory).
struct seen {
  unsigned long long dev, ino;
  int used;
};
static struct seen *g_seen;
static size_t g_nseen, g_capseen;

static size_t slot_of(struct seen *t, size_t cap, unsigned long long dev, unsigned long long ino) {
  unsigned long long h = (ino * 0x9E3779B97F4A7C15ULL) ^ (dev + 0x632BE59BD9B4E019ULL);
  h ^= h >> 29;
  size_t i = (size_t)h & (cap - 1);
  while (t[i].used && !(t[i].dev == dev && t[i].ino == ino)) i = (i + 1) & (cap - 1);
  return i;
}

// True the first time (dev, ino) is seen.
static int first_sight(unsigned long long dev, unsigned long long ino) {
  if (2 * (g_nseen + 1) > g_capseen) {
    size_t cap = g_capseen ? 2 * g_capseen : 256;
    struct seen *t = cu_xmalloc(cap * sizeof(*t));
    memset(t, 0, cap * sizeof(*t));
    for (size_t i = 0; i < g_capseen; ++i) {
      if (g_seen[i].used) t[slot_of(t, cap, g_seen[i].dev, g_seen[i].ino)] = g_seen[i];
    }
    free(g_seen);
    g_seen = t;
    g_capseen = cap;
  }
  size_t i = slot_of(g_seen, g_capseen, dev, ino);
  if (g_seen[i].used) return 0;
  g_seen[i].dev = dev;
  g_seen[i].ino = ino;
  g_seen[i].used = 1;
  g_nseen++;
  return 1;
}

// GNU's human_readable with human_ceiling | human_autoscale | base 1024, or a ceiling in blocks.
static void print_size(unsigned long long v) {
  if (!g_human) {
    printf("%llu", g_block == 1 ? v : v / g_block + (v % g_block != 0));
    return;
  }
  if (v < 1024) {
    printf("%llu", v);
    return;
  }
  static const char kUnits[] = "KMGTPEZY";
  unsigned __int128 base = 1024;
  int e = 0;
  while ((unsigned __int128)v >= base * 1024 && e < 7) {
    base *= 1024;
    ++e;
  }
  for (;;) {
    unsigned __int128 tenths = ((unsigned __int128)v * 10 + base - 1) / base;
    if (tenths < 100) {
      printf("%u.%u%c", (unsigned)(tenths / 10), (unsigned)(tenths % 10), kUnits[e]);
      return;
    }
    unsigned __int128 units = ((unsigned __int128)v + base - 1) / base;
    if (units < 1024 || e == 7) {
      printf("%llu%c", (unsigned long long)units, kUnits[e]);
      return;
    }
    base *= 1024;  // 1024 of this unit: "1.0" of the next
    ++e;
  }
}

static void report(unsigned long long v, const char *path) {
  print_size(v);
  printf("\t%s\n", path);
}

// The apparent size of PATH and everything below it; prints what -a/-d ask for.
static unsigned long long walk(const char *path, long depth, int top) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (top && errno == ENOENT) {
      fprintf(stderr, "du: cannot access ");
      cu_quote_always(stderr, path);
      fprintf(stderr, ": %s\n", cu_strerror(errno));
    } else {
      cu_err(NULL, path, errno);
    }
    g_status = 1;
    return 0;
  }
  int dir = S_ISDIR(st.st_mode);
  if (!g_count_links && (g_hash_all || (!dir && st.st_nlink > 1)) &&
      !first_sight((unsigned long long)st.st_dev, (unsigned long long)st.st_ino)) {
    return 0;
  }
  unsigned long long size = (unsigned long long)st.st_size;
  if (dir) {
    struct cu_list names = {0};
    if (cu_read_dir(path, 0, &names) != 0) {
      fprintf(stderr, "du: cannot read directory ");
      cu_quote_always(stderr, path);
      fprintf(stderr, ": %s\n", cu_strerror(errno));
      g_status = 1;
    }
    for (size_t i = 0; i < names.n; ++i) {
      char *child = cu_join(path, names.v[i]);
      size += walk(child, depth + 1, 0);
      free(child);
    }
    cu_list_free(&names);
  }
  if ((dir || g_all || top) && (g_max_depth < 0 || depth <= g_max_depth)) report(size, path);
  return size;
}

int cu_du(int argc, char **argv) {
  enum { OPT_APPARENT = 256, OPT_SI, OPT_TIME, OPT_EXCLUDE, OPT_INODES };
  static const struct option longopts[] = {{"all", no_argument, 0, 'a'},
                                           {"apparent-size", no_argument, 0, OPT_APPARENT},
                                           {"bytes", no_argument, 0, 'b'},
                                           {"total", no_argument, 0, 'c'},
                                           {"max-depth", required_argument, 0, 'd'},
                                           {"human-readable", no_argument, 0, 'h'},
                                           {"count-links", no_argument, 0, 'l'},
                                           {"summarize", no_argument, 0, 's'},
                                           {"si", no_argument, 0, OPT_SI},
                                           {"time", optional_argument, 0, OPT_TIME},
                                           {"exclude", required_argument, 0, OPT_EXCLUDE},
                                           {"inodes", no_argument, 0, OPT_INODES},
                                           {0, 0, 0, 0}};
  int summarize = 0, c;
  while ((c = getopt_long(argc, argv, "abcd:hklmsxLDHPS0B:t:X:", longopts, NULL)) != -1) {
    switch (c) {
      case 'a': g_all = 1; break;
      case OPT_APPARENT: break;  // always
      case 'b': g_block = 1; g_human = 0; break;
      case 'c': g_total = 1; break;
      case 'd': {
        char *end = NULL;
        errno = 0;
        long v = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || v < 0 || errno != 0) {
          cu_errx("invalid maximum depth '%s'", optarg);
          return cu_try_help(1);
        }
        g_max_depth = v;
        break;
      }
      case 'h': g_human = 1; break;
      case 'k': g_block = 1024; g_human = 0; break;
      case 'm': g_block = 1024 * 1024; g_human = 0; break;
      case 'l': g_count_links = 1; break;
      case 's': summarize = 1; break;
      case 'x': case 'P': break;  // one file system; symlinks are never followed
      case 'L': case 'D': case 'H': case 'S': case '0': case 'B': case 't': case 'X':
      case OPT_SI: case OPT_TIME: case OPT_EXCLUDE: case OPT_INODES:
        cu_errx("%s%s is not supported by this du (wasmcap coreutils)", c < 256 ? "-" : "",
                c < 256 ? (char[]){(char)c, 0} : argv[optind - 1]);
        return 1;
      default: return cu_try_help(1);
    }
  }
  if (summarize) {
    if (g_all) {
      cu_errx("cannot both summarize and show all entries");
      return cu_try_help(1);
    }
    if (g_max_depth > 0) {
      cu_errx("warning: summarizing conflicts with --max-depth=%ld", g_max_depth);
      return cu_try_help(1);
    }
    g_max_depth = 0;
  }
  g_hash_all = argc - optind > 1;
  unsigned long long total = 0;
  if (optind == argc) {
    total += walk(".", 0, 1);
  } else {
    for (int i = optind; i < argc; ++i) total += walk(argv[i], 0, 1);
  }
  if (g_total) report(total, "total");
  if (fflush(stdout) != 0) {
    cu_errx("write error");
    return 1;
  }
  return g_status;
}
