// The https Client against a real HTTPS server on loopback (tests/https/support/https_server.py),
// reached only through network.resolve / allow_private / ca_file. Every test that names a
// non-loopback address asserts that no connection was attempted (ConnectObserver recorder).
//
// Every test's audit records and everything returned to the "plugin" (bodies, headers, error
// messages) are checked in TearDown for the secret values: zero hits allowed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "https_test_server.h"
#include "wasmcap/audit.h"
#include "wasmcap/https.h"

namespace wasmcap::https {

inline void PrintTo(HttpsError e, std::ostream* os) { *os << https_error_name(e); }

namespace {

using Json = nlohmann::json;
using testing_support_pki = wasmcap::testing::TestPki;
using wasmcap::testing::HttpsTestServer;

// Secret values: long and distinctive so a partial leak is visible too.
const std::string kToken = "Bearer tok-7Hq2ZpX9vL4mN8rT6wY3";
const std::string kOtherSecret = "k3y-Aa11Bb22Cc33Dd44Ee55";

policy::IpAddress ip(const std::string& s) {
  policy::IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  EXPECT_EQ(inet_pton(AF_INET6, s.c_str(), a.bytes.data()), 1) << s;
  return a;
}

policy::HttpsRule rule(const std::string& host, std::vector<std::string> methods,
                       const std::string& prefix = "/") {
  return policy::HttpsRule{host, std::move(methods), prefix};
}

class HttpsClient : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string("/tmp/https/client-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(*dir_);
    pki_ = new testing_support_pki();
    ASSERT_TRUE(pki_->generate(*dir_ + "/pki", {"api.test", "other.test", "evil.test",
                                                "rebind.test", "chain.test"}))
        << pki_->error();
    // Secret files as an operator would write them (trailing newline trimmed on load).
    write(*dir_ + "/tok", kToken + "\n");
    write(*dir_ + "/other", kOtherSecret);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete pki_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }

  void SetUp() override {
    plan_.allow = {rule("api.test", {"GET", "HEAD", "POST", "PUT", "DELETE"}, "/"),
                   rule("other.test", {"GET"}, "/")};
    plan_.secrets = {policy::SecretRef{"tok", policy::SecretSource::kFile, *dir_ + "/tok", {"api.test"}},
                     policy::SecretRef{"other", policy::SecretSource::kFile, *dir_ + "/other",
                                       {"other.test"}}};
    for (const char* n : {"api.test", "other.test", "evil.test", "rebind.test", "chain.test"}) {
      net_.resolve.emplace_back(n, ip("127.0.0.1"));
    }
    net_.allow_private.push_back(policy::Cidr{ip("127.0.0.1"), 32});
    net_.ca_file = pki_->ca_file();
  }

  void TearDown() override {
    // Zero hits for any secret value in anything the plugin or the audit log received.
    for (const std::string& s : {kToken, kOtherSecret, kToken.substr(7)}) {
      for (const auto* lines : {&audit_, &attempts_}) {
        for (const auto& line : *lines) {
          EXPECT_EQ(line.find(s), std::string::npos) << "secret in audit record: " << line;
        }
      }
      for (const auto& seen : plugin_saw_) {
        EXPECT_EQ(seen.find(s), std::string::npos) << "secret returned to the plugin: " << seen;
      }
    }
    EXPECT_EQ(audit_.size(), fetches_) << "one audit record per request";
  }

  std::unique_ptr<Client> client() {
    ClientOptions o;
    o.plugin = "fetch";
    o.invocation_id = "inv-1";
    // Outcome records in audit_, https_attempt records (written before a hop leaves) in attempts_.
    o.audit = audit::callback_sink([this](std::string_view line) {
      auto& to = line.find("\"event\":\"https_attempt\"") != std::string_view::npos ? attempts_
                                                                                     : audit_;
      to.emplace_back(line);
    });
    o.on_connect = [this](const policy::IpAddress& a, uint16_t port) {
      connects_.push_back(a.to_string() + ":" + std::to_string(port));
      attempts_at_connect_.push_back(attempts_.size());
      // Tests only ever run servers on 127.0.0.1: anything else must never be attempted.
      EXPECT_EQ(a.to_string(), "127.0.0.1") << "connection attempt to a non-loopback address";
    };
    if (resolver_) o.resolver = resolver_;
    auto c = Client::create(plan_, net_, std::move(o));
    EXPECT_TRUE(c) << c.error().to_string();
    return c ? std::move(*c) : nullptr;
  }

  Outcome fetch(Client& c, Request r) {
    ++fetches_;
    Outcome o = c.fetch(r);
    if (o) {
      plugin_saw_.push_back(o->body);
      for (const auto& h : o->headers) plugin_saw_.push_back(h.name + ": " + h.value);
    } else {
      plugin_saw_.push_back(o.error().message);
    }
    return o;
  }
  Outcome get(const std::string& url, std::vector<Header> headers = {}) {
    auto c = client();
    return fetch(*c, Request{"GET", url, std::move(headers), "", false});
  }
  std::string url(const std::string& host, const std::string& path) { return server()->url(host, path); }
  // Started on first use: tests that stop at the policy layer never need it.
  static HttpsTestServer* server() {
    if (server_ == nullptr) {
      server_ = new HttpsTestServer();
      if (!server_->start(*pki_)) ADD_FAILURE() << server_->error();
    }
    return server_;
  }
  Json last_audit() { return audit_.empty() ? Json() : Json::parse(audit_.back()); }

  static std::string* dir_;
  static testing_support_pki* pki_;
  static HttpsTestServer* server_;

  policy::HttpsPlan plan_;
  policy::NetworkConfig net_;
  Resolver resolver_;
  std::vector<std::string> audit_;
  std::vector<std::string> attempts_;
  std::vector<size_t> attempts_at_connect_;  // attempts_.size() when each connection opened
  std::vector<std::string> plugin_saw_;
  std::vector<std::string> connects_;
  size_t fetches_ = 0;
};

std::string* HttpsClient::dir_ = nullptr;
testing_support_pki* HttpsClient::pki_ = nullptr;
HttpsTestServer* HttpsClient::server_ = nullptr;

#define EXPECT_FAILS_WITH(outcome, want)                                                    \
  do {                                                                                      \
    auto&& o_ = (outcome);                                                                  \
    ASSERT_FALSE(o_) << "unexpected success, status " << o_->status;                       \
    EXPECT_EQ(o_.error().code, want) << o_.error().message;                                 \
  } while (0)

// --- Allowed requests --------------------------------------------------------------------------

TEST_F(HttpsClient, AllowedGetReachesTheServer) {
  auto o = get(url("api.test", "/echo?x=1"));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->status, 200);
  EXPECT_FALSE(o->truncated);
  Json body = Json::parse(o->body);
  EXPECT_EQ(body["method"], "GET");
  EXPECT_EQ(body["path"], "/echo");
  EXPECT_EQ(connects_, std::vector<std::string>{"127.0.0.1:" + std::to_string(server()->port())});
  Json a = last_audit();
  EXPECT_EQ(a["decision"], "allowed");
  EXPECT_EQ(a["status"], 200);
  EXPECT_EQ(a["address"], "127.0.0.1");
  EXPECT_EQ(a["plugin"], "fetch");
  EXPECT_EQ(a["invocation_id"], "inv-1");
  EXPECT_EQ(a["rule"], "GET,HEAD,POST,PUT,DELETE api.test /");
  EXPECT_EQ(a["url"], "https://api.test:" + std::to_string(server()->port()) + "/echo?x=[REDACTED]");
  EXPECT_TRUE(a["error"].is_null());
}

TEST_F(HttpsClient, PostSendsTheBodyAndHeadHasNone) {
  auto c = client();
  auto o = fetch(*c, Request{"POST", url("api.test", "/echo"), {{"Content-Type", "text/plain"}}, "hello", false});
  ASSERT_TRUE(o) << o.error().message;
  Json body = Json::parse(o->body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["body"], "hello");
  auto h = fetch(*c, Request{"HEAD", url("api.test", "/echo"), {}, "", false});
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->status, 200);
  EXPECT_TRUE(h->body.empty());
}

TEST_F(HttpsClient, ResponseIsNotDecompressed) {
  auto o = get(url("api.test", "/gzip"), {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(o) << o.error().message;
  ASSERT_GE(o->body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(o->body[0]), 0x1f);  // gzip magic: the raw bytes
  EXPECT_EQ(static_cast<unsigned char>(o->body[1]), 0x8b);
}

// --- Grants (before any DNS lookup or connection) -----------------------------------------------

TEST_F(HttpsClient, MissingGrantIsDeniedBeforeDns) {
  plan_.allow.clear();
  int resolves = 0;
  resolver_ = [&](const std::string&) -> Result<std::vector<policy::IpAddress>> {
    ++resolves;
    return std::vector<policy::IpAddress>{ip("127.0.0.1")};
  };
  net_.resolve.clear();
  EXPECT_FAILS_WITH(get(url("api.test", "/echo")), HttpsError::kGrantDenied);
  EXPECT_EQ(resolves, 0);
  EXPECT_TRUE(connects_.empty());
  EXPECT_EQ(last_audit()["decision"], "denied");
  EXPECT_EQ(last_audit()["error"], "grant_denied");
  EXPECT_TRUE(last_audit()["address"].is_null());
  EXPECT_EQ(last_audit()["rule"], "grant");
}

TEST_F(HttpsClient, DisallowedHostIsDenied) {
  EXPECT_FAILS_WITH(get(url("evil.test", "/echo")), HttpsError::kGrantDenied);
  EXPECT_TRUE(connects_.empty());
  EXPECT_EQ(server()->requests().find("evil.test"), std::string::npos);
}

TEST_F(HttpsClient, MethodNotGrantedIsMethodNotAllowed) {
  auto c = client();
  EXPECT_FAILS_WITH(fetch(*c, Request{"DELETE", url("other.test", "/echo"), {}, "", false}),
                    HttpsError::kMethodNotAllowed);
  EXPECT_FAILS_WITH(fetch(*c, Request{"TRACE", url("api.test", "/echo"), {}, "", false}),
                    HttpsError::kMethodNotAllowed);
  EXPECT_FAILS_WITH(fetch(*c, Request{"get", url("api.test", "/echo"), {}, "", false}),
                    HttpsError::kMethodNotAllowed);
  EXPECT_TRUE(connects_.empty());
}

TEST_F(HttpsClient, PathPrefixIsSegmentAware) {
  plan_.allow = {rule("api.test", {"GET"}, "/v1")};
  EXPECT_FAILS_WITH(get(url("api.test", "/v1x/echo")), HttpsError::kGrantDenied);
  EXPECT_FAILS_WITH(get(url("api.test", "/v1/../echo")), HttpsError::kGrantDenied);
  EXPECT_FAILS_WITH(get(url("api.test", "/v1/%2e%2e/echo")), HttpsError::kUrlRejected);
  EXPECT_TRUE(connects_.empty());
  auto ok = get(url("api.test", "/v1/x"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 404);  // reached the server: the grant matched
}

TEST_F(HttpsClient, WildcardGrantCoversSubdomainsOnly) {
  plan_.allow = {rule("*.test", {"GET"})};
  EXPECT_TRUE(get(url("api.test", "/echo")));
  plan_.allow = {rule("*.api.test", {"GET"})};
  EXPECT_FAILS_WITH(get(url("api.test", "/echo")), HttpsError::kGrantDenied);
}

TEST_F(HttpsClient, HostIsCanonicalizedBeforeMatching) {
  auto o = get("https://API.Test.:" + std::to_string(server()->port()) + "/echo");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(Json::parse(o->body)["host"], "api.test:" + std::to_string(server()->port()));
}

// --- URLs ------------------------------------------------------------------------------------------

TEST_F(HttpsClient, NonHttpsSchemesAreRejected) {
  plan_.allow = {rule("*", {"GET"})};
  for (std::string u : {"http://api.test/echo", "ftp://api.test/x", "file:///etc/passwd",
                        "unix:///var/run/docker.sock", "gopher://api.test/", "dict://api.test/",
                        "https://user:pw@api.test/echo", "api.test/echo"}) {
    EXPECT_FAILS_WITH(get(u), HttpsError::kUrlRejected);
  }
  EXPECT_TRUE(connects_.empty());
}

TEST_F(HttpsClient, HeaderInjectionAndHostOverrideAreRefused) {
  EXPECT_FAILS_WITH(get(url("api.test", "/echo"), {{"X-A", "1\r\nHost: evil.test"}}), HttpsError::kGrantDenied);
  EXPECT_FAILS_WITH(get(url("api.test", "/echo"), {{"Host", "evil.test"}}), HttpsError::kGrantDenied);
  EXPECT_FAILS_WITH(get(url("api.test", "/echo"), {{"Transfer-Encoding", "chunked"}}), HttpsError::kGrantDenied);
  EXPECT_FAILS_WITH(get(url("api.test", "/echo"), {{"Bad Name", "x"}}), HttpsError::kGrantDenied);
  EXPECT_TRUE(connects_.empty());
}

// --- Addresses -------------------------------------------------------------------------------------

// Every non-public class, as a literal, a numeric alias, or a pinned name. Grant "*" so only the
// address rule can refuse. None may reach connect.
class PrivateAddress : public HttpsClient, public ::testing::WithParamInterface<const char*> {};

TEST_P(PrivateAddress, IsRefusedBeforeConnect) {
  plan_.allow = {rule("*", {"GET"})};
  net_.allow_private.clear();
  net_.resolve = {{"ten.test", ip("10.1.2.3")},          {"meta.test", ip("169.254.169.254")},
                  {"lo6.test", ip("::1")},               {"mapped.test", ip("::ffff:10.0.0.1")},
                  {"nat64.test", ip("64:ff9b::a9fe:a9fe")}, {"ula.test", ip("fd00::1")},
                  {"api.test", ip("127.0.0.1")}};
  resolver_ = [](const std::string& h) -> Result<std::vector<policy::IpAddress>> {
    ADD_FAILURE() << "resolver called for " << h;
    return make_error(ErrorCode::kNotFound, "no");
  };
  auto o = get(GetParam());
  EXPECT_FAILS_WITH(o, HttpsError::kPrivateAddress);
  EXPECT_TRUE(connects_.empty());
  EXPECT_EQ(last_audit()["error"], "private_address");
}

INSTANTIATE_TEST_SUITE_P(
    Table, PrivateAddress,
    ::testing::Values(
        "https://127.0.0.1/", "https://127.0.0.2:8443/x", "https://127.1/", "https://2130706433/",
        "https://0x7f000001/", "https://0177.0.0.1/", "https://0x7f.0.0.1/", "https://017700000001/",
        "https://0.0.0.0/", "https://0/", "https://10.0.0.1/", "https://10.255.255.254/",
        "https://172.16.0.1/", "https://172.31.1.1/", "https://192.168.0.1/", "https://100.64.0.1/",
        "https://169.254.169.254/latest/meta-data/", "https://192.0.0.1/", "https://192.0.2.1/",
        "https://198.18.0.1/", "https://198.51.100.1/", "https://203.0.113.1/", "https://224.0.0.1/",
        "https://239.1.1.1/", "https://240.0.0.1/", "https://255.255.255.255/", "https://[::1]/",
        "https://[::]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/",
        "https://[::ffff:169.254.169.254]/", "https://[::127.0.0.1]/", "https://[64:ff9b::7f00:1]/",
        "https://[64:ff9b::a00:1]/", "https://[fe80::1]/", "https://[fc00::1]/", "https://[fd00::1]/",
        "https://[ff02::1]/", "https://[2001:db8::1]/", "https://[2002:a9fe:a9fe::1]/",
        "https://[fec0::1]/", "https://[100::1]/", "https://ten.test/", "https://meta.test/",
        "https://lo6.test/", "https://mapped.test/", "https://nat64.test/", "https://ula.test/",
        "https://api.test/", "https://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/"));  // fullwidth 127

TEST_F(HttpsClient, LoopbackWithoutOperatorSettingsIsPrivate) {
  net_.allow_private.clear();
  EXPECT_FAILS_WITH(get(url("api.test", "/echo")), HttpsError::kPrivateAddress);
  EXPECT_TRUE(connects_.empty());
  // And with them (SetUp's settings), the same request goes through.
  SetUp();
  EXPECT_TRUE(get(url("api.test", "/echo")));
}

TEST_F(HttpsClient, AllowPrivateIsExact) {
  net_.allow_private = {policy::Cidr{ip("127.0.0.2"), 32}};
  EXPECT_FAILS_WITH(get(url("api.test", "/echo")), HttpsError::kPrivateAddress);
  EXPECT_TRUE(connects_.empty());
}

TEST_F(HttpsClient, EveryResolvedCandidateIsChecked) {
  net_.resolve.clear();
  // A public answer next to a private one: refused as a whole, nothing connected.
  resolver_ = [](const std::string&) -> Result<std::vector<policy::IpAddress>> {
    return std::vector<policy::IpAddress>{ip("127.0.0.1"), ip("10.0.0.7")};
  };
  EXPECT_FAILS_WITH(get(url("api.test", "/echo")), HttpsError::kPrivateAddress);
  EXPECT_TRUE(connects_.empty());
}

TEST_F(HttpsClient, ResolverFailureIsNetworkError) {
  net_.resolve.clear();
  resolver_ = [](const std::string& h) -> Result<std::vector<policy::IpAddress>> {
    return make_error(ErrorCode::kNotFound, "cannot resolve " + h);
  };
  EXPECT_FAILS_WITH(get(url("api.test", "/echo")), HttpsError::kNetworkError);
  EXPECT_TRUE(connects_.empty());
  // The policy allowed it; the network failed it: not a denial in the audit log.
  EXPECT_EQ(last_audit()["decision"], "allowed");
  EXPECT_EQ(last_audit()["error"], "network_error");
}

// DNS rebinding: the resolver answers an allowed address first and a forbidden one afterwards.
// The connection must go to the checked answer; a second lookup (by libcurl or by us) would see
// the forbidden one.
TEST_F(HttpsClient, DnsRebindingCannotSwapTheCheckedAddress) {
  net_.resolve.clear();
  int calls = 0;
  resolver_ = [&](const std::string& h) -> Result<std::vector<policy::IpAddress>> {
    EXPECT_EQ(h, "rebind.test");
    return std::vector<policy::IpAddress>{ip(calls++ == 0 ? "127.0.0.1" : "127.0.0.2")};
  };
  plan_.allow.push_back(rule("rebind.test", {"GET"}));
  auto o = get(url("rebind.test", "/echo"));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(connects_, std::vector<std::string>{"127.0.0.1:" + std::to_string(server()->port())});
  EXPECT_EQ(last_audit()["address"], "127.0.0.1");
}

TEST_F(HttpsClient, DnsRebindingOnARedirectHopIsCaught) {
  net_.resolve.clear();
  int calls = 0;
  resolver_ = [&](const std::string&) -> Result<std::vector<policy::IpAddress>> {
    return std::vector<policy::IpAddress>{ip(calls++ == 0 ? "127.0.0.1" : "10.9.8.7")};
  };
  plan_.allow.push_back(rule("rebind.test", {"GET"}));
  plan_.bounds.max_redirects = 3;
  EXPECT_FAILS_WITH(get(url("rebind.test", "/redirect?to=/echo")), HttpsError::kRedirectDenied);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(connects_.size(), 1u);
}

// --- Redirects -------------------------------------------------------------------------------------

TEST_F(HttpsClient, RedirectsAreNotFollowedUnlessGranted) {
  auto o = get(url("api.test", "/redirect?to=/echo"));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->status, 302);
  EXPECT_EQ(connects_.size(), 1u);
}

TEST_F(HttpsClient, GrantedRedirectIsFollowedAndAudited) {
  plan_.bounds.max_redirects = 2;
  auto o = get(url("api.test", "/redirect?to=" + url("other.test", "/echo")));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->status, 200);
  EXPECT_EQ(Json::parse(o->body)["host"], "other.test:" + std::to_string(server()->port()));
  Json a = last_audit();
  ASSERT_EQ(a["hops"].size(), 1u);
  EXPECT_EQ(a["hops"][0]["status"], 302);
  EXPECT_EQ(a["hops"][0]["decision"], "allowed");
  EXPECT_EQ(a["hops"][0]["address"], "127.0.0.1");
}

TEST_F(HttpsClient, RedirectToDisallowedHostIsDenied) {
  plan_.bounds.max_redirects = 5;
  EXPECT_FAILS_WITH(get(url("api.test", "/redirect?to=" + url("evil.test", "/echo"))),
                    HttpsError::kRedirectDenied);
  EXPECT_EQ(connects_.size(), 1u);
  EXPECT_EQ(server()->requests().find("\"host\": \"evil.test"), std::string::npos);
  EXPECT_EQ(last_audit()["hops"][0]["decision"], "denied");
}

TEST_F(HttpsClient, RedirectToPrivateAddressIsDenied) {
  plan_.allow.push_back(rule("*", {"GET"}));
  plan_.bounds.max_redirects = 5;
  for (std::string to : {"https://10.0.0.1/", "https://169.254.169.254/latest", "https://[::1]/",
                         "https://167772161/"}) {  // 10.0.0.1
    EXPECT_FAILS_WITH(get(url("api.test", "/redirect?to=" + to)), HttpsError::kRedirectDenied);
  }
  EXPECT_EQ(connects_.size(), 4u);  // only the four first hops to the test server
}

TEST_F(HttpsClient, RedirectToHttpIsDenied) {
  plan_.bounds.max_redirects = 5;
  EXPECT_FAILS_WITH(get(url("api.test", "/redirect?to=http://api.test/echo")), HttpsError::kRedirectDenied);
  EXPECT_EQ(connects_.size(), 1u);
}

TEST_F(HttpsClient, RedirectLoopAndChainsAreBounded) {
  plan_.bounds.max_redirects = 5;
  // A loop: /loop redirects to itself.
  auto loop = get(url("api.test", "/loop"));
  EXPECT_FAILS_WITH(loop, HttpsError::kTooManyRedirects);
  EXPECT_NE(loop.error().message.find("loop"), std::string::npos);
  // A chain longer than the bound.
  plan_.bounds.max_redirects = 1;
  std::string two = "/redirect?to=" + std::string("/redirect%3Fto%3D/echo");
  EXPECT_FAILS_WITH(get(url("api.test", two)), HttpsError::kTooManyRedirects);
}

TEST_F(HttpsClient, SecretIsDroppedWhenARedirectLeavesItsHosts) {
  plan_.bounds.max_redirects = 2;
  auto o = get(url("api.test", "/redirect?code=307&to=" + url("other.test", "/echo")),
               {{"Authorization", "secret:tok"}, {"X-Plain", "kept"}});
  ASSERT_TRUE(o) << o.error().message;
  Json seen = Json::parse(o->body);
  bool plain = false;
  for (const auto& h : seen["headers"]) {
    EXPECT_NE(h[0], "Authorization") << "secret header followed the redirect to other.test";
    plain = plain || h[0] == "X-Plain";
  }
  EXPECT_TRUE(plain);
}

// --- Bounds ----------------------------------------------------------------------------------------

TEST_F(HttpsClient, StallingServerTimesOut) {
  plan_.bounds.timeout_ms = 400;
  EXPECT_FAILS_WITH(get(url("api.test", "/stall?ms=5000")), HttpsError::kTimeout);
  EXPECT_EQ(last_audit()["error"], "timeout");
}

TEST_F(HttpsClient, BodyIsTruncatedAtTheCap) {
  plan_.bounds.max_response_bytes = 1000;
  auto o = get(url("api.test", "/big?n=500000"));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->truncated);
  EXPECT_EQ(o->body, std::string(1000, 'x'));
  EXPECT_TRUE(last_audit()["truncated"]);
  auto exact = get(url("api.test", "/big?n=1000"));
  ASSERT_TRUE(exact);
  EXPECT_FALSE(exact->truncated);
  EXPECT_EQ(exact->body.size(), 1000u);
}

TEST_F(HttpsClient, StrictRequestOverTheCapFails) {
  plan_.bounds.max_response_bytes = 1000;
  auto c = client();
  EXPECT_FAILS_WITH(fetch(*c, Request{"GET", url("api.test", "/big?n=5000"), {}, "", true}),
                    HttpsError::kResponseTooLarge);
}

TEST_F(HttpsClient, HugeResponseHeadersAreRefused) {
  EXPECT_FAILS_WITH(get(url("api.test", "/huge-headers?n=2000")), HttpsError::kResponseTooLarge);
  plan_.bounds.max_response_header_bytes = 4096;
  EXPECT_FAILS_WITH(get(url("api.test", "/huge-headers?n=60")), HttpsError::kResponseTooLarge);
  EXPECT_TRUE(get(url("api.test", "/huge-headers?n=10")));
}

TEST_F(HttpsClient, RequestBoundsAreEnforcedBeforeConnect) {
  plan_.bounds.max_request_bytes = 10;
  plan_.bounds.max_request_headers = 2;
  plan_.bounds.max_request_header_bytes = 100;
  plan_.bounds.max_url_bytes = 80;
  auto c = client();
  EXPECT_FAILS_WITH(fetch(*c, Request{"POST", url("api.test", "/echo"), {}, std::string(11, 'b'), false}),
                    HttpsError::kRequestTooLarge);
  EXPECT_FAILS_WITH(fetch(*c, Request{"GET", url("api.test", "/echo"), {{"A", "1"}, {"B", "2"}, {"C", "3"}}, "", false}),
                    HttpsError::kRequestTooLarge);
  EXPECT_FAILS_WITH(fetch(*c, Request{"GET", url("api.test", "/echo"), {{"A", std::string(100, 'a')}}, "", false}),
                    HttpsError::kRequestTooLarge);
  EXPECT_FAILS_WITH(fetch(*c, Request{"GET", url("api.test", "/echo?" + std::string(80, 'q')), {}, "", false}),
                    HttpsError::kRequestTooLarge);
  EXPECT_TRUE(connects_.empty());
  EXPECT_TRUE(fetch(*c, Request{"POST", url("api.test", "/echo"), {{"A", "1"}}, std::string(10, 'b'), false}));
}

TEST_F(HttpsClient, RequestsPerClientAreRateLimited) {
  plan_.bounds.max_requests = 2;
  auto c = client();
  EXPECT_TRUE(fetch(*c, Request{"GET", url("api.test", "/echo"), {}, "", false}));
  EXPECT_FAILS_WITH(fetch(*c, Request{"GET", url("evil.test", "/echo"), {}, "", false}),
                    HttpsError::kGrantDenied);  // denied requests count too
  EXPECT_FAILS_WITH(fetch(*c, Request{"GET", url("api.test", "/echo"), {}, "", false}),
                    HttpsError::kRateLimited);
  EXPECT_EQ(connects_.size(), 1u);
  EXPECT_EQ(last_audit()["error"], "rate_limited");
}

// --- TLS -------------------------------------------------------------------------------------------

TEST_F(HttpsClient, UntrustedCertificateIsTlsError) {
  testing_support_pki rogue;
  ASSERT_TRUE(rogue.generate(*dir_ + "/rogue", {"api.test"})) << rogue.error();
  HttpsTestServer other;
  ASSERT_TRUE(other.start(rogue)) << other.error();
  EXPECT_FAILS_WITH(get(other.url("api.test", "/echo")), HttpsError::kTlsError);
  EXPECT_EQ(other.requests(), "");
}

TEST_F(HttpsClient, CertificateForAnotherNameIsTlsError) {
  plan_.allow.push_back(rule("nomatch.test", {"GET"}));
  net_.resolve.emplace_back("nomatch.test", ip("127.0.0.1"));
  EXPECT_FAILS_WITH(get(url("nomatch.test", "/echo")), HttpsError::kTlsError);
}

TEST_F(HttpsClient, WithoutCaFileTheTestCaIsNotTrusted) {
  net_.ca_file.reset();
  EXPECT_FAILS_WITH(get(url("api.test", "/echo")), HttpsError::kTlsError);
}

// --- Ambient configuration is ignored ---------------------------------------------------------------

TEST_F(HttpsClient, ProxyVariablesAndNetrcAreIgnored) {
  std::string home = *dir_ + "/home";
  std::filesystem::create_directories(home);
  write(home + "/.netrc", "machine api.test login ambient password hunter2-netrc\n");
  ::setenv("HOME", home.c_str(), 1);
  ::setenv("NETRC", (home + "/.netrc").c_str(), 1);
  for (const char* v : {"https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) {
    ::setenv(v, "http://127.0.0.1:9", 1);
  }
  auto o = get(url("api.test", "/echo"));
  for (const char* v : {"https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "NETRC"}) ::unsetenv(v);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(connects_, std::vector<std::string>{"127.0.0.1:" + std::to_string(server()->port())});
  EXPECT_EQ(o->body.find("Authorization"), std::string::npos);
  EXPECT_EQ(server()->requests().find("hunter2"), std::string::npos);
}

// --- Secrets ---------------------------------------------------------------------------------------

TEST_F(HttpsClient, SecretIsInjectedHostSide) {
  auto o = get(url("api.test", "/echo?marker=inject"), {{"Authorization", "secret:tok"}});
  ASSERT_TRUE(o) << o.error().message;
  // The server saw the value (its log is outside what the plugin sees) ...
  std::string seen = server()->requests();
  EXPECT_NE(seen.find(kToken), std::string::npos);
  // ... and the plugin never does: the echo is scrubbed.
  EXPECT_EQ(o->body.find(kToken.substr(7)), std::string::npos);
  EXPECT_NE(o->body.find("[REDACTED]"), std::string::npos);
}

TEST_F(HttpsClient, EchoedSecretIsScrubbedFromHeadersAndBody) {
  auto o = get(url("api.test", "/echo-header?name=X-Api-Key"), {{"X-Api-Key", "secret:tok"}});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->body, "[REDACTED][REDACTED]");
  bool echoed = false;
  for (const auto& h : o->headers) {
    if (h.name == "X-Echo") {
      echoed = true;
      EXPECT_EQ(h.value, "[REDACTED]");
    }
  }
  EXPECT_TRUE(echoed);
}

TEST_F(HttpsClient, SecretCutByTruncationLeavesNoPrefix) {
  plan_.bounds.max_response_bytes = 1010;
  // 1005 bytes of padding, then the secret straddles the 1010-byte cap: the plugin gets the
  // padding and a replacement marker cut at the cap, never the secret's first bytes.
  auto o = get(url("api.test", "/echo-header?name=X-T&pad=1005"), {{"X-T", "secret:tok"}});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->truncated);
  EXPECT_EQ(o->body, std::string(1005, 'a') + "[REDA");
  EXPECT_EQ(o->body.find(kToken.substr(0, 5)), std::string::npos) << o->body.substr(990);
}

TEST_F(HttpsClient, SecretOnlyGoesToItsBoundHosts) {
  auto o = get(url("other.test", "/echo"), {{"Authorization", "secret:tok"}});
  EXPECT_FAILS_WITH(o, HttpsError::kGrantDenied);
  EXPECT_NE(o.error().message.find("secret tok"), std::string::npos);
  // The denial is audited with the rule and the headers the plugin gave (sanitized).
  Json a = last_audit();
  EXPECT_EQ(a["rule"], "secret tok");
  ASSERT_EQ(a["request_headers"].size(), 1u);
  EXPECT_EQ(a["request_headers"][0][1], "[REDACTED]");
  EXPECT_TRUE(connects_.empty());
  EXPECT_FAILS_WITH(get(url("api.test", "/echo"), {{"Authorization", "secret:nope"}}), HttpsError::kGrantDenied);
  auto ok = get(url("other.test", "/echo"), {{"X-Key", "secret:other"}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_NE(server()->requests().find(kOtherSecret), std::string::npos);
}

TEST_F(HttpsClient, AuditRecordsAreSanitized) {
  auto c = client();
  fetch(*c, Request{"GET", url("api.test", "/echo?q=hello&page=2&flag"),
                    {{"Authorization", "secret:tok"},
                     {"Cookie", "session=abc"},
                     {"X-Session-Token", "t0k"},
                     {"X-Plain", "prefix-" + kOtherSecret}},
                    "", false});
  Json a = last_audit();
  EXPECT_EQ(a["url"], "https://api.test:" + std::to_string(server()->port()) +
                          "/echo?q=[REDACTED]&page=[REDACTED]&flag");
  for (const auto& h : a["request_headers"]) {
    if (h[0] == "X-Plain") {
      EXPECT_EQ(h[1], "prefix-[REDACTED]");
    } else if (h[0] == "Accept-Encoding") {
      EXPECT_EQ(h[1], "identity");  // added by the host: a secret is attached
    } else {
      EXPECT_EQ(h[1], "[REDACTED]") << h[0];
    }
  }
  EXPECT_EQ(audit_.back().find("session=abc"), std::string::npos);
  EXPECT_EQ(audit_.back().find("t0k"), std::string::npos);
}

TEST_F(HttpsClient, AuditFileSinkIsPrivateAndAppendOnly) {
  std::string path = *dir_ + "/audit.jsonl";
  std::filesystem::remove(path);
  auto sink = audit::open_file_sink(path);
  ASSERT_TRUE(sink) << sink.error().to_string();
  ClientOptions o;
  o.plugin = "fetch";
  o.audit = *sink;
  auto c = Client::create(plan_, net_, std::move(o));
  ASSERT_TRUE(c);
  (*c)->fetch(Request{"GET", url("api.test", "/echo"), {{"Authorization", "secret:tok"}}, "", false});
  (*c)->fetch(Request{"GET", url("evil.test", "/echo"), {}, "", false});
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string line;
  std::vector<Json> records;
  while (std::getline(in, line)) records.push_back(Json::parse(line));
  // The allowed request: its attempt (written before it left), then its outcome; the denied one
  // never left: only its outcome.
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0]["event"], "https_attempt");
  EXPECT_EQ(records[1]["decision"], "allowed");
  EXPECT_EQ(records[2]["decision"], "denied");
  EXPECT_EQ(records[2]["error"], "grant_denied");
  std::string text;
  {
    std::ifstream all(path);
    std::stringstream ss;
    ss << all.rdbuf();
    text = ss.str();
  }
  EXPECT_EQ(text.find(kToken.substr(7)), std::string::npos);
}

// --- Creation ------------------------------------------------------------------------------------

TEST_F(HttpsClient, CreateFailsClosedOnUnreadableSecretsAndCa) {
  policy::HttpsPlan bad = plan_;
  bad.secrets[0].ref = *dir_ + "/missing";
  auto c = Client::create(bad, net_, {});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("secret tok"), std::string::npos);
  write(*dir_ + "/empty", "\n");
  bad.secrets[0].ref = *dir_ + "/empty";
  EXPECT_FALSE(Client::create(bad, net_, {}));
  write(*dir_ + "/big", std::string(kMaxSecretBytes + 1, 'a'));
  bad.secrets[0].ref = *dir_ + "/big";
  EXPECT_FALSE(Client::create(bad, net_, {}));
  bad.secrets[0].ref = *dir_;  // a directory
  EXPECT_FALSE(Client::create(bad, net_, {}));
  policy::NetworkConfig n = net_;
  n.ca_file = *dir_ + "/no-ca.pem";
  EXPECT_FALSE(Client::create(plan_, n, {}));
}

}  // namespace
}  // namespace wasmcap::https

namespace wasmcap::https {
namespace {

// --- Issue #10 ---------------------------------------------------------------------------------

// Item 13: a grant's path prefix cannot be escaped with path parameters or other spellings that
// servers read as a different path. Refused before any connection, with the rule in the message.
TEST_F(HttpsClient, PathParametersCannotEscapeTheGrantPrefix) {
  plan_.allow = {rule("api.test", {"GET"}, "/ok")};
  auto o = get(url("api.test", "/ok/..;/admin"));
  EXPECT_FAILS_WITH(o, HttpsError::kUrlRejected);
  EXPECT_EQ(o.error().message,
            "URL rejected: the path contains ';' (path parameters are refused: servers disagree "
            "on them)");
  EXPECT_FAILS_WITH(get(url("api.test", "/ok/%2e%2e;/admin")), HttpsError::kUrlRejected);
  EXPECT_FAILS_WITH(get(url("api.test", "/ok//admin")), HttpsError::kUrlRejected);
  EXPECT_TRUE(connects_.empty());
  EXPECT_TRUE(get(url("api.test", "/ok/echo")));  // grant prefix /ok, status 404 from the server
}

// Item 4: with a secret attached the plugin cannot ask for a compressed or partial response
// (which the scrubber could not read), and the host asks for identity itself.
TEST_F(HttpsClient, SecretRequestsCannotAskForEncodedOrPartialResponses) {
  for (const char* h : {"Accept-Encoding", "accept-encoding", "Range", "If-Range"}) {
    auto o = get(url("api.test", "/echo"), {{"Authorization", "secret:tok"}, {h, "gzip"}});
    EXPECT_FAILS_WITH(o, HttpsError::kGrantDenied);
    EXPECT_NE(o.error().message.find("cannot be sent with a secret (secret tok)"),
              std::string::npos)
        << o.error().message;
  }
  EXPECT_TRUE(connects_.empty());
  // Without a secret the plugin may ask for gzip.
  EXPECT_TRUE(get(url("api.test", "/echo"), {{"Accept-Encoding", "gzip"}}));
  auto o = get(url("api.test", "/echo"), {{"Authorization", "secret:tok"}});
  ASSERT_TRUE(o) << o.error().message;
  Json seen = Json::parse(o->body);
  bool identity = false;
  for (const auto& h : seen["headers"]) {
    if (h[0] == "Accept-Encoding") identity = h[1] == "identity";
  }
  EXPECT_TRUE(identity) << o->body;
}

// Item 4: a server that compresses its reflection anyway (ignoring Accept-Encoding: identity)
// would carry the secret past the scrubber: such a response is withheld.
TEST_F(HttpsClient, EncodedResponseToASecretRequestIsWithheld) {
  auto o = get(url("api.test", "/echo-gzip"), {{"Authorization", "secret:tok"}});
  EXPECT_FAILS_WITH(o, HttpsError::kUnscrubbableResponse);
  EXPECT_NE(o.error().message.find("Content-Encoding: gzip"), std::string::npos)
      << o.error().message;
  EXPECT_EQ(last_audit()["error"], "unscrubbable_response");
  // A partial response (Content-Range) is withheld too.
  EXPECT_FAILS_WITH(get(url("api.test", "/echo-partial"), {{"Authorization", "secret:tok"}}),
                    HttpsError::kUnscrubbableResponse);
  // The same responses to requests without a secret reach the plugin as sent.
  auto plain = get(url("api.test", "/echo-gzip"));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->body.substr(0, 2), "\x1f\x8b");
}

// Item 4: after a scrub, Content-Length describes the body as delivered, so the secret's length
// cannot be read off the difference; body digests are dropped.
TEST_F(HttpsClient, ContentLengthIsFixedAfterAScrub) {
  auto o = get(url("api.test", "/echo-header?name=X-T&pad=3"), {{"X-T", "secret:tok"}});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->body, "aaa[REDACTED][REDACTED]");
  bool length = false;
  for (const auto& h : o->headers) {
    if (h.name == "Content-Length") {
      length = true;
      EXPECT_EQ(h.value, std::to_string(o->body.size()));
    }
    EXPECT_NE(h.name, "Content-MD5");
  }
  EXPECT_TRUE(length);
}

// Item 9: the run's deadline bounds the transfer even when the grant's timeout is longer.
TEST_F(HttpsClient, RunDeadlineEndsAStalledTransfer) {
  plan_.bounds.timeout_ms = 20000;
  auto c = client();
  Request r{"GET", url("api.test", "/stall?ms=15000"), {}, "", false};
  auto t0 = std::chrono::steady_clock::now();
  r.deadline = t0 + std::chrono::milliseconds(1000);
  auto o = fetch(*c, r);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FAILS_WITH(o, HttpsError::kTimeout);
  EXPECT_NE(o.error().message.find("the run's deadline"), std::string::npos) << o.error().message;
  EXPECT_LT(took, std::chrono::milliseconds(2000));
}

// The plugin's own bounds (wasi:http request-options): no first byte within first_byte_timeout,
// or a pause between bytes over between_bytes_timeout, ends the hop with a timeout naming which
// (checked as libcurl reports progress: within about a second); under them the same request
// passes. Each only shortens the grant's timeout_ms.
TEST_F(HttpsClient, ThePluginsFirstByteAndBetweenBytesTimeoutsEndAStalledResponse) {
  plan_.bounds.timeout_ms = 20000;
  auto c = client();
  Request r{"GET", url("api.test", "/stall?ms=15000"), {}, "", false};
  r.first_byte_timeout = std::chrono::milliseconds(200);
  auto t0 = std::chrono::steady_clock::now();
  auto o = fetch(*c, r);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FAILS_WITH(o, HttpsError::kTimeout);
  EXPECT_EQ(o.error().timeout, Failure::Timeout::kFirstByte);
  EXPECT_NE(o.error().message.find("first-byte timeout of 200 ms"), std::string::npos) << o.error().message;
  EXPECT_LT(took, std::chrono::milliseconds(3000));
  EXPECT_EQ(last_audit()["error"], "timeout");

  Request d{"GET", url("api.test", "/drip?ms=15000"), {}, "", false};
  d.first_byte_timeout = std::chrono::milliseconds(5000);  // the headers come at once
  d.between_bytes_timeout = std::chrono::milliseconds(300);
  t0 = std::chrono::steady_clock::now();
  o = fetch(*c, d);
  took = std::chrono::steady_clock::now() - t0;
  EXPECT_FAILS_WITH(o, HttpsError::kTimeout);
  EXPECT_EQ(o.error().timeout, Failure::Timeout::kBetweenBytes);
  EXPECT_NE(o.error().message.find("between-bytes timeout of 300 ms"), std::string::npos) << o.error().message;
  EXPECT_LT(took, std::chrono::milliseconds(3000));

  // Under the bounds: a short pause passes, the body whole.
  Request ok{"GET", url("api.test", "/drip?ms=100"), {}, "", false};
  ok.first_byte_timeout = std::chrono::milliseconds(5000);
  ok.between_bytes_timeout = std::chrono::milliseconds(5000);
  ok.connect_timeout = std::chrono::milliseconds(5000);
  auto fine = fetch(*c, ok);
  ASSERT_TRUE(fine.has_value()) << fine.error().message;
  EXPECT_EQ(fine->body, "abcd");
}

// Item 9: the run's interrupt flag ends a transfer in progress.
TEST_F(HttpsClient, RunInterruptEndsAStalledTransfer) {
  plan_.bounds.timeout_ms = 20000;
  auto c = client();
  std::atomic<bool> stop{false};
  Request r{"GET", url("api.test", "/stall?ms=15000"), {}, "", false};
  r.interrupt = &stop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  auto o = fetch(*c, r);
  auto took = std::chrono::steady_clock::now() - t0;
  t.join();
  EXPECT_FAILS_WITH(o, HttpsError::kTimeout);
  EXPECT_NE(o.error().message.find("interrupted"), std::string::npos) << o.error().message;
  EXPECT_LT(took, std::chrono::milliseconds(3000));
}

// Item 9: name resolution is bounded by the deadline too (getaddrinfo has no timeout).
TEST_F(HttpsClient, StalledNameResolutionEndsAtTheDeadline) {
  net_.resolve.clear();  // resolve through the (stalling) resolver
  resolver_ = [](const std::string&) -> Result<std::vector<policy::IpAddress>> {
    std::this_thread::sleep_for(std::chrono::milliseconds(4000));
    return std::vector<policy::IpAddress>{};
  };
  auto c = client();
  Request r{"GET", "https://api.test/echo", {}, "", false};
  auto t0 = std::chrono::steady_clock::now();
  r.deadline = t0 + std::chrono::milliseconds(500);
  auto o = fetch(*c, r);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FAILS_WITH(o, HttpsError::kTimeout);
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  EXPECT_TRUE(connects_.empty());
}

// Item 9: an https_attempt record is written before the connection opens, one per hop, and
// linked to its outcome record by the request number.
TEST_F(HttpsClient, AttemptIsAuditedBeforeTheRequestLeaves) {
  plan_.bounds.max_redirects = 1;
  auto c = client();
  ASSERT_TRUE(fetch(*c, Request{"GET", url("api.test", "/echo"), {{"Authorization", "secret:tok"}}, "", false}));
  ASSERT_TRUE(fetch(*c, Request{"GET", url("api.test", "/redirect?to=/echo"), {}, "", false}));
  EXPECT_FAILS_WITH(fetch(*c, Request{"GET", url("evil.test", "/echo"), {}, "", false}),
                    HttpsError::kGrantDenied);
  ASSERT_EQ(connects_.size(), 3u);
  // Each connection opened after its attempt record had been written.
  EXPECT_EQ(attempts_at_connect_, (std::vector<size_t>{1, 2, 3}));
  ASSERT_EQ(attempts_.size(), 3u);  // the denied request never left: no attempt
  Json a0 = Json::parse(attempts_[0]), a1 = Json::parse(attempts_[1]), a2 = Json::parse(attempts_[2]);
  EXPECT_EQ(a0["request"], 1);
  EXPECT_EQ(a0["hop"], 0);
  EXPECT_EQ(a0["address"], "127.0.0.1");
  EXPECT_EQ(a0["request_headers"][0][1], "[REDACTED]");
  EXPECT_EQ(a1["request"], 2);
  EXPECT_EQ(a2["request"], 2);
  EXPECT_EQ(a2["hop"], 1);
  EXPECT_EQ(Json::parse(audit_[0])["request"], 1);
  EXPECT_EQ(Json::parse(audit_[1])["request"], 2);
  EXPECT_EQ(Json::parse(audit_[2])["request"], 3);
}

// #37 record or refuse: when the https_attempt record cannot be written (a full disk), the
// request does not leave the host: no connection, network_error naming the audit failure.
TEST_F(HttpsClient, RequestIsNotSentWhenItsAttemptRecordFails) {
  struct Refusing : audit::Sink {
    std::vector<std::string> outcomes;
    Result<void> append(std::string_view line) override {
      if (line.find("\"event\":\"https_attempt\"") != std::string_view::npos) {
        return make_error(ErrorCode::kIo, "audit record not written to /var/log/a: write: No space left on device");
      }
      outcomes.emplace_back(line);
      return {};
    }
  };
  auto sink = std::make_shared<Refusing>();
  ClientOptions o;
  o.plugin = "fetch";
  o.invocation_id = "inv-1";
  o.audit = sink;
  int connects = 0;
  o.on_connect = [&](const policy::IpAddress&, uint16_t) { ++connects; };
  auto c = Client::create(plan_, net_, std::move(o));
  ASSERT_TRUE(c) << c.error().to_string();
  Outcome r = (*c)->fetch(Request{"GET", url("api.test", "/echo"), {}, "", false});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, HttpsError::kNetworkError);
  EXPECT_NE(r.error().message.find("not sent: audit record not written"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(connects, 0);
  ASSERT_EQ(sink->outcomes.size(), 1u);  // the outcome record says so
  EXPECT_NE(sink->outcomes[0].find("not sent"), std::string::npos) << sink->outcomes[0];
}

// Item 2: the client's pre-copy check refuses on declared sizes, in order, counts the refusal
// and audits it without headers.
TEST_F(HttpsClient, PrecheckRefusesOnDeclaredSizesAndAuditsBriefly) {
  plan_.bounds.max_requests = 4;
  plan_.bounds.max_request_headers = 4;
  auto c = client();
  RequestShape shape;
  shape.method = "GET";
  shape.url = url("api.test", "/echo?q=1");
  shape.url_bytes = shape.url.size();
  shape.header_count = 5;
  shape.header_bytes = 1024;
  auto r = c->precheck(shape);
  ++fetches_;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, HttpsError::kRequestTooLarge);
  EXPECT_EQ(r->message, "5 request headers, over the limit of 4 (max_request_headers)");
  Json a = last_audit();
  EXPECT_EQ(a["decision"], "denied");
  EXPECT_EQ(a["rule"], "max_request_headers");
  EXPECT_EQ(a["request_headers"].size(), 0u);
  EXPECT_EQ(a["url"], "https://api.test:" + std::to_string(server()->port()) + "/echo?q=[REDACTED]");
  shape.header_count = 4;
  shape.header_bytes = uint64_t{16} << 30;  // 1024 aliases of a 16 MiB buffer
  ASSERT_TRUE(c->precheck(shape));
  ++fetches_;
  EXPECT_EQ(last_audit()["rule"], "max_request_header_bytes");
  shape.header_bytes = 10;
  shape.body_bytes = uint64_t{4} << 30;
  ASSERT_TRUE(c->precheck(shape));
  ++fetches_;
  EXPECT_EQ(last_audit()["rule"], "max_request_bytes");
  shape.body_bytes = 0;
  EXPECT_FALSE(c->precheck(shape));  // within bounds: not counted, not audited
  EXPECT_EQ(audit_.size(), 3u);
  shape.url_bytes = uint64_t{1} << 30;  // a URL too long to copy: the record has no URL
  shape.url.clear();
  ASSERT_TRUE(c->precheck(shape));
  ++fetches_;
  EXPECT_EQ(last_audit()["rule"], "max_url_bytes");
  EXPECT_EQ(last_audit()["url"], "");
  // Four refusals used up max_requests: the next one is rate limited before any size check.
  auto limited = c->precheck(shape);
  ++fetches_;
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->code, HttpsError::kRateLimited);
  EXPECT_TRUE(connects_.empty());
}

}  // namespace
}  // namespace wasmcap::https
