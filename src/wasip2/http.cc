// wasi:http/types and wasi:http/outgoing-handler over the https policy (wasmcap/https.h,
// docs/components.md "wasi:http"): a component's outgoing request is the https host API's
// request, checked, sent, bounded and audited by the same https::Client a core module's
// wasmcap_https calls use; no second network path. Bodies are host memory behind io.cc's
// streams (BodyBuffer): an outgoing body is buffered until the guest finishes it, then the
// request leaves when the guest first asks for the response (future-incoming-response.get, or
// its pollable); a response's body is read from the buffered response, and one cut at the
// response bound ends with HTTP-response-body-size instead of `closed` (the P1 ABI's truncation
// flag).
//
// Only the outgoing side is served: the incoming-request and response-outparam handles only a
// `wasi:http/incoming-handler` host gives out (`wasmcap serve`, not built yet), so their methods
// are registered for the imports to link but name no object a component can hold.
#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasip2/call.h"
#include "wasip2/host.h"
#include "wasip2/objects.h"
#include "wasmcap/https.h"

namespace wasmcap::wasip2 {

// The state behind every wasi:http handle (Object::http); `what` says which resource it is.
struct HttpState {
  enum class What : uint8_t {
    kFields, kOutgoingRequest, kOutgoingResponse, kRequestOptions, kOutgoingBody, kFutureResponse,
    kIncomingResponse, kIncomingBody, kFutureTrailers,
  };
  What what = What::kFields;

  // fields: entries in order, names lowercased; immutable when a request's or response's view.
  std::vector<std::pair<std::string, std::string>> entries;
  bool immutable = false;

  // outgoing-request / outgoing-response
  component::Val method = component::Val::variant(0);  // get
  std::optional<component::Val> scheme;
  std::optional<std::string> authority, path;
  std::vector<std::pair<std::string, std::string>> headers;
  bool body_taken = false;
  std::shared_ptr<BodyBuffer> body;  // once body() was called; a response's body too
  uint16_t status = 200;

  // request-options: timeouts in ns (none: the grant's)
  std::optional<uint64_t> connect_ns, first_byte_ns, between_bytes_ns;

  // future-incoming-response: the request, sent when its body is complete and the guest asks;
  // then the answer, taken once.
  struct Pending {
    https::Request request;
    std::shared_ptr<BodyBuffer> body;  // null: no body was asked for
    bool sent = false, taken = false;
    std::optional<https::Response> response;
    component::Val error;  // error-code when !response
  };
  std::shared_ptr<Pending> pending;

  // incoming-response
  bool consumed = false;

  // Host memory this state holds of the guest's making (a fields' entries, a message's headers).
  StateCharge charge;
  ~HttpState() {
    // An outgoing body dropped instead of finished: its request fails (0.2: "corrupted").
    if (what == What::kOutgoingBody && body && !body->finished) body->abandoned = true;
  }
};

namespace {

using What = HttpState::What;

// error-code's cases (wasi:http/types, 0.2.x: the order is the ABI).
enum ErrorCase : uint32_t {
  kDestinationUnavailable = 3, kDestinationIpProhibited = 4, kConnectionTimeout = 8, kConnectionReadTimeout = 9,
  kConnectionLimitReached = 11, kTlsProtocolError = 12, kHttpRequestDenied = 15,
  kHttpRequestBodySize = 17, kHttpRequestUriInvalid = 19, kHttpResponseBodySize = 28,
  kHttpResponseTimeout = 33, kLoopDetected = 36, kInternalError = 38,
};
// header-error's cases.
enum HeaderError : uint32_t { kInvalidSyntax = 0, kForbidden = 1, kImmutable = 2 };

Val internal_error(std::string message) { return Val::variant(kInternalError, Val::some(Val::string(std::move(message)))); }

// The https policy's failure as the error-code a wasi:http client expects.
Val error_code(const https::Failure& f) {
  using https::HttpsError;
  switch (f.code) {
    case HttpsError::kGrantDenied: case HttpsError::kMethodNotAllowed: case HttpsError::kRedirectDenied:
      return Val::variant(kHttpRequestDenied);
    case HttpsError::kUrlRejected: return Val::variant(kHttpRequestUriInvalid);
    case HttpsError::kPrivateAddress: return Val::variant(kDestinationIpProhibited);
    case HttpsError::kRequestTooLarge: return Val::variant(kHttpRequestBodySize, Val::none());
    case HttpsError::kTooManyRedirects: return Val::variant(kLoopDetected);
    case HttpsError::kTimeout:
      if (f.timeout == https::Failure::Timeout::kConnect) return Val::variant(kConnectionTimeout);
      if (f.timeout == https::Failure::Timeout::kBetweenBytes) return Val::variant(kConnectionReadTimeout);
      return Val::variant(kHttpResponseTimeout);
    case HttpsError::kResponseTooLarge: return Val::variant(kHttpResponseBodySize, Val::none());
    case HttpsError::kTlsError: return Val::variant(kTlsProtocolError);
    case HttpsError::kRateLimited: return Val::variant(kConnectionLimitReached);
    case HttpsError::kNetworkError: return Val::variant(kDestinationUnavailable);
    default: return internal_error(f.message);
  }
}

// RFC 9110 token characters (a field name, a method).
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) return false;
  }
  return true;
}

// A field value: no control character but tab (so no CR, LF or NUL reaches a header line).
bool is_field_value(std::string_view v) {
  for (unsigned char c : v) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// Names a component may not set: the https policy's host-controlled headers (Host, framing,
// hop-by-hop; https::is_host_controlled_header, the one list), but Content-Length, which
// wasi:http lets a request declare: it is checked against the finished body when the request
// is sent, and the host frames the body itself.
bool is_forbidden(std::string_view lower_name) {
  return lower_name != "content-length" && https::is_host_controlled_header(lower_name);
}

// What one header entry costs of the run's budget: its bytes and a fixed overhead.
uint64_t entry_cost(const std::string& name, const std::string& value) { return name.size() + value.size() + 32; }

uint64_t entries_cost(const std::vector<std::pair<std::string, std::string>>& entries) {
  uint64_t n = 0;
  for (const auto& [name, value] : entries) n += entry_cost(name, value);
  return n;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string bytes_of(const Val& list) {
  std::string s;
  s.reserve(list.items.size());
  for (const Val& b : list.items) s.push_back(static_cast<char>(b.bits));
  return s;
}

Val list_of(std::string_view bytes) {
  Args items;
  items.reserve(bytes.size());
  for (char c : bytes) items.push_back(Val::u8(static_cast<uint8_t>(c)));
  return Val::list(std::move(items));
}

const char* method_name(uint64_t c) {
  static const char* const kNames[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return c < 9 ? kNames[c] : nullptr;
}

struct Http : std::enable_shared_from_this<Http> {
  wasi::Core* core = nullptr;
  std::shared_ptr<Objects> objects;
  HttpOptions options;
  std::shared_ptr<StateBudget> budget;  // host memory of the guest's making, for the run
  const ResourceType* fields = nullptr;
  const ResourceType* outgoing_request = nullptr;
  const ResourceType* outgoing_response = nullptr;
  const ResourceType* request_options = nullptr;
  const ResourceType* outgoing_body = nullptr;
  const ResourceType* future_response = nullptr;
  const ResourceType* incoming_response = nullptr;
  const ResourceType* incoming_body = nullptr;
  const ResourceType* future_trailers = nullptr;
  const ResourceType* input = nullptr;
  const ResourceType* output = nullptr;
  const ResourceType* pollable = nullptr;

  std::shared_ptr<HttpState> state(What w) {
    auto s = std::make_shared<HttpState>();
    s->what = w;
    StateCharge charge(budget);
    s->charge.swap(charge);
    return s;
  }
  Val own(const ResourceType* rt, std::shared_ptr<HttpState> s) {
    Object o;
    o.kind = Kind::kHttp;
    o.http = std::move(s);
    return Val::own(rt, objects->add(std::move(o)));
  }
  // The state a handle names when it is a `w`; null otherwise (and for a value that is no
  // handle: Objects::get).
  HttpState* get(const Val& handle, What w) {
    Object* o = objects->get(handle, Kind::kHttp);
    return o != nullptr && o->http && o->http->what == w ? o->http.get() : nullptr;
  }
  // An own handle given to the host: its state, taken out of the table (the guest no longer
  // holds it, so no destructor will run for it).
  std::shared_ptr<HttpState> take(const Val& handle, What w) {
    if (handle.kind != component::ValKind::kOwn) return nullptr;
    Object* o = objects->get(handle, Kind::kHttp);
    if (o == nullptr || !o->http || o->http->what != w) return nullptr;
    std::shared_ptr<HttpState> s = std::move(o->http);
    objects->erase(static_cast<uint32_t>(handle.bits));
    return s;
  }
  static HostCallResult over_budget(const HostCallInfo& info, const StateCharge& charge) {
    return HostCallResult::trap(where(info) + ": " + charge.refusal());
  }
  static HostCallResult missing(const HostCallInfo& info) {
    return HostCallResult::trap(where(info) + ": the handle names no object of this type");
  }

  // A fields handle over a copy of `entries`, immutable (a request's or response's view); the
  // copy is charged like the original (a trap past the bound: each call makes another).
  HostCallResult view(const HostCallInfo& info, const std::vector<std::pair<std::string, std::string>>& entries,
                      Args& out) {
    auto f = state(What::kFields);
    if (!f->charge.take(entries_cost(entries))) return over_budget(info, f->charge);
    f->entries = entries;
    f->immutable = true;
    out.push_back(own(fields, std::move(f)));
    return HostCallResult::ok();
  }

  // result<own<input-stream|output-stream>> over a body's buffer (io.cc's streams): once.
  HostCallResult body_stream(HttpState& b, Kind kind, Args& out) {
    if (b.consumed) {
      out.push_back(Val::err());
      return HostCallResult::ok();
    }
    b.consumed = true;
    Object s;
    s.kind = kind;
    s.body = b.body;
    out.push_back(Val::ok(Val::own(kind == Kind::kInputStream ? input : output, objects->add(std::move(s)))));
    return HostCallResult::ok();
  }

  // Sends the request when it can be: its body (if it has one) finished. True when the answer
  // is there (response or error).
  bool resolve(HttpState::Pending& p, const ExecLimits* limits) {
    if (p.sent) return true;
    if (p.body && p.body->abandoned) {
      p.sent = true;
      p.error = internal_error("the request's outgoing-body was dropped without outgoing-body.finish");
      return true;
    }
    if (p.body && !p.body->finished) return false;
    p.sent = true;
    if (p.body) p.request.body = std::move(p.body->bytes);
    // A declared Content-Length must be the body's; the header itself is the host's to send.
    auto& hs = p.request.headers;
    for (auto it = hs.begin(); it != hs.end();) {
      if (it->name != "content-length") {
        ++it;
        continue;
      }
      if (it->value != std::to_string(p.request.body.size())) {
        p.error = Val::variant(kHttpRequestBodySize, Val::some(Val::u64(p.request.body.size())));
        return true;
      }
      it = hs.erase(it);
    }
    if (limits != nullptr) {
      p.request.deadline = limits->deadline;
      p.request.interrupt = limits->interrupt;
    }
    https::Outcome r = options.client->fetch(p.request);
    p.request.body.clear();
    if (r) {
      p.response = std::move(*r);
    } else {
      p.error = error_code(r.error());
    }
    return true;
  }
};

}  // namespace

void add_http(component::HostRegistry& host, wasi::Core& core, std::shared_ptr<Objects> objects, HttpOptions options) {
  auto h = std::make_shared<Http>();
  h->core = &core;
  h->objects = objects;
  h->options = std::move(options);
  h->budget = std::make_shared<StateBudget>(h->options.max_state_bytes);
  std::weak_ptr<Objects> weak = objects;
  auto dtor = [weak](uint32_t rep) {
    if (auto o = weak.lock()) o->erase(rep);
  };
  const std::string types = iface("wasi:http/types");
  h->fields = host.add_resource(types, "fields", dtor);
  h->outgoing_request = host.add_resource(types, "outgoing-request", dtor);
  h->outgoing_response = host.add_resource(types, "outgoing-response", dtor);
  h->request_options = host.add_resource(types, "request-options", dtor);
  h->outgoing_body = host.add_resource(types, "outgoing-body", dtor);
  h->future_response = host.add_resource(types, "future-incoming-response", dtor);
  h->incoming_response = host.add_resource(types, "incoming-response", dtor);
  h->incoming_body = host.add_resource(types, "incoming-body", dtor);
  h->future_trailers = host.add_resource(types, "future-trailers", dtor);
  host.add_resource(types, "incoming-request", dtor);
  host.add_resource(types, "response-outparam", dtor);
  h->input = host.add_resource(iface("wasi:io/streams"), "input-stream", dtor);
  h->output = host.add_resource(iface("wasi:io/streams"), "output-stream", dtor);
  h->pollable = host.add_resource(iface("wasi:io/poll"), "pollable", dtor);

  using Body = std::function<HostCallResult(Http&, HttpState&, const HostCallInfo&, Args&, Args&)>;
  // [method]RESOURCE.NAME on a handle of `w`: a trap when it names none.
  auto method = [&host, &types, h](const char* resource, const char* name, What w, Body body) {
    host.add_function(types, std::string("[method]") + resource + "." + name,
                      [h, w, body = std::move(body)](const HostCallInfo& info, Args& a, Args& out) {
                        HttpState* s = h->get(a.at(0), w);
                        if (s == nullptr) return Http::missing(info);
                        return body(*h, *s, info, a, out);
                      });
  };

  // ---- fields ----
  // Checks and charges one entry; the header-error when it is refused, nullopt when taken.
  auto entry = [](HttpState& f, const std::string& name, const std::string& value, bool* over) -> std::optional<Val> {
    if (f.immutable) return Val::variant(kImmutable);
    if (!is_token(name) || !is_field_value(value)) return Val::variant(kInvalidSyntax);
    if (is_forbidden(lower(name))) return Val::variant(kForbidden);
    if (!f.charge.take(entry_cost(name, value))) {
      *over = true;
      return Val::variant(kInvalidSyntax);
    }
    return std::nullopt;
  };
  host.add_function(types, "[constructor]fields", [h](const HostCallInfo&, Args&, Args& out) {
    out.push_back(h->own(h->fields, h->state(What::kFields)));
    return HostCallResult::ok();
  });
  host.add_function(types, "[static]fields.from-list", [h, entry](const HostCallInfo& info, Args& a, Args& out) {
    auto f = h->state(What::kFields);
    for (const Val& t : a.at(0).items) {
      std::string name = t.items.at(0).str, value = bytes_of(t.items.at(1));
      bool over = false;
      if (auto e = entry(*f, name, value, &over)) {
        if (over) return Http::over_budget(info, f->charge);
        out.push_back(Val::err(std::move(*e)));
        return HostCallResult::ok();
      }
      f->entries.emplace_back(lower(std::move(name)), std::move(value));
    }
    out.push_back(Val::ok(h->own(h->fields, std::move(f))));
    return HostCallResult::ok();
  });
  method("fields", "get", What::kFields, [](Http&, HttpState& f, const HostCallInfo&, Args& a, Args& out) {
    const std::string name = lower(a.at(1).str);
    Args values;
    for (const auto& [n, v] : f.entries) {
      if (n == name) values.push_back(list_of(v));
    }
    out.push_back(Val::list(std::move(values)));
    return HostCallResult::ok();
  });
  method("fields", "has", What::kFields, [](Http&, HttpState& f, const HostCallInfo&, Args& a, Args& out) {
    const std::string name = lower(a.at(1).str);
    out.push_back(Val::boolean(std::any_of(f.entries.begin(), f.entries.end(), [&](const auto& e) { return e.first == name; })));
    return HostCallResult::ok();
  });
  // set(name, list<value>) / append(name, value) / delete(name) -> result<_, header-error>
  for (const char* op : {"set", "append", "delete"}) {
    const char kind = op[0];
    method("fields", op, What::kFields, [kind, entry](Http&, HttpState& f, const HostCallInfo& info, Args& a, Args& out) {
      if (f.immutable) {
        out.push_back(Val::err(Val::variant(kImmutable)));
        return HostCallResult::ok();
      }
      const std::string& name = a.at(1).str;
      std::vector<std::string> values;
      if (kind == 's') {
        for (const Val& v : a.at(2).items) values.push_back(bytes_of(v));
      } else if (kind == 'a') {
        values.push_back(bytes_of(a.at(2)));
      }
      if (kind == 'd' && (!is_token(name) || is_forbidden(lower(name)))) {
        out.push_back(Val::err(Val::variant(is_token(name) ? kForbidden : kInvalidSyntax)));
        return HostCallResult::ok();
      }
      for (const std::string& v : values) {
        bool over = false;
        if (auto e = entry(f, name, v, &over)) {
          if (over) return Http::over_budget(info, f.charge);
          out.push_back(Val::err(std::move(*e)));
          return HostCallResult::ok();
        }
      }
      const std::string key = lower(name);
      if (kind != 'a') {
        f.entries.erase(std::remove_if(f.entries.begin(), f.entries.end(), [&](const auto& e) { return e.first == key; }),
                        f.entries.end());
      }
      for (std::string& v : values) f.entries.emplace_back(key, std::move(v));
      out.push_back(Val::ok());
      return HostCallResult::ok();
    });
  }
  method("fields", "entries", What::kFields, [](Http&, HttpState& f, const HostCallInfo&, Args&, Args& out) {
    Args list;
    for (const auto& [n, v] : f.entries) list.push_back(Val::tuple({Val::string(n), list_of(v)}));
    out.push_back(Val::list(std::move(list)));
    return HostCallResult::ok();
  });
  method("fields", "clone", What::kFields, [](Http& http, HttpState& f, const HostCallInfo& info, Args&, Args& out) {
    auto c = http.state(What::kFields);
    if (!c->charge.take(f.charge.taken())) return Http::over_budget(info, c->charge);
    c->entries = f.entries;
    out.push_back(http.own(http.fields, std::move(c)));
    return HostCallResult::ok();
  });

  // ---- outgoing-request and outgoing-response ----
  // constructor(headers: own<fields>): the fields' entries become the message's headers.
  for (bool request : {true, false}) {
    const char* res = request ? "outgoing-request" : "outgoing-response";
    host.add_function(types, std::string("[constructor]") + res, [h, request](const HostCallInfo& info, Args& a, Args& out) {
      std::shared_ptr<HttpState> f = h->take(a.at(0), What::kFields);
      if (!f) return Http::missing(info);
      auto m = h->state(request ? What::kOutgoingRequest : What::kOutgoingResponse);
      m->headers = std::move(f->entries);
      m->charge.swap(f->charge);  // the bytes move with the entries
      out.push_back(h->own(request ? h->outgoing_request : h->outgoing_response, std::move(m)));
      return HostCallResult::ok();
    });
    const What w = request ? What::kOutgoingRequest : What::kOutgoingResponse;
    method(res, "headers", w, [](Http& http, HttpState& m, const HostCallInfo& info, Args&, Args& out) {
      return http.view(info, m.headers, out);
    });
    // body() -> result<own<outgoing-body>>: once.
    method(res, "body", w, [](Http& http, HttpState& m, const HostCallInfo&, Args&, Args& out) {
      if (m.body_taken) {
        out.push_back(Val::err());
        return HostCallResult::ok();
      }
      m.body_taken = true;
      m.body = std::make_shared<BodyBuffer>();
      m.body->limit = http.options.max_request_bytes;
      StateCharge charge(http.budget);  // its writes are charged with the headers (io.cc)
      m.body->charge.swap(charge);
      m.body->error = std::make_shared<const Val>(Val::variant(kHttpRequestBodySize, Val::some(Val::u64(m.body->limit))));
      m.body->error_message = "HTTP-request-body-size: the body passes the grant's max_request_bytes (" +
                              std::to_string(m.body->limit) + ")";
      auto b = http.state(What::kOutgoingBody);
      b->body = m.body;
      out.push_back(Val::ok(http.own(http.outgoing_body, std::move(b))));
      return HostCallResult::ok();
    });
  }
  method("outgoing-request", "method", What::kOutgoingRequest, [](Http&, HttpState& m, const HostCallInfo&, Args&, Args& out) {
    out.push_back(m.method);
    return HostCallResult::ok();
  });
  method("outgoing-request", "set-method", What::kOutgoingRequest, [](Http&, HttpState& m, const HostCallInfo&, Args& a, Args& out) {
    const Val& v = a.at(1);
    if (v.bits == 9 && (v.items.empty() || !is_token(v.items[0].str))) {
      out.push_back(Val::err());
      return HostCallResult::ok();
    }
    m.method = v;
    out.push_back(Val::ok());
    return HostCallResult::ok();
  });
  for (const char* f : {"path-with-query", "authority"}) {
    const bool path = f[0] == 'p';
    method("outgoing-request", f, What::kOutgoingRequest, [path](Http&, HttpState& m, const HostCallInfo&, Args&, Args& out) {
      const std::optional<std::string>& v = path ? m.path : m.authority;
      out.push_back(v ? Val::some(Val::string(*v)) : Val::none());
      return HostCallResult::ok();
    });
    method("outgoing-request", (std::string("set-") + f).c_str(), What::kOutgoingRequest,
           [path](Http&, HttpState& m, const HostCallInfo&, Args& a, Args& out) {
             const Val& v = a.at(1);
             std::optional<std::string> s;
             if (v.bits == 1) s = v.items.at(0).str;
             // Syntax only (what the URL parser reads is checked again when the request is sent):
             // no control characters or spaces; a path starts with '/'; an authority has no
             // '/', '?', '#' or '@' (no user info: credentials are secrets by reference).
             bool ok = true;
             if (s) {
               for (unsigned char c : *s) ok = ok && c > 0x20 && c != 0x7f;
               if (path) ok = ok && !s->empty() && (*s)[0] == '/';
               if (!path) ok = ok && !s->empty() && s->find_first_of("/?#@") == std::string::npos;
             }
             if (!ok) {
               out.push_back(Val::err());
               return HostCallResult::ok();
             }
             (path ? m.path : m.authority) = std::move(s);
             out.push_back(Val::ok());
             return HostCallResult::ok();
           });
  }
  method("outgoing-request", "scheme", What::kOutgoingRequest, [](Http&, HttpState& m, const HostCallInfo&, Args&, Args& out) {
    out.push_back(m.scheme ? Val::some(*m.scheme) : Val::none());
    return HostCallResult::ok();
  });
  method("outgoing-request", "set-scheme", What::kOutgoingRequest, [](Http&, HttpState& m, const HostCallInfo&, Args& a, Args& out) {
    const Val& v = a.at(1);
    if (v.bits == 1 && v.items.at(0).bits == 2 && (v.items[0].items.empty() || !is_token(v.items[0].items[0].str))) {
      out.push_back(Val::err());
      return HostCallResult::ok();
    }
    m.scheme = v.bits == 1 ? std::optional<Val>(v.items.at(0)) : std::nullopt;
    out.push_back(Val::ok());
    return HostCallResult::ok();
  });
  method("outgoing-response", "status-code", What::kOutgoingResponse, [](Http&, HttpState& m, const HostCallInfo&, Args&, Args& out) {
    out.push_back(Val::u16(m.status));
    return HostCallResult::ok();
  });
  method("outgoing-response", "set-status-code", What::kOutgoingResponse,
         [](Http&, HttpState& m, const HostCallInfo&, Args& a, Args& out) {
           const uint64_t c = a.at(1).bits;
           if (c < 100 || c > 999) {
             out.push_back(Val::err());
           } else {
             m.status = static_cast<uint16_t>(c);
             out.push_back(Val::ok());
           }
           return HostCallResult::ok();
         });

  // ---- request-options ----
  host.add_function(types, "[constructor]request-options", [h](const HostCallInfo&, Args&, Args& out) {
    out.push_back(h->own(h->request_options, h->state(What::kRequestOptions)));
    return HostCallResult::ok();
  });
  for (const char* f : {"connect-timeout", "first-byte-timeout", "between-bytes-timeout"}) {
    auto slot = [f](HttpState& o) -> std::optional<uint64_t>& {
      return f[0] == 'c' ? o.connect_ns : f[0] == 'f' ? o.first_byte_ns : o.between_bytes_ns;
    };
    method("request-options", f, What::kRequestOptions, [slot](Http&, HttpState& o, const HostCallInfo&, Args&, Args& out) {
      out.push_back(slot(o) ? Val::some(Val::u64(*slot(o))) : Val::none());
      return HostCallResult::ok();
    });
    method("request-options", (std::string("set-") + f).c_str(), What::kRequestOptions,
           [slot](Http&, HttpState& o, const HostCallInfo&, Args& a, Args& out) {
             const Val& v = a.at(1);
             slot(o) = v.bits == 1 ? std::optional<uint64_t>(v.items.at(0).bits) : std::nullopt;
             out.push_back(Val::ok());
             return HostCallResult::ok();
           });
  }

  // ---- outgoing-body ----
  method("outgoing-body", "write", What::kOutgoingBody, [](Http& http, HttpState& b, const HostCallInfo&, Args&, Args& out) {
    return http.body_stream(b, Kind::kOutputStream, out);
  });
  // [static] finish(this: own<outgoing-body>, trailers: option<own<trailers>>) -> result<_, error-code>
  host.add_function(types, "[static]outgoing-body.finish", [h](const HostCallInfo& info, Args& a, Args& out) {
    std::shared_ptr<HttpState> b = h->take(a.at(0), What::kOutgoingBody);
    if (!b) return Http::missing(info);
    b->body->finished = true;
    if (a.at(1).bits == 1) {
      h->take(a.at(1).items.at(0), What::kFields);
      out.push_back(Val::err(internal_error("wasmcap sends no request trailers (the https host API has none)")));
      return HostCallResult::ok();
    }
    out.push_back(Val::ok());
    return HostCallResult::ok();
  });

  // ---- outgoing-handler ----
  // handle(request: own<outgoing-request>, options: option<own<request-options>>)
  //   -> result<own<future-incoming-response>, error-code>
  host.add_function(iface("wasi:http/outgoing-handler"), "handle", [h](const HostCallInfo& info, Args& a, Args& out) {
    std::shared_ptr<HttpState> r = h->take(a.at(0), What::kOutgoingRequest);
    if (!r) return Http::missing(info);
    std::shared_ptr<HttpState> options;
    if (a.at(1).bits == 1) options = h->take(a.at(1).items.at(0), What::kRequestOptions);
    auto refuse = [&out](Val code) {
      out.push_back(Val::err(std::move(code)));
      return HostCallResult::ok();
    };
    // No https grant: the request is refused here, before anything leaves (the run has no
    // client, so no audit record either: docs/components.md).
    if (!h->options.client) return refuse(Val::variant(kHttpRequestDenied));
    // https only (the policy's rule): a request for http:// or another scheme is denied.
    if (r->scheme && r->scheme->bits != 1) return refuse(Val::variant(kHttpRequestDenied));
    if (!r->authority) return refuse(Val::variant(kHttpRequestUriInvalid));
    auto p = std::make_shared<HttpState::Pending>();
    const Val& m = r->method;
    if (m.bits == 9) {
      p->request.method = m.items.at(0).str;
    } else if (const char* name = method_name(m.bits)) {
      p->request.method = name;
    } else {
      return refuse(Val::variant(18));  // HTTP-request-method-invalid
    }
    p->request.url = "https://" + *r->authority + (r->path ? *r->path : std::string("/"));
    for (auto& [n, v] : r->headers) p->request.headers.push_back(https::Header{n, v});
    p->request.strict = false;  // a longer body is cut at the bound: the stream says so at its end
    // request-options: the component's own timeouts, each only shortening the grant's (nanoseconds,
    // rounded up to whole milliseconds; https::Request says how each is applied).
    if (options) {
      auto ms = [](const std::optional<uint64_t>& ns) {
        if (!ns) return std::chrono::milliseconds(0);
        const uint64_t m = *ns / 1000000 + (*ns % 1000000 != 0 ? 1 : 0);
        return std::chrono::milliseconds(static_cast<int64_t>(std::min<uint64_t>(std::max<uint64_t>(m, 1), INT32_MAX)));
      };
      p->request.connect_timeout = ms(options->connect_ns);
      p->request.first_byte_timeout = ms(options->first_byte_ns);
      p->request.between_bytes_timeout = ms(options->between_bytes_ns);
    }
    p->body = r->body;
    auto f = h->state(What::kFutureResponse);
    f->pending = std::move(p);
    out.push_back(Val::ok(h->own(h->future_response, std::move(f))));
    return HostCallResult::ok();
  });

  // ---- future-incoming-response ----
  method("future-incoming-response", "subscribe", What::kFutureResponse,
         [](Http& http, HttpState& f, const HostCallInfo& info, Args&, Args& out) {
           Object p;
           p.kind = Kind::kPollable;
           p.poll = Object::Poll::kCheck;
           std::weak_ptr<HttpState::Pending> weak = f.pending;
           std::weak_ptr<Http> self = http.weak_from_this();
           const ExecLimits* limits = info.limits;
           p.check = [weak, self, limits] {
             auto pending = weak.lock();
             auto h = self.lock();
             return !pending || !h || h->resolve(*pending, limits);
           };
           out.push_back(Val::own(http.pollable, http.objects->add(std::move(p))));
           return HostCallResult::ok();
         });
  // get() -> option<result<result<own<incoming-response>, error-code>>>
  method("future-incoming-response", "get", What::kFutureResponse,
         [](Http& http, HttpState& f, const HostCallInfo& info, Args&, Args& out) {
           HttpState::Pending& p = *f.pending;
           {
             CallScope scope(*http.core, info);
             if (!http.resolve(p, info.limits)) {
               out.push_back(Val::none());
               return HostCallResult::ok();
             }
           }
           if (auto ended = run_ended(*http.core)) return std::move(*ended);
           if (info.limits != nullptr && deadline_reached(*info.limits)) {
             return HostCallResult::fail(
                 Error(ErrorCode::kDeadlineExceeded, "wall-clock deadline exceeded during an outgoing HTTP request"));
           }
           if (p.taken) {
             out.push_back(Val::some(Val::err()));
             return HostCallResult::ok();
           }
           p.taken = true;
           if (!p.response) {
             out.push_back(Val::some(Val::ok(Val::err(p.error))));
             return HostCallResult::ok();
           }
           auto r = http.state(What::kIncomingResponse);
           r->status = p.response->status;
           for (auto& hd : p.response->headers) r->headers.emplace_back(lower(std::move(hd.name)), std::move(hd.value));
           r->body = std::make_shared<BodyBuffer>();
           r->body->bytes = std::move(p.response->body);
           if (p.response->truncated) {
             r->body->error = std::make_shared<const Val>(Val::variant(kHttpResponseBodySize, Val::none()));
             r->body->error_message = "HTTP-response-body-size: the response body was cut at the grant's "
                                      "max_response_bytes";
           }
           p.response.reset();
           out.push_back(Val::some(Val::ok(Val::ok(http.own(http.incoming_response, std::move(r))))));
           return HostCallResult::ok();
         });

  // ---- incoming-response and incoming-body ----
  method("incoming-response", "status", What::kIncomingResponse, [](Http&, HttpState& r, const HostCallInfo&, Args&, Args& out) {
    out.push_back(Val::u16(r.status));
    return HostCallResult::ok();
  });
  method("incoming-response", "headers", What::kIncomingResponse,
         [](Http& http, HttpState& r, const HostCallInfo& info, Args&, Args& out) { return http.view(info, r.headers, out); });
  method("incoming-response", "consume", What::kIncomingResponse, [](Http& http, HttpState& r, const HostCallInfo&, Args&, Args& out) {
    if (r.consumed) {
      out.push_back(Val::err());
      return HostCallResult::ok();
    }
    r.consumed = true;
    auto b = http.state(What::kIncomingBody);
    b->body = r.body;
    out.push_back(Val::ok(http.own(http.incoming_body, std::move(b))));
    return HostCallResult::ok();
  });
  method("incoming-body", "stream", What::kIncomingBody, [](Http& http, HttpState& b, const HostCallInfo&, Args&, Args& out) {
    return http.body_stream(b, Kind::kInputStream, out);
  });
  // [static] finish(this: own<incoming-body>) -> own<future-trailers>: a response has none.
  host.add_function(types, "[static]incoming-body.finish", [h](const HostCallInfo& info, Args& a, Args& out) {
    if (!h->take(a.at(0), What::kIncomingBody)) return Http::missing(info);
    out.push_back(h->own(h->future_trailers, h->state(What::kFutureTrailers)));
    return HostCallResult::ok();
  });
  method("future-trailers", "subscribe", What::kFutureTrailers, [](Http& http, HttpState&, const HostCallInfo&, Args&, Args& out) {
    Object p;
    p.kind = Kind::kPollable;
    out.push_back(Val::own(http.pollable, http.objects->add(std::move(p))));
    return HostCallResult::ok();
  });
  // get() -> option<result<result<option<own<trailers>>, error-code>>>: none, once.
  method("future-trailers", "get", What::kFutureTrailers, [](Http&, HttpState& t, const HostCallInfo&, Args&, Args& out) {
    out.push_back(Val::some(t.consumed ? Val::err() : Val::ok(Val::ok(Val::none()))));
    t.consumed = true;
    return HostCallResult::ok();
  });

  // http-error-code(err: borrow<io-error>) -> option<error-code>
  host.add_function(types, "http-error-code", [h](const HostCallInfo&, Args& a, Args& out) {
    Object* e = h->objects->get(a.at(0), Kind::kError);
    out.push_back(e != nullptr && e->http_error ? Val::some(*e->http_error) : Val::none());
    return HostCallResult::ok();
  });

  // ---- the incoming side: handles only an incoming-handler host gives out ----
  for (const char* f : {"[method]incoming-request.method", "[method]incoming-request.path-with-query",
                        "[method]incoming-request.scheme", "[method]incoming-request.authority",
                        "[method]incoming-request.headers", "[method]incoming-request.consume",
                        "[static]response-outparam.set"}) {
    host.add_function(types, f, [](const HostCallInfo& info, Args&, Args&) {
      return HostCallResult::trap(where(info) +
                                  ": the handle names no object of this type (wasmcap serves no "
                                  "wasi:http/incoming-handler: nothing gives a component an incoming request)");
    });
  }
}

}  // namespace wasmcap::wasip2
