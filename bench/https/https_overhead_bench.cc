// Per-request overhead of the https host API (Client::fetch) against a bare libcurl request to
// the same loopback HTTPS server. Reported as a ratio in the same process (see README.md).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <cstdio>
#include <map>
#include <vector>
#include <string>

#include "https_test_server.h"
#include "wasmcap/audit.h"
#include "wasmcap/https.h"

namespace {

using wasmcap::testing::HttpsTestServer;
using wasmcap::testing::TestPki;

TestPki* g_pki = nullptr;
HttpsTestServer* g_server = nullptr;

size_t discard(char*, size_t size, size_t n, void* userp) {
  static_cast<std::string*>(userp)->append(size * n, ' ');
  return size * n;
}

void BM_BareCurl(benchmark::State& state) {
  std::string url = g_server->url("api.test", "/big?n=1024");
  std::string pin = "api.test:" + std::to_string(g_server->port()) + ":127.0.0.1";
  curl_slist* resolve = curl_slist_append(nullptr, pin.c_str());
  for (auto _ : state) {
    CURL* c = curl_easy_init();
    std::string body;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_CAINFO, g_pki->ca_file().c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || body.size() != 1024) state.SkipWithError("bare request failed");
  }
  curl_slist_free_all(resolve);
}

wasmcap::policy::IpAddress loopback() {
  wasmcap::policy::IpAddress a;
  inet_pton(AF_INET, "127.0.0.1", a.bytes.data());
  return a;
}

std::unique_ptr<wasmcap::https::Client> make_client() {
  wasmcap::policy::HttpsPlan plan;
  plan.allow = {wasmcap::policy::HttpsRule{"api.test", {"GET"}, "/"}};
  plan.bounds.max_requests = 1u << 30;
  wasmcap::policy::NetworkConfig net;
  net.resolve = {{"api.test", loopback()}};
  net.allow_private = {wasmcap::policy::Cidr{loopback(), 32}};
  net.ca_file = g_pki->ca_file();
  wasmcap::https::ClientOptions o;
  o.plugin = "bench";
  o.audit = wasmcap::audit::callback_sink([](std::string_view line) { benchmark::DoNotOptimize(line.size()); });
  auto c = wasmcap::https::Client::create(plan, net, std::move(o));
  return c ? std::move(*c) : nullptr;
}

void BM_ClientFetch(benchmark::State& state) {
  auto client = make_client();
  wasmcap::https::Request r{"GET", g_server->url("api.test", "/big?n=1024"), {}, "", false};
  for (auto _ : state) {
    auto o = client->fetch(r);
    if (!o || o->body.size() != 1024) state.SkipWithError("fetch failed");
  }
}

void BM_ClientDenied(benchmark::State& state) {
  auto client = make_client();
  wasmcap::https::Request r{"GET", "https://evil.test/x?a=1", {{"Accept", "*/*"}}, "", false};
  for (auto _ : state) {
    auto o = client->fetch(r);
    benchmark::DoNotOptimize(o);
  }
}

// Repetitions, randomly interleaved (main turns that on), so drifts in machine load affect both
// sides alike; the ratio uses all repetitions.
BENCHMARK(BM_BareCurl)->Unit(benchmark::kMicrosecond)->MinTime(0.5)->Repetitions(6);
BENCHMARK(BM_ClientFetch)->Unit(benchmark::kMicrosecond)->MinTime(0.5)->Repetitions(6);
BENCHMARK(BM_ClientDenied)->Unit(benchmark::kMicrosecond);

// Keeps each benchmark's mean real time per iteration, to print the ratio at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Iteration && r.iterations > 0) {
        std::string name = r.benchmark_name();
        name = name.substr(0, name.find('/'));  // drop "/min_time:..." suffixes
        total_s_[name] += r.real_accumulated_time;
        cpu_s_[name] += r.cpu_accumulated_time;
        iterations_[name] += static_cast<double>(r.iterations);
        ns_[name] = total_s_[name] * 1e9 / iterations_[name];
        cpu_ns_[name] = cpu_s_[name] * 1e9 / iterations_[name];
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> ns_;      // mean real time per iteration, all repetitions
  std::map<std::string, double> cpu_ns_;  // mean CPU time of this process per iteration

 private:
  std::map<std::string, double> total_s_, cpu_s_, iterations_;
};

}  // namespace

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  TestPki pki;
  if (!pki.generate("/tmp/https/bench-" + std::to_string(getpid()), {"api.test"})) {
    std::fprintf(stderr, "%s\n", pki.error().c_str());
    return 1;
  }
  HttpsTestServer server;
  if (!server.start(pki)) {
    std::fprintf(stderr, "%s\n", server.error().c_str());
    return 1;
  }
  g_pki = &pki;
  g_server = &server;
  std::vector<char*> args(argv, argv + argc);
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  args.push_back(interleave.data());
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto bare = reporter.ns_.find("BM_BareCurl");
  auto fetch = reporter.ns_.find("BM_ClientFetch");
  if (bare != reporter.ns_.end() && fetch != reporter.ns_.end() && bare->second > 0) {
    std::printf("\nhttps overhead: Client::fetch %.1f us vs bare libcurl %.1f us per request: "
                "ratio %.3f (+%.1f us)\n",
                fetch->second / 1000, bare->second / 1000, fetch->second / bare->second,
                (fetch->second - bare->second) / 1000);
    double cf = reporter.cpu_ns_["BM_ClientFetch"], cb = reporter.cpu_ns_["BM_BareCurl"];
    if (cb > 0) {
      std::printf("client-process CPU per request: Client::fetch %.1f us vs bare %.1f us: ratio %.3f "
                  "(+%.1f us; excludes the server, steadier on a loaded machine)\n",
                  cf / 1000, cb / 1000, cf / cb, (cf - cb) / 1000);
    }
  }
  auto denied = reporter.ns_.find("BM_ClientDenied");
  if (denied != reporter.ns_.end()) {
    std::printf("policy-only (denied request, no network): %.2f us\n", denied->second / 1000);
  }
  server.stop();
  std::filesystem::remove_all("/tmp/https/bench-" + std::to_string(getpid()));
  benchmark::Shutdown();
  return 0;
}
