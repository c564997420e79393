// The component decoder on real components: clang-built WASI Preview 1 guests wrapped by
// `jco new --wasi-command` (jco_components.sh builds them from npm's jco, cached by content, and
// runs this with WASMCAP_TEST_COMPONENT_DIR). Checks the structure a WASI 0.2 command has: its
// wasi:cli/... imports at one 0.2.x version, its wasi:cli/run@0.2.x export with a `run` function,
// the guest's own module found byte for byte among the core modules, and every core module
// loadable by the engines' validating reader.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "component/component.h"
#include "component/instance.h"
#include "engine/describe.h"

namespace wasmcap::component {
namespace {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string dir() {
  const char* d = std::getenv("WASMCAP_TEST_COMPONENT_DIR");
  return d != nullptr ? d : "";
}

void collect(const Component& c, std::vector<const CoreModule*>* out) {
  for (const CoreModule& m : c.modules) out->push_back(&m);
  for (const Component& k : c.components) collect(k, out);
}

class JcoComponent : public ::testing::TestWithParam<const char*> {};

TEST_P(JcoComponent, DecodesAsAWasiCommand) {
  ASSERT_FALSE(dir().empty()) << "run by jco_components.sh, which builds the components";
  std::string name = GetParam();
  std::vector<uint8_t> bytes = read_file(dir() + "/" + name + ".component.wasm");
  std::vector<uint8_t> guest = read_file(dir() + "/" + name + ".wasm");
  ASSERT_GT(bytes.size(), 8u);
  ASSERT_GT(guest.size(), 8u);
  ASSERT_TRUE(is_component(bytes.data(), bytes.size()));
  auto d = decode(bytes.data(), bytes.size());
  ASSERT_TRUE(d.has_value()) << d.error().message;

  // Imports: WASI 0.2 instances, wasi:cli among them, all of one 0.2.x version.
  const Component& root = d->root;
  ASSERT_FALSE(root.imports.empty());
  std::string version;
  bool environment = false, exit = false, stdout_ = false;
  for (const Import& im : root.imports) {
    EXPECT_EQ(im.desc.sort, Sort::kInstance) << im.name;
    EXPECT_EQ(im.name.rfind("wasi:", 0), 0u) << im.name;
    size_t at = im.name.find("@0.2.");
    ASSERT_NE(at, std::string::npos) << im.name;
    if (version.empty()) version = im.name.substr(at);
    EXPECT_EQ(im.name.substr(at), version) << im.name;
    environment |= im.name.rfind("wasi:cli/environment@", 0) == 0;
    exit |= im.name.rfind("wasi:cli/exit@", 0) == 0;
    stdout_ |= im.name.rfind("wasi:cli/stdout@", 0) == 0;
    // Each imported instance type names what it exports.
    ASSERT_LT(im.desc.type, d->types.size());
    EXPECT_EQ(d->types[im.desc.type].kind, TypeKind::kInstance);
    EXPECT_FALSE(d->types[im.desc.type].exports.empty()) << im.name;
  }
  EXPECT_TRUE(environment && exit && stdout_);
  EXPECT_NE(describe_imports(*d).find("\"wasi:cli/stdout" + version + "\" (instance)"), std::string::npos)
      << describe_imports(*d);

  // The export: wasi:cli/run@0.2.x, an instance with a `run` function returning a result.
  ASSERT_EQ(root.exports.size(), 1u);
  EXPECT_EQ(root.exports[0].name, "wasi:cli/run" + version);
  EXPECT_EQ(root.exports[0].sort, Sort::kInstance);
  const TypeDef& run = d->types[root.exports[0].desc.type];
  ASSERT_EQ(run.exports.size(), 1u);
  EXPECT_EQ(run.exports[0].name, "run");
  ASSERT_EQ(run.exports[0].desc.sort, Sort::kFunc);
  const TypeDef& run_fn = d->types[run.exports[0].desc.type];
  EXPECT_EQ(run_fn.kind, TypeKind::kFunc);
  EXPECT_TRUE(run_fn.fields.empty());
  ASSERT_TRUE(run_fn.has_a);
  EXPECT_EQ(d->types[run_fn.a.type].kind, TypeKind::kResult);
  // The lift of run and the lowerings of the imports the adapter calls.
  bool lift = false, lower = false;
  for (const Canon& c : root.canons) {
    lift |= c.kind == CanonKind::kLift;
    lower |= c.kind == CanonKind::kLower;
  }
  EXPECT_TRUE(lift && lower);

  // Core modules: the guest itself, byte for byte, and the adapter's; each one loads.
  std::vector<const CoreModule*> modules;
  collect(root, &modules);
  ASSERT_GE(modules.size(), 2u);
  bool guest_found = false;
  for (const CoreModule* m : modules) {
    ASSERT_LE(m->bytes.offset + m->bytes.size, bytes.size());
    const uint8_t* p = bytes.data() + m->bytes.offset;
    if (m->bytes.size == guest.size() && std::equal(guest.begin(), guest.end(), p)) guest_found = true;
    auto info = describe_module(p, m->bytes.size, nullptr);
    EXPECT_TRUE(info.has_value()) << "core module at byte " << m->bytes.offset << ": "
                                  << info.error().message;
    // The decoder's scan of its imports and exports agrees with the engine's.
    if (info) {
      EXPECT_EQ(d->types[m->type].core_imports.size(), info->imports.size());
      EXPECT_EQ(d->types[m->type].core_exports.size(), info->exports.size());
    }
  }
  EXPECT_TRUE(guest_found) << "the guest module is not among the component's core modules";

  // Prefixes of the real binary are refused (component_test.cc truncates a small one at every byte).
  for (size_t n : {size_t{9}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1}) {
    auto t = decode(bytes.data(), n);
    ASSERT_FALSE(t.has_value()) << n;
    EXPECT_EQ(t.error().code, ErrorCode::kModuleMalformed) << t.error().message;
  }
}

// Instantiating one (src/component/instance.h) with no host: link_error naming a WASI 0.2
// interface and function. With every import stubbed, it instantiates on interp: the preview1
// adapter's memory import (the main module's) links, and so does the shim's table, which the
// main and fixup modules import and fill (docs/fast-interp.md, "Shared tables").
TEST_P(JcoComponent, InstantiationNamesWhatIsMissing) {
  ASSERT_FALSE(dir().empty());
  std::vector<uint8_t> bytes = read_file(dir() + "/" + std::string(GetParam()) + ".component.wasm");
  auto engine = make_fast_engine();
  HostRegistry empty;
  auto r = ComponentInstance::instantiate(*engine, bytes.data(), bytes.size(), empty, ExecLimits{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kLinkError) << r.error().message;
  EXPECT_NE(r.error().message.find("\"wasi:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("the host provides no"), std::string::npos) << r.error().message;

  auto d = decode(bytes.data(), bytes.size());
  ASSERT_TRUE(d.has_value());
  HostRegistry stubs;
  for (const Import& im : d->root.imports) {
    for (const Decl& e : d->types[im.desc.type].exports) {
      if (e.desc.sort == Sort::kType && e.desc.sub_resource) stubs.add_resource(im.name, e.name);
      if (e.desc.sort == Sort::kFunc) {
        stubs.add_function(im.name, e.name, [](const HostCallInfo&, std::vector<Val>&, std::vector<Val>&) {
          return HostCallResult::trap("stub");
        });
      }
    }
  }
  r = ComponentInstance::instantiate(*engine, bytes.data(), bytes.size(), stubs, ExecLimits{});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(Guests, JcoComponent, ::testing::Values("hello", "args_env"));

}  // namespace
}  // namespace wasmcap::component
