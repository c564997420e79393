// od: the bytes of the inputs (concatenated) as octal, hexadecimal, decimal or characters,
// laid out as GNU's od lays them out (field widths, padding shared between -t types, '*' for
// repeated lines, the final address).
//
// Memory: two blocks of -w bytes; a width the run cannot hold stops with "out of memory".
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cu.h"

enum { OD_MAX_SPECS = 64 };

struct od_spec {
  char kind;  // 'c', or 'd' 'o' 'u' 'x' with a size
  int size;   // bytes per field
  int width;  // characters per field (without the separating blank)
  int pad;    // blanks shared out between the fields of a line (types of different widths align)
  int hexl;   // 'z': the printable bytes after the fields, between > and <
};

static struct od_spec od_specs[OD_MAX_SPECS];
static int od_nspecs;

// Characters per field, as GNU's: enough for the widest value of the type.
static int od_field_width(char kind, int size) {
  static const int hex[] = {0, 2, 4, 0, 8, 0, 0, 0, 16};
  static const int oct[] = {0, 3, 6, 0, 11, 0, 0, 0, 22};
  static const int sdec[] = {0, 4, 6, 0, 11, 0, 0, 0, 20};
  static const int udec[] = {0, 3, 5, 0, 10, 0, 0, 0, 20};
  switch (kind) {
    case 'x': return hex[size];
    case 'o': return oct[size];
    case 'd': return sdec[size];
    case 'u': return udec[size];
    default: return 3;
  }
}

static int od_add(char kind, int size) {
  if (od_nspecs == OD_MAX_SPECS) {
    cu_errx("too many output types (at most %d)", OD_MAX_SPECS);
    return -1;
  }
  od_specs[od_nspecs++] = (struct od_spec){kind, size, od_field_width(kind, size), 0, 0};
  return 0;
}

// Parses a -t TYPE string (several types may follow each other: "x1c"). Returns 0 or -1
// (message printed).
static int od_parse_type(const char *s) {
  const char *p = s;
  while (*p) {
    char kind = *p++;
    if (kind == 'c') {
      if (od_add('c', 1) != 0) return -1;
      if (*p == 'z') od_specs[od_nspecs - 1].hexl = 1, ++p;
      continue;
    }
    if (!strchr("doux", kind)) {
      fprintf(stderr, "od: invalid character '%c' in type string '%s'\n", kind, s);
      return -1;
    }
    int size = 4;
    if (*p == 'C') size = 1, ++p;
    else if (*p == 'S') size = 2, ++p;
    else if (*p == 'I') size = 4, ++p;
    else if (*p == 'L') size = 8, ++p;
    else if (*p >= '0' && *p <= '9') {
      unsigned long n = 0;
      const char *start = p;
      while (*p >= '0' && *p <= '9' && n < 1000) n = n * 10 + (unsigned long)(*p++ - '0');
      if (n != 1 && n != 2 && n != 4 && n != 8) {
        fprintf(stderr, "od: invalid type string '%s';\nthis system doesn't provide a %.*s-byte "
                "integral type\n", s, (int)(p - start), start);
        return -1;
      }
      size = (int)n;
    }
    if (od_add(kind, size) != 0) return -1;
    if (*p == 'z') od_specs[od_nspecs - 1].hexl = 1, ++p;
  }
  return 0;
}

// GNU's byte counts for -N, -j and -w: decimal, 0x hex, 0 octal, then an optional multiplier.
static int od_parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (*s == '-' || *s == '\0') return -1;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || end == s) return -1;
  uint64_t mult = 1;
  if (*end) {
    switch (*end) {
      case 'b': mult = 512; break;
      case 'k': case 'K': mult = 1024; break;
      case 'm': case 'M': mult = 1024 * 1024; break;
      case 'G': mult = 1024 * 1024 * 1024; break;
      default: return -1;
    }
    if (end[1]) return -1;
  }
  if (v > UINT64_MAX / mult) return -1;
  *out = v * mult;
  return 0;
}

// --- input: the operands as one stream ---

struct od_in {
  char **ops;
  int nops, cur, fd, status;
};

// Opens the next operand that can be opened; returns 0, or -1 when none is left.
static int od_next_file(struct od_in *in) {
  while (in->cur < in->nops) {
    const char *name = in->ops[in->cur++];
    int fd = cu_open_input(name);
    if (fd >= 0) {
      in->fd = fd;
      return 0;
    }
    cu_err(NULL, name, errno);
    in->status = 1;
  }
  return -1;
}

// Reads up to N bytes of the stream. Returns the count (less than N only at the end).
static size_t od_read(struct od_in *in, char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (in->fd < 0 && od_next_file(in) != 0) break;
    ssize_t r = read(in->fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      got += (size_t)r;
      continue;
    }
    if (r < 0) {
      cu_err(NULL, in->ops[in->cur - 1], errno);
      in->status = 1;
    }
    cu_close_input(in->fd);
    in->fd = -1;
  }
  return got;
}

// Skips N bytes of the stream: whole regular files by their size, then seeks or reads.
// Returns 0, or -1 when the stream is shorter.
static int od_skip(struct od_in *in, uint64_t n, char *scratch, size_t scratch_len) {
  while (n > 0) {
    if (in->fd < 0 && od_next_file(in) != 0) return -1;
    struct stat st;
    if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode)) {
      off_t pos = lseek(in->fd, 0, SEEK_CUR);
      if (pos >= 0 && pos <= st.st_size) {
        uint64_t left = (uint64_t)(st.st_size - pos);
        if (n >= left) {
          n -= left;
          cu_close_input(in->fd);
          in->fd = -1;
          continue;
        }
        if (lseek(in->fd, (off_t)n, SEEK_CUR) >= 0) return 0;
      }
    }
    size_t want = n < scratch_len ? (size_t)n : scratch_len;
    size_t got = od_read(in, scratch, want);
    if (got == 0) return -1;
    n -= got;
  }
  return 0;
}

// --- output ---

static char od_radix = 'o';

static void od_address(uint64_t a) {
  switch (od_radix) {
    case 'd': printf("%07llu", (unsigned long long)a); break;
    case 'x': printf("%06llx", (unsigned long long)a); break;
    case 'o': printf("%07llo", (unsigned long long)a); break;
    default: break;
  }
}

static int od_address_width(void) {
  return od_radix == 'n' ? 0 : od_radix == 'x' ? 6 : 7;
}

static void od_char(unsigned char b, int w) {
  static const char esc[] = "0\0a\ab\bf\fn\nr\rt\tv\v";
  char buf[8];
  const char *e = NULL;
  for (size_t i = 0; i < sizeof(esc) - 1; i += 2) {
    if ((unsigned char)esc[i + 1] == b) e = &esc[i];
  }
  if (e != NULL) snprintf(buf, sizeof(buf), "\\%c", e[0]);
  else if (b >= 0x20 && b < 0x7f) snprintf(buf, sizeof(buf), "%c", b);
  else snprintf(buf, sizeof(buf), "%03o", b);
  printf("%*s", w, buf);
}

// One line of type SP for the N bytes of BLOCK (zero-filled to a whole field), BPB per line.
static void od_line(const struct od_spec *sp, const unsigned char *block, size_t n, size_t bpb) {
  size_t fields = bpb / (size_t)sp->size, shown = (n + (size_t)sp->size - 1) / (size_t)sp->size;
  size_t pad_left = (size_t)sp->pad;
  for (size_t i = 0; i < shown; ++i) {
    size_t next_pad = (size_t)sp->pad * (fields - i - 1) / fields;
    int w = (int)(pad_left - next_pad) + sp->width;
    pad_left = next_pad;
    const unsigned char *p = block + i * (size_t)sp->size;
    if (sp->kind == 'c') {
      od_char(p[0], w);
      continue;
    }
    uint64_t v = 0;
    for (int k = sp->size - 1; k >= 0; --k) v = v << 8 | p[k];  // little-endian, as wasm32
    if (sp->kind == 'd') {
      int shift = 64 - 8 * sp->size;
      int64_t sv = shift ? (int64_t)(v << shift) >> shift : (int64_t)v;
      printf("%*lld", w, (long long)sv);
    } else if (sp->kind == 'u') {
      printf("%*llu", w, (unsigned long long)v);
    } else if (sp->kind == 'x') {
      printf("%*s%0*llx", w - sp->width, "", sp->width, (unsigned long long)v);
    } else {
      printf("%*s%0*llo", w - sp->width, "", sp->width, (unsigned long long)v);
    }
  }
  if (sp->hexl) {  // blanks for the missing fields, then the bytes
    size_t blank = fields - shown;
    printf("%*s  >", (int)(blank * (size_t)sp->width + (size_t)sp->pad * blank / fields), "");
    for (size_t i = 0; i < n; ++i) putchar(block[i] >= 0x20 && block[i] < 0x7f ? block[i] : '.');
    putchar('<');
  }
  putchar('\n');
}

int cu_od(int argc, char **argv) {
  static const struct option longopts[] = {
      {"address-radix", required_argument, 0, 'A'}, {"skip-bytes", required_argument, 0, 'j'},
      {"read-bytes", required_argument, 0, 'N'},    {"format", required_argument, 0, 't'},
      {"output-duplicates", no_argument, 0, 'v'},   {"width", optional_argument, 0, 'w'},
      {0, 0, 0, 0}};
  uint64_t skip = 0, limit = UINT64_MAX, width = 16;
  int all = 0, c, limited = 0, longind;
  od_nspecs = 0;
  od_radix = 'o';
  while ((longind = -1, c = getopt_long(argc, argv, "A:j:N:t:vw::bcdox", longopts, &longind)) != -1) {
    switch (c) {
      case 'A':
        if (optarg[0] == '\0' || !strchr("doxn", optarg[0])) {
          // GNU reads only the first character, and prints it as it is (even a NUL)
          fprintf(stderr, "od: invalid output address radix '%c'; it must be one character from "
                  "[doxn]\n", optarg[0]);
          return 1;
        }
        od_radix = optarg[0];
        break;
      case 'j':
      case 'N':
      case 'w': {
        uint64_t v = 32;
        if ((c != 'w' || optarg) && od_parse_size(optarg, &v) != 0) {
          // GNU names the option as it was typed
          if (longind >= 0) fprintf(stderr, "od: invalid --%s argument '%s'\n", longopts[longind].name, optarg);
          else fprintf(stderr, "od: invalid -%c argument '%s'\n", c, optarg);
          return 1;
        }
        if (c == 'j') skip = v;
        else if (c == 'N') limit = v, limited = 1;
        else width = v;
        break;
      }
      case 't':
        if (od_parse_type(optarg) != 0) return 1;
        break;
      case 'v': all = 1; break;
      case 'b': if (od_add('o', 1) != 0) return 1; break;
      case 'c': if (od_add('c', 1) != 0) return 1; break;
      case 'd': if (od_add('u', 2) != 0) return 1; break;
      case 'o': if (od_add('o', 2) != 0) return 1; break;
      case 'x': if (od_add('x', 2) != 0) return 1; break;
      default: return cu_try_help(1);
    }
  }
  if (od_nspecs == 0) od_add('o', 2);
  // The line width is a multiple of every field size (GNU: their least common multiple, here
  // the largest: the sizes are powers of two).
  int lcm = 1;
  for (int i = 0; i < od_nspecs; ++i) {
    if (od_specs[i].size > lcm) lcm = od_specs[i].size;
  }
  if (width == 0 || width % (uint64_t)lcm != 0) {
    fprintf(stderr, "od: warning: invalid width %llu; using %d instead\n", (unsigned long long)width, lcm);
    width = (uint64_t)lcm;
  }
  if (width > SIZE_MAX / 4) {
    fputs("od: out of memory\n", stderr);
    return 1;
  }
  size_t bpb = (size_t)width;
  size_t line_chars = 0;
  for (int i = 0; i < od_nspecs; ++i) {
    size_t w = (size_t)(od_specs[i].width + 1) * (bpb / (size_t)od_specs[i].size);
    if (w > line_chars) line_chars = w;
  }
  for (int i = 0; i < od_nspecs; ++i) {
    od_specs[i].pad = (int)(line_chars - (size_t)od_specs[i].width * (bpb / (size_t)od_specs[i].size));
  }
  char *dash[] = {"-", NULL};
  struct od_in in = {optind < argc ? argv + optind : dash, optind < argc ? argc - optind : 1, 0, -1, 0};
  unsigned char *block = cu_xmalloc(bpb), *prev = cu_xmalloc(bpb);
  if (skip > 0 && od_skip(&in, skip, (char *)block, bpb) != 0) {
    fputs("od: cannot skip past end of combined input\n", stderr);
    free(block);
    free(prev);
    return 1;
  }
  uint64_t addr = skip, left = limit;
  int have_prev = 0, starred = 0;
  while (left > 0) {
    size_t want = left < bpb ? (size_t)left : bpb;
    size_t n = od_read(&in, (char *)block, want);
    if (n == 0) break;
    if (limited) left -= n;
    if (!all && n == bpb && have_prev && memcmp(block, prev, bpb) == 0) {
      if (!starred) puts("*");
      starred = 1;
    } else {
      starred = 0;
      memset(block + n, 0, bpb - n);
      for (int i = 0; i < od_nspecs; ++i) {
        if (i == 0) od_address(addr);
        else printf("%*s", od_address_width(), "");
        od_line(&od_specs[i], block, n, bpb);
      }
    }
    if (n == bpb) {
      memcpy(prev, block, bpb);
      have_prev = 1;
    }
    addr += n;
    if (n < want) break;
  }
  if (od_radix != 'n') {
    od_address(addr);
    putchar('\n');
  }
  free(block);
  free(prev);
  if (in.fd >= 0) cu_close_input(in.fd);
  return in.status;
}
