// wasi:cli/environment, wasi:cli/exit, wasi:clocks and wasi:random over wasi::Core (host.h).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wasip2/call.h"
#include "wasip2/host.h"

namespace wasmcap::wasip2 {
namespace {


HostCallResult random_bytes(wasi::Core& core, const HostCallInfo& info, uint64_t len, Val& out) {
  CallScope scope(core, info);
  wasi::Errc e = core.check_random();
  if (e != wasi::Errc::kOk) return refused(info, e, kRandomGrant);
  const uint64_t max = std::min<uint64_t>(core.config().max_io_bytes, kMaxValBytes / sizeof(Val));
  if (len > max) {
    return HostCallResult::trap(where(info) + ": " + std::to_string(len) + " bytes asked, more than the " +
                                std::to_string(max) + " a call may return (max_io_bytes, or " +
                                std::to_string(kMaxValBytes >> 20) + " MiB of host values)");
  }
  std::vector<uint8_t> buf(static_cast<size_t>(len));
  e = core.random_fill(buf.data(), buf.size());
  if (e != wasi::Errc::kOk) return ended_or_refused(core, info, e, kRandomGrant);
  std::vector<Val> items;
  items.reserve(buf.size());
  for (uint8_t b : buf) items.push_back(Val::u8(b));
  out = Val::list(std::move(items));
  return HostCallResult::ok();
}

HostCallResult random_u64(wasi::Core& core, const HostCallInfo& info, Val& out) {
  CallScope scope(core, info);
  uint8_t b[8];
  wasi::Errc e = core.random_fill(b, sizeof b);
  if (e != wasi::Errc::kOk) return ended_or_refused(core, info, e, kRandomGrant);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | b[i];
  out = Val::u64(v);
  return HostCallResult::ok();
}

HostCallResult clock_read(wasi::Core& core, const HostCallInfo& info, wasi::Clock c, bool resolution, uint64_t* ns) {
  CallScope scope(core, info);
  wasi::Outcome<uint64_t> r = resolution ? core.clock_resolution(c) : core.clock_now(c, /*advance=*/true);
  if (!r) return ended_or_refused(core, info, r.error(), kClockGrant);
  *ns = *r;
  return HostCallResult::ok();
}

Val datetime(uint64_t ns) {
  return Val::record({Val::u64(ns / 1000000000u), Val::u32(static_cast<uint32_t>(ns % 1000000000u))});
}

}  // namespace

void add_cli_clocks_random(component::HostRegistry& host, wasi::Core& core) {
  wasi::Core* c = &core;

  // ---- wasi:cli/environment ----
  const std::string env = iface("wasi:cli/environment");
  host.add_function(env, "get-arguments", [c](const HostCallInfo&, Args&, Args& out) {
    std::vector<Val> items;
    for (const std::string& a : c->args()) items.push_back(Val::string(a));
    out.push_back(Val::list(std::move(items)));
    return HostCallResult::ok();
  });
  host.add_function(env, "get-environment", [c](const HostCallInfo&, Args&, Args& out) {
    std::vector<Val> items;
    for (const auto& [k, v] : c->config().env) items.push_back(Val::tuple({Val::string(k), Val::string(v)}));
    out.push_back(Val::list(std::move(items)));
    return HostCallResult::ok();
  });
  // The guest sees only its preopens, never the host's working directory.
  host.add_function(env, "initial-cwd", [](const HostCallInfo&, Args&, Args& out) {
    out.push_back(Val::none());
    return HostCallResult::ok();
  });

  // ---- wasi:cli/exit ----
  const std::string exit = iface("wasi:cli/exit");
  host.add_function(exit, "exit", [](const HostCallInfo&, Args& a, Args&) {
    return HostCallResult::exit(a.at(0).bits == 0 ? 0 : 1);
  });
  host.add_function(exit, "exit-with-code", [](const HostCallInfo&, Args& a, Args&) {
    return HostCallResult::exit(static_cast<int32_t>(a.at(0).bits & 0xff));
  });

  // ---- wasi:clocks ----
  const std::string mono = iface("wasi:clocks/monotonic-clock");
  for (bool res : {false, true}) {
    host.add_function(mono, res ? "resolution" : "now", [c, res](const HostCallInfo& info, Args&, Args& out) {
      uint64_t ns = 0;
      HostCallResult r = clock_read(*c, info, wasi::Clock::kMonotonic, res, &ns);
      if (r.status == HostStatus::kOk) out.push_back(Val::u64(ns));
      return r;
    });
  }
  const std::string wall = iface("wasi:clocks/wall-clock");
  for (bool res : {false, true}) {
    host.add_function(wall, res ? "resolution" : "now", [c, res](const HostCallInfo& info, Args&, Args& out) {
      uint64_t ns = 0;
      HostCallResult r = clock_read(*c, info, wasi::Clock::kRealtime, res, &ns);
      if (r.status == HostStatus::kOk) out.push_back(datetime(ns));
      return r;
    });
  }

  // ---- wasi:random ----
  // insecure draws from the granted source too: under --random seed=N it is as reproducible as
  // random, and no second, ungranted source of entropy exists.
  const std::string rnd = iface("wasi:random/random");
  const std::string insecure = iface("wasi:random/insecure");
  for (const auto& [i, bytes_fn, u64_fn] :
       {std::tuple{rnd, "get-random-bytes", "get-random-u64"},
        std::tuple{insecure, "get-insecure-random-bytes", "get-insecure-random-u64"}}) {
    host.add_function(i, bytes_fn, [c](const HostCallInfo& info, Args& a, Args& out) {
      Val v;
      HostCallResult r = random_bytes(*c, info, a.at(0).bits, v);
      if (r.status == HostStatus::kOk) out.push_back(std::move(v));
      return r;
    });
    host.add_function(i, u64_fn, [c](const HostCallInfo& info, Args&, Args& out) {
      Val v;
      HostCallResult r = random_u64(*c, info, v);
      if (r.status == HostStatus::kOk) out.push_back(std::move(v));
      return r;
    });
  }
  // The seed is drawn once and then returned unchanged, as the interface asks.
  auto seed = std::make_shared<std::optional<Val>>();
  host.add_function(iface("wasi:random/insecure-seed"), "insecure-seed",
                    [c, seed](const HostCallInfo& info, Args&, Args& out) {
                      if (!*seed) {
                        Val lo, hi;
                        HostCallResult r = random_u64(*c, info, lo);
                        if (r.status == HostStatus::kOk) r = random_u64(*c, info, hi);
                        if (r.status != HostStatus::kOk) return r;
                        *seed = Val::tuple({std::move(lo), std::move(hi)});
                      }
                      out.push_back(**seed);
                      return HostCallResult::ok();
                    });
}

}  // namespace wasmcap::wasip2
