// A real HTTPS server on loopback for tests of the https host API, plus a throwaway test PKI.
//
// Header-only; needs only POSIX, the `openssl` CLI and python3 at test time. Reuse it from any
// test (unit or end-to-end):
//
//   #include "https_test_server.h"          // tests/support is on the include path
//   using wasmcap::testing::TestPki;
//   using wasmcap::testing::HttpsTestServer;
//
//   TestPki pki;                                         // CA + server cert in a temp dir
//   ASSERT_TRUE(pki.generate("/tmp/x", {"api.test", "other.test"}));
//   HttpsTestServer server;
//   ASSERT_TRUE(server.start(pki));                      // 127.0.0.1:<ephemeral port>
//   // The client reaches it only through the operator's network settings:
//   //   network.resolve       {"api.test": "127.0.0.1"}
//   //   network.allow_private ["127.0.0.1/32"]
//   //   network.ca_file       pki.ca_file()
//   std::string url = server.url("api.test", "/echo");   // "https://api.test:<port>/echo"
//   ... server.requests() returns every request the server saw, one JSON line each.
//
// In a host config file (end-to-end tests through the CLI), write the same three settings under
// "network" (server.network_json("api.test") renders them).
//
// Server behaviours (paths /echo, /redirect, /stall, /big, /gzip, /huge-headers, /echo-header,
// /echo-gzip, /echo-partial,
// /status/N) are documented in tests/https/support/https_server.py. The server dies with the test
// process (it exits when its stdin closes) and is stopped by the destructor.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "test_paths.h"

namespace wasmcap::testing {

// A test CA and one server certificate (EC P-256, valid 2 days) for the given DNS names plus
// IP 127.0.0.1. Made with the openssl CLI at test time: no key material is checked in.
class TestPki {
 public:
  // Generates into `dir` (created). False (and a message in error()) when openssl fails.
  bool generate(const std::string& dir, const std::vector<std::string>& names) {
    dir_ = dir;
    std::filesystem::create_directories(dir);
    std::string san;
    for (const auto& n : names) san += "DNS:" + n + ",";
    san += "IP:127.0.0.1";
    {
      std::ofstream ext(dir + "/server.ext");
      ext << "subjectAltName=" << san << "\nbasicConstraints=CA:FALSE\n"
          << "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";
    }
    const std::string d = "'" + dir + "'";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    std::vector<std::string> cmds = {
        "openssl req -x509" + ec + "-keyout " + d + "/ca.key -out " + d +
            "/ca.pem -days 2 -subj '/CN=wasmcap test CA' -addext "
            "basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
        "openssl req" + ec + "-keyout " + d + "/server.key -out " + d +
            "/server.csr -subj '/CN=" + (names.empty() ? std::string("localhost") : names[0]) +
            "'",
        "openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
            "/ca.key -CAcreateserial -out " + d + "/server.pem -days 2 -extfile " + d +
            "/server.ext",
    };
    for (const auto& c : cmds) {
      std::string full = c + " >" + d + "/openssl.log 2>&1";
      if (std::system(full.c_str()) != 0) {
        std::ifstream log(dir + "/openssl.log");
        std::stringstream ss;
        ss << log.rdbuf();
        error_ = "openssl failed: " + c + "\n" + ss.str();
        return false;
      }
    }
    return true;
  }
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  std::string cert_file() const { return dir_ + "/server.pem"; }
  std::string key_file() const { return dir_ + "/server.key"; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  std::string error_;
};

class HttpsTestServer {
 public:
  HttpsTestServer() = default;
  HttpsTestServer(const HttpsTestServer&) = delete;
  HttpsTestServer& operator=(const HttpsTestServer&) = delete;
  ~HttpsTestServer() { stop(); }

  // Starts the server with the PKI's server certificate. False (message in error()) on failure.
  bool start(const TestPki& pki) { return start(pki.cert_file(), pki.key_file(), pki.ca_file()); }

  bool start(const std::string& cert, const std::string& key, const std::string& ca_file) {
    ca_file_ = ca_file;
    log_ = cert + ".requests.jsonl";
    std::filesystem::remove(log_);
    int out[2], in[2];
    if (pipe2(out, O_CLOEXEC) != 0) return fail("pipe failed");
    if (pipe2(in, O_CLOEXEC) != 0) return fail("pipe failed");
    std::string script = std::string(test_paths::source_dir()) + "/tests/https/support/https_server.py";
    pid_ = fork();
    if (pid_ < 0) return fail("fork failed");
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      execlp("python3", "python3", script.c_str(), "--cert", cert.c_str(), "--key", key.c_str(),
             "--log", log_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    // Read "PORT <n>\n" (10 s budget: python startup on a loaded machine).
    std::string line;
    pollfd pfd{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos) {
      if (poll(&pfd, 1, 10000) <= 0) break;
      char buf[64];
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    if (line.rfind("PORT ", 0) != 0) {
      stop();
      return fail("the test server did not start (python3 " + script + "): '" + line + "'");
    }
    port_ = static_cast<uint16_t>(std::stoi(line.substr(5)));
    return true;
  }

  void stop() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  uint16_t port() const { return port_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& error() const { return error_; }

  // "https://HOST:PORT/PATH..." for a name the client pins to 127.0.0.1.
  std::string url(const std::string& host, const std::string& path_and_query) const {
    return "https://" + host + ":" + std::to_string(port_) + path_and_query;
  }

  // Every request the server has seen so far, one JSON object per line
  // ({method, path, query, host, headers: [[name, value]...], body}).
  std::string requests() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // The host config "network" object that lets a client reach this server under `names`.
  std::string network_json(std::initializer_list<std::string> names) const {
    std::string resolve;
    for (const auto& n : names) resolve += (resolve.empty() ? "" : ",") + ("\"" + n + "\":\"127.0.0.1\"");
    return "{\"resolve\":{" + resolve + "},\"allow_private\":[\"127.0.0.1/32\"],\"ca_file\":\"" +
           ca_file_ + "\"}";
  }

 private:
  bool fail(std::string m) {
    error_ = std::move(m);
    return false;
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  uint16_t port_ = 0;
  std::string ca_file_;
  std::string log_;
  std::string error_;
};

}  // namespace wasmcap::testing
