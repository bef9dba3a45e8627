#include "shim/monitor/packet_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "common/unix_socket.h"

namespace berth::shim {

Result<std::unique_ptr<PacketServer>> PacketServer::listen(EventLoop& loop,
                                                           std::filesystem::path path,
                                                           OnMessage onMessage, OnClose onClose) {
  UniqueFd fd = BERTH_TRY(listenUnix(path.string(), SOCK_SEQPACKET | SOCK_NONBLOCK));
  std::unique_ptr<PacketServer> server(new PacketServer(loop, std::move(path), std::move(fd),
                                                        std::move(onMessage), std::move(onClose)));
  PacketServer* self = server.get();
  BERTH_TRY(
      loop.add(self->listener_.get(), EPOLLIN, [self](std::uint32_t) { self->acceptClient(); }));
  return server;
}

PacketServer::PacketServer(EventLoop& loop, std::filesystem::path path, UniqueFd listener,
                           OnMessage onMessage, OnClose onClose)
    : loop_(loop),
      path_(std::move(path)),
      listener_(std::move(listener)),
      onMessage_(std::move(onMessage)),
      onClose_(std::move(onClose)) {}

PacketServer::~PacketServer() {
  for (auto& c : clients_)
    loop_.remove(c.get());
  if (listener_) {
    loop_.remove(listener_.get());
    ::unlink(path_.c_str());
  }
}

void PacketServer::acceptClient() {
  UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!client) return;  // EAGAIN, or the client went away already
  int fd = client.get();
  auto added = loop_.add(fd, EPOLLIN, [this, fd](std::uint32_t) { readClient(fd); });
  if (!added) return;
  clients_.push_back(std::move(client));
}

void PacketServer::readClient(int client) {
  ssize_t n = ::recv(client, buffer_.data(), buffer_.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    drop(client);
    return;
  }
  if (onMessage_) onMessage_(client, std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
}

void PacketServer::send(int client, std::string_view message) {
  if (::send(client, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
      errno != EINTR)
    drop(client);
}

void PacketServer::sendAll(std::string_view message) {
  std::vector<int> fds;
  for (auto& c : clients_)
    fds.push_back(c.get());
  for (int fd : fds)
    send(fd, message);
}

void PacketServer::drop(int client) {
  auto it = std::find_if(clients_.begin(), clients_.end(),
                         [client](const UniqueFd& c) { return c.get() == client; });
  if (it == clients_.end()) return;
  loop_.remove(client);
  clients_.erase(it);
  if (onClose_) onClose_(client);
}

}  // namespace berth::shim
