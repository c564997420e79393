// The capability layer's error codes (src/wasi/errc.h) and the Preview 1 binding's mapping of
// them (host.cc, to_p1): a host errno reaches a P1 guest as the errno it did before the layer
// had codes of its own (the table below is that mapping), and every code has one P1 errno and
// a name.
#include "wasi/errc.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <string>

#include "wasi/host.h"

namespace wasmcap::wasi {
namespace {

TEST(WasiErrc, HostErrnosReachPreview1Unchanged) {
  struct Case {
    int host;
    Errno p1;
  };
  const Case cases[] = {
      {0, kSuccess},          {E2BIG, kE2big},          {EACCES, kEacces},
      {EAGAIN, kEagain},      {EBADF, kEbadf},          {EBUSY, kEbusy},
      {ECANCELED, kEcanceled}, {EDQUOT, kEdquot},       {EEXIST, kEexist},
      {EFAULT, kEfault},      {EFBIG, kEfbig},          {EILSEQ, kEilseq},
      {EINTR, kEintr},        {EINVAL, kEinval},        {EIO, kEio},
      {EISDIR, kEisdir},      {ELOOP, kEloop},          {EMFILE, kEmfile},
      {EMLINK, kEmlink},      {ENAMETOOLONG, kEnametoolong}, {ENFILE, kEnfile},
      {ENODEV, kEnodev},      {ENOENT, kEnoent},        {ENOMEM, kEnomem},
      {ENOSPC, kEnospc},      {ENOSYS, kEnosys},        {ENOTDIR, kEnotdir},
      {ENOTEMPTY, kEnotempty}, {ENOTSUP, kEnotsup},     {ENOTTY, kEnotty},
      {ENXIO, kEnxio},        {EOVERFLOW, kEoverflow},  {EPERM, kEperm},
      {EPIPE, kEpipe},        {ERANGE, kErange},        {EROFS, kErofs},
      {ESPIPE, kEspipe},      {ETIMEDOUT, kEtimedout},  {ETXTBSY, kEtxtbsy},
      {ESTALE, kEstale},      {ENOLCK, kEnolck},        {EMSGSIZE, kEmsgsize},
      {ENOBUFS, kEnobufs},    {EDEADLK, kEdeadlk},      {EXDEV, kExdev},
      {EHOSTUNREACH, kEio},   {ECHILD, kEio},  // no code of their own: io
  };
  for (const auto& c : cases) {
    EXPECT_EQ(to_p1(errc_from_host(c.host)), c.p1) << "host errno " << c.host;
  }
}

TEST(WasiErrc, SandboxCodesAndNames) {
  EXPECT_EQ(to_p1(Errc::kNotCapable), kEnotcapable);
  EXPECT_EQ(to_p1(Errc::kEscape), kEperm);
  EXPECT_EQ(to_p1(Errc::kNotSocket), kEnotsock);
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(Errc::kNotSocket); ++i) {
    std::string n = errc_name(static_cast<Errc>(i));
    EXPECT_NE(n, "unknown") << i;
    EXPECT_TRUE(names.insert(n).second) << "two codes named " << n;
    if (i != 0) {
      EXPECT_NE(to_p1(static_cast<Errc>(i)), kSuccess) << n;
    }
  }
}

}  // namespace
}  // namespace wasmcap::wasi
