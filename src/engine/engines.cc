// The one table of product engines (wasmcap/engine.h, make_engine): adding an engine means a row
// here, not an edit of the runtime or the front ends.
#include <cstdlib>
#include <cstring>

#include "engine/aot/aot_link.h"
#include "engine/tiered/tiered_engine.h"
#include "wasmcap/engine.h"

namespace wasmcap {
namespace {

struct EngineRow {
  const char* name;
  std::unique_ptr<Engine> (*make)(EngineConfig config);
};

// `interp` is wasmcap's own interpreter (docs/fast-interp.md). wabt's interpreter is not a
// product engine: it is the tests' reference oracle (tests/support/wabt_engine).
constexpr EngineRow kEngines[] = {
    {"interp", [](EngineConfig c) { return make_fast_engine(fast_options(c.aot)); }},
    {"aot",
     [](EngineConfig c) {
       return make_aot_engine_linked(std::move(c.aot), c.link_check ? c.link_check() : nullptr);
     }},
    {"auto", [](EngineConfig c) { return make_tiered_engine(std::move(c)); }},
};

}  // namespace

const std::vector<std::string>& engine_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const EngineRow& row : kEngines) v.emplace_back(row.name);
    return v;
  }();
  return names;
}

FastOptions fast_options(const AotOptions& aot) {
  FastOptions o;
  const char* v = std::getenv("WASMCAP_VALIDATION_CACHE");
  o.validation_records = v == nullptr || std::strcmp(v, "0") != 0;
  o.cache_dir = aot.cache_dir;
  return o;
}

Result<std::unique_ptr<Engine>> make_engine(std::string_view name, EngineConfig config) {
  for (const EngineRow& row : kEngines) {
    if (name == row.name) return row.make(std::move(config));
  }
  std::string list;
  for (const std::string& n : engine_names()) list += (list.empty() ? "" : ", ") + n;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown engine '" + std::string(name) + "'; available engines: " + list);
}

}  // namespace wasmcap
