// wasi:io/{error,poll,streams}, wasi:cli/{stdin,stdout,stderr,terminal-*} and the monotonic
// clock's pollables over wasi::Core (host.h).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wasip2/call.h"
#include "wasip2/host.h"
#include "wasip2/objects.h"

namespace wasmcap::wasip2 {
namespace {

// What check-write permits (writes are not buffered: each reaches Core at once).
constexpr uint64_t kWritePermit = 64 * 1024;

struct Io {
  wasi::Core* core;
  std::shared_ptr<Objects> objects;
  const ResourceType* error = nullptr;
  const ResourceType* pollable = nullptr;
  const ResourceType* input = nullptr;
  const ResourceType* output = nullptr;

  Val own(const ResourceType* rt, Object o) { return Val::own(rt, objects->add(std::move(o))); }

  // stream-error: last-operation-failed(own<error>) | closed.
  Val stream_error(wasi::Errc e) {
    if (e == wasi::Errc::kPipe) return Val::err(Val::variant(1));
    Object o;
    o.kind = Kind::kError;
    o.message = wasi::errc_name(e);
    o.errc = e;
    return Val::err(Val::variant(0, own(error, std::move(o))));
  }

  // last-operation-failed carrying a wasi:http error-code (a body stream's end or bound).
  Val http_stream_error(const BodyBuffer& b) {
    Object o;
    o.kind = Kind::kError;
    o.message = b.error_message;
    o.http_error = b.error;
    return Val::err(Val::variant(0, own(error, std::move(o))));
  }

  HostCallResult missing(const HostCallInfo& info) {
    return HostCallResult::trap(where(info) + ": the handle names no object of this type");
  }

  // Readiness of a pollable now (never waits).
  bool ready(const Object& p) {
    switch (p.poll) {
      case Object::Poll::kReady: return true;
      case Object::Poll::kStdin: {
        int fd = core->config().stdin_fd;
        return fd < 0 || core->wait_readable(fd, 0);
      }
      case Object::Poll::kInstant: {
        auto now = core->clock_now(wasi::Clock::kMonotonic, /*advance=*/false);
        return !now || *now >= p.instant_ns;
      }
      case Object::Poll::kCheck: return !p.check || p.check();
    }
    return true;
  }

  // Waits until one of `ps` is ready or the run must end. Under a fixed clock an instant is
  // reached by moving the virtual clock to it.
  void wait_any(const std::vector<const Object*>& ps) {
    while (!core->terminating()) {
      for (const Object* p : ps) {
        if (ready(*p)) return;
      }
      bool stdin_wait = false;
      int64_t timeout = -1;
      for (const Object* p : ps) {
        if (p->poll == Object::Poll::kStdin) stdin_wait = true;
        if (p->poll == Object::Poll::kInstant) {
          auto now = core->clock_now(wasi::Clock::kMonotonic, false);
          uint64_t left = now && *now < p->instant_ns ? p->instant_ns - *now : 0;
          int64_t l = static_cast<int64_t>(std::min<uint64_t>(left, INT64_MAX));
          timeout = timeout < 0 ? l : std::min(timeout, l);
        }
      }
      if (core->clock_is_fixed() && timeout >= 0 && !core->fixed_wait_never_ends(timeout)) {
        core->advance_virtual(static_cast<uint64_t>(timeout));
        continue;
      }
      if (core->clock_is_fixed()) timeout = -1;  // never ends: wait for the deadline or interrupt
      if (stdin_wait) {
        core->wait_readable(core->config().stdin_fd, timeout);
      } else {
        core->sleep_bounded(timeout < 0 ? INT64_MAX : timeout);
      }
    }
  }
};

}  // namespace

std::shared_ptr<Objects> add_io(component::HostRegistry& host, wasi::Core& core) {
  auto io = std::make_shared<Io>();
  io->core = &core;
  io->objects = std::make_shared<Objects>();
  std::weak_ptr<Objects> weak = io->objects;
  auto dtor = [weak](uint32_t rep) {
    if (auto o = weak.lock()) o->erase(rep);
  };
  const std::string error = iface("wasi:io/error"), poll = iface("wasi:io/poll"),
                    streams = iface("wasi:io/streams");
  io->error = host.add_resource(error, "error", dtor);
  io->pollable = host.add_resource(poll, "pollable", dtor);
  io->input = host.add_resource(streams, "input-stream", dtor);
  io->output = host.add_resource(streams, "output-stream", dtor);

  // ---- wasi:io/error ----
  host.add_function(error, "[method]error.to-debug-string", [io](const HostCallInfo& info, Args& a, Args& out) {
    Object* e = io->objects->get(a.at(0), Kind::kError);
    if (e == nullptr) return io->missing(info);
    out.push_back(Val::string(e->message));
    return HostCallResult::ok();
  });

  // ---- wasi:io/poll ----
  host.add_function(poll, "[method]pollable.ready", [io](const HostCallInfo& info, Args& a, Args& out) {
    Object* p = io->objects->get(a.at(0), Kind::kPollable);
    if (p == nullptr) return io->missing(info);
    CallScope scope(*io->core, info);
    out.push_back(Val::boolean(io->ready(*p)));
    return HostCallResult::ok();
  });
  host.add_function(poll, "[method]pollable.block", [io](const HostCallInfo& info, Args& a, Args&) {
    Object* p = io->objects->get(a.at(0), Kind::kPollable);
    if (p == nullptr) return io->missing(info);
    CallScope scope(*io->core, info);
    io->wait_any({p});
    if (auto r = run_ended(*io->core)) return std::move(*r);
    return HostCallResult::ok();
  });
  host.add_function(poll, "poll", [io](const HostCallInfo& info, Args& a, Args& out) {
    const Args& list = a.at(0).items;
    if (list.empty()) return HostCallResult::trap(where(info) + ": an empty list of pollables");
    std::vector<const Object*> ps;
    for (const Val& v : list) {
      Object* p = io->objects->get(v, Kind::kPollable);
      if (p == nullptr) return io->missing(info);
      ps.push_back(p);
    }
    CallScope scope(*io->core, info);
    io->wait_any(ps);
    if (auto r = run_ended(*io->core)) return std::move(*r);
    Args ready;
    for (size_t i = 0; i < ps.size(); ++i) {
      if (io->ready(*ps[i])) ready.push_back(Val::u32(static_cast<uint32_t>(i)));
    }
    out.push_back(Val::list(std::move(ready)));
    return HostCallResult::ok();
  });

  // ---- wasi:clocks/monotonic-clock's pollables ----
  const std::string mono = iface("wasi:clocks/monotonic-clock");
  for (bool duration : {false, true}) {
    host.add_function(mono, duration ? "subscribe-duration" : "subscribe-instant",
                      [io, duration](const HostCallInfo& info, Args& a, Args& out) {
                        CallScope scope(*io->core, info);
                        auto now = io->core->clock_now(wasi::Clock::kMonotonic, false);
                        if (!now) return ended_or_refused(*io->core, info, now.error(), kClockGrant);
                        Object p;
                        p.kind = Kind::kPollable;
                        p.poll = Object::Poll::kInstant;
                        p.instant_ns = duration ? wasi::add_sat(*now, a.at(0).bits) : a.at(0).bits;
                        out.push_back(io->own(io->pollable, std::move(p)));
                        return HostCallResult::ok();
                      });
  }

  // ---- wasi:io/streams: input ----
  auto read = [io](const HostCallInfo& info, Args& a, Args& out, bool skip) {
    Object* s = io->objects->get(a.at(0), Kind::kInputStream);
    if (s == nullptr) return io->missing(info);
    CallScope scope(*io->core, info);
    std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(a.at(1).bits, kMaxReadBytes)));
    uint64_t n = 0;
    if (s->body) {  // a response body in host memory: its end is `closed`, or its error
      BodyBuffer& b = *s->body;
      n = std::min<uint64_t>(buf.size(), b.bytes.size() - b.read);
      if (n == 0 && !buf.empty()) {
        out.push_back(b.error ? io->http_stream_error(b) : Val::err(Val::variant(1)));
        return HostCallResult::ok();
      }
      std::copy_n(b.bytes.data() + b.read, n, buf.data());
      b.read += n;
    } else if (!buf.empty()) {
      std::vector<wasi::IoSlice> slices{wasi::IoSlice{buf.data(), static_cast<uint32_t>(buf.size())}};
      const bool file = s->desc->kind == wasi::OpenDescription::Kind::kFile;
      auto r = file ? io->core->pread(*s->desc, slices, s->offset) : io->core->read(*s->desc, slices);
      if (r && file) s->offset += *r;
      if (auto ended = run_ended(*io->core)) return std::move(*ended);
      if (!r) {
        out.push_back(io->stream_error(r.error()));
        return HostCallResult::ok();
      }
      if (*r == 0) {  // end of file
        out.push_back(Val::err(Val::variant(1)));
        return HostCallResult::ok();
      }
      n = *r;
    }
    if (skip) {
      out.push_back(Val::ok(Val::u64(n)));
    } else {
      Args bytes;
      bytes.reserve(n);
      for (uint64_t i = 0; i < n; ++i) bytes.push_back(Val::u8(buf[i]));
      out.push_back(Val::ok(Val::list(std::move(bytes))));
    }
    return HostCallResult::ok();
  };
  // Reads block until data or the end (a stdin read waits, bounded by the run), so read and
  // blocking-read are one.
  for (const char* f : {"[method]input-stream.read", "[method]input-stream.blocking-read"}) {
    host.add_function(streams, f, [read](const HostCallInfo& info, Args& a, Args& out) {
      return read(info, a, out, false);
    });
  }
  for (const char* f : {"[method]input-stream.skip", "[method]input-stream.blocking-skip"}) {
    host.add_function(streams, f, [read](const HostCallInfo& info, Args& a, Args& out) {
      return read(info, a, out, true);
    });
  }
  host.add_function(streams, "[method]input-stream.subscribe", [io](const HostCallInfo& info, Args& a, Args& out) {
    Object* s = io->objects->get(a.at(0), Kind::kInputStream);
    if (s == nullptr) return io->missing(info);
    Object p;
    p.kind = Kind::kPollable;
    p.poll = s->desc && s->desc->kind == wasi::OpenDescription::Kind::kStdin ? Object::Poll::kStdin
                                                                               : Object::Poll::kReady;
    out.push_back(io->own(io->pollable, std::move(p)));
    return HostCallResult::ok();
  });

  // ---- wasi:io/streams: output ----
  auto write = [io](const HostCallInfo& info, Object& s, std::vector<uint8_t>& bytes, Args& out) {
    CallScope scope(*io->core, info);
    if (s.body) {  // an outgoing wasi:http body: buffered until it is finished, up to its bound
      BodyBuffer& b = *s.body;
      if (b.finished) {
        out.push_back(Val::err(Val::variant(1)));
      } else if (bytes.size() > b.limit - std::min<uint64_t>(b.limit, b.bytes.size())) {
        out.push_back(b.error ? io->http_stream_error(b) : Val::err(Val::variant(1)));
      } else if (!b.charge.take(bytes.size())) {
        return HostCallResult::trap(where(info) + ": " + b.charge.refusal());
      } else {
        b.bytes.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        out.push_back(Val::ok());
      }
      return HostCallResult::ok();
    }
    size_t done = 0;
    while (done < bytes.size()) {
      uint32_t len = static_cast<uint32_t>(std::min<size_t>(bytes.size() - done, wasi::Core::kIoChunkBytes));
      std::vector<wasi::IoSlice> slices{wasi::IoSlice{bytes.data() + done, len}};
      wasi::Outcome<uint64_t> r = 0;
      if (s.desc->kind != wasi::OpenDescription::Kind::kFile) {
        r = io->core->write(*s.desc, slices);
      } else if (s.append) {
        auto st = io->core->stat(*s.desc);
        r = st ? io->core->pwrite(*s.desc, slices, st->size) : wasi::Outcome<uint64_t>(tl::unexpected(st.error()));
      } else {
        r = io->core->pwrite(*s.desc, slices, s.offset);
        if (r) s.offset += *r;
      }
      if (auto ended = run_ended(*io->core)) return std::move(*ended);
      if (!r) {
        out.push_back(io->stream_error(r.error()));
        return HostCallResult::ok();
      }
      if (*r == 0) break;
      done += *r;
    }
    out.push_back(Val::ok());
    return HostCallResult::ok();
  };
  auto output = [io](const HostCallInfo& info, Args& a, Object** s) -> std::optional<HostCallResult> {
    *s = io->objects->get(a.at(0), Kind::kOutputStream);
    if (*s == nullptr) return io->missing(info);
    return std::nullopt;
  };
  for (const char* f : {"[method]output-stream.write", "[method]output-stream.blocking-write-and-flush"}) {
    host.add_function(streams, f, [output, write](const HostCallInfo& info, Args& a, Args& out) {
      Object* s;
      if (auto r = output(info, a, &s)) return std::move(*r);
      std::vector<uint8_t> bytes;
      bytes.reserve(a.at(1).items.size());
      for (const Val& b : a.at(1).items) bytes.push_back(static_cast<uint8_t>(b.bits));
      return write(info, *s, bytes, out);
    });
  }
  for (const char* f : {"[method]output-stream.write-zeroes", "[method]output-stream.blocking-write-zeroes-and-flush"}) {
    host.add_function(streams, f, [output, write](const HostCallInfo& info, Args& a, Args& out) {
      Object* s;
      if (auto r = output(info, a, &s)) return std::move(*r);
      if (a.at(1).bits > kWritePermit) {
        return HostCallResult::trap(where(info) + ": " + std::to_string(a.at(1).bits) +
                                    " bytes, more than check-write permits (" + std::to_string(kWritePermit) + ")");
      }
      std::vector<uint8_t> bytes(static_cast<size_t>(a.at(1).bits));
      return write(info, *s, bytes, out);
    });
  }
  host.add_function(streams, "[method]output-stream.check-write", [output](const HostCallInfo& info, Args& a, Args& out) {
    Object* s;
    if (auto r = output(info, a, &s)) return std::move(*r);
    out.push_back(Val::ok(Val::u64(kWritePermit)));
    return HostCallResult::ok();
  });
  for (const char* f : {"[method]output-stream.flush", "[method]output-stream.blocking-flush"}) {
    host.add_function(streams, f, [output](const HostCallInfo& info, Args& a, Args& out) {
      Object* s;
      if (auto r = output(info, a, &s)) return std::move(*r);
      out.push_back(Val::ok());
      return HostCallResult::ok();
    });
  }
  host.add_function(streams, "[method]output-stream.subscribe", [io, output](const HostCallInfo& info, Args& a, Args& out) {
    Object* s;
    if (auto r = output(info, a, &s)) return std::move(*r);
    Object p;
    p.kind = Kind::kPollable;
    out.push_back(io->own(io->pollable, std::move(p)));
    return HostCallResult::ok();
  });
  // splice moves bytes between two streams: refused as unsupported, never partially done.
  for (const char* f : {"[method]output-stream.splice", "[method]output-stream.blocking-splice"}) {
    host.add_function(streams, f, [io, output](const HostCallInfo& info, Args& a, Args& out) {
      Object* s;
      if (auto r = output(info, a, &s)) return std::move(*r);
      out.push_back(io->stream_error(wasi::Errc::kUnsupported));
      return HostCallResult::ok();
    });
  }

  // ---- wasi:cli/stdin, stdout, stderr ----
  for (int i = 0; i < 3; ++i) {
    static const char* const names[] = {"wasi:cli/stdin", "wasi:cli/stdout", "wasi:cli/stderr"};
    static const char* const fns[] = {"get-stdin", "get-stdout", "get-stderr"};
    host.add_function(iface(names[i]), fns[i], [io, i](const HostCallInfo&, Args&, Args& out) {
      Object s;
      s.kind = i == 0 ? Kind::kInputStream : Kind::kOutputStream;
      s.desc = io->core->stdio(i);
      out.push_back(io->own(i == 0 ? io->input : io->output, std::move(s)));
      return HostCallResult::ok();
    });
  }
  // ---- wasi:cli/terminal-*: no terminal is exposed ----
  host.add_resource(iface("wasi:cli/terminal-input"), "terminal-input");
  host.add_resource(iface("wasi:cli/terminal-output"), "terminal-output");
  for (const char* t : {"stdin", "stdout", "stderr"}) {
    host.add_function(iface((std::string("wasi:cli/terminal-") + t).c_str()), std::string("get-terminal-") + t,
                      [](const HostCallInfo&, Args&, Args& out) {
                        out.push_back(Val::none());
                        return HostCallResult::ok();
                      });
  }
  return io->objects;
}

}  // namespace wasmcap::wasip2
