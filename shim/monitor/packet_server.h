#pragma once
// A SOCK_SEQPACKET unix socket server on the monitor's event loop: the attach and ctl sockets of
// monitor_protocol.h. Messages keep their boundaries; a client that can't take a message at once
// is dropped rather than stalling the monitor (the CRI log keeps every byte of output).
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "common/event_loop.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::shim {

class PacketServer {
 public:
  using OnMessage = std::function<void(int client, std::string_view message)>;
  using OnClose = std::function<void(int client)>;
  // The largest message read from a client; longer ones are cut.
  static constexpr std::size_t kMaxMessage = 32 * 1024;

  [[nodiscard]] static Result<std::unique_ptr<PacketServer>> listen(EventLoop& loop,
                                                                    std::filesystem::path path,
                                                                    OnMessage onMessage,
                                                                    OnClose onClose = {});
  PacketServer(const PacketServer&) = delete;
  PacketServer& operator=(const PacketServer&) = delete;
  // Closes the clients and removes the socket file.
  ~PacketServer();

  void send(int client, std::string_view message);
  void sendAll(std::string_view message);
  std::size_t clientCount() const { return clients_.size(); }

 private:
  PacketServer(EventLoop& loop, std::filesystem::path path, UniqueFd listener, OnMessage onMessage,
               OnClose onClose);
  void acceptClient();
  void readClient(int client);
  void drop(int client);

  EventLoop& loop_;
  std::filesystem::path path_;
  UniqueFd listener_;
  OnMessage onMessage_;
  OnClose onClose_;
  std::vector<UniqueFd> clients_;
  std::vector<char> buffer_ = std::vector<char>(kMaxMessage);
};

}  // namespace berth::shim
