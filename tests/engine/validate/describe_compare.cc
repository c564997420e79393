// See describe_compare.h.
#include "validate/describe_compare.h"

#include <memory>

#include "engine/describe.h"
#include "validate/compare.h"
#include "wabt_engine.h"
#include "wasmcap/engine.h"

namespace wasmcap::fast_test {
namespace {

std::string sig_text(const FuncSig& s) { return s.to_string(); }

std::string mem_text(const MemoryLimits& m) {
  return std::to_string(m.min_pages) + "/" + std::to_string(m.max_pages) + "/" +
         std::to_string(m.has_max) + std::to_string(m.is64) + std::to_string(m.shared);
}

// Every field of the description, so any difference shows.
std::string text(const Result<ModuleInfo>& r) {
  if (!r) return "error " + std::to_string(static_cast<int>(r.error().code)) + ": " + r.error().message;
  const ModuleInfo& i = *r;
  std::string out = "ok: size " + std::to_string(i.size_bytes) + " funcs " +
                    std::to_string(i.defined_funcs) + " imports";
  for (const ImportDesc& d : i.imports) {
    out += " [" + d.module + "." + d.name + " " + std::to_string(static_cast<int>(d.kind)) + " " +
           sig_text(d.sig) + " " + mem_text(d.memory) + "]";
  }
  out += " exports";
  for (const ExportDesc& d : i.exports) {
    out += " [" + d.name + " " + std::to_string(static_cast<int>(d.kind)) + " " + sig_text(d.sig) +
           " " + mem_text(d.memory) + "]";
  }
  out += " memories";
  for (const MemoryLimits& m : i.memories) out += " " + mem_text(m);
  return out;
}

}  // namespace

DescribeVerdicts compare_descriptions(const uint8_t* bytes, size_t size) {
  DescribeVerdicts v;
  {
    auto wabt = testing::make_wabt_reference_engine();
    auto m = wabt->load(bytes, size);
    v.reference_ok = m.has_value();
    v.reference = m ? text((*m)->info()) : text(tl::unexpected(m.error()));
  }
  v.own = text(describe_module(bytes, size));
  {
    auto fast = make_fast_engine();
    std::shared_ptr<const Module> loaded;
    v.via_fast = text(describe_via_fast(*fast, ModuleBytes(bytes, size), &loaded));
  }
  // The fast validator's one documented departure from wabt's interp reader (compare.h): a body
  // that goes on after the end of the function, refused by describe_module and the fast engine,
  // loaded or refused for another error by the wabt oracle. The same verdict when
  // compare_validators counts it as agreement.
  if (!v.same() && v.own == v.via_fast && !v.own.empty() &&
      compare_validators(bytes, size, 1).departure) {
    v.reference = v.own;
    v.reference_ok = false;
  }
  return v;
}

}  // namespace wasmcap::fast_test
