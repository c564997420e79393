// String search: one unit generates ~16 KiB of text (lines of words from a fixed vocabulary),
// counts occurrences of several literal patterns with Boyer-Moore-Horspool (checked against a
// naive scan on the first unit), and counts the lines matching a few regular expressions with
// a small backtracking matcher (literals, '.', '*', '+', '?', '^', '$').
#include "bench_common.h"

#define TEXT_SIZE (16 * 1024)

static char text[TEXT_SIZE + 64];
static size_t text_len;

static const char* words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
                              "theta", "iota", "kappa", "lambda", "mu", "wasm", "capability",
                              "sandbox", "plugin", "host", "guest", "memory", "trap"};
#define NWORDS (sizeof words / sizeof words[0])

static void gen_text(uint64_t* rng) {
  text_len = 0;
  size_t line = 0;
  while (text_len < TEXT_SIZE) {
    const char* w = words[bench_rand(rng) % NWORDS];
    size_t n = strlen(w);
    memcpy(text + text_len, w, n);
    text_len += n;
    line += n + 1;
    if (line > 40 + bench_rand(rng) % 40) {
      text[text_len++] = '\n';
      line = 0;
    } else {
      text[text_len++] = ' ';
    }
  }
  text[text_len] = '\0';
}

static size_t count_horspool(const char* hay, size_t n, const char* pat, size_t m) {
  size_t shift[256];
  for (int i = 0; i < 256; i++) shift[i] = m;
  for (size_t i = 0; i + 1 < m; i++) shift[(unsigned char)pat[i]] = m - 1 - i;
  size_t count = 0;
  for (size_t i = 0; i + m <= n;) {
    unsigned char last = (unsigned char)hay[i + m - 1];
    if (last == (unsigned char)pat[m - 1] && memcmp(hay + i, pat, m - 1) == 0) count++;
    i += shift[last];
  }
  return count;
}

static size_t count_naive(const char* hay, size_t n, const char* pat, size_t m) {
  size_t count = 0;
  for (size_t i = 0; i + m <= n; i++) {
    size_t j = 0;
    while (j < m && hay[i + j] == pat[j]) j++;
    if (j == m) count++;
  }
  return count;
}

// --- regex (after Kernighan & Pike), on [text, end) ----------------------------------------
static int match_here(const char* re, const char* t, const char* end);

static int char_ok(char rc, const char* t, const char* end) {
  return t < end && (rc == '.' || rc == *t);
}

static int match_repeat(char c, int min, const char* re, const char* t, const char* end) {
  const char* start = t;
  while (char_ok(c, t, end)) t++;  // greedy, then back off
  for (;;) {
    if (t - start >= min && match_here(re, t, end)) return 1;
    if (t == start) return 0;
    t--;
  }
}

static int match_here(const char* re, const char* t, const char* end) {
  if (re[0] == '\0') return 1;
  if (re[1] == '*') return match_repeat(re[0], 0, re + 2, t, end);
  if (re[1] == '+') return match_repeat(re[0], 1, re + 2, t, end);
  if (re[1] == '?') {
    if (char_ok(re[0], t, end) && match_here(re + 2, t + 1, end)) return 1;
    return match_here(re + 2, t, end);
  }
  if (re[0] == '$' && re[1] == '\0') return t == end;
  if (char_ok(re[0], t, end)) return match_here(re + 1, t + 1, end);
  return 0;
}

static int match(const char* re, const char* t, const char* end) {
  if (re[0] == '^') return match_here(re + 1, t, end);
  do {
    if (match_here(re, t, end)) return 1;
  } while (t++ < end);
  return 0;
}

int main(int argc, char** argv) {
  int64_t scale = bench_scale(argc, argv);
  static const char* patterns[] = {"wasm", "capability sandbox", "eta", "host guest"};
  static const char* regexes[] = {"^alpha.*beta", "ka+p+a.*mu$", "gu?est.*mem.ry",
                                  "l.mbda +wasm"};
  uint64_t rng = 99, sum = 0;
  for (int64_t unit = 0; unit < scale; unit++) {
    gen_text(&rng);
    for (size_t p = 0; p < 4; p++) {
      size_t m = strlen(patterns[p]);
      size_t c = count_horspool(text, text_len, patterns[p], m);
      if (unit == 0 && c != count_naive(text, text_len, patterns[p], m))
        bench_fail("strsearch", "Horspool and naive counts differ");
      sum = bench_mix(sum, c);
    }
    for (size_t r = 0; r < 4; r++) {
      size_t lines = 0, matched = 0;
      const char* t = text;
      const char* stop = text + text_len;
      while (t < stop) {
        const char* nl = memchr(t, '\n', (size_t)(stop - t));
        const char* eol = nl ? nl : stop;
        lines++;
        if (match(regexes[r], t, eol)) matched++;
        t = eol + 1;
      }
      sum = bench_mix(sum, matched);
      sum = bench_mix(sum, lines);
    }
  }
  return bench_report("strsearch", scale, sum);
}
