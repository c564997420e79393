// date: GNU date's output formats, in UTC (the guest has no time zone database).
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cu.h"

static const char *const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                      "July",    "August",   "September", "October", "November", "December"};

struct out {
  char *s;
  size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n) {
  if (o->n + n + 1 > o->cap) {
    o->cap = (o->n + n + 1) * 2;
    o->s = cu_xrealloc(o->s, o->cap);
  }
  memcpy(o->s + o->n, s, n);
  o->n += n;
  o->s[o->n] = '\0';
}

// One conversion's text with GNU's flags: pad ('-' none, '_' spaces, '0' zeros, 0 default),
// width (-1 default), case ('^' upper, '#' swap).
static void emit(struct out *o, const char *text, int numeric, int defpad, int defwidth, int pad,
                 int width, int upcase, int swapcase) {
  char buf[128];
  size_t len = strlen(text);
  if (len >= sizeof(buf)) len = sizeof(buf) - 1;
  memcpy(buf, text, len);
  buf[len] = '\0';
  for (size_t i = 0; i < len; ++i) {
    if (upcase) buf[i] = (char)toupper((unsigned char)buf[i]);
    else if (swapcase) buf[i] = (char)(isupper((unsigned char)buf[i]) ? tolower((unsigned char)buf[i]) : toupper((unsigned char)buf[i]));
  }
  if (pad == '-') {
    // A numeric value loses its padding (the text came padded by default: strip it).
    const char *t = buf;
    if (numeric) {
      while ((*t == '0' || *t == ' ') && t[1] && isdigit((unsigned char)t[1])) ++t;
      while (*t == ' ') ++t;
    }
    put(o, t, strlen(t));
    return;
  }
  int w = width >= 0 ? width : defwidth;
  char pc = pad == '_' ? ' ' : pad == '0' ? '0' : (char)defpad;
  const char *t = buf;
  if (numeric && pad && pad != defpad) {  // re-pad a default-padded number with the new pad
    while ((*t == '0' || *t == ' ') && t[1] && isdigit((unsigned char)t[1])) ++t;
  }
  size_t tl = strlen(t);
  int neg = numeric && t[0] == '-';
  if (neg && pc == '0') {
    put(o, "-", 1);
    ++t;
    --tl;
    --w;
  }
  for (int i = (int)tl; i < w; ++i) put(o, &pc, 1);
  put(o, t, tl);
}

static int iso_week(const struct tm *tm, int *iso_year) {
  int wday = (tm->tm_wday + 6) % 7;  // Monday = 0
  int year = tm->tm_year + 1900;
  int week = (tm->tm_yday - wday + 10) / 7;
  if (week < 1) {
    --year;
    int prev_days = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365;
    week = (tm->tm_yday + prev_days - wday + 10) / 7;
  } else {
    int days = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365;
    if (tm->tm_yday - wday + 3 >= days) {  // the Thursday of this week is in the next year
      week = 1;
      ++year;
    }
  }
  *iso_year = year;
  return week;
}

static void format(struct out *o, const char *f, const struct tm *tm, long long secs, long nsec) {
  char tmp[64];
  for (const char *p = f; *p; ++p) {
    if (*p != '%') {
      put(o, p, 1);
      continue;
    }
    const char *start = p++;
    int pad = 0, upcase = 0, swapcase = 0, width = -1, colons = 0;
    for (;; ++p) {
      if (*p == '-' || *p == '_' || *p == '0') pad = *p;
      else if (*p == '^') upcase = 1;
      else if (*p == '#') swapcase = 1;
      else break;
    }
    if (isdigit((unsigned char)*p)) {
      width = 0;
      while (isdigit((unsigned char)*p)) width = width * 10 + (*p++ - '0');
      if (width > 1024) width = 1024;
    }
    while (*p == ':' && colons < 3) {
      ++colons;
      ++p;
    }
    int isow, isoy;
    int hour12 = tm->tm_hour % 12 == 0 ? 12 : tm->tm_hour % 12;
#define NUM(fmt, v, dp, dw) (snprintf(tmp, sizeof(tmp), fmt, v), emit(o, tmp, 1, dp, dw, pad, width, upcase, swapcase))
#define STR(s) emit(o, s, 0, ' ', 0, pad, width, upcase, 0)
    if (colons && *p != 'z') goto bad;
    switch (*p) {
      case '%': put(o, "%", 1); break;
      case 'a': snprintf(tmp, sizeof(tmp), "%.3s", kDays[tm->tm_wday]); emit(o, tmp, 0, ' ', 0, pad, width, upcase || swapcase, 0); break;
      case 'A': emit(o, kDays[tm->tm_wday], 0, ' ', 0, pad, width, upcase || swapcase, 0); break;
      case 'b':
      case 'h': snprintf(tmp, sizeof(tmp), "%.3s", kMonths[tm->tm_mon]); emit(o, tmp, 0, ' ', 0, pad, width, upcase || swapcase, 0); break;
      case 'B': emit(o, kMonths[tm->tm_mon], 0, ' ', 0, pad, width, upcase || swapcase, 0); break;
      case 'c': {
        struct out sub = {0};
        format(&sub, "%a %b %e %H:%M:%S %Y", tm, secs, nsec);
        STR(sub.s ? sub.s : "");
        free(sub.s);
        break;
      }
      case 'C': NUM("%02d", (tm->tm_year + 1900) / 100, '0', 2); break;
      case 'd': NUM("%02d", tm->tm_mday, '0', 2); break;
      case 'e': NUM("%2d", tm->tm_mday, ' ', 2); break;
      case 'D':
      case 'F':
      case 'r':
      case 'R':
      case 'T':
      case 'x':
      case 'X': {
        const char *sf = *p == 'D' || *p == 'x' ? "%m/%d/%y" : *p == 'F' ? "%Y-%m-%d" : *p == 'r' ? "%I:%M:%S %p"
                         : *p == 'R' ? "%H:%M" : "%H:%M:%S";
        struct out sub = {0};
        format(&sub, sf, tm, secs, nsec);
        emit(o, sub.s ? sub.s : "", 0, ' ', 0, pad == '-' ? 0 : pad, width, upcase, swapcase);
        free(sub.s);
        break;
      }
      case 'g': isow = iso_week(tm, &isoy); (void)isow; NUM("%02d", ((isoy % 100) + 100) % 100, '0', 2); break;
      case 'G': isow = iso_week(tm, &isoy); (void)isow; NUM("%d", isoy, '0', 0); break;
      case 'H': NUM("%02d", tm->tm_hour, '0', 2); break;
      case 'I': NUM("%02d", hour12, '0', 2); break;
      case 'j': NUM("%03d", tm->tm_yday + 1, '0', 3); break;
      case 'k': NUM("%2d", tm->tm_hour, ' ', 2); break;
      case 'l': NUM("%2d", hour12, ' ', 2); break;
      case 'm': NUM("%02d", tm->tm_mon + 1, '0', 2); break;
      case 'M': NUM("%02d", tm->tm_min, '0', 2); break;
      case 'n': put(o, "\n", 1); break;
      case 'N': {
        snprintf(tmp, sizeof(tmp), "%09ld", nsec);
        if (width > 0 && width < 9) tmp[width] = '\0';
        put(o, tmp, strlen(tmp));
        for (int i = 9; i < width; ++i) put(o, "0", 1);
        break;
      }
      case 'p': STR(tm->tm_hour < 12 ? (swapcase ? "am" : "AM") : (swapcase ? "pm" : "PM")); break;
      case 'P': emit(o, tm->tm_hour < 12 ? "am" : "pm", 0, ' ', 0, pad, width, 0, 0); break;
      case 'q': NUM("%d", tm->tm_mon / 3 + 1, '0', 1); break;
      case 's': NUM("%lld", secs, '0', 1); break;
      case 'S': NUM("%02d", tm->tm_sec, '0', 2); break;
      case 't': put(o, "\t", 1); break;
      case 'u': NUM("%d", tm->tm_wday == 0 ? 7 : tm->tm_wday, '0', 1); break;
      case 'U': NUM("%02d", (tm->tm_yday + 7 - tm->tm_wday) / 7, '0', 2); break;
      case 'V': isow = iso_week(tm, &isoy); NUM("%02d", isow, '0', 2); break;
      case 'w': NUM("%d", tm->tm_wday, '0', 1); break;
      case 'W': NUM("%02d", (tm->tm_yday + 7 - (tm->tm_wday + 6) % 7) / 7, '0', 2); break;
      case 'y': NUM("%02d", ((tm->tm_year + 1900) % 100 + 100) % 100, '0', 2); break;
      case 'Y': NUM("%d", tm->tm_year + 1900, '0', 1); break;
      case 'z': {
        const char *z = colons == 0 ? "+0000" : colons == 1 ? "+00:00" : colons == 2 ? "+00:00:00" : "+00";
        emit(o, z, 0, ' ', 0, pad, width, 0, 0);
        break;
      }
      case 'Z': emit(o, "UTC", 0, ' ', 0, pad, width, 0, swapcase); break;
      default:
      bad:
        // An unknown conversion is copied as written (gnulib's nstrftime).
        if (*p == '\0') --p;
        put(o, start, (size_t)(p - start) + 1);
        break;
    }
#undef NUM
#undef STR
  }
}

int cu_date(int argc, char **argv) {
  enum { OPT_RFC3339 = 256 };
  static const struct option longopts[] = {{"date", required_argument, 0, 'd'},
                                           {"iso-8601", optional_argument, 0, 'I'},
                                           {"reference", required_argument, 0, 'r'},
                                           {"rfc-email", no_argument, 0, 'R'},
                                           {"rfc-3339", required_argument, 0, OPT_RFC3339},
                                           {"utc", no_argument, 0, 'u'},
                                           {"universal", no_argument, 0, 'u'},
                                           {0, 0, 0, 0}};
  const char *date = NULL, *ref = NULL, *fmt = NULL;
  int c, nfmt = 0;
  while ((c = getopt_long(argc, argv, "d:I::r:Rus:f:", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': date = optarg; break;
      case 'r': ref = optarg; break;
      case 'u': break;  // always UTC
      case 'R': fmt = "%a, %d %b %Y %H:%M:%S %z"; ++nfmt; break;
      case 'I': {
        const char *a = optarg ? optarg : "date";
        static const char *const names[] = {"date", "hours", "minutes", "seconds", "ns"};
        static const char *const fmts[] = {"%Y-%m-%d", "%Y-%m-%dT%H%:z", "%Y-%m-%dT%H:%M%:z",
                                           "%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%dT%H:%M:%S,%N%:z"};
        int k = -1;
        for (int i = 0; i < 5; ++i) {
          if (strncmp(names[i], a, strlen(a)) == 0 && a[0]) {
            k = i;
            break;
          }
        }
        if (k < 0) {
          cu_errx("invalid argument '%s' for '--iso-8601'", a);
          fputs("Valid arguments are:\n  - 'hours'\n  - 'minutes'\n  - 'date'\n  - 'seconds'\n  - 'ns'\n", stderr);
          return cu_try_help(1);
        }
        fmt = fmts[k];
        ++nfmt;
        break;
      }
      case OPT_RFC3339: {
        const char *a = optarg;
        if (strcmp(a, "date") == 0) fmt = "%Y-%m-%d";
        else if (strcmp(a, "seconds") == 0) fmt = "%Y-%m-%d %H:%M:%S%:z";
        else if (strcmp(a, "ns") == 0) fmt = "%Y-%m-%d %H:%M:%S.%N%:z";
        else {
          cu_errx("invalid argument '%s' for '--rfc-3339'", a);
          fputs("Valid arguments are:\n  - 'date'\n  - 'seconds'\n  - 'ns'\n", stderr);
          return cu_try_help(1);
        }
        ++nfmt;
        break;
      }
      case 's':
      case 'f':
        cu_errx("option -%c is not supported by this date (wasmcap coreutils): it cannot set the "
                "clock or read dates from a file", c);
        return cu_try_help(1);
      default: return cu_try_help(1);
    }
  }
  for (int i = optind; i < argc; ++i) {
    if (argv[i][0] == '+') {
      if (i > optind) {
        cu_errx("extra operand '%s'", argv[i]);
        return cu_try_help(1);
      }
      if (nfmt > 0) {
        cu_errx("multiple output formats specified");
        return 1;
      }
      fmt = argv[i] + 1;
      ++nfmt;
    } else {
      if (i > optind || nfmt > 0) {
        cu_errx("extra operand '%s'", argv[i]);
        return cu_try_help(1);
      }
      cu_errx("invalid date '%s'", argv[i]);  // GNU would try to set the clock from it
      return 1;
    }
  }
  if (nfmt > 1) {
    cu_errx("multiple output formats specified");
    return 1;
  }
  if (date && ref) {
    cu_errx("the options to specify dates for printing are mutually exclusive");
    return cu_try_help(1);
  }
  long long secs;
  long nsec = 0;
  if (date) {
    const char *s = date;
    while (isspace((unsigned char)*s)) ++s;
    if (*s == '@') {
      char *end;
      errno = 0;
      secs = strtoll(s + 1, &end, 10);
      if (end == s + 1 || errno) goto bad_date;
      if (*end == '.' || *end == ',') {
        long scale = 100000000;
        for (++end; isdigit((unsigned char)*end); ++end, scale /= 10) nsec += (*end - '0') * scale;
        if (secs < 0 || s[1] == '-') {  // @-1.5 is 1.5 s before the epoch
          if (nsec) {
            --secs;
            nsec = 1000000000 - nsec;
          }
        }
      }
      while (isspace((unsigned char)*end)) ++end;
      if (*end) goto bad_date;
    } else {
      size_t n = strlen(s);
      while (n > 0 && isspace((unsigned char)s[n - 1])) --n;
      if (!(n == 0 || (n == 3 && strncasecmp(s, "now", 3) == 0))) {
        cu_errx("only -d @SECONDS[.FRACTION] and 'now' are supported by this date (wasmcap "
                "coreutils), not '%s'", date);
        return 1;
      }
      date = NULL;
    }
  }
  if (!date) {
    if (ref) {
      struct stat st;
      if (stat(ref, &st) != 0) {
        cu_err(NULL, ref, errno);
        return 1;
      }
      secs = st.st_mtim.tv_sec;
      nsec = st.st_mtim.tv_nsec;
    } else {
      struct timespec ts;
      if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        cu_errx("cannot read the clock: %s (the bundle's wall clock grant is needed)", cu_strerror(errno));
        return 1;
      }
      secs = ts.tv_sec;
      nsec = ts.tv_nsec;
    }
  }
  time_t t = (time_t)secs;
  struct tm tm;
  if ((long long)t != secs || gmtime_r(&t, &tm) == NULL) {
    cu_errx("time %lld is out of range", secs);
    return 1;
  }
  struct out o = {0};
  format(&o, fmt ? fmt : "%a %b %e %H:%M:%S %Z %Y", &tm, secs, nsec);
  if (o.s) fputs(o.s, stdout);
  putchar('\n');
  free(o.s);
  return 0;
bad_date:
  cu_errx("invalid date '%s'", date);
  return 1;
}
