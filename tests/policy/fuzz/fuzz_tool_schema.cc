// libFuzzer target: the tool-schema subset (src/policy/json_schema.*) on arbitrary bytes. The
// input is "SCHEMA\nVALUE": a schema that check_schema accepts is then used to validate VALUE,
// and both must finish without a crash or sanitizer report. A schema refused by check_schema
// is never used (the manifest would be refused). Also exercises the manifest's tools section
// through a fixed manifest wrapper, so argv templates and schema references are fuzzed too.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/json_doc.h"
#include "policy/json_schema.h"
#include "wasmcap/policy.h"

using namespace wasmcap;
using namespace wasmcap::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t nl = text.find('\n');
  std::string_view schema_text = text.substr(0, nl);
  std::string_view value_text = nl == std::string_view::npos ? "{}" : text.substr(nl + 1);
  Doc d("fuzz.json", ErrorCode::kManifestInvalid);
  auto schema = d.parse(schema_text);
  if (schema && check_schema(d, *schema, "$")) {
    auto value = d.parse(value_text);
    if (value) {
      auto problem = validate_against_schema(*schema, *value);
      if (problem && problem->rfind("$", 0) != 0) std::abort();  // messages start at the root
    }
  }
  // The same bytes as a tool's input schema inside a manifest.
  std::string m = R"({"name":"f","version":"1.0.0","module":"f.wasm","permissions":{"args":true},)"
                  R"("tools":[{"name":"t","input_schema":)";
  m.append(schema_text);
  m += R"(,"invoke":{"argv":["--",{"args":"paths"}]}}]})";
  auto parsed = parse_manifest(m, "fuzz.json");
  if (!parsed && parsed.error().code != ErrorCode::kManifestInvalid) std::abort();
  return 0;
}
