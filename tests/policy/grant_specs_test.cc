// Grants written on one line (src/policy/grant_specs.cc). The CLI's flag tests
// (tests/cli/cli_test.cc) hold every accepted and refused form through its --dir/--env wrappers;
// these hold what the library promises embedders: the forms parse the same without the CLI, and
// no message names a CLI flag (the caller says where the text came from).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wasmcap/policy.h"

namespace wasmcap::policy {
namespace {

void expect_refused(const Error& e, const std::string& spec) {
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << spec;
  EXPECT_EQ(e.message.rfind("'" + spec + "': ", 0), 0u) << e.message;
  EXPECT_EQ(e.message.find("--"), std::string::npos) << "a library message names a flag: " << e.message;
}

TEST(GrantSpecs, ParseWithoutTheCli) {
  auto d = parse_dir_grant("/data::/work:ro");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->host_path, "/data");
  EXPECT_EQ(d->guest_path, "/work");
  EXPECT_TRUE(d->read_only);
  auto e = parse_env_grant("A_1=x=y");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->first, "A_1");
  EXPECT_EQ(e->second, "x=y");
  auto h = parse_https_grant("API.Example.com./v1/:get,post");
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->host, "api.example.com");
  EXPECT_EQ(h->path_prefix, "/v1/");
  EXPECT_EQ(h->methods, (std::vector<std::string>{"GET", "POST"}));
  auto s = parse_secret_grant("tok=/run/tok@api.example.com,b.example.com");
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->name, "tok");
  EXPECT_EQ(s->ref, "/run/tok");
  EXPECT_EQ(s->hosts, (std::vector<std::string>{"api.example.com", "b.example.com"}));
}

TEST(GrantSpecs, RefusalsQuoteTheSpecAndNameNoFlag) {
  for (const char* spec : {"", "::/w", "/d::", "/d::/w:readonly", "/a:b:ro", "/d::/w:x:ro"}) {
    auto r = parse_dir_grant(spec);
    ASSERT_FALSE(r) << spec;
    expect_refused(r.error(), spec);
  }
  for (const char* spec : {"", "=x", "1A=x", "A B=x"}) {
    auto r = parse_env_grant(spec);
    ASSERT_FALSE(r) << spec;
    expect_refused(r.error(), spec);
  }
  for (const char* spec : {"api.example.com:FETCH", "bad host", ""}) {
    auto r = parse_https_grant(spec);
    ASSERT_FALSE(r) << spec;
    expect_refused(r.error(), spec);
  }
  for (const char* spec : {"tok", "tok=file", "=f@h", "tok=f@", "1t=f@h", "tok=f@*.example.com"}) {
    auto r = parse_secret_grant(spec);
    ASSERT_FALSE(r) << spec;
    expect_refused(r.error(), spec);
  }
}

}  // namespace
}  // namespace wasmcap::policy
