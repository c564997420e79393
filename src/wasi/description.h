// Internal: an open file, directory or stdio stream of the WASI host's capability layer
// (core.h), the object every ABI's handle refers to.
//
// A Preview 1 fd (host.h FdEntry) and, later, a WASI 0.2 `descriptor` or stream resource are
// references to one OpenDescription: the handle tables differ per ABI (numbers and rights for
// P1, resource handles for 0.2), the object and the operations on it (core.h) do not. It is
// shared (std::shared_ptr): the host descriptor closes with the last reference, as a POSIX open
// file description does.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "platform/fd.h"
#include "wasi/virtual_root.h"

namespace wasmcap::wasi {

// What an entry is, in the terms every ABI maps from (P1 filetype, 0.2 descriptor-type).
enum class FileType : uint8_t {
  kUnknown,
  kBlockDevice,
  kCharacterDevice,
  kDirectory,
  kRegularFile,
  kSocket,
  kSymlink,
  kFifo,
};
FileType file_type_from_mode(mode_t mode);
FileType file_type_from_dirent(unsigned char d_type);

// The virtual devices of the /dev preopen (WasiConfig::dev_files, core.h Core::open_at): no host
// object behind them, so the host's own /dev is never reachable and a seeded run's
// /dev/urandom is its --random stream.
enum class Device : uint8_t {
  kNone,
  kNull,    // reads see end of file, writes are discarded (charged to no budget)
  kZero,    // reads give zero bytes, writes are discarded
  kRandom,  // reads give the run's random source (urandom, random), writes are discarded
};
// The device /dev/NAME is (kNone for a name that is not one). stdin, stdout and stderr are the
// run's own streams (Core::open_at), not devices.
Device device_named(std::string_view name);
// The /dev preopen's guest path.
inline constexpr std::string_view kDevPath = "/dev";

// The open description's flags (P1 fdflags, 0.2 descriptor-flags' sync bits).
struct DescFlags {
  bool append = false;
  bool nonblock = false;
  bool dsync = false;  // data integrity on every write
  bool rsync = false;  // reads synchronised as writes are
  bool sync = false;   // file integrity on every write
};

struct OpenDescription {
  enum class Kind : uint8_t { kStdin, kStdout, kStderr, kFile, kDir };

  OpenDescription(Kind k, platform::UniqueFd f, FileType t) : kind(k), fd(std::move(f)), type(t) {}
  ~OpenDescription() { close_dir_stream(); }
  OpenDescription(const OpenDescription&) = delete;
  OpenDescription& operator=(const OpenDescription&) = delete;

  // A file or directory backed by a host descriptor (not stdio, not a denied preopen, not a
  // virtual directory).
  bool is_host_file() const {
    return (kind == Kind::kFile || kind == Kind::kDir) && fd.valid();
  }
  bool is_dir() const { return kind == Kind::kDir; }
  void close_dir_stream() {
    if (dir_stream != nullptr) ::closedir(dir_stream);  // closes its own dup of fd
    dir_stream = nullptr;
  }

  Kind kind;
  // Owned for files and directories; stdio streams use WasiConfig's descriptors, and a denied
  // preopen has none (every operation on it is kNotCapable).
  platform::UniqueFd fd;
  // Stdio: what the guest sees of the stream behind it (core.cc, stdio_type); otherwise the
  // type when it was opened.
  FileType type;
  DescFlags flags;
  // Beneath a read-only preopen (or a denied one): nothing may modify the tree or the file,
  // whatever the handle's own rights say.
  bool read_only = false;
  // A /dev device (Kind::kFile with no host descriptor; read and write in core.cc), or the
  // /dev preopen itself (Kind::kDir with no host descriptor: only its devices open beneath it).
  Device device = Device::kNone;
  bool dev_dir = false;
  // A directory of the virtual root (virtual_root.h; Kind::kDir with no host descriptor): its
  // node, sharing the ownership of the tree it belongs to. It can be listed and looked into;
  // nothing in it can be changed.
  std::shared_ptr<const VirtualNode> vnode;
  // An inherited pipe passed for writing: our own non-blocking description of it (core.h
  // Core::write_pipe; none without /proc).
  platform::UniqueFd pipe_writer;
  std::string preopen_name;  // set for preopened directories (P1 fd_prestat_*)
  std::string guest_path;    // for diagnostics: the guest-visible path it was opened with
  // Directory iteration (core.h, dir_*): a stream over a duplicate of fd, opened on first use.
  DIR* dir_stream = nullptr;
  uint64_t dir_cookie = 0;  // position (entries read) of the next entry dir_stream returns
  long dir_last_pos = 0;    // telldir() before the last entry read, for dir_unread
};

using DescriptionRef = std::shared_ptr<OpenDescription>;

}  // namespace wasmcap::wasi
