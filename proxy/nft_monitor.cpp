#include "proxy/nft_monitor.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>

#include <cstring>
#include <vector>

#include "common/log.h"

namespace berth::proxy {

namespace {

// Every nf_tables object message names its table in attribute 1 (NFTA_TABLE_NAME,
// NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE, ...).
constexpr uint16_t kTableAttr = 1;
static_assert(NFTA_TABLE_NAME == kTableAttr && NFTA_CHAIN_TABLE == kTableAttr &&
              NFTA_RULE_TABLE == kTableAttr && NFTA_SET_TABLE == kTableAttr &&
              NFTA_SET_ELEM_LIST_TABLE == kTableAttr);

// The attribute `type` of an nf_tables message (after its nfgenmsg), or null.
const nlattr* findAttr(const nlmsghdr* nlh, uint16_t type) {
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) == type) return attr;
  }
  return nullptr;
}

std::string stringAttr(const nlmsghdr* nlh, uint16_t type) {
  const nlattr* attr = findAttr(nlh, type);
  if (attr == nullptr || mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) return {};
  return mnl_attr_get_str(attr);
}

}  // namespace

Result<std::unique_ptr<NftMonitor>> NftMonitor::open(std::string table) {
  mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (s == nullptr) return failErrno("nftables monitor: netlink socket");
  if (mnl_socket_bind(s, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(s);
    return failErrno(err, "nftables monitor: bind to NFNLGRP_NFTABLES");
  }
  // Our own large syncs echo many events; a roomy buffer keeps them from overflowing it (as
  // root, past rmem_max). An overflow is still handled: onOverflow.
  int bytes = 32 << 20;
  if (::setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    ::setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) {
    int err = errno;
    mnl_socket_close(s);
    return failErrno(err, "nftables monitor: eventfd");
  }
  return std::unique_ptr<NftMonitor>(new NftMonitor(s, std::move(wake), std::move(table)));
}

NftMonitor::NftMonitor(mnl_socket* sock, UniqueFd wake, std::string table)
    : sock_(sock), wake_(std::move(wake)), table_(std::move(table)) {}

NftMonitor::~NftMonitor() {
  stop();
  mnl_socket_close(sock_);
}

void NftMonitor::start(Callbacks callbacks) {
  callbacks_ = std::move(callbacks);
  thread_ = std::thread([this] { run(); });
}

void NftMonitor::stop() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void NftMonitor::run() {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  pollfd fds[2] = {{mnl_socket_get_fd(sock_), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (!stopping_) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      namedLogger("proxy")->error("nftables monitor: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
      if (n > 0) {
        handle(buf.data(), static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == ENOBUFS) {
        touched_ = false;
        if (callbacks_.onOverflow) callbacks_.onOverflow();
        continue;
      }
      break;  // EAGAIN: drained
    }
  }
}

void NftMonitor::handle(const char* buf, size_t len) {
  auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  int remaining = static_cast<int>(len);
  for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES) continue;
    const uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
    if (type == NFT_MSG_NEWGEN) {
      // NFTA_GEN_PROC_NAME is the committing thread's name; the kernel's PROC_PID is a pid of
      // the initial pid namespace, which a containerized proxy can't compare with its own.
      const bool foreign = touched_ && stringAttr(nlh, NFTA_GEN_PROC_NAME) != kCommitterName;
      touched_ = false;
      if (foreign && callbacks_.onForeignChange) callbacks_.onForeignChange();
      continue;
    }
    const auto* gen = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    if (gen->nfgen_family != NFPROTO_IPV4 && gen->nfgen_family != NFPROTO_IPV6) continue;
    if (stringAttr(nlh, kTableAttr) == table_) touched_ = true;
  }
}

}  // namespace berth::proxy
