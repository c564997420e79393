// The fixture of the WASI 0.2 interface tests: a wasi::Core configured as a run's grants
// configure it, the interfaces registered over it, and calls by interface name and version as a
// component's imports make them.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "wasip2/host.h"
#include "wasip2/objects.h"

namespace wasmcap::component {
// gtest prints a Val as its readable form, not its bytes.
inline void PrintTo(const Val& v, std::ostream* os) { *os << v.to_string(); }
}  // namespace wasmcap::component

namespace wasmcap::wasip2 {

using component::HostCallInfo;
using component::HostRegistry;
using component::Val;

struct Call {
  HostCallResult status;
  std::vector<Val> results;
};

class Wasip2 : public ::testing::Test {
 protected:
  void start(WasiConfig config, HttpOptions http = {}) {
    core_ = std::make_unique<wasi::Core>(std::move(config));
    auto r = core_->init();
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    add_cli_clocks_random(host_, *core_);
    objects_ = add_io(host_, *core_);
    add_filesystem(host_, *core_, objects_);
    add_http(host_, *core_, objects_, std::move(http));
  }
  Call call(const std::string& iface, const std::string& fn, std::vector<Val> args = {}) {
    Call c;
    const component::HostFn* f = host_.find_function(iface, fn);
    if (f == nullptr) {
      ADD_FAILURE() << "no " << iface << "#" << fn;
      return c;
    }
    HostCallInfo info{iface, fn, &limits_};
    c.status = (*f)(info, args, c.results);
    return c;
  }
  Val call1(const std::string& iface, const std::string& fn, std::vector<Val> args = {}) {
    Call c = call(iface, fn, std::move(args));
    EXPECT_EQ(c.status.status, HostStatus::kOk) << c.status.message;
    EXPECT_EQ(c.results.size(), 1u);
    return c.results.empty() ? Val() : c.results[0];
  }
  std::vector<uint8_t> bytes(const Val& list) {
    std::vector<uint8_t> out;
    for (const Val& v : list.items) out.push_back(static_cast<uint8_t>(v.bits));
    return out;
  }

  HostRegistry host_;
  ExecLimits limits_;
  std::unique_ptr<wasi::Core> core_;
  std::shared_ptr<Objects> objects_;
};

inline WasiConfig fixed_config() {
  WasiConfig c;
  c.args = {"prog", "a b", "\xc3\xa9"};
  c.env = {{"HOME", "/work"}, {"EMPTY", ""}};
  c.clock.kind = ClockSource::Kind::kFixed;
  c.clock.epoch_ns = 1700000000123456789ull;
  c.clock.step_ns = 1000;
  c.random.kind = RandomSource::Kind::kSeed;
  c.random.seed = 42;
  return c;
}

inline constexpr const char* kStreams = "wasi:io/streams@0.2.12";

inline Val bytes_of(const std::string& s) {
  std::vector<Val> v;
  for (char c : s) v.push_back(Val::u8(static_cast<uint8_t>(c)));
  return Val::list(std::move(v));
}

}  // namespace wasmcap::wasip2
