// Internal: the error codes of the WASI host's ABI-neutral capability layer (core.h).
//
// One value per outcome the layer can report, named for what happened, not for an ABI's
// number. Each binding maps them once: the Preview 1 binding to its errno (host.cc, to_p1), a
// WASI 0.2 binding to wasi:filesystem's error-code. Host errno values enter through
// errc_from_host only, so every ABI sees one host failure the same way.
#pragma once

#include <cstdint>

#include <tl/expected.hpp>

namespace wasmcap::wasi {

// clang-format off
enum class Errc : uint8_t {
  kOk = 0,
  // From the host (errc_from_host; the errno each stands for):
  kTooBig,               // E2BIG
  kAccess,               // EACCES
  kWouldBlock,           // EAGAIN
  kBadDescriptor,        // EBADF
  kBusy,                 // EBUSY
  kCanceled,             // ECANCELED
  kDeadlock,             // EDEADLK
  kQuota,                // EDQUOT
  kExist,                // EEXIST
  kFault,                // EFAULT
  kFileTooLarge,         // EFBIG
  kIllegalByteSequence,  // EILSEQ
  kInterrupted,          // EINTR; also: the run must end (Core::take_termination says why)
  kInvalid,              // EINVAL
  kIo,                   // EIO, and every host errno without a value of its own
  kIsDirectory,          // EISDIR
  kLoop,                 // ELOOP
  kTooManyOpen,          // EMFILE
  kTooManyLinks,         // EMLINK
  kMessageSize,          // EMSGSIZE
  kNameTooLong,          // ENAMETOOLONG
  kHostFileTableFull,    // ENFILE
  kNoBuffers,            // ENOBUFS
  kNoDevice,             // ENODEV
  kNoEntry,              // ENOENT
  kNoLock,               // ENOLCK
  kInsufficientMemory,   // ENOMEM
  kInsufficientSpace,    // ENOSPC
  kNotImplemented,       // ENOSYS
  kNotDirectory,         // ENOTDIR
  kNotEmpty,             // ENOTEMPTY
  kUnsupported,          // ENOTSUP
  kNoTty,                // ENOTTY
  kNoSuchDevice,         // ENXIO
  kOverflow,             // EOVERFLOW
  kNotPermitted,         // EPERM
  kPipe,                 // EPIPE
  kRange,                // ERANGE
  kReadOnly,             // EROFS
  kInvalidSeek,          // ESPIPE
  kStale,                // ESTALE
  kTimedOut,             // ETIMEDOUT
  kTextFileBusy,         // ETXTBSY
  kCrossDevice,          // EXDEV from the host (rename across file systems, a tree too large
                         // to check before a move)
  // The sandbox's own outcomes (no host errno):
  kNotCapable,  // the handle or the run lacks the grant: a read-only tree, a denied preopen,
                // a clock or random source not granted
  kEscape,      // the path would leave the directory it is resolved beneath (an absolute path,
                // `..` above it, a symlink climbing out), or a symlink the guest creates or
                // moves could be made to
  kNotSocket,   // a socket call on a descriptor (sockets are never handed out)
};
// clang-format on

// Operations that produce a value return it or the code; those that do not return the code.
template <class T>
using Outcome = tl::expected<T, Errc>;
inline tl::unexpected<Errc> fail(Errc e) { return tl::unexpected<Errc>(e); }

// A host errno (0: kOk). Unknown values are kIo.
Errc errc_from_host(int err);

// The code's name, for diagnostics ("no-entry", "not-capable").
const char* errc_name(Errc e);

}  // namespace wasmcap::wasi
