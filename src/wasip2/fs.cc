// wasi:filesystem/{types,preopens} over wasi::Core (host.h): descriptors are Core's open
// descriptions behind resource handles, paths go through Core's one resolver with the same
// rules as P1's path_* calls, and Core's neutral errors become 0.2's error-code.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wasip2/call.h"
#include "wasip2/host.h"
#include "wasip2/objects.h"

namespace wasmcap::wasip2 {
namespace {

using wasi::Errc;

// wasi:filesystem/types' error-code, case by case (the enum's order). Codes 0.2 has no case for
// (not-capable, escape: a refusal of the sandbox) are access, as a host refusing would say.
uint32_t error_code(Errc e) {
  switch (e) {
    case Errc::kAccess: case Errc::kNotCapable: case Errc::kEscape: return 0;  // access
    case Errc::kWouldBlock: return 1;
    case Errc::kBadDescriptor: return 3;
    case Errc::kBusy: return 4;
    case Errc::kDeadlock: return 5;
    case Errc::kQuota: return 6;
    case Errc::kExist: return 7;
    case Errc::kFileTooLarge: return 8;
    case Errc::kIllegalByteSequence: return 9;
    case Errc::kInterrupted: return 11;
    case Errc::kInvalid: return 12;
    case Errc::kIsDirectory: return 14;
    case Errc::kLoop: return 15;
    case Errc::kTooManyLinks: return 16;
    case Errc::kMessageSize: return 17;
    case Errc::kNameTooLong: return 18;
    case Errc::kNoDevice: return 19;
    case Errc::kNoEntry: return 20;
    case Errc::kNoLock: return 21;
    case Errc::kInsufficientMemory: case Errc::kNoBuffers: return 22;
    case Errc::kInsufficientSpace: return 23;
    case Errc::kNotDirectory: return 24;
    case Errc::kNotEmpty: return 25;
    case Errc::kUnsupported: case Errc::kNotImplemented: case Errc::kNotSocket: return 27;
    case Errc::kNoTty: return 28;
    case Errc::kNoSuchDevice: return 29;
    case Errc::kOverflow: case Errc::kRange: return 30;
    case Errc::kNotPermitted: return 31;
    case Errc::kPipe: return 32;
    case Errc::kReadOnly: return 33;
    case Errc::kInvalidSeek: return 34;
    case Errc::kTextFileBusy: return 35;
    case Errc::kCrossDevice: return 36;
    default: return 13;  // io
  }
}

uint32_t descriptor_type(wasi::FileType t) {
  switch (t) {
    case wasi::FileType::kBlockDevice: return 1;
    case wasi::FileType::kCharacterDevice: return 2;
    case wasi::FileType::kDirectory: return 3;
    case wasi::FileType::kFifo: return 4;
    case wasi::FileType::kSymlink: return 5;
    case wasi::FileType::kRegularFile: return 6;
    case wasi::FileType::kSocket: return 7;
    default: return 0;
  }
}

Val timestamp(uint64_t ns) {
  return Val::some(Val::record({Val::u64(ns / 1000000000u), Val::u32(static_cast<uint32_t>(ns % 1000000000u))}));
}

Val stat_val(const wasi::Stat& s) {
  return Val::record({Val::enumeration(descriptor_type(s.type)), Val::u64(s.nlink), Val::u64(s.size),
                      timestamp(s.atim_ns), timestamp(s.mtim_ns), timestamp(s.ctim_ns)});
}

struct Fs {
  wasi::Core* core;
  std::shared_ptr<Objects> objects;
  const ResourceType* descriptor = nullptr;
  const ResourceType* entries = nullptr;
  const ResourceType* input = nullptr;
  const ResourceType* output = nullptr;

  Object* desc(const Val& v) { return objects->get(v, Kind::kDescriptor); }
  Val own_desc(wasi::DescriptionRef d, bool readable = true, bool writable = true) {
    Object o;
    o.kind = Kind::kDescriptor;
    o.desc = std::move(d);
    o.readable = readable;
    o.writable = writable;
    return Val::own(descriptor, objects->add(std::move(o)));
  }
};

HostCallResult missing(const HostCallInfo& info) {
  return HostCallResult::trap(where(info) + ": the handle names no descriptor");
}

// Ends the call with result<T, error-code>: the run's end first, then the error as a value.
HostCallResult fs_error(wasi::Core& core, Errc e, Args& out) {
  if (auto r = run_ended(core)) return std::move(*r);
  out.push_back(Val::err(Val::enumeration(error_code(e))));
  return HostCallResult::ok();
}

// Ends a call with result<_, error-code> from Core's answer.
HostCallResult unit_result(wasi::Core& core, Errc e, Args& out) {
  if (e != Errc::kOk) return fs_error(core, e, out);
  out.push_back(Val::ok());
  return HostCallResult::ok();
}

}  // namespace

void add_filesystem(component::HostRegistry& host, wasi::Core& core, std::shared_ptr<Objects> objects) {
  auto fs = std::make_shared<Fs>();
  fs->core = &core;
  fs->objects = objects;
  std::weak_ptr<Objects> weak = objects;
  auto dtor = [weak](uint32_t rep) {
    if (auto o = weak.lock()) o->erase(rep);
  };
  const std::string types = iface("wasi:filesystem/types"), streams = iface("wasi:io/streams");
  fs->descriptor = host.add_resource(types, "descriptor", dtor);
  fs->entries = host.add_resource(types, "directory-entry-stream", dtor);
  fs->input = host.add_resource(streams, "input-stream", dtor);
  fs->output = host.add_resource(streams, "output-stream", dtor);

  // ---- wasi:filesystem/preopens ----
  host.add_function(iface("wasi:filesystem/preopens"), "get-directories", [fs](const HostCallInfo&, Args&, Args& out) {
    Args list;
    for (const wasi::DescriptionRef& d : fs->core->preopens()) {
      list.push_back(Val::tuple({fs->own_desc(d), Val::string(d->preopen_name)}));
    }
    out.push_back(Val::list(std::move(list)));
    return HostCallResult::ok();
  });

  // ---- descriptors ----
  // Every [method]descriptor.NAME but the two-descriptor ones: the handle looked up (a trap when
  // it names no descriptor), the call scoped to the caller's deadline (CallScope), then `body`.
  using Body = std::function<HostCallResult(Fs&, Object&, Args&, Args&)>;
  auto method = [&host, &types, fs](const char* name, Body body) {
    host.add_function(types, std::string("[method]descriptor.") + name,
                      [fs, body = std::move(body)](const HostCallInfo& info, Args& a, Args& out) {
                        Object* d = fs->desc(a.at(0));
                        if (d == nullptr) return missing(info);
                        CallScope scope(*fs->core, info);
                        return body(*fs, *d, a, out);
                      });
  };
  // path-flags: symlink-follow is bit 0.
  auto follow = [](const Val& flags) { return (flags.bits & 1) ? wasi::Final::kFollow : wasi::Final::kNoFollow; };

  method("get-type", [](Fs& fs, Object& d, Args&, Args& out) {
    auto st = fs.core->stat(*d.desc);
    if (!st) return fs_error(*fs.core, st.error(), out);
    out.push_back(Val::ok(Val::enumeration(descriptor_type(st->type))));
    return HostCallResult::ok();
  });
  method("stat", [](Fs& fs, Object& d, Args&, Args& out) {
    auto st = fs.core->stat(*d.desc);
    if (!st) return fs_error(*fs.core, st.error(), out);
    out.push_back(Val::ok(stat_val(*st)));
    return HostCallResult::ok();
  });
  // stat-at(path-flags, path)
  method("stat-at", [follow](Fs& fs, Object& d, Args& a, Args& out) {
    auto at = fs.core->resolve_at(*d.desc, a.at(2).str, follow(a.at(1)));
    if (!at) return fs_error(*fs.core, at.error(), out);
    auto st = fs.core->stat_at(*at);
    if (!st) return fs_error(*fs.core, st.error(), out);
    out.push_back(Val::ok(stat_val(*st)));
    return HostCallResult::ok();
  });
  // open-at(path-flags, path, open-flags, descriptor-flags)
  method("open-at", [](Fs& fs, Object& d, Args& a, Args& out) {
    wasi::OpenRequest req;
    req.follow = a.at(1).bits & 1;
    const uint64_t of = a.at(3).bits, df = a.at(4).bits;
    req.create = of & 1;
    req.directory = of & 2;
    req.exclusive = of & 4;
    req.truncate = of & 8;
    req.read = df & 1;
    req.write = df & 2;
    auto r = fs.core->open_at(*d.desc, a.at(2).str, req);
    if (!r) return fs_error(*fs.core, r.error(), out);
    const bool dir = (*r)->kind == wasi::OpenDescription::Kind::kDir;
    out.push_back(Val::ok(fs.own_desc(std::move(*r), req.read || dir, req.write)));
    return HostCallResult::ok();
  });
  // Streams over a file at an offset: the io binding's reads and writes (io.cc).
  for (const char* f : {"read-via-stream", "write-via-stream", "append-via-stream"}) {
    const bool read = f[0] == 'r', append = f[0] == 'a';
    method(f, [read, append](Fs& fs, Object& d, Args& a, Args& out) {
      if (d.desc->kind != wasi::OpenDescription::Kind::kFile) return fs_error(*fs.core, Errc::kIsDirectory, out);
      if (!read && d.desc->read_only) return fs_error(*fs.core, Errc::kNotCapable, out);
      // A stream needs the access it moves bytes with (P1: fd_read/fd_write's rights): bad-descriptor.
      if (read ? !d.readable : !d.writable) return fs_error(*fs.core, Errc::kBadDescriptor, out);
      Object s;
      s.kind = read ? Kind::kInputStream : Kind::kOutputStream;
      s.desc = d.desc;
      s.offset = append ? 0 : a.at(1).bits;
      s.append = append;
      out.push_back(Val::ok(Val::own(read ? fs.input : fs.output, fs.objects->add(std::move(s)))));
      return HostCallResult::ok();
    });
  }
  // read(length, offset) -> result<tuple<list<u8>, bool>, error-code>: at most kMaxReadBytes a
  // call (0.2 lets a read return less), the bool true when a read of at least one byte found
  // the end of the file (as wasmtime and jco's shim answer). write(buffer, offset) ->
  // result<filesize, error-code>: every byte, in Core's chunks, or as many as were written
  // before an error (the error itself when none were). Both at an offset, the description's
  // position untouched; P1's rules (Core::check_positional, pread, pwrite): a file only, a
  // read-only preopen refuses a write, the write budget is charged past the end; and the access
  // open-at asked (bad-descriptor).
  method("read", [](Fs& fs, Object& d, Args& a, Args& out) {
    if (!d.readable) return fs_error(*fs.core, Errc::kBadDescriptor, out);
    const uint64_t offset = a.at(2).bits;
    if (Errc e = fs.core->check_positional(*d.desc, offset); e != Errc::kOk) return fs_error(*fs.core, e, out);
    std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(a.at(1).bits, kMaxReadBytes)));
    uint64_t n = 0;
    if (!buf.empty()) {
      std::vector<wasi::IoSlice> slices{wasi::IoSlice{buf.data(), static_cast<uint32_t>(buf.size())}};
      auto r = fs.core->pread(*d.desc, slices, offset);
      if (!r) return fs_error(*fs.core, r.error(), out);
      n = *r;
    }
    if (auto ended = run_ended(*fs.core)) return std::move(*ended);
    Args bytes;
    bytes.reserve(n);
    for (uint64_t i = 0; i < n; ++i) bytes.push_back(Val::u8(buf[i]));
    out.push_back(Val::ok(Val::tuple({Val::list(std::move(bytes)), Val::boolean(n == 0 && !buf.empty())})));
    return HostCallResult::ok();
  });
  method("write", [](Fs& fs, Object& d, Args& a, Args& out) {
    if (d.desc->read_only) return fs_error(*fs.core, Errc::kNotCapable, out);  // before the access
    if (!d.writable) return fs_error(*fs.core, Errc::kBadDescriptor, out);
    const uint64_t offset = a.at(2).bits;
    if (Errc e = fs.core->check_positional(*d.desc, offset); e != Errc::kOk) return fs_error(*fs.core, e, out);
    std::vector<uint8_t> bytes;
    bytes.reserve(a.at(1).items.size());
    for (const Val& b : a.at(1).items) bytes.push_back(static_cast<uint8_t>(b.bits));
    uint64_t done = 0;
    while (done < bytes.size()) {
      const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(bytes.size() - done, wasi::Core::kIoChunkBytes));
      std::vector<wasi::IoSlice> slices{wasi::IoSlice{bytes.data() + done, len}};
      auto r = fs.core->pwrite(*d.desc, slices, offset + done);
      if (!r) {
        if (done == 0) return fs_error(*fs.core, r.error(), out);
        break;
      }
      if (*r == 0) break;
      done += *r;
      if (run_ended(*fs.core)) break;
    }
    if (auto ended = run_ended(*fs.core)) return std::move(*ended);
    out.push_back(Val::ok(Val::u64(done)));
    return HostCallResult::ok();
  });
  // (path): one Core call on the entry the path names.
  using EntryCall = Errc (wasi::Core::*)(const wasi::PathAt&);
  for (auto [f, call] : {std::pair<const char*, EntryCall>{"create-directory-at", &wasi::Core::create_directory},
                         {"remove-directory-at", &wasi::Core::remove_directory},
                         {"unlink-file-at", &wasi::Core::unlink_file}}) {
    method(f, [call](Fs& fs, Object& d, Args& a, Args& out) {
      auto at = fs.core->resolve_at(*d.desc, a.at(1).str, wasi::Final::kEntry);
      if (!at) return fs_error(*fs.core, at.error(), out);
      return unit_result(*fs.core, (fs.core->*call)(*at), out);
    });
  }
  method("read-directory", [](Fs& fs, Object& d, Args&, Args& out) {
    if (Errc e = wasi::Core::check_listable(*d.desc); e != Errc::kOk) return fs_error(*fs.core, e, out);
    Object s;
    s.kind = Kind::kDirEntries;
    s.desc = d.desc;
    out.push_back(Val::ok(Val::own(fs.entries, fs.objects->add(std::move(s)))));
    return HostCallResult::ok();
  });
  // One entry per call, "." and ".." left out (0.2 lists neither).
  host.add_function(types, "[method]directory-entry-stream.read-directory-entry",
                    [fs](const HostCallInfo& info, Args& a, Args& out) {
                      Object* s = fs->objects->get(a.at(0), Kind::kDirEntries);
                      if (s == nullptr) return missing(info);
                      CallScope scope(*fs->core, info);
                      for (;;) {
                        if (Errc e = fs->core->dir_seek(*s->desc, s->offset); e != Errc::kOk) {
                          return fs_error(*fs->core, e, out);
                        }
                        wasi::DirEntry entry;
                        auto more = fs->core->dir_next(*s->desc, &entry);
                        if (!more) return fs_error(*fs->core, more.error(), out);
                        if (!*more) {
                          out.push_back(Val::ok(Val::none()));
                          return HostCallResult::ok();
                        }
                        s->offset = entry.next_cookie;
                        if (entry.name == "." || entry.name == "..") continue;
                        out.push_back(Val::ok(Val::some(Val::record(
                            {Val::enumeration(descriptor_type(entry.type)), Val::string(std::string(entry.name))}))));
                        return HostCallResult::ok();
                      }
                    });
  // (self, old-path-flags, old-path, new-descriptor, new-path) / (self, old-path, new-descriptor, new-path)
  for (bool link : {false, true}) {
    host.add_function(types, link ? "[method]descriptor.link-at" : "[method]descriptor.rename-at",
                      [fs, link](const HostCallInfo& info, Args& a, Args& out) {
                        const size_t o = link ? 1 : 0;  // link-at has old-path-flags first
                        Object* from = fs->desc(a.at(0));
                        Object* to = fs->desc(a.at(2 + o));
                        if (from == nullptr || to == nullptr) return missing(info);
                        CallScope scope(*fs->core, info);
                        auto f = fs->core->resolve_at(*from->desc, a.at(1 + o).str,
                                                      link && (a.at(1).bits & 1) ? wasi::Final::kFollow : wasi::Final::kEntry);
                        if (!f) return fs_error(*fs->core, f.error(), out);
                        auto t = fs->core->resolve_at(*to->desc, a.at(3 + o).str, wasi::Final::kEntry);
                        if (!t) return fs_error(*fs->core, t.error(), out);
                        return unit_result(*fs->core, link ? fs->core->link(*f, *t) : fs->core->rename(*f, *t), out);
                      });
  }
  method("symlink-at", [](Fs& fs, Object& d, Args& a, Args& out) {
    auto at = fs.core->resolve_at(*d.desc, a.at(2).str, wasi::Final::kEntry);
    if (!at) return fs_error(*fs.core, at.error(), out);
    return unit_result(*fs.core, fs.core->symlink(a.at(1).str, *d.desc, *at), out);
  });
  method("readlink-at", [](Fs& fs, Object& d, Args& a, Args& out) {
    auto at = fs.core->resolve_at(*d.desc, a.at(1).str, wasi::Final::kEntry);
    if (!at) return fs_error(*fs.core, at.error(), out);
    auto r = fs.core->readlink(*at);
    if (!r) return fs_error(*fs.core, r.error(), out);
    out.push_back(Val::ok(Val::string(std::move(*r))));
    return HostCallResult::ok();
  });
  method("set-size", [](Fs& fs, Object& d, Args& a, Args& out) {
    return unit_result(*fs.core, fs.core->set_size(*d.desc, a.at(1).bits), out);
  });
  // new-timestamp: no-change | now | timestamp(datetime)
  auto times = [](const Val& v) {
    wasi::Timestamp t;
    if (v.bits == 1) t.kind = wasi::Timestamp::Kind::kNow;
    if (v.bits == 2 && v.items.size() == 1 && v.items[0].items.size() == 2) {
      t.kind = wasi::Timestamp::Kind::kSet;
      const uint64_t sec = v.items[0].items[0].bits, ns = v.items[0].items[1].bits;
      if (sec > (UINT64_MAX - ns) / 1000000000u) {
        t.kind = wasi::Timestamp::Kind::kInvalid;
      } else {
        t.ns = sec * 1000000000u + ns;
      }
    }
    return t;
  };
  method("set-times", [times](Fs& fs, Object& d, Args& a, Args& out) {
    return unit_result(*fs.core, fs.core->set_times(*d.desc, times(a.at(1)), times(a.at(2))), out);
  });
  method("set-times-at", [times, follow](Fs& fs, Object& d, Args& a, Args& out) {
    auto at = fs.core->resolve_at(*d.desc, a.at(2).str, follow(a.at(1)));
    if (!at) return fs_error(*fs.core, at.error(), out);
    return unit_result(*fs.core, fs.core->set_times_at(*at, times(a.at(3)), times(a.at(4))), out);
  });
  for (bool data : {false, true}) {
    method(data ? "sync-data" : "sync", [data](Fs& fs, Object& d, Args&, Args& out) {
      return unit_result(*fs.core, fs.core->sync(*d.desc, data), out);
    });
  }
  method("advise", [](Fs& fs, Object& d, Args& a, Args& out) {
    // advice: normal, sequential, random, will-need, dont-need, no-reuse (Core's order)
    Errc e = a.at(3).bits > 5 ? Errc::kInvalid
                              : fs.core->advise(*d.desc, a.at(1).bits, a.at(2).bits,
                                                static_cast<wasi::FileAdvice>(a.at(3).bits));
    return unit_result(*fs.core, e, out);
  });
  // descriptor-flags: read, write, file-integrity-sync, data-integrity-sync, requested-write-sync,
  // mutate-directory.
  method("get-flags", [](Fs&, Object& d, Args&, Args& out) {
    const wasi::OpenDescription& od = *d.desc;
    uint32_t f = 0;
    if (od.kind == wasi::OpenDescription::Kind::kDir) {
      f = 1 | (od.read_only ? 0 : 32);
    } else {
      f = (d.readable ? 1 : 0) | (d.writable && !od.read_only ? 2 : 0);
    }
    if (od.flags.sync) f |= 4;
    if (od.flags.dsync) f |= 8;
    if (od.flags.rsync) f |= 16;
    out.push_back(Val::ok(Val::flags(f)));
    return HostCallResult::ok();
  });
  // metadata-hash: (dev, ino) mixed, so equal objects hash equal and the host's numbers stay hidden.
  auto hash = [](const wasi::Stat& st) {
    auto mix = [](uint64_t x) {
      x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
      return x;
    };
    return Val::ok(Val::record({Val::u64(mix(st.dev * 31 + st.ino)), Val::u64(mix(st.ino ^ 0x9e3779b97f4a7c15ull) ^ st.dev)}));
  };
  method("metadata-hash", [hash](Fs& fs, Object& d, Args&, Args& out) {
    auto st = fs.core->stat(*d.desc);
    if (!st) return fs_error(*fs.core, st.error(), out);
    out.push_back(hash(*st));
    return HostCallResult::ok();
  });
  method("metadata-hash-at", [hash, follow](Fs& fs, Object& d, Args& a, Args& out) {
    auto at = fs.core->resolve_at(*d.desc, a.at(2).str, follow(a.at(1)));
    if (!at) return fs_error(*fs.core, at.error(), out);
    auto st = fs.core->stat_at(*at);
    if (!st) return fs_error(*fs.core, st.error(), out);
    out.push_back(hash(*st));
    return HostCallResult::ok();
  });
  host.add_function(types, "[method]descriptor.is-same-object", [fs](const HostCallInfo& info, Args& a, Args& out) {
    Object* x = fs->desc(a.at(0));
    Object* y = fs->desc(a.at(1));
    if (x == nullptr || y == nullptr) return missing(info);
    CallScope scope(*fs->core, info);
    auto sx = fs->core->stat(*x->desc), sy = fs->core->stat(*y->desc);
    out.push_back(Val::boolean(sx && sy && sx->dev == sy->dev && sx->ino == sy->ino));
    return HostCallResult::ok();
  });

  // filesystem-error-code(borrow<error>): the code an error from a file stream carries.
  host.add_function(types, "filesystem-error-code", [fs](const HostCallInfo&, Args& a, Args& out) {
    Object* e = fs->objects->get(a.at(0), Kind::kError);
    if (e == nullptr || e->errc == Errc::kOk) {
      out.push_back(Val::none());
    } else {
      out.push_back(Val::some(Val::enumeration(error_code(e->errc))));
    }
    return HostCallResult::ok();
  });
}

}  // namespace wasmcap::wasip2
