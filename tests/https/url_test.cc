// Address classification and strict URL parsing, table-driven (no network).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "https/address.h"
#include "https/url.h"

namespace wasmcap::https {
namespace {

policy::IpAddress ip(const std::string& s) {
  policy::IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  EXPECT_EQ(inet_pton(AF_INET6, s.c_str(), a.bytes.data()), 1) << s;
  return a;
}

struct AddressCase {
  const char* address;
  const char* klass;  // substring of the class name; nullptr = public
};

class Classify : public ::testing::TestWithParam<AddressCase> {};

TEST_P(Classify, Address) {
  const AddressCase& c = GetParam();
  auto cls = classify_address(ip(c.address));
  if (c.klass == nullptr) {
    EXPECT_FALSE(cls) << c.address << " classified as " << cls.value_or("");
  } else {
    ASSERT_TRUE(cls) << c.address << " should be non-public (" << c.klass << ")";
    EXPECT_NE(cls->find(c.klass), std::string::npos) << c.address << ": " << *cls;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, Classify,
    ::testing::Values(
        AddressCase{"0.0.0.0", "unspecified"}, AddressCase{"0.1.2.3", "unspecified"},
        AddressCase{"10.0.0.1", "RFC 1918"}, AddressCase{"10.255.255.255", "RFC 1918"},
        AddressCase{"100.64.0.1", "carrier-grade"}, AddressCase{"100.127.255.254", "carrier-grade"},
        AddressCase{"127.0.0.1", "loopback"}, AddressCase{"127.255.0.9", "loopback"},
        AddressCase{"169.254.169.254", "link-local"}, AddressCase{"172.16.0.1", "RFC 1918"},
        AddressCase{"172.31.255.255", "RFC 1918"}, AddressCase{"192.0.0.8", "IETF"},
        AddressCase{"192.0.2.1", "documentation"}, AddressCase{"192.88.99.1", "6to4 relay"},
        AddressCase{"192.168.1.1", "RFC 1918"}, AddressCase{"198.18.0.1", "benchmarking"},
        AddressCase{"198.19.255.1", "benchmarking"}, AddressCase{"198.51.100.7", "documentation"},
        AddressCase{"203.0.113.9", "documentation"}, AddressCase{"224.0.0.1", "multicast"},
        AddressCase{"239.255.255.250", "multicast"}, AddressCase{"240.0.0.1", "reserved"},
        AddressCase{"255.255.255.255", "broadcast"},
        // public IPv4, including the neighbours of each blocked range
        AddressCase{"8.8.8.8", nullptr}, AddressCase{"1.1.1.1", nullptr},
        AddressCase{"100.63.255.255", nullptr}, AddressCase{"100.128.0.0", nullptr},
        AddressCase{"172.15.255.255", nullptr}, AddressCase{"172.32.0.0", nullptr},
        AddressCase{"11.0.0.1", nullptr}, AddressCase{"223.255.255.255", nullptr},
        // IPv6
        AddressCase{"::", "unspecified"}, AddressCase{"::1", "loopback"},
        AddressCase{"::ffff:127.0.0.1", "IPv4-mapped IPv6 of loopback"},
        AddressCase{"::ffff:10.1.2.3", "IPv4-mapped IPv6 of private"},
        AddressCase{"::ffff:169.254.169.254", "IPv4-mapped IPv6 of link-local"},
        AddressCase{"::127.0.0.1", "IPv4-compatible"}, AddressCase{"::8.8.8.8", "IPv4-compatible"},
        AddressCase{"64:ff9b::7f00:1", "NAT64 of loopback"},
        AddressCase{"64:ff9b::a00:1", "NAT64 of private"},
        AddressCase{"64:ff9b:1::1", "local-use NAT64"}, AddressCase{"fc00::1", "unique local"},
        AddressCase{"fd12:3456::1", "unique local"}, AddressCase{"fe80::1", "link-local"},
        AddressCase{"febf::1", "link-local"}, AddressCase{"fec0::1", "site-local"},
        AddressCase{"ff02::1", "multicast"}, AddressCase{"100::1", "discard"},
        AddressCase{"2001:db8::1", "documentation"}, AddressCase{"3fff::1", "documentation"},
        AddressCase{"2001::1", "Teredo"}, AddressCase{"2001:2::1", "benchmarking"},
        AddressCase{"2002:7f00:1::1", "6to4 of loopback"}, AddressCase{"2002:a00:1::", "6to4 of private"},
        AddressCase{"4000::1", "outside global unicast"},
        // public IPv6
        AddressCase{"2606:4700::1111", nullptr}, AddressCase{"2001:4860:4860::8888", nullptr},
        AddressCase{"::ffff:8.8.8.8", nullptr}, AddressCase{"64:ff9b::808:808", nullptr},
        AddressCase{"2002:808:808::1", nullptr}));

TEST(Cidr, ContainsIsFamilyAndPrefixExact) {
  policy::Cidr c{ip("127.0.0.1"), 32};
  EXPECT_TRUE(cidr_contains(c, ip("127.0.0.1")));
  EXPECT_FALSE(cidr_contains(c, ip("127.0.0.2")));
  EXPECT_FALSE(cidr_contains(c, ip("::ffff:127.0.0.1")));
  policy::Cidr net{ip("10.0.0.0"), 8};
  EXPECT_TRUE(cidr_contains(net, ip("10.200.3.4")));
  EXPECT_FALSE(cidr_contains(net, ip("11.0.0.0")));
  policy::Cidr v6{ip("fd00::"), 12};
  EXPECT_TRUE(cidr_contains(v6, ip("fd0f::1")));
  EXPECT_FALSE(cidr_contains(v6, ip("fd10::1")));
}

TEST(Ipv4Alias, NumericFormsAreRecognized) {
  for (const char* s : {"2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "017700000001"}) {
    auto a = parse_ipv4_alias(s);
    ASSERT_TRUE(a) << s;
    EXPECT_EQ(a->to_string(), "127.0.0.1") << s;
  }
  EXPECT_FALSE(parse_ipv4_alias("api.test"));
  EXPECT_TRUE(looks_numeric("999.1.1.1"));
  EXPECT_TRUE(looks_numeric("a.b.0x10"));
  EXPECT_FALSE(looks_numeric("api.test"));
  EXPECT_FALSE(looks_numeric("1.2.3.example"));
}

struct UrlCase {
  const char* url;
  const char* host;  // canonical host, or nullptr when the URL must be rejected
  const char* path = "/";
};

class ParseUrl : public ::testing::TestWithParam<UrlCase> {};

TEST_P(ParseUrl, Table) {
  const UrlCase& c = GetParam();
  auto p = parse_url(c.url);
  if (c.host == nullptr) {
    EXPECT_FALSE(p) << c.url << " accepted as host " << (p ? p->host : "");
    return;
  }
  ASSERT_TRUE(p) << c.url << ": " << p.error();
  EXPECT_EQ(p->host, c.host) << c.url;
  EXPECT_EQ(p->path, c.path) << c.url;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseUrl,
    ::testing::Values(
        UrlCase{"https://api.test/v1", "api.test", "/v1"},
        UrlCase{"HTTPS://API.Test./v1", "api.test", "/v1"},
        UrlCase{"https://api.test:8443/a/./b/../c", "api.test", "/a/c"},
        UrlCase{"https://b\xc3\xbc" "cher.example/", "xn--bcher-kva.example"},
        UrlCase{"https://\xef\xbd\x81\xef\xbd\x90\xef\xbd\x89.test/", "api.test"},  // fullwidth
        UrlCase{"https://%61pi.test/", "api.test"},
        UrlCase{"https://2130706433/", "127.0.0.1"}, UrlCase{"https://0x7f000001/", "127.0.0.1"},
        UrlCase{"https://0177.0.0.1/", "127.0.0.1"}, UrlCase{"https://127.1/", "127.0.0.1"},
        UrlCase{"https://[::FFFF:7f00:1]/", "::ffff:127.0.0.1"},
        UrlCase{"https://[0:0:0:0:0:0:0:1]/", "::1"},
        // rejected
        UrlCase{"http://api.test/", nullptr}, UrlCase{"ftp://api.test/", nullptr},
        UrlCase{"file:///etc/passwd", nullptr}, UrlCase{"gopher://api.test/", nullptr},
        UrlCase{"ws://api.test/", nullptr}, UrlCase{"api.test/v1", nullptr},
        UrlCase{"//api.test/v1", nullptr}, UrlCase{"https://user@api.test/", nullptr},
        UrlCase{"https://user:pw@api.test/", nullptr}, UrlCase{"https://:pw@api.test/", nullptr},
        UrlCase{"https://[fe80::1%25eth0]/", nullptr}, UrlCase{"https://api.test:0/", nullptr},
        UrlCase{"https://api.test:65536/", nullptr}, UrlCase{"https://999.1.1.1/", nullptr},
        UrlCase{"https://1.2.3.4.5/", nullptr}, UrlCase{"https://a..test/", nullptr},
        UrlCase{"https://xn--zz.test/", nullptr}, UrlCase{"https://api.test/a%2fb", nullptr},
        UrlCase{"https://api.test/a/%2e%2e/admin", nullptr},
        UrlCase{"https://api.test/a/%2E/b", nullptr}, UrlCase{"https://api.test/a%5cb", nullptr},
        UrlCase{"https://api.test/a%00b", nullptr}, UrlCase{"https://api.test/a%zz", nullptr},
        UrlCase{"https://api.test/a b", nullptr}, UrlCase{"https://api.test/\r\nX: y", nullptr},
        UrlCase{"https://api.test\\@evil.test/", nullptr}, UrlCase{"https://a b.test/", nullptr},
        UrlCase{"", nullptr}));

TEST(ParseUrl, CanonicalUrlIsWhatCurlGets) {
  auto p = parse_url("https://API.test.:8443/x/../v1/items?q=a&b=2#frag");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->url(), "https://api.test:8443/v1/items?q=a&b=2");
  auto v6 = parse_url("https://[::1]/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->url(), "https://[::1]/");
  ASSERT_TRUE(v6->literal);
}

TEST(ParseUrl, RedirectsResolveRelativeAndAreReparsedStrictly) {
  auto base = parse_url("https://api.test/v1/a/b?x=1");
  ASSERT_TRUE(base);
  auto r = resolve_redirect(*base, "../c");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->url(), "https://api.test/v1/c");
  auto abs = resolve_redirect(*base, "https://OTHER.test./z");
  ASSERT_TRUE(abs);
  EXPECT_EQ(abs->host, "other.test");
  EXPECT_FALSE(resolve_redirect(*base, "http://api.test/"));
  EXPECT_FALSE(resolve_redirect(*base, "https://u:p@api.test/"));
  EXPECT_FALSE(resolve_redirect(*base, ""));
  auto scheme_relative = resolve_redirect(*base, "//evil.test/x");
  ASSERT_TRUE(scheme_relative);
  EXPECT_EQ(scheme_relative->host, "evil.test");
}

// Issue #10 item 13: path spellings that some server reads as another path than the one the
// grant's path prefix matched. Each is refused with the exact rule's message.
struct PathCase {
  const char* url;
  const char* error;  // nullptr: accepted
};

void PrintTo(const PathCase& c, std::ostream* os) { *os << c.url; }

class PathSpelling : public ::testing::TestWithParam<PathCase> {};

TEST_P(PathSpelling, IsRefusedWithItsRule) {
  const PathCase& c = GetParam();
  auto p = parse_url(c.url);
  if (c.error == nullptr) {
    EXPECT_TRUE(p) << c.url << ": " << p.error();
    return;
  }
  ASSERT_FALSE(p) << c.url << " accepted as path " << p->path;
  EXPECT_EQ(p.error(), c.error) << c.url;
}

constexpr const char* kSemicolon =
    "the path contains ';' (path parameters are refused: servers disagree on them)";
constexpr const char* kEncodedDot = "the path contains an encoded dot segment";
constexpr const char* kOnlyDots = "the path contains a segment of only dots and spaces";
constexpr const char* kEmpty = "the path contains an empty segment (\"//\")";
constexpr const char* kSeparator = "the path contains an encoded '/' or '\\'";
constexpr const char* kDouble = "the path contains an encoded '%' (double encoding)";
constexpr const char* kNotUtf8 = "the path contains percent-escapes that are not UTF-8";
constexpr const char* kLookAlike = "the path contains a Unicode look-alike of '.', '/' or '\\'";

INSTANTIATE_TEST_SUITE_P(
    Table, PathSpelling,
    ::testing::Values(
        PathCase{"https://api.test/ok/..;/admin", kSemicolon},
        PathCase{"https://api.test/ok/.;/admin", kSemicolon},
        PathCase{"https://api.test/ok;jsessionid=1/x", kSemicolon},
        PathCase{"https://api.test/ok/%2e%2e%3b/admin", kSemicolon},
        PathCase{"https://api.test/ok/a%3bb", kSemicolon},
        PathCase{"https://api.test/ok/%2e%2e/admin", kEncodedDot},
        PathCase{"https://api.test/ok/%2E%2e/admin", kEncodedDot},
        PathCase{"https://api.test/ok/.%2e/admin", kEncodedDot},
        PathCase{"https://api.test/ok/%2e/admin", kEncodedDot},
        PathCase{"https://api.test/ok/.../admin", kOnlyDots},
        PathCase{"https://api.test/ok/..%20/admin", kOnlyDots},
        PathCase{"https://api.test/ok/..../admin", kOnlyDots},
        PathCase{"https://api.test/ok//admin", kEmpty},
        PathCase{"https://api.test//admin", kEmpty},
        PathCase{"https://api.test/ok/%5c../admin", kSeparator},
        PathCase{"https://api.test/ok/..%2fadmin", kSeparator},
        PathCase{"https://api.test/ok/%252e%252e/admin", kDouble},
        PathCase{"https://api.test/ok/%c0%ae%c0%ae/admin", kNotUtf8},
        PathCase{"https://api.test/ok/%ff", kNotUtf8},
        PathCase{"https://api.test/ok/%ef%bc%8e%ef%bc%8e/admin", kLookAlike},
        PathCase{"https://api.test/ok/%ef%bc%8fadmin", kLookAlike},
        // Accepted: ordinary segments, a trailing slash, dots inside names, UTF-8, ';' in the query.
        PathCase{"https://api.test/ok/", nullptr}, PathCase{"https://api.test/ok/a.b/c.", nullptr},
        PathCase{"https://api.test/ok/..a/.b", nullptr},
        PathCase{"https://api.test/ok/%c3%bc", nullptr},
        PathCase{"https://api.test/ok/a?x=1;y=2", nullptr},
        PathCase{"https://api.test/ok/a%20b", nullptr}));

TEST(PathSpelling, RedirectLocationsAreCheckedToo) {
  auto base = parse_url("https://api.test/ok/a");
  ASSERT_TRUE(base);
  auto r = resolve_redirect(*base, "/ok/..;/admin");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), kSemicolon);
}

TEST(PathPrefix, IsSegmentAware) {
  EXPECT_TRUE(path_has_prefix("/v1", "/v1"));
  EXPECT_TRUE(path_has_prefix("/v1/a", "/v1"));
  EXPECT_FALSE(path_has_prefix("/v1x", "/v1"));
  EXPECT_FALSE(path_has_prefix("/v1-admin/a", "/v1"));
  EXPECT_TRUE(path_has_prefix("/v1/a", "/v1/"));
  EXPECT_FALSE(path_has_prefix("/v1", "/v1/"));
  EXPECT_TRUE(path_has_prefix("/anything", "/"));
  EXPECT_FALSE(path_has_prefix("/v2/a", "/v1/"));
}

}  // namespace
}  // namespace wasmcap::https
