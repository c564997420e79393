// A scripted https::Client for ABI and SDK tests: records every request and answers with
// whatever the test's responder returns. No network.
#pragma once

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "wasmcap/https.h"

namespace wasmcap::testing {

class FakeClient : public https::Client {
 public:
  using Responder = std::function<https::Outcome(const https::Request&)>;
  explicit FakeClient(Responder r) : responder_(std::move(r)) {}
  https::Outcome fetch(const https::Request& request) override {
    seen.push_back(request);
    return responder_(request);
  }
  std::vector<https::Request> seen;

 private:
  Responder responder_;
};

inline https::Outcome ok_response(uint16_t status, std::string body,
                                  std::vector<https::Header> headers = {},
                                  bool truncated = false) {
  https::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  r.truncated = truncated;
  return r;
}

inline https::Outcome failure(https::HttpsError code, std::string message) {
  return tl::unexpected(https::Failure{code, std::move(message)});
}

}  // namespace wasmcap::testing
