#pragma once
// For tests: a one-connection-at-a-time HTTP/1.1 server on 127.0.0.1 (an ephemeral port) that
// answers every request with what a handler returns, and response() to write such answers.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/unique_fd.h"

namespace berth::testing {

// It reads a request (headers and a Content-Length body), answers with what `handler` returns
// (nothing: the connection is closed unanswered) and closes. A TLS ClientHello (first byte 0x16)
// goes to the handler as it arrives, as a plain-HTTP server answers one at once with a 400.
class TestServer {
 public:
  using Handler = std::function<std::string(const std::string& request)>;

  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~TestServer() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // "127.0.0.1:<port>".
  std::string hostPort() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (true) {
      UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      std::string req;
      char buf[4096];
      size_t want = std::string::npos;
      while (req.size() < want) {
        ssize_t n = ::read(c.get(), buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        if (req.front() == '\x16') break;
        auto end = req.find("\r\n\r\n");
        if (end != std::string::npos && want == std::string::npos) {
          size_t length = 0;
          auto cl = req.find("Content-Length: ");
          if (cl != std::string::npos && cl < end) length = std::stoul(req.substr(cl + 16));
          want = end + 4 + length;
        }
      }
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      std::string res = handler_(req);
      (void)!::write(c.get(), res.data(), res.size());
    }
  }

  Handler handler_;
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

inline std::string response(int status, const std::string& body, const std::string& headers = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         headers + "\r\n" + body;
}

}  // namespace berth::testing
