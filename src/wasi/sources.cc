// Clock and random sources: the spellings operators write (CLI --clock/--random, host config
// grants.clocks/grants.random, the C API) and their canonical form. Format: docs/wasi-support.md
// ("Clocks and random").
#include <cstdio>
#include <string>

#include "wasmcap/wasi.h"

namespace wasmcap {

namespace {

constexpr uint64_t kNsPerSec = 1000000000ull;
constexpr int kMinYear = 1970;
constexpr int kMaxYear = 2200;  // far below where ns since 1970 would overflow 64 bits (2554)

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d (y >= 1970). A plain loop: at most 230 years.
uint64_t days_since_epoch(int y, int m, int d) {
  uint64_t days = 0;
  for (int yy = kMinYear; yy < y; ++yy) days += is_leap(yy) ? 366 : 365;
  for (int mm = 1; mm < m; ++mm) days += static_cast<uint64_t>(days_in_month(y, mm));
  return days + static_cast<uint64_t>(d - 1);
}

// Reads exactly `n` decimal digits at s[*pos].
bool digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

Result<uint64_t> parse_instant(std::string_view s) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument,
                      "clock instant '" + std::string(s.substr(0, 64)) + "': " + why +
                          " (write UTC as YYYY-MM-DDTHH:MM:SS[.fraction]Z, e.g. "
                          "2026-01-01T00:00:00Z)");
  };
  size_t p = 0;
  int y, mo, d, h, mi, se;
  if (!digits(s, &p, 4, &y) || !expect(s, &p, '-') || !digits(s, &p, 2, &mo) ||
      !expect(s, &p, '-') || !digits(s, &p, 2, &d) || !expect(s, &p, 'T') ||
      !digits(s, &p, 2, &h) || !expect(s, &p, ':') || !digits(s, &p, 2, &mi) ||
      !expect(s, &p, ':') || !digits(s, &p, 2, &se)) {
    return bad("malformed");
  }
  uint64_t frac = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    size_t n = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (++n > 9) return bad("more than 9 fractional digits");
      frac = frac * 10 + static_cast<uint64_t>(s[p] - '0');
      ++p;
    }
    if (n == 0) return bad("a '.' needs digits after it");
    for (; n < 9; ++n) frac *= 10;
  }
  if (!expect(s, &p, 'Z') || p != s.size()) return bad("must end in 'Z' (UTC only)");
  if (y < kMinYear || y > kMaxYear) return bad("year must be 1970-2200");
  if (mo < 1 || mo > 12) return bad("month out of range");
  if (d < 1 || d > days_in_month(y, mo)) return bad("day out of range");
  if (h > 23 || mi > 59 || se > 59) return bad("time of day out of range");
  uint64_t secs = days_since_epoch(y, mo, d) * 86400 + static_cast<uint64_t>(h) * 3600 +
                  static_cast<uint64_t>(mi) * 60 + static_cast<uint64_t>(se);
  return secs * kNsPerSec + frac;
}

Result<uint64_t> parse_step(std::string_view s) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument,
                      "clock step '" + std::string(s.substr(0, 64)) + "': " + why +
                          " (write N followed by ns, us, ms or s, e.g. step=1ms; at most 1 h)");
  };
  size_t p = 0;
  uint64_t n = 0;
  while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
    if (n > kMaxClockStepNs) return bad("too large");
    n = n * 10 + static_cast<uint64_t>(s[p] - '0');
    ++p;
  }
  if (p == 0) return bad("a number is required");
  std::string_view unit = s.substr(p);
  uint64_t mul = 0;
  if (unit == "ns") mul = 1;
  else if (unit == "us") mul = 1000;
  else if (unit == "ms") mul = 1000000;
  else if (unit == "s") mul = kNsPerSec;
  else if (unit.empty() && n == 0) mul = 1;
  else return bad("unknown unit");
  if (n > kMaxClockStepNs / mul) return bad("too large");
  return n * mul;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

Result<ClockSource> parse_clock_source(std::string_view spec) {
  ClockSource c;
  if (spec == "host") return c;
  if (spec == "deny") {
    c.kind = ClockSource::Kind::kDeny;
    return c;
  }
  if (!starts_with(spec, "fixed=")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "clock '" + std::string(spec.substr(0, 64)) +
                          "': must be host, deny or fixed=YYYY-MM-DDTHH:MM:SSZ[,step=DURATION]");
  }
  std::string_view rest = spec.substr(6);
  size_t comma = rest.find(',');
  c.kind = ClockSource::Kind::kFixed;
  WASMCAP_TRY_ASSIGN(c.epoch_ns, parse_instant(rest.substr(0, comma)));
  if (comma != std::string_view::npos) {
    std::string_view opt = rest.substr(comma + 1);
    if (!starts_with(opt, "step=")) {
      return make_error(ErrorCode::kInvalidArgument,
                        "clock '" + std::string(spec.substr(0, 64)) +
                            "': after the instant only ',step=DURATION' may follow");
    }
    WASMCAP_TRY_ASSIGN(c.step_ns, parse_step(opt.substr(5)));
  }
  return c;
}

Result<RandomSource> parse_random_source(std::string_view spec) {
  RandomSource r;
  if (spec == "host") return r;
  if (spec == "deny") {
    r.kind = RandomSource::Kind::kDeny;
    return r;
  }
  auto bad = [&]() {
    return make_error(ErrorCode::kInvalidArgument,
                      "random '" + std::string(spec.substr(0, 64)) +
                          "': must be host, deny or seed=N (N a decimal integer, 0 to "
                          "18446744073709551615)");
  };
  if (!starts_with(spec, "seed=")) return bad();
  std::string_view n = spec.substr(5);
  // One spelling per seed: no sign, no leading zeros (the seed's text is hashed into the key).
  if (n.empty() || n.size() > 20 || (n.size() > 1 && n[0] == '0')) return bad();
  uint64_t v = 0;
  for (char ch : n) {
    if (ch < '0' || ch > '9') return bad();
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (v > (UINT64_MAX - d) / 10) return bad();
    v = v * 10 + d;
  }
  r.kind = RandomSource::Kind::kSeed;
  r.seed = v;
  return r;
}

std::string clock_source_string(const ClockSource& c) {
  if (c.kind == ClockSource::Kind::kHost) return "host";
  if (c.kind == ClockSource::Kind::kDeny) return "deny";
  uint64_t secs = c.epoch_ns / kNsPerSec;
  uint64_t frac = c.epoch_ns % kNsPerSec;
  uint64_t days = secs / 86400, rem = secs % 86400;
  int y = kMinYear;
  while (days >= static_cast<uint64_t>(is_leap(y) ? 366 : 365)) {
    days -= is_leap(y) ? 366 : 365;
    ++y;
  }
  int m = 1;
  while (days >= static_cast<uint64_t>(days_in_month(y, m))) {
    days -= static_cast<uint64_t>(days_in_month(y, m));
    ++m;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02u:%02u:%02u", y, m, static_cast<int>(days) + 1,
                static_cast<unsigned>(rem / 3600), static_cast<unsigned>(rem % 3600 / 60),
                static_cast<unsigned>(rem % 60));
  std::string out = "fixed=" + std::string(buf);
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%09llu", static_cast<unsigned long long>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += "Z,step=";
  uint64_t s = c.step_ns;
  if (s != 0 && s % kNsPerSec == 0) out += std::to_string(s / kNsPerSec) + "s";
  else if (s != 0 && s % 1000000 == 0) out += std::to_string(s / 1000000) + "ms";
  else if (s != 0 && s % 1000 == 0) out += std::to_string(s / 1000) + "us";
  else out += std::to_string(s) + "ns";
  return out;
}

std::string random_source_string(const RandomSource& r) {
  if (r.kind == RandomSource::Kind::kHost) return "host";
  if (r.kind == RandomSource::Kind::kDeny) return "deny";
  return "seed=" + std::to_string(r.seed);
}

}  // namespace wasmcap
