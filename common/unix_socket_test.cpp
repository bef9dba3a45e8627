#include "common/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace berth {
namespace {

namespace fs = std::filesystem;

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("berth-unix-{}", ::getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(UnixSocketTest, PathsLongerThanSockaddrStillWork) {
  fs::path deep = dir_ / std::string(120, 'd');
  fs::create_directories(deep);
  std::string path = (deep / "sock").string();
  ASSERT_GT(path.size(), 108u);
  auto listener = listenUnix(path, SOCK_SEQPACKET);
  ASSERT_TRUE(listener) << listener.error().message();
  EXPECT_TRUE(fs::is_socket(path));
  auto client = connectUnix(path, SOCK_SEQPACKET);
  ASSERT_TRUE(client) << client.error().message();
  UniqueFd server(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(server);
  ASSERT_EQ(::send(client->get(), "hi", 2, 0), 2);
  char buf[8];
  EXPECT_EQ(::recv(server.get(), buf, sizeof buf, 0), 2);
}

TEST_F(UnixSocketTest, AbstractNamesAndErrorsThatNameThePath) {
  std::string name = fmt::format("@berth-test-{}", ::getpid());
  auto listener = listenUnix(name);
  ASSERT_TRUE(listener) << listener.error().message();
  EXPECT_TRUE(connectUnix(name));
  EXPECT_FALSE(fs::exists(name));

  std::string path = (dir_ / "s").string();
  ASSERT_TRUE(listenUnix(path));
  auto again = listenUnix(path);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists);
  auto missing = connectUnix((dir_ / "missing").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("missing"), std::string::npos);
}

TEST_F(UnixSocketTest, ReceivesAPassedFd) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  char data = 'x';
  char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{&data, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int fd = devnull.get();
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ASSERT_EQ(::sendmsg(a.get(), &msg, 0), 1);
  auto got = receiveFd(b.get());
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(fs::read_symlink(fmt::format("/proc/self/fd/{}", got->get())), "/dev/null");
  EXPECT_EQ(::fcntl(got->get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  // A message without an fd is an error.
  ASSERT_EQ(::send(a.get(), "y", 1, 0), 1);
  EXPECT_FALSE(receiveFd(b.get()));
}

}  // namespace
}  // namespace berth
