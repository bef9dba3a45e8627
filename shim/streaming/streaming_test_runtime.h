#pragma once
// What the streaming server tests share: a runtime of the test's own that runs /bin/sh with the
// client's streams, and a TCP server to forward ports to.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <thread>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "shim/streaming/streaming_server.h"

namespace berth::shim::streaming_test {

// Runs `sh -c <cmd...>` with the streams as its stdio; a tty request gets "tty" in $TTY_MODE and
// the resize events written to its stdout by us.
class ShellRuntime : public StreamingRuntime {
 public:
  CommandOutcome exec(const ExecRequest& r, CommandStreams& s) override {
    if (r.containerId == "missing") return {0, "container \"missing\" not found", ""};
    if (s.tty && s.resizes) {
      // Report the first resize, then run the command.
      auto size = s.resizes->pop();
      if (size)
        (void)writeAll(s.stdoutWrite.get(), fmt::format("size {}x{}\n", size->width, size->height));
    }
    std::vector<std::string> args = {"/bin/sh", "-c"};
    args.insert(args.end(), r.cmd.begin(), r.cmd.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int in = s.stdinRead ? s.stdinRead.get() : -1;
    int out = s.stdoutWrite ? s.stdoutWrite.get() : -1;
    int err = s.stderrWrite ? s.stderrWrite.get() : -1;
    pid_t pid = ::fork();
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(in >= 0 ? in : devnull, 0);
      ::dup2(out >= 0 ? out : devnull, 1);
      ::dup2(err >= 0 ? err : devnull, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    s = CommandStreams{};  // the child holds the ends now
    int status = 0;
    ::waitpid(pid, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return {code, "", fmt::format("error executing command {}, exit code {}", r.cmd[0], code)};
  }
  CommandOutcome attach(const AttachRequest&, CommandStreams& s) override {
    (void)writeAll(s.stdoutWrite.get(), "attached\n");
    return {0, "", ""};
  }
  // "The pod's network namespace" is the test's own: connect to 127.0.0.1:port and relay.
  Status portForward(const std::string&, std::int32_t port, UniqueFd stream) override {
    UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(tcp.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
      return failErrno(fmt::format("connect to 127.0.0.1:{}", port));
    auto copy = [](int from, int to) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(from, buf, sizeof buf)) > 0)
        if (!writeAll(to, std::string_view(buf, static_cast<size_t>(n)))) break;
      ::shutdown(to, SHUT_WR);
    };
    std::thread up(copy, stream.get(), tcp.get());
    copy(tcp.get(), stream.get());
    up.join();
    return {};
  }
};

// A TCP server on 127.0.0.1 that answers each connection with its input upper-cased.
class UpperServer {
 public:
  UpperServer() {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), len), 0);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (int i = 0; i < 2; ++i) {
        UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!c) return;
        char buf[256];
        ssize_t n;
        while ((n = ::read(c.get(), buf, sizeof buf)) > 0) {
          for (ssize_t k = 0; k < n; ++k)
            buf[k] = static_cast<char>(std::toupper(buf[k]));
          (void)writeAll(c.get(), std::string_view(buf, static_cast<size_t>(n)));
        }
      }
    });
  }
  ~UpperServer() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
};

// A loopback port nobody listens on: bound, read back, closed.
inline int unusedLoopbackPort() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), len);
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// An HTTP response's head, read byte by byte so nothing after it is consumed.
inline std::string readResponseHead(int fd) {
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && ::read(fd, &c, 1) == 1)
    head += c;
  return head;
}

// Everything until EOF.
inline std::string readToEnd(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

// A StreamingServer on 127.0.0.1 with the ShellRuntime, for the SPDY and WebSocket tests.
class StreamingServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = StreamingServer::start("127.0.0.1:0", runtime_);
    ASSERT_TRUE(s) << s.error().message();
    server_ = std::move(*s);
  }
  std::string execUrl(std::vector<std::string> cmd, bool stdin = false, bool tty = false) {
    ExecRequest r;
    r.containerId = "c1";
    r.cmd = std::move(cmd);
    r.stdin = stdin;
    r.tty = tty;
    r.stderr = !tty;
    auto url = server_->execUrl(r);
    EXPECT_TRUE(url) << url.error().message();
    return url.value_or("");
  }
  ShellRuntime runtime_;
  std::unique_ptr<StreamingServer> server_;
};

}  // namespace berth::shim::streaming_test
