// `wasmcap cache list|prune|clear`: a thin caller of cache_contents() / prune_cache()
// (include/wasmcap/engine.h; docs/aot.md, "Cache").
#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "wasmcap/engine.h"

namespace wasmcap::cli {

namespace {

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

std::string when(int64_t t) {
  char buf[32];
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int list(const AotOptions& aot, bool json) {
  auto c = cache_contents(aot);
  if (!c) return report_error(c.error());
  if (json) {
    nlohmann::json objects = nlohmann::json::array();
    for (const auto& o : c->objects) {
      objects.push_back({{"key", o.key}, {"bytes", o.bytes}, {"last_used", when(o.last_used)}});
    }
    nlohmann::json j = {{"dir", c->dir},
                        {"objects", objects},
                        {"object_bytes", c->object_bytes},
                        {"records", c->records},
                        {"record_bytes", c->record_bytes},
                        {"temporaries", c->temporaries},
                        {"temporary_bytes", c->temporary_bytes}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s\n", c->dir.c_str());
  for (const auto& o : c->objects) {
    std::printf("  %.16s  %10s  last used %s\n", o.key.c_str(), mib(o.bytes).c_str(),
                when(o.last_used).c_str());
  }
  std::printf("%zu compiled object(s), %s; %" PRIu64 " record(s), %s; %" PRIu64
              " compile temporar%s, %s\n",
              c->objects.size(), mib(c->object_bytes).c_str(), c->records,
              mib(c->record_bytes).c_str(), c->temporaries, c->temporaries == 1 ? "y" : "ies",
              mib(c->temporary_bytes).c_str());
  return 0;
}

int prune(const AotOptions& aot, const CachePruneRule& rule) {
  auto p = prune_cache(aot, rule);
  if (!p) return report_error(p.error());
  std::printf("removed %" PRIu64 " compiled object(s) (%s), %" PRIu64 " record(s), %" PRIu64
              " temporar%s of killed compiles\n",
              p->objects, mib(p->bytes).c_str(), p->records, p->temporaries,
              p->temporaries == 1 ? "y" : "ies");
  if (p->busy != 0) {
    std::printf("left %" PRIu64 " object(s) a compile is using; run it again once it is done\n",
                p->busy);
  }
  return 0;
}

}  // namespace

Dispatch add_cache_command(CLI::App& app) {
  struct Flags {
    AotOptions aot;
    bool json = false;
    uint64_t unused_days = 0, max_mb = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cache = app.add_subcommand(
      "cache", "The AOT cache: list it, prune it, clear it (docs/aot.md, \"Cache\")");
  cache->require_subcommand(1);
  cache->add_option("--cache-dir", f->aot.cache_dir, "AOT cache directory (see run --cache-dir)");
  CLI::App* ls = cache->add_subcommand("list", "The compiled objects (most recently used first) and totals");
  ls->add_flag("--json", f->json, "Print one JSON object");
  CLI::App* prune_cmd = cache->add_subcommand(
      "prune", "Remove objects not used for --unused-days (default 30), then the least recently "
               "used over --max-mb");
  prune_cmd->add_option("--unused-days", f->unused_days, "Age rule in days (default 30; 0 = none)")
      ->check(non_negative());
  prune_cmd->add_option("--max-mb", f->max_mb, "Keep at most this many MiB of objects (0 = no cap)")
      ->check(non_negative());
  CLI::App* clear = cache->add_subcommand(
      "clear", "Remove every compiled object and record (runs recompile or revalidate)");
  return [=]() -> std::optional<int> {
    if (!*cache) return std::nullopt;
    if (*ls) return list(f->aot, f->json);
    CachePruneRule rule;
    if (*clear) {
      rule.all = true;
    } else {
      rule.unused_for_s = (prune_cmd->count("--unused-days") ? f->unused_days : 30) * 86400;
      if (f->max_mb != 0) rule.max_bytes = f->max_mb << 20;
    }
    return prune(f->aot, rule);
  };
}

}  // namespace wasmcap::cli
