// The intersection primitives, one table per rule. Each row fails if its rule is removed.
#include <gtest/gtest.h>

#include "wasmcap/policy.h"

namespace wasmcap::policy {
namespace {

struct HostCase {
  const char* a;
  const char* b;
  const char* want;  // nullptr = no intersection
};

class PolicyIntersectHosts : public ::testing::TestWithParam<HostCase> {};

TEST_P(PolicyIntersectHosts, IsSymmetricAndMatchesTheTable) {
  const HostCase& c = GetParam();
  auto ab = intersect_hosts(c.a, c.b);
  auto ba = intersect_hosts(c.b, c.a);
  if (c.want == nullptr) {
    EXPECT_FALSE(ab.has_value()) << *ab;
    EXPECT_FALSE(ba.has_value()) << *ba;
  } else {
    ASSERT_TRUE(ab.has_value());
    ASSERT_TRUE(ba.has_value());
    EXPECT_EQ(*ab, c.want);
    EXPECT_EQ(*ba, c.want);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PolicyIntersectHosts,
    ::testing::Values(
        // exact match
        HostCase{"api.github.com", "api.github.com", "api.github.com"},
        HostCase{"api.github.com", "uploads.github.com", nullptr},
        // a "*." grant covers a concrete subdomain; a "*." request narrows to the grant
        HostCase{"*.example.com", "a.example.com", "a.example.com"},
        HostCase{"*.example.com", "api.example.com", "api.example.com"},
        // any depth below the suffix...
        HostCase{"*.example.com", "a.b.example.com", "a.b.example.com"},
        // ...but never the apex, and only on a label boundary
        HostCase{"*.example.com", "example.com", nullptr},
        HostCase{"*.example.com", "badexample.com", nullptr},
        // nested wildcards: the narrower one; sibling wildcards: nothing
        HostCase{"*.example.com", "*.api.example.com", "*.api.example.com"},
        HostCase{"*.a.com", "*.b.com", nullptr},
        // bare "*" narrows to the other side; it survives only when both sides say "*"
        HostCase{"*", "api.github.com", "api.github.com"},
        HostCase{"*", "*.example.com", "*.example.com"},
        HostCase{"*", "*", "*"}));

TEST(PolicyIntersectHostMatch, WildcardCoversSubdomainsNotApex) {
  EXPECT_TRUE(host_matches("*.example.com", "a.example.com"));
  EXPECT_TRUE(host_matches("*.example.com", "x.y.example.com"));
  EXPECT_FALSE(host_matches("*.example.com", "example.com"));
  EXPECT_FALSE(host_matches("*.example.com", "evil-example.com"));
  EXPECT_TRUE(host_matches("*", "anything.test"));
  EXPECT_TRUE(host_matches("api.github.com", "api.github.com"));
  EXPECT_FALSE(host_matches("api.github.com", "github.com"));
}

struct NormCase {
  const char* in;
  bool wildcard;
  const char* want;  // nullptr = error
};

class PolicyNormalizeHost : public ::testing::TestWithParam<NormCase> {};

TEST_P(PolicyNormalizeHost, LowercasesStripsTrailingDotAndValidates) {
  const NormCase& c = GetParam();
  auto r = normalize_host(c.in, c.wildcard);
  if (c.want == nullptr) {
    EXPECT_FALSE(r.has_value()) << *r;
  } else {
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(*r, c.want);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, PolicyNormalizeHost,
    ::testing::Values(NormCase{"API.GitHub.com", true, "api.github.com"},       // case
                      NormCase{"api.github.com.", true, "api.github.com"},      // trailing dot
                      NormCase{"*.Example.COM.", true, "*.example.com"},
                      NormCase{"*", true, "*"},
                      NormCase{"*", false, nullptr},                              // no wildcards here
                      NormCase{"*.example.com", false, nullptr},
                      NormCase{"", true, nullptr},                                // empty
                      NormCase{".", true, nullptr},
                      NormCase{"a..b", true, nullptr},
                      NormCase{"a.*.com", true, nullptr},                         // '*' only leftmost
                      NormCase{"*example.com", true, nullptr},
                      NormCase{"api.github.com:443", true, nullptr},              // no port
                      NormCase{"https://api.github.com", true, nullptr},          // no scheme
                      NormCase{"-a.com", true, nullptr},
                      NormCase{"b\xc3\xbc" "cher.de", true, nullptr}));           // not ASCII

struct PrefixCase {
  const char* a;
  const char* b;
  const char* want;
};

class PolicyIntersectPaths : public ::testing::TestWithParam<PrefixCase> {};

TEST_P(PolicyIntersectPaths, MoreSpecificOfNestedNothingIfDisjoint) {
  const PrefixCase& c = GetParam();
  auto ab = intersect_path_prefixes(c.a, c.b);
  auto ba = intersect_path_prefixes(c.b, c.a);
  if (c.want == nullptr) {
    EXPECT_FALSE(ab.has_value());
    EXPECT_FALSE(ba.has_value());
  } else {
    ASSERT_TRUE(ab && ba);
    EXPECT_EQ(*ab, c.want);
    EXPECT_EQ(*ba, c.want);
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, PolicyIntersectPaths,
                         ::testing::Values(PrefixCase{"/repos/", "/repos/acme/", "/repos/acme/"},
                                           PrefixCase{"/", "/v1/", "/v1/"},
                                           PrefixCase{"/same/", "/same/", "/same/"},
                                           PrefixCase{"/repos/acme/", "/repos/other/", nullptr},
                                           PrefixCase{"/a/", "/b/", nullptr}));

TEST(PolicyIntersectMethods, KeepsOnlyCommonMethodsInCanonicalOrder) {
  using V = std::vector<std::string>;
  EXPECT_EQ(intersect_methods(V{"GET"}, V{"GET", "POST"}), V{"GET"});
  EXPECT_EQ(intersect_methods(V{"POST", "GET", "DELETE"}, V{"DELETE", "GET", "POST"}),
            (V{"GET", "POST", "DELETE"}));
  EXPECT_EQ(intersect_methods(V{"PUT"}, V{"GET"}), V{});
}

TEST(PolicyIntersectAccess, WeakerWins) {
  EXPECT_EQ(weaker(Access::kReadOnly, Access::kReadWrite), Access::kReadOnly);
  EXPECT_EQ(weaker(Access::kReadWrite, Access::kReadOnly), Access::kReadOnly);
  EXPECT_EQ(weaker(Access::kReadWrite, Access::kReadWrite), Access::kReadWrite);
  EXPECT_EQ(weaker(Access::kReadOnly, Access::kReadOnly), Access::kReadOnly);
}

TEST(PolicyIntersectLimits, SmallerWinsAbsentIsTheOther) {
  EXPECT_EQ(smaller_limit(64, 128), 64u);
  EXPECT_EQ(smaller_limit(128, 64), 64u);
  EXPECT_EQ(smaller_limit(std::nullopt, 128), 128u);
  EXPECT_EQ(smaller_limit(64, std::nullopt), 64u);
  EXPECT_FALSE(smaller_limit(std::nullopt, std::nullopt).has_value());
}

}  // namespace
}  // namespace wasmcap::policy
