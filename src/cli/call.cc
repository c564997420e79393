// `wasmcap call COMPONENT FUNC --json ARGS`: one exported function of a component called with
// its arguments as JSON, the result printed as JSON (docs/components.md, "Calling an export");
// or `wasmcap call COMPONENT 'FUNC(ARG, ...)'`, arguments and result in WAVE.
// A thin front end of `wasmcap run`: the same flags, grant sources and run pipeline
// (RunOptions::component_call), so grants, limits and records are exactly a run's.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "wasmcap/runtime.h"

namespace wasmcap::cli {

namespace {

// The arguments' text is bounded as the conversion bounds its string bytes (docs/components.md,
// "Values as JSON": 64 MiB): a larger file, or an endless stdin, is refused after reading that
// much plus one byte, not read to its end.
constexpr size_t kMaxArgsBytes = size_t{64} << 20;

Result<std::string> read_args_file(const std::string& path) {
  FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) return make_error(ErrorCode::kIo, "--json-file " + path + ": cannot open it");
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxArgsBytes) break;
  }
  const bool failed = std::ferror(f) != 0;
  if (f != stdin) std::fclose(f);
  if (failed) return make_error(ErrorCode::kIo, "--json-file " + path + ": read error");
  if (text.size() > kMaxArgsBytes) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "--json-file " + path + ": more than " + std::to_string(kMaxArgsBytes >> 20) + " MiB of arguments");
  }
  return text;
}

// `--list` / `--list-json`: the exported functions, their parameters and JSON Schemas.
int list_functions(const std::string& path, bool json) {
  auto file = read_module_file(path);
  if (!file) return report_error(file.error());
  auto fns = component_functions(file->bytes.data(), file->bytes.size());
  if (!fns) return report_error(fns.error());
  if (json) {
    // The schemas are JSON text the library wrote: spliced in as they are, never parsed again
    // (only src/common/json.cc parses, and a deep WIT type's schema may nest beyond its bound).
    std::string out = "{\"functions\":[";
    for (const ComponentFunction& f : *fns) {
      std::string head = nlohmann::json{{"name", f.name}, {"params", f.params}, {"signature", f.signature}}
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      head.pop_back();  // the closing brace
      if (out.back() != '[') out += ",";
      out += head + ",\"input_schema\":" + f.params_schema + ",\"output_schema\":" + f.result_schema + "}";
    }
    out += "]}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (fns->empty()) std::printf("(the component exports no functions)\n");
  for (const ComponentFunction& f : *fns) {
    std::printf("%s%s\n  arguments: %s\n  result: %s\n", printable(f.name).c_str(),
                printable(f.signature).c_str(), f.params_schema.c_str(), f.result_schema.c_str());
  }
  return 0;
}

}  // namespace

Dispatch add_call_command(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("call", "Call a function a component exports, its arguments and result as JSON");
  struct State {
    std::string component, function, json, json_file;
    bool list = false, list_json = false;
  };
  auto s = std::make_shared<State>();
  auto run = add_call_run_flags(cmd);
  cmd->add_option("--json", s->json,
                  "The arguments: one JSON object of the function's parameters by name "
                  "(docs/components.md, \"Values as JSON\"). Default {}");
  cmd->add_option("--json-file", s->json_file,
                  "The arguments' JSON object from a file (- for stdin; at most 64 MiB)");
  cmd->add_flag("--list", s->list, "List the exported functions, their parameters and JSON Schemas");
  cmd->add_flag("--list-json", s->list_json, "--list as one JSON object");
  cmd->add_option("component", s->component, "The component (.wasm), or an installed bundle NAME[@VERSION]")
      ->required();
  cmd->add_option("function", s->function,
                  "The export to call: NAME, or INTERFACE#NAME for a function of an exported "
                  "interface (--list names them); or the call written in WAVE, 'NAME(ARG, ...)', "
                  "whose result is then printed in WAVE");
  return [cmd, s, run]() -> std::optional<int> {
    if (!*cmd) return std::nullopt;
    if (s->list || s->list_json) {
      if (!s->function.empty() || !s->json.empty() || !s->json_file.empty()) {
        return report_error(Error(ErrorCode::kInvalidArgument, "--list takes the component alone"));
      }
      return list_functions(s->component, s->list_json);
    }
    if (s->function.empty()) {
      return report_error(
          Error(ErrorCode::kInvalidArgument, "call: name the function to call (wasmcap call " +
                                                 printable(s->component) + " --list lists them)"));
    }
    if (cmd->count("--json") != 0 && !s->json_file.empty()) {
      return report_error(
          Error(ErrorCode::kInvalidArgument, "give the arguments once: --json or --json-file"));
    }
    ComponentCall call;
    call.function = s->function;
    if (s->function.find('(') != std::string::npos) {
      // WAVE: 'add(1, 2)' (docs/components.md, "WAVE"); the result is printed as WAVE too.
      if (cmd->count("--json") != 0 || !s->json_file.empty()) {
        return report_error(Error(ErrorCode::kInvalidArgument,
                                  "give the arguments once: in the call ('add(1, 2)') or --json"));
      }
      auto c = wave_call(s->function);
      if (!c) return report_error(c.error());
      call = std::move(*c);
    }
    if (cmd->count("--json") != 0) call.args_json = s->json;
    if (!s->json_file.empty()) {
      auto text = read_args_file(s->json_file);
      if (!text) return report_error(text.error());
      call.args_json = std::move(*text);
    }
    set_component_call(*run, s->component, std::move(call));
    return execute_run(*run);
  };
}

}  // namespace wasmcap::cli
