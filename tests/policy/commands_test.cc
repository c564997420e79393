// The manifest's "commands" (the names `wasmcap sh` runs a bundle as) and the host config's
// shell.bundle_order: what parses, and every rule that refuses hostile input, with its message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wasmcap/policy.h"

namespace wasmcap::policy {
namespace {

std::string with_commands(const std::string& commands) {
  return R"({"name":"x","version":"1.0.0","module":"x.wasm","commands":)" + commands + "}";
}

TEST(ManifestCommands, ParseSortedWithArgv0DefaultingToTheName) {
  auto m = parse_manifest(with_commands(R"({"python3":{},"python":{"argv0":"python3"},
      "argv.py":{},"g++":{},"_x-1.2":{}})"), "m.json");
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->commands.size(), 5u);
  EXPECT_EQ(m->commands[0].name, "_x-1.2");
  EXPECT_EQ(m->commands[1].name, "argv.py");
  EXPECT_EQ(m->commands[1].argv0, "argv.py");
  EXPECT_EQ(m->commands[2].name, "g++");
  EXPECT_EQ(m->commands[3].name, "python");
  EXPECT_EQ(m->commands[3].argv0, "python3");
  EXPECT_EQ(m->commands[4].name, "python3");
  for (const auto& c : m->commands) EXPECT_FALSE(c.fallback) << c.name;
  auto fb = parse_manifest(with_commands(R"({"grep":{"fallback":true},"ls":{"fallback":false}})"),
                           "m.json");
  ASSERT_TRUE(fb) << fb.error().message;
  EXPECT_TRUE(fb->commands[0].fallback);
  EXPECT_FALSE(fb->commands[1].fallback);
  auto none = parse_manifest(R"({"name":"x","version":"1.0.0","module":"x.wasm"})", "m.json");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->commands.empty());
}

// A command name is a short word: no path, no option, no hidden or relative name, nothing a
// message or `type` output would have to escape.
TEST(ManifestCommands, NamesOutsideTheCharsetAreRefused) {
  const std::string word_rule =
      "must be 1-64 characters of [A-Za-z0-9._+-], starting with a letter, digit or '_'";
  for (std::string bad : std::vector<std::string>{"", "a/b", "/bin/ls", "-x", ".hidden", "..", ".", "a b", "tab\there",
                          "new\nline", "quote'", "dollar$", "star*", "\xc3\xa9t\xc3\xa9",
                          std::string(65, 'a')}) {
    std::string json_name;
    for (char c : bad) {  // as a JSON string
      if (c == '\n') json_name += "\\n";
      else if (c == '\t') json_name += "\\t";
      else json_name += c;
    }
    auto m = parse_manifest(with_commands("{\"" + json_name + "\":{}}"), "m.json");
    ASSERT_FALSE(m) << "accepted " << bad;
    EXPECT_EQ(m.error().code, ErrorCode::kManifestInvalid);
    EXPECT_NE(m.error().message.find("command name " + word_rule), std::string::npos)
        << m.error().message;
  }
  auto ok = parse_manifest(with_commands("{\"" + std::string(64, 'a') + "\":{}}"), "m.json");
  EXPECT_TRUE(ok) << ok.error().message;
}

// The shell's own words cannot be taken by a bundle: reserved words, special builtins, the
// resolution builtins (a bundle's `type` could lie about every name) and the nested shell.
TEST(ManifestCommands, WordsTheShellKeepsAreRefused) {
  for (const char* bad : {"sh", "bash", "type", "command", "hash", "builtin", "if", "while",
                          "exit", "export", "eval", "exec", "set", "unset", "trap", "return"}) {
    auto m = parse_manifest(with_commands(std::string("{\"") + bad + "\":{}}"), "m.json");
    ASSERT_FALSE(m) << "accepted " << bad;
    EXPECT_EQ(m.error().message, std::string("m.json: $.commands.") + bad +
                                     ": command name is a word the shell keeps for itself (a "
                                     "reserved word, a special builtin, the resolution builtins "
                                     "or the nested shell): " + bad);
  }
  // Regular builtins may be declared: the shell's builtin is found first (docs/shell.md).
  EXPECT_TRUE(parse_manifest(with_commands(R"({"echo":{},"test":{},"printf":{}})"), "m.json"));
}

TEST(ManifestCommands, CountIsBounded) {
  auto many = [](size_t n) {
    std::string s = "{";
    for (size_t i = 0; i < n; ++i) {
      if (i) s.push_back(',');
      s.append("\"c").append(std::to_string(i)).append("\":{}");
    }
    return s + "}";
  };
  EXPECT_TRUE(parse_manifest(with_commands(many(512)), "m.json"));
  auto m = parse_manifest(with_commands(many(513)), "m.json");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message, "m.json: $.commands: at most 512 commands");
}

TEST(ManifestCommands, ShapeAndArgv0AreChecked) {
  struct Case {
    const char* commands;
    const char* want;
  } cases[] = {
      {R"(["ls"])", "m.json: $.commands: must be an object, got array"},
      {R"({"ls":"ls"})", "m.json: $.commands.ls: must be an object, got string"},
      {R"({"ls":{"tool":"ls"}})", "m.json: $.commands.ls.tool: unknown key (allowed: argv0, fallback)"},
      {R"({"ls":{"argv0":"/bin/ls"}})",
       "m.json: $.commands.ls.argv0: must be 1-64 characters of [A-Za-z0-9._+-], starting with a "
       "letter, digit or '_'"},
      {R"({"ls":{"argv0":7}})", "m.json: $.commands.ls.argv0: must be a string, got integer"},
      {R"({"ls":{"fallback":"yes"}})", "m.json: $.commands.ls.fallback: must be a boolean, got string"},
  };
  for (const auto& c : cases) {
    auto m = parse_manifest(with_commands(c.commands), "m.json");
    ASSERT_FALSE(m) << c.commands;
    EXPECT_EQ(m.error().message, c.want) << c.commands;
  }
}

TEST(HostConfigShell, BundleOrderParsesAndIsChecked) {
  auto c = parse_host_config(R"({"shell":{"bundle_order":["python","coreutils"]}})", "c.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->shell.bundle_order, (std::vector<std::string>{"python", "coreutils"}));
  auto none = parse_host_config("{}", "c.json");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->shell.bundle_order.empty());
  struct Case {
    std::string text;
    const char* want;
  } cases[] = {
      {R"({"shell":{"bundle_order":["a","a"]}})",
       "c.json: $.shell.bundle_order[1]: duplicate bundle 'a'"},
      {R"({"shell":{"bundle_order":["Bad Name"]}})",
       "c.json: $.shell.bundle_order[0]: must be 1-64 characters of [a-z0-9._-], starting with a "
       "letter or digit"},
      {R"({"shell":{"order":[]}})", "c.json: $.shell.order: unknown key (allowed: bundle_order, user)"},
      {R"({"shell":{"bundle_order":"a"}})", "c.json: $.shell.bundle_order: must be an array, got string"},
  };
  for (const auto& k : cases) {
    auto r = parse_host_config(k.text, "c.json");
    ASSERT_FALSE(r) << k.text;
    EXPECT_EQ(r.error().code, ErrorCode::kConfigInvalid);
    EXPECT_EQ(r.error().message, k.want) << k.text;
  }
  std::string many = R"({"shell":{"bundle_order":[)";
  for (int i = 0; i < 1025; ++i) {
    if (i) many.push_back(',');
    many.append("\"b").append(std::to_string(i)).append("\"");
  }
  auto big = parse_host_config(many + "]}}", "c.json");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message, "c.json: $.shell.bundle_order: at most 1024 bundles");
}

}  // namespace
}  // namespace wasmcap::policy
