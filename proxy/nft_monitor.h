#pragma once
// Notices when another program changes our nftables tables: a firewalld reload or `nft flush
// ruleset` wipes a proxy's rules without telling it (firewalld#863, k3s-io/k3s#7542). Listens to
// the NFNLGRP_NFTABLES multicast group (the events `nft monitor` prints) and, at the end of each
// transaction (NFT_MSG_NEWGEN), reports one that touched a table of ours and was committed by a
// thread other than our committer (the thread named kCommitterName). Every other table is
// ignored.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"

struct mnl_socket;

namespace berth::proxy {

// The name (comm, at most 15 characters) of the one thread that sends our transactions.
inline constexpr const char* kCommitterName = "berth-proxy-nft";

class NftMonitor {
 public:
  struct Callbacks {
    std::function<void()> onForeignChange;  // someone else changed our table
    std::function<void()> onOverflow;       // events were lost (ENOBUFS): state unknown
  };
  // The socket is bound in the network namespace the calling thread is in. `table` is our
  // tables' name (in the ip and ip6 families).
  [[nodiscard]] static Result<std::unique_ptr<NftMonitor>> open(std::string table);
  ~NftMonitor();
  NftMonitor(const NftMonitor&) = delete;
  NftMonitor& operator=(const NftMonitor&) = delete;

  // Reads events on a thread of its own and calls back from it.
  void start(Callbacks callbacks);
  void stop();  // idempotent; joins the thread

 private:
  NftMonitor(mnl_socket* sock, UniqueFd wake, std::string table);
  void run();
  // Handles one datagram of event messages.
  void handle(const char* buf, size_t len);

  mnl_socket* sock_;
  UniqueFd wake_;  // eventfd: stop()
  std::string table_;
  Callbacks callbacks_;
  bool touched_ = false;  // the transaction being read touched our table
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace berth::proxy
