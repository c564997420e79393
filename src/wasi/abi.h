// WASI Preview 1 ABI constants (from the witx definitions of wasi_snapshot_preview1).
// Written out here rather than taken from wasi-libc's <wasi/api.h>, whose layout asserts
// only hold on wasm32 targets.
#pragma once

#include <cstdint>

namespace wasmcap::wasi {

using Errno = uint16_t;
// clang-format off
enum : Errno {
  kSuccess = 0, kE2big = 1, kEacces = 2, kEaddrinuse = 3, kEaddrnotavail = 4, kEafnosupport = 5,
  kEagain = 6, kEalready = 7, kEbadf = 8, kEbadmsg = 9, kEbusy = 10, kEcanceled = 11,
  kEchild = 12, kEconnaborted = 13, kEconnrefused = 14, kEconnreset = 15, kEdeadlk = 16,
  kEdestaddrreq = 17, kEdom = 18, kEdquot = 19, kEexist = 20, kEfault = 21, kEfbig = 22,
  kEhostunreach = 23, kEidrm = 24, kEilseq = 25, kEinprogress = 26, kEintr = 27, kEinval = 28,
  kEio = 29, kEisconn = 30, kEisdir = 31, kEloop = 32, kEmfile = 33, kEmlink = 34,
  kEmsgsize = 35, kEmultihop = 36, kEnametoolong = 37, kEnetdown = 38, kEnetreset = 39,
  kEnetunreach = 40, kEnfile = 41, kEnobufs = 42, kEnodev = 43, kEnoent = 44, kEnoexec = 45,
  kEnolck = 46, kEnolink = 47, kEnomem = 48, kEnomsg = 49, kEnoprotoopt = 50, kEnospc = 51,
  kEnosys = 52, kEnotconn = 53, kEnotdir = 54, kEnotempty = 55, kEnotrecoverable = 56,
  kEnotsock = 57, kEnotsup = 58, kEnotty = 59, kEnxio = 60, kEoverflow = 61, kEownerdead = 62,
  kEperm = 63, kEpipe = 64, kEproto = 65, kEprotonosupport = 66, kEprototype = 67,
  kErange = 68, kErofs = 69, kEspipe = 70, kEsrch = 71, kEstale = 72, kEtimedout = 73,
  kEtxtbsy = 74, kExdev = 75, kEnotcapable = 76,
};

using Rights = uint64_t;
enum : Rights {
  kRightFdDatasync = 1ull << 0, kRightFdRead = 1ull << 1, kRightFdSeek = 1ull << 2,
  kRightFdFdstatSetFlags = 1ull << 3, kRightFdSync = 1ull << 4, kRightFdTell = 1ull << 5,
  kRightFdWrite = 1ull << 6, kRightFdAdvise = 1ull << 7, kRightFdAllocate = 1ull << 8,
  kRightPathCreateDirectory = 1ull << 9, kRightPathCreateFile = 1ull << 10,
  kRightPathLinkSource = 1ull << 11, kRightPathLinkTarget = 1ull << 12,
  kRightPathOpen = 1ull << 13, kRightFdReaddir = 1ull << 14, kRightPathReadlink = 1ull << 15,
  kRightPathRenameSource = 1ull << 16, kRightPathRenameTarget = 1ull << 17,
  kRightPathFilestatGet = 1ull << 18, kRightPathFilestatSetSize = 1ull << 19,
  kRightPathFilestatSetTimes = 1ull << 20, kRightFdFilestatGet = 1ull << 21,
  kRightFdFilestatSetSize = 1ull << 22, kRightFdFilestatSetTimes = 1ull << 23,
  kRightPathSymlink = 1ull << 24, kRightPathRemoveDirectory = 1ull << 25,
  kRightPathUnlinkFile = 1ull << 26, kRightPollFdReadwrite = 1ull << 27,
  kRightSockShutdown = 1ull << 28, kRightSockAccept = 1ull << 29,
};
constexpr Rights kAllRights = (1ull << 30) - 1;
// Rights that modify the filesystem: stripped from read-only preopens and everything below.
constexpr Rights kWriteRights =
    kRightFdDatasync | kRightFdWrite | kRightFdAllocate | kRightPathCreateDirectory |
    kRightPathCreateFile | kRightPathLinkSource | kRightPathLinkTarget |
    kRightPathRenameSource | kRightPathRenameTarget | kRightPathFilestatSetSize |
    kRightPathFilestatSetTimes | kRightFdFilestatSetSize | kRightFdFilestatSetTimes |
    kRightPathSymlink | kRightPathRemoveDirectory | kRightPathUnlinkFile | kRightFdSync;
constexpr Rights kDirectoryRights =
    kRightFdFdstatSetFlags | kRightFdSync | kRightFdAdvise | kRightPathCreateDirectory |
    kRightPathCreateFile | kRightPathLinkSource | kRightPathLinkTarget | kRightPathOpen |
    kRightFdReaddir | kRightPathReadlink | kRightPathRenameSource | kRightPathRenameTarget |
    kRightPathFilestatGet | kRightPathFilestatSetSize | kRightPathFilestatSetTimes |
    kRightFdFilestatGet | kRightFdFilestatSetTimes | kRightPathSymlink |
    kRightPathRemoveDirectory | kRightPathUnlinkFile | kRightFdDatasync;
constexpr Rights kFileRights =
    kRightFdDatasync | kRightFdRead | kRightFdSeek | kRightFdFdstatSetFlags | kRightFdSync |
    kRightFdTell | kRightFdWrite | kRightFdAdvise | kRightFdAllocate | kRightFdFilestatGet |
    kRightFdFilestatSetSize | kRightFdFilestatSetTimes | kRightPollFdReadwrite;

enum Filetype : uint8_t {
  kFiletypeUnknown = 0, kFiletypeBlockDevice = 1, kFiletypeCharacterDevice = 2,
  kFiletypeDirectory = 3, kFiletypeRegularFile = 4, kFiletypeSocketDgram = 5,
  kFiletypeSocketStream = 6, kFiletypeSymbolicLink = 7,
};

using Fdflags = uint16_t;
enum : Fdflags { kFdflagAppend = 1, kFdflagDsync = 2, kFdflagNonblock = 4, kFdflagRsync = 8,
                 kFdflagSync = 16 };
using Oflags = uint16_t;
enum : Oflags { kOflagCreat = 1, kOflagDirectory = 2, kOflagExcl = 4, kOflagTrunc = 8 };
using Lookupflags = uint32_t;
enum : Lookupflags { kLookupSymlinkFollow = 1 };
using Fstflags = uint16_t;
enum : Fstflags { kFstAtim = 1, kFstAtimNow = 2, kFstMtim = 4, kFstMtimNow = 8 };

enum Whence : uint8_t { kWhenceSet = 0, kWhenceCur = 1, kWhenceEnd = 2 };
enum Clockid : uint32_t { kClockRealtime = 0, kClockMonotonic = 1, kClockProcessCputime = 2,
                          kClockThreadCputime = 3 };
enum Eventtype : uint8_t { kEventClock = 0, kEventFdRead = 1, kEventFdWrite = 2 };
enum : uint16_t { kSubclockAbstime = 1 };
enum : uint16_t { kEventrwflagHangup = 1 };
// kPreopentypeNotDir is not in witx: what fd_prestat_get answers for an inherited descriptor
// numbered among the preopens, so that a libc's preopen scan skips it (WasiConfig::inherited_fds).
enum Preopentype : uint8_t { kPreopentypeDir = 0, kPreopentypeNotDir = 1 };
enum Advice : uint8_t { kAdviceNormal = 0, kAdviceSequential = 1, kAdviceRandom = 2,
                        kAdviceWillneed = 3, kAdviceDontneed = 4, kAdviceNoreuse = 5 };
// clang-format on

// Struct layouts (wasm32): sizes and field offsets used when reading/writing guest memory.
constexpr uint32_t kIovecSize = 8;        // buf: u32 @0, buf_len: u32 @4
constexpr uint32_t kFdstatSize = 24;      // filetype u8 @0, flags u16 @2, base u64 @8, inh u64 @16
constexpr uint32_t kFilestatSize = 64;    // dev@0 ino@8 filetype@16 nlink@24 size@32 atim@40 mtim@48 ctim@56
constexpr uint32_t kDirentSize = 24;      // d_next@0 d_ino@8 d_namlen u32@16 d_type u8@20
constexpr uint32_t kPrestatSize = 8;      // tag u8 @0, pr_name_len u32 @4
constexpr uint32_t kSubscriptionSize = 48;  // userdata@0 tag u8@8 clock{id u32@16 timeout@24 precision@32 flags u16@40} | fd u32@16
constexpr uint32_t kEventSize = 32;

// wasi_unstable (WASI snapshot 0, from toolchains before 2020): the same functions, errnos,
// rights, flags, dirent, fdstat and event as Preview 1 (less sock_accept) but for three things,
// which wasmcap maps onto the Preview 1 host as wasmtime's preview0 adapter does
// (src/wasi/register.cc binds the module, WasiHost::unstable_* serve the three):
// - whence is CUR=0, END=1, SET=2;
// - the filestat has a 32-bit nlink (saturated at UINT32_MAX), so it is 56 bytes:
//   dev@0 ino@8 filetype@16 nlink u32@20 size@24 atim@32 mtim@40 ctim@48;
// - a clock subscription carries a u64 identifier first, so a subscription is 56 bytes:
//   userdata@0 tag u8@8 clock{identifier@16 id u32@24 timeout@32 precision@40 flags u16@48} |
//   fd u32@16.
enum class Snapshot : uint8_t { kPreview1, kUnstable };
enum UnstableWhence : uint8_t { kUnstableWhenceCur = 0, kUnstableWhenceEnd = 1,
                                kUnstableWhenceSet = 2 };
constexpr uint32_t kUnstableFilestatSize = 56;
constexpr uint32_t kUnstableSubscriptionSize = 56;

constexpr uint32_t filestat_size(Snapshot s) {
  return s == Snapshot::kUnstable ? kUnstableFilestatSize : kFilestatSize;
}
constexpr uint32_t subscription_size(Snapshot s) {
  return s == Snapshot::kUnstable ? kUnstableSubscriptionSize : kSubscriptionSize;
}
// Where a clock subscription's clock id sits (the timeout follows 8 bytes on, the flags 24).
constexpr uint32_t subscription_clock_id_offset(Snapshot s) {
  return s == Snapshot::kUnstable ? 24 : 16;
}

}  // namespace wasmcap::wasi
