// Host errno values as the capability layer's codes (errc.h).
#include "wasi/errc.h"

#include <cerrno>

namespace wasmcap::wasi {

Errc errc_from_host(int err) {
  switch (err) {
    case 0: return Errc::kOk;
    case E2BIG: return Errc::kTooBig;
    case EACCES: return Errc::kAccess;
    case EAGAIN: return Errc::kWouldBlock;
    case EBADF: return Errc::kBadDescriptor;
    case EBUSY: return Errc::kBusy;
    case ECANCELED: return Errc::kCanceled;
    case EDEADLK: return Errc::kDeadlock;
    case EDQUOT: return Errc::kQuota;
    case EEXIST: return Errc::kExist;
    case EFAULT: return Errc::kFault;
    case EFBIG: return Errc::kFileTooLarge;
    case EILSEQ: return Errc::kIllegalByteSequence;
    case EINTR: return Errc::kInterrupted;
    case EINVAL: return Errc::kInvalid;
    case EIO: return Errc::kIo;
    case EISDIR: return Errc::kIsDirectory;
    case ELOOP: return Errc::kLoop;
    case EMFILE: return Errc::kTooManyOpen;
    case EMLINK: return Errc::kTooManyLinks;
    case EMSGSIZE: return Errc::kMessageSize;
    case ENAMETOOLONG: return Errc::kNameTooLong;
    case ENFILE: return Errc::kHostFileTableFull;
    case ENOBUFS: return Errc::kNoBuffers;
    case ENODEV: return Errc::kNoDevice;
    case ENOENT: return Errc::kNoEntry;
    case ENOLCK: return Errc::kNoLock;
    case ENOMEM: return Errc::kInsufficientMemory;
    case ENOSPC: return Errc::kInsufficientSpace;
    case ENOSYS: return Errc::kNotImplemented;
    case ENOTDIR: return Errc::kNotDirectory;
    case ENOTEMPTY: return Errc::kNotEmpty;
    case ENOTSUP: return Errc::kUnsupported;
    case ENOTTY: return Errc::kNoTty;
    case ENXIO: return Errc::kNoSuchDevice;
    case EOVERFLOW: return Errc::kOverflow;
    case EPERM: return Errc::kNotPermitted;
    case EPIPE: return Errc::kPipe;
    case ERANGE: return Errc::kRange;
    case EROFS: return Errc::kReadOnly;
    case ESPIPE: return Errc::kInvalidSeek;
    case ESTALE: return Errc::kStale;
    case ETIMEDOUT: return Errc::kTimedOut;
    case ETXTBSY: return Errc::kTextFileBusy;
    case EXDEV: return Errc::kCrossDevice;
    default: return Errc::kIo;
  }
}

const char* errc_name(Errc e) {
  switch (e) {
    case Errc::kOk: return "ok";
    case Errc::kTooBig: return "too-big";
    case Errc::kAccess: return "access";
    case Errc::kWouldBlock: return "would-block";
    case Errc::kBadDescriptor: return "bad-descriptor";
    case Errc::kBusy: return "busy";
    case Errc::kCanceled: return "canceled";
    case Errc::kDeadlock: return "deadlock";
    case Errc::kQuota: return "quota";
    case Errc::kExist: return "exist";
    case Errc::kFault: return "fault";
    case Errc::kFileTooLarge: return "file-too-large";
    case Errc::kIllegalByteSequence: return "illegal-byte-sequence";
    case Errc::kInterrupted: return "interrupted";
    case Errc::kInvalid: return "invalid";
    case Errc::kIo: return "io";
    case Errc::kIsDirectory: return "is-directory";
    case Errc::kLoop: return "loop";
    case Errc::kTooManyOpen: return "too-many-open";
    case Errc::kTooManyLinks: return "too-many-links";
    case Errc::kMessageSize: return "message-size";
    case Errc::kNameTooLong: return "name-too-long";
    case Errc::kHostFileTableFull: return "host-file-table-full";
    case Errc::kNoBuffers: return "no-buffers";
    case Errc::kNoDevice: return "no-device";
    case Errc::kNoEntry: return "no-entry";
    case Errc::kNoLock: return "no-lock";
    case Errc::kInsufficientMemory: return "insufficient-memory";
    case Errc::kInsufficientSpace: return "insufficient-space";
    case Errc::kNotImplemented: return "not-implemented";
    case Errc::kNotDirectory: return "not-directory";
    case Errc::kNotEmpty: return "not-empty";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kNoTty: return "no-tty";
    case Errc::kNoSuchDevice: return "no-such-device";
    case Errc::kOverflow: return "overflow";
    case Errc::kNotPermitted: return "not-permitted";
    case Errc::kPipe: return "pipe";
    case Errc::kRange: return "range";
    case Errc::kReadOnly: return "read-only";
    case Errc::kInvalidSeek: return "invalid-seek";
    case Errc::kStale: return "stale";
    case Errc::kTimedOut: return "timed-out";
    case Errc::kTextFileBusy: return "text-file-busy";
    case Errc::kCrossDevice: return "cross-device";
    case Errc::kNotCapable: return "not-capable";
    case Errc::kEscape: return "escape";
    case Errc::kNotSocket: return "not-socket";
  }
  return "unknown";
}

}  // namespace wasmcap::wasi
