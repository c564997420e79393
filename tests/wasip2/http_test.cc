// wasi:http (src/wasip2/http.cc) as a component's imports reach it, over a recording https
// client: what the component builds becomes the https policy's request (method, URL from scheme,
// authority and path, headers, the finished body), sent only when the component asks for the
// response; refusals, bounds and the truncation signal.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wasip2/host.h"
#include "wasip2/objects.h"
#include "wasip2_fixture.h"

namespace wasmcap::wasip2 {
namespace {

constexpr const char* kHttp = "wasi:http/types@0.2.10";
constexpr const char* kHandler = "wasi:http/outgoing-handler@0.2.10";
constexpr const char* kPoll = "wasi:io/poll@0.2.12";
constexpr const char* kError = "wasi:io/error@0.2.12";

// Records every request and answers with `answer` (a 201 with body "hello" by default).
class RecordingClient : public https::Client {
 public:
  https::Outcome fetch(const https::Request& request) override {
    seen.push_back(request);
    if (answer) return answer(request);
    https::Response r;
    r.status = 201;
    r.headers = {{"Content-Type", "text/plain"}, {"X-Echo", "a"}};
    r.body = "hello";
    return r;
  }
  std::vector<https::Request> seen;
  std::function<https::Outcome(const https::Request&)> answer;
};

class Wasip2Http : public Wasip2 {
 protected:
  void SetUp() override { start_with(client_); }
  void start_with(std::shared_ptr<https::Client> client, uint64_t max_request_bytes = 1 << 20,
                  uint64_t max_state_bytes = 1 << 20) {
    HttpOptions o;
    o.client = std::move(client);
    o.max_request_bytes = max_request_bytes;
    o.max_state_bytes = max_state_bytes;
    start(fixed_config(), std::move(o));
  }
  static Val borrow(const Val& own) { return Val::borrow(own.resource, static_cast<uint32_t>(own.bits)); }
  Val ok_of(const Val& r) {
    EXPECT_EQ(r.kind, component::ValKind::kResult);
    EXPECT_EQ(r.bits, 0u) << r.to_string();
    return r.items.empty() ? Val() : r.items[0];
  }
  // fields.from-list of (name, value) pairs; the own handle.
  Val fields(const std::vector<std::pair<std::string, std::string>>& entries) {
    std::vector<Val> items;
    for (const auto& [n, v] : entries) items.push_back(Val::tuple({Val::string(n), bytes_of(v)}));
    return ok_of(call1(kHttp, "[static]fields.from-list", {Val::list(std::move(items))}));
  }
  // An outgoing-request for https://AUTHORITY PATH with `method` (a method case).
  Val request(const std::string& authority, const std::string& path, Val method = Val::variant(0),
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    Val req = call1(kHttp, "[constructor]outgoing-request", {fields(headers)});
    EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-method", {borrow(req), std::move(method)}), Val::ok());
    EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-scheme", {borrow(req), Val::some(Val::variant(1))}), Val::ok());
    EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-authority", {borrow(req), Val::some(Val::string(authority))}),
              Val::ok());
    EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-path-with-query", {borrow(req), Val::some(Val::string(path))}),
              Val::ok());
    return req;
  }
  // Writes `data` into the request's body and finishes it unless told not to.
  Val body(const Val& req, const std::string& data, bool finish = true) {
    Val b = ok_of(call1(kHttp, "[method]outgoing-request.body", {borrow(req)}));
    Val s = ok_of(call1(kHttp, "[method]outgoing-body.write", {borrow(b)}));
    EXPECT_EQ(call1(kStreams, "[method]output-stream.blocking-write-and-flush", {borrow(s), bytes_of(data)}), Val::ok());
    if (finish) {
      EXPECT_EQ(call1(kHttp, "[static]outgoing-body.finish", {b, Val::none()}), Val::ok());
    }
    return b;
  }
  Val handle(const Val& req) { return call1(kHandler, "handle", {req, Val::none()}); }
  // future.get: option<result<result<incoming-response, error-code>>>
  Val get(const Val& future) { return call1(kHttp, "[method]future-incoming-response.get", {borrow(future)}); }
  // Everything an input stream gives until it ends; `end` gets the ending (closed or the error).
  std::string read_all(const Val& stream, Val* end) {
    std::string out;
    for (;;) {
      Val r = call1(kStreams, "[method]input-stream.blocking-read", {borrow(stream), Val::u64(1 << 16)});
      if (r.bits != 0) {
        *end = r.items.empty() ? Val() : r.items[0];
        return out;
      }
      for (const Val& b : r.items[0].items) out.push_back(static_cast<char>(b.bits));
    }
  }

  std::shared_ptr<RecordingClient> client_ = std::make_shared<RecordingClient>();
};

TEST_F(Wasip2Http, TheRequestIsTheHttpsPolicysAndLeavesWhenTheResponseIsAskedFor) {
  Val req = request("api.example.com", "/v1/x?q=1", Val::variant(2),
                    {{"Accept", "text/plain"}, {"X-Token", "secret:token"}});
  body(req, "payload");
  Val fut = ok_of(handle(req));
  EXPECT_TRUE(client_->seen.empty()) << "sent before the response was asked for";
  Val got = get(fut);
  ASSERT_EQ(got.bits, 1u) << got.to_string();  // some
  Val resp = ok_of(ok_of(got.items[0]));
  ASSERT_EQ(client_->seen.size(), 1u);
  const https::Request& sent = client_->seen[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://api.example.com/v1/x?q=1");
  ASSERT_EQ(sent.headers.size(), 2u);
  EXPECT_EQ(sent.headers[0].name, "accept");
  EXPECT_EQ(sent.headers[1].name, "x-token");
  EXPECT_EQ(sent.headers[1].value, "secret:token");  // a reference the client resolves, never a value
  EXPECT_EQ(sent.body, "payload");
  EXPECT_FALSE(sent.strict);
  // The answer, once.
  EXPECT_EQ(get(fut), Val::some(Val::err()));
  EXPECT_EQ(call1(kHttp, "[method]incoming-response.status", {borrow(resp)}), Val::u16(201));
  Val hs = call1(kHttp, "[method]incoming-response.headers", {borrow(resp)});
  EXPECT_EQ(call1(kHttp, "[method]fields.get", {borrow(hs), Val::string("X-ECHO")}), Val::list({bytes_of("a")}));
  EXPECT_EQ(call1(kHttp, "[method]fields.set", {borrow(hs), Val::string("x"), Val::list({})}),
            Val::err(Val::variant(2)));  // immutable
  Val b = ok_of(call1(kHttp, "[method]incoming-response.consume", {borrow(resp)}));
  EXPECT_EQ(call1(kHttp, "[method]incoming-response.consume", {borrow(resp)}), Val::err());
  Val s = ok_of(call1(kHttp, "[method]incoming-body.stream", {borrow(b)}));
  Val end;
  EXPECT_EQ(read_all(s, &end), "hello");
  EXPECT_EQ(end, Val::variant(1));  // closed
  // A GET without a body asked for leaves with an empty one; the path defaults to "/".
  Val g = call1(kHttp, "[constructor]outgoing-request", {fields({})});
  EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-authority", {borrow(g), Val::some(Val::string("h.example"))}),
            Val::ok());
  Val gf = ok_of(handle(g));
  ok_of(ok_of(get(gf).items.at(0)));
  ASSERT_EQ(client_->seen.size(), 2u);
  EXPECT_EQ(client_->seen[1].method, "GET");
  EXPECT_EQ(client_->seen[1].url, "https://h.example/");
  EXPECT_EQ(client_->seen[1].body, "");
}

// Refused before anything leaves: no https grant, another scheme than https, no authority, bad
// or forbidden header names and values (a Host header would name another site than the one the
// grant was checked for), a method or authority that is not one; and the policy's own refusals
// as error-code values.
// request-options: the component's timeouts reach the https request (nanoseconds rounded up to
// whole milliseconds; unset ones stay zero, the grant's alone); which bound ended a request is
// the error-code's case: connection-timeout, HTTP-response-timeout, connection-read-timeout.
TEST_F(Wasip2Http, RequestOptionsTimeoutsReachTheRequestAndNameTheTimeout) {
  auto send_with = [&](std::optional<uint64_t> connect, std::optional<uint64_t> first, std::optional<uint64_t> between) {
    Val o = call1(kHttp, "[constructor]request-options");
    const std::pair<const char*, std::optional<uint64_t>> sets[] = {
        {"[method]request-options.set-connect-timeout", connect},
        {"[method]request-options.set-first-byte-timeout", first},
        {"[method]request-options.set-between-bytes-timeout", between}};
    for (const auto& [f, v] : sets) {
      if (v) {
        EXPECT_EQ(call1(kHttp, f, {borrow(o), Val::some(Val::u64(*v))}), Val::ok()) << f;
      }
    }
    if (first) {
      EXPECT_EQ(call1(kHttp, "[method]request-options.first-byte-timeout", {borrow(o)}), Val::some(Val::u64(*first)));
    }
    Val req = request("api.example.com", "/", Val::variant(0));
    Val fut = ok_of(call1(kHandler, "handle", {req, Val::some(o)}));
    return get(fut);
  };
  send_with(uint64_t{1}, uint64_t{250000000}, std::nullopt);
  ASSERT_EQ(client_->seen.size(), 1u);
  EXPECT_EQ(client_->seen[0].connect_timeout.count(), 1);  // 1 ns: 1 ms, never 0 (none)
  EXPECT_EQ(client_->seen[0].first_byte_timeout.count(), 250);
  EXPECT_EQ(client_->seen[0].between_bytes_timeout.count(), 0);
  send_with(std::nullopt, std::nullopt, uint64_t{1500000001});
  EXPECT_EQ(client_->seen[1].connect_timeout.count(), 0);
  EXPECT_EQ(client_->seen[1].between_bytes_timeout.count(), 1501);
  ok_of(ok_of(get(ok_of(handle(request("api.example.com", "/")))).items.at(0)));
  EXPECT_EQ(client_->seen.back().first_byte_timeout.count(), 0) << "no options: the grant's bounds alone";

  const std::pair<https::Failure::Timeout, uint32_t> cases[] = {{https::Failure::Timeout::kConnect, 8},
                                                                {https::Failure::Timeout::kFirstByte, 33},
                                                                {https::Failure::Timeout::kBetweenBytes, 9},
                                                                {https::Failure::Timeout::kTransfer, 33}};
  for (const auto& [which, code] : cases) {
    client_->answer = [which = which](const https::Request&) -> https::Outcome {
      https::Failure f{https::HttpsError::kTimeout, "late"};
      f.timeout = which;
      return tl::unexpected<https::Failure>(f);
    };
    Val got = send_with(uint64_t{1000000}, uint64_t{1000000}, uint64_t{1000000});
    ASSERT_EQ(got.bits, 1u) << got.to_string();
    EXPECT_EQ(got.items.at(0), Val::ok(Val::err(Val::variant(code)))) << static_cast<int>(which);
  }
}

TEST_F(Wasip2Http, RefusalsAreErrorCodesAndNothingLeaves) {
  Val http_req = request("a.example", "/", Val::variant(0));
  EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-scheme", {borrow(http_req), Val::some(Val::variant(0))}),
            Val::ok());
  EXPECT_EQ(handle(http_req), Val::err(Val::variant(15)));  // HTTP-request-denied
  Val no_auth = call1(kHttp, "[constructor]outgoing-request", {fields({})});
  EXPECT_EQ(handle(no_auth), Val::err(Val::variant(19)));  // HTTP-request-URI-invalid
  EXPECT_TRUE(client_->seen.empty());

  auto from_list = [&](const std::string& n, const std::string& v) {
    return call1(kHttp, "[static]fields.from-list", {Val::list({Val::tuple({Val::string(n), bytes_of(v)})})});
  };
  EXPECT_EQ(from_list("bad name", "x"), Val::err(Val::variant(0)));
  EXPECT_EQ(from_list("x", "a\r\nHost: evil"), Val::err(Val::variant(0)));
  EXPECT_EQ(from_list("X", std::string("a\0b", 3)), Val::err(Val::variant(0)));
  for (const char* forbidden : {"Host", "connection", "Transfer-Encoding", "Proxy-Authorization", "expect"}) {
    EXPECT_EQ(from_list(forbidden, "x"), Val::err(Val::variant(1))) << forbidden;
  }
  Val f = call1(kHttp, "[constructor]fields");
  EXPECT_EQ(call1(kHttp, "[method]fields.append", {borrow(f), Val::string("host"), bytes_of("evil")}),
            Val::err(Val::variant(1)));
  Val r = call1(kHttp, "[constructor]outgoing-request", {fields({})});
  EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-method", {borrow(r), Val::variant(9, Val::string("GE T"))}),
            Val::err());
  for (const char* a : {"user:pw@a.example", "a.example/x", "a b", ""}) {
    EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-authority", {borrow(r), Val::some(Val::string(a))}), Val::err())
        << a;
  }
  EXPECT_EQ(call1(kHttp, "[method]outgoing-request.set-path-with-query", {borrow(r), Val::some(Val::string("x"))}),
            Val::err());
  // A component importing a method with another type (a number where the handle goes) names no
  // object, whatever the number: a trap, not another object of its own.
  Call forged = call(kHttp, "[method]fields.get", {Val::u32(static_cast<uint32_t>(f.bits)), Val::string("host")});
  EXPECT_EQ(forged.status.status, HostStatus::kTrap) << forged.status.message;
  Call forged_own = call(kHandler, "handle", {Val::borrow(r.resource, static_cast<uint32_t>(r.bits)), Val::none()});
  EXPECT_EQ(forged_own.status.status, HostStatus::kTrap) << "a borrow given where the request is owned";
  // The request's headers are a view: immutable.
  Val hs = call1(kHttp, "[method]outgoing-request.headers", {borrow(r)});
  EXPECT_EQ(call1(kHttp, "[method]fields.append", {borrow(hs), Val::string("a"), bytes_of("b")}), Val::err(Val::variant(2)));

  // The policy says no: its failure, as the error-code the client maps it to.
  client_->answer = [](const https::Request&) -> https::Outcome {
    return tl::unexpected(https::Failure{https::HttpsError::kPrivateAddress, "10.0.0.1 is private"});
  };
  Val fut = ok_of(handle(request("internal.example", "/")));
  EXPECT_EQ(get(fut), Val::some(Val::ok(Val::err(Val::variant(4)))));  // destination-IP-prohibited
  EXPECT_EQ(client_->seen.size(), 1u);
}

TEST_F(Wasip2Http, WithoutAnHttpsGrantEveryRequestIsDenied) {
  HostRegistry fresh;
  host_ = std::move(fresh);
  start_with(nullptr);
  EXPECT_EQ(handle(request("api.example.com", "/")), Val::err(Val::variant(15)));
}

// The request body is buffered up to the grant's max_request_bytes: a write past it fails with
// HTTP-request-body-size; a response cut at the response bound ends with HTTP-response-body-size
// instead of `closed` (what the P1 ABI's truncated flag says).
TEST_F(Wasip2Http, BodiesAreBoundedAndATruncatedResponseSaysSo) {
  HostRegistry fresh;
  host_ = std::move(fresh);
  start_with(client_, 10);
  Val req = request("a.example", "/up", Val::variant(3));
  Val b = ok_of(call1(kHttp, "[method]outgoing-request.body", {borrow(req)}));
  Val s = ok_of(call1(kHttp, "[method]outgoing-body.write", {borrow(b)}));
  EXPECT_EQ(call1(kHttp, "[method]outgoing-body.write", {borrow(b)}), Val::err());  // once
  EXPECT_EQ(call1(kStreams, "[method]output-stream.blocking-write-and-flush", {borrow(s), bytes_of("12345678")}), Val::ok());
  Val over = call1(kStreams, "[method]output-stream.blocking-write-and-flush", {borrow(s), bytes_of("901")});
  ASSERT_EQ(over.bits, 1u) << over.to_string();
  ASSERT_EQ(over.items[0].bits, 0u);  // last-operation-failed
  EXPECT_EQ(call1(kHttp, "http-error-code", {borrow(over.items[0].items[0])}),
            Val::some(Val::variant(17, Val::some(Val::u64(10)))));
  EXPECT_EQ(call1(kError, "[method]error.to-debug-string", {borrow(over.items[0].items[0])}).str.rfind("HTTP-request-body-size", 0),
            0u);
  EXPECT_EQ(call1(kHttp, "[static]outgoing-body.finish", {b, Val::none()}), Val::ok());
  EXPECT_EQ(call1(kStreams, "[method]output-stream.blocking-write-and-flush", {borrow(s), bytes_of("x")}),
            Val::err(Val::variant(1)));  // closed after finish

  client_->answer = [](const https::Request&) -> https::Outcome {
    https::Response r;
    r.status = 200;
    r.body = "abc";
    r.truncated = true;
    return r;
  };
  Val resp = ok_of(ok_of(get(ok_of(handle(req))).items.at(0)));
  ASSERT_EQ(client_->seen.size(), 1u);
  EXPECT_EQ(client_->seen[0].body, "12345678");
  Val body_stream = ok_of(call1(kHttp, "[method]incoming-body.stream",
                                {borrow(ok_of(call1(kHttp, "[method]incoming-response.consume", {borrow(resp)})))}));
  Val end;
  EXPECT_EQ(read_all(body_stream, &end), "abc");
  ASSERT_EQ(end.bits, 0u) << end.to_string();  // last-operation-failed, not closed
  EXPECT_EQ(call1(kHttp, "http-error-code", {borrow(end.items[0])}), Val::some(Val::variant(28, Val::none())));
}

// wasi:http lets a request declare its Content-Length: it must be the finished body's length
// (else HTTP-request-body-size, and nothing leaves), and the host frames the body itself (the
// header is not passed on: the https client refuses framing headers from a plugin).
TEST_F(Wasip2Http, ADeclaredContentLengthMustBeTheBodys) {
  Val good = request("a.example", "/", Val::variant(2), {{"Content-Length", "4"}});
  body(good, "four");
  ok_of(ok_of(get(ok_of(handle(good))).items.at(0)));
  ASSERT_EQ(client_->seen.size(), 1u);
  EXPECT_TRUE(client_->seen[0].headers.empty());
  EXPECT_EQ(client_->seen[0].body, "four");
  Val bad = request("a.example", "/", Val::variant(2), {{"content-length", "3"}});
  body(bad, "four");
  EXPECT_EQ(get(ok_of(handle(bad))), Val::some(Val::ok(Val::err(Val::variant(17, Val::some(Val::u64(4)))))));
  EXPECT_EQ(client_->seen.size(), 1u);
}

// A request whose body is still being written does not leave (its future is not ready and its
// pollable says so); finished, it does, once. A body dropped without finish fails the request
// and nothing leaves.
TEST_F(Wasip2Http, TheRequestWaitsForItsBodyAndAnAbandonedBodyFailsIt) {
  Val req = request("a.example", "/", Val::variant(2));
  Val b = body(req, "part", /*finish=*/false);
  Val fut = ok_of(handle(req));
  EXPECT_EQ(get(fut), Val::none());
  Val p = call1(kHttp, "[method]future-incoming-response.subscribe", {borrow(fut)});
  EXPECT_EQ(call1(kPoll, "[method]pollable.ready", {borrow(p)}), Val::boolean(false));
  EXPECT_TRUE(client_->seen.empty());
  EXPECT_EQ(call1(kHttp, "[static]outgoing-body.finish", {b, Val::none()}), Val::ok());
  EXPECT_EQ(call1(kPoll, "[method]pollable.ready", {borrow(p)}), Val::boolean(true));
  ASSERT_EQ(client_->seen.size(), 1u);
  EXPECT_EQ(client_->seen[0].body, "part");
  ok_of(ok_of(get(fut).items.at(0)));
  EXPECT_EQ(client_->seen.size(), 1u);

  Val req2 = request("a.example", "/", Val::variant(2));
  Val b2 = body(req2, "x", /*finish=*/false);
  Val fut2 = ok_of(handle(req2));
  objects_->erase(static_cast<uint32_t>(b2.bits));  // the guest drops the outgoing-body
  Val got = get(fut2);
  ASSERT_EQ(got.bits, 1u);
  EXPECT_EQ(ok_of(got.items[0]).bits, 1u) << got.to_string();  // err(error-code)
  EXPECT_EQ(ok_of(got.items[0]).items.at(0).bits, 38u);        // internal-error
  EXPECT_EQ(client_->seen.size(), 1u);
}

// Headers the component piles up are host memory: bounded for the run, a trap beyond.
TEST_F(Wasip2Http, HeadersTheComponentMakesAreBounded) {
  Val f = call1(kHttp, "[constructor]fields");  // max_state_bytes 1 MiB
  const std::string value(60 * 1024, 'v');
  Call c;
  int n = 0;
  for (; n < 2000; ++n) {
    c = call(kHttp, "[method]fields.append", {borrow(f), Val::string("x"), bytes_of(value)});
    if (c.status.status != HostStatus::kOk) break;
  }
  EXPECT_EQ(c.status.status, HostStatus::kTrap);
  EXPECT_NE(c.status.message.find("would pass its bound"), std::string::npos) << c.status.message;
  EXPECT_LT(n, 1024 / 60 + 2);
  // Dropped, the memory is the run's again.
  objects_->erase(static_cast<uint32_t>(f.bits));
  Val g = call1(kHttp, "[constructor]fields");
  EXPECT_EQ(call1(kHttp, "[method]fields.append", {borrow(g), Val::string("x"), bytes_of(value)}), Val::ok());
}

// Buffered request bodies and every copy of a message's headers (each headers() call makes one)
// take from the same bound as the headers themselves: many bodies under max_request_bytes each,
// or many copies, cannot hold more host memory than max_state_bytes (1 MiB here).
TEST_F(Wasip2Http, BodiesAndHeaderCopiesAreChargedToTheSameBound) {
  const std::string chunk(600 * 1024, 'b');
  Val a = request("a.example", "/", Val::variant(2));
  Val sa = ok_of(call1(kHttp, "[method]outgoing-body.write",
                       {borrow(ok_of(call1(kHttp, "[method]outgoing-request.body", {borrow(a)})))}));
  EXPECT_EQ(call1(kStreams, "[method]output-stream.blocking-write-and-flush", {borrow(sa), bytes_of(chunk)}), Val::ok());
  Val b = request("b.example", "/", Val::variant(2));
  Val sb = ok_of(call1(kHttp, "[method]outgoing-body.write",
                       {borrow(ok_of(call1(kHttp, "[method]outgoing-request.body", {borrow(b)})))}));
  Call over = call(kStreams, "[method]output-stream.blocking-write-and-flush", {borrow(sb), bytes_of(chunk)});
  EXPECT_EQ(over.status.status, HostStatus::kTrap);
  EXPECT_NE(over.status.message.find("would pass its bound"), std::string::npos) << over.status.message;

  Val c = request("c.example", "/", Val::variant(0), {{"x-big", std::string(90 * 1024, 'h')}});
  Call copy;
  int copies = 0;
  for (; copies < 100; ++copies) {
    copy = call(kHttp, "[method]outgoing-request.headers", {borrow(c)});
    if (copy.status.status != HostStatus::kOk) break;
  }
  EXPECT_EQ(copy.status.status, HostStatus::kTrap) << "100 copies of 90 KiB of headers under a 1 MiB bound";
  EXPECT_NE(copy.status.message.find("would pass its bound"), std::string::npos) << copy.status.message;
  EXPECT_LT(copies, 10);
}

}  // namespace
}  // namespace wasmcap::wasip2
