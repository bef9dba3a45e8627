#include "common/nft.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <string>

#include <fmt/format.h>

namespace berth {

namespace {

// libnftables is loaded on first use: a plugin run that needs no nftables (a bridge DEL, an ADD
// without ipMasq) doesn't pay for loading it and its five dependencies at every start.
struct Api {
  decltype(&nft_ctx_new) ctxNew = nullptr;
  decltype(&nft_ctx_free) ctxFree = nullptr;
  decltype(&nft_ctx_buffer_output) bufferOutput = nullptr;
  decltype(&nft_ctx_buffer_error) bufferError = nullptr;
  decltype(&nft_ctx_get_output_buffer) outputBuffer = nullptr;
  decltype(&nft_ctx_get_error_buffer) errorBuffer = nullptr;
  decltype(&nft_ctx_output_get_flags) getFlags = nullptr;
  decltype(&nft_ctx_output_set_flags) setFlags = nullptr;
  decltype(&nft_run_cmd_from_buffer) runCmd = nullptr;
};

Result<const Api*> api() {
  static Api a;
  static std::string error;
  static bool loaded = [] {
    void* lib = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = ::dlerror();
      error = e ? e : "dlopen failed";
      return false;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      if (fn == nullptr) error = std::string("missing symbol ") + name;
      return fn != nullptr;
    };
    return sym(a.ctxNew, "nft_ctx_new") && sym(a.ctxFree, "nft_ctx_free") &&
           sym(a.bufferOutput, "nft_ctx_buffer_output") &&
           sym(a.bufferError, "nft_ctx_buffer_error") &&
           sym(a.outputBuffer, "nft_ctx_get_output_buffer") &&
           sym(a.errorBuffer, "nft_ctx_get_error_buffer") &&
           sym(a.getFlags, "nft_ctx_output_get_flags") &&
           sym(a.setFlags, "nft_ctx_output_set_flags") && sym(a.runCmd, "nft_run_cmd_from_buffer");
  }();
  if (!loaded) return fail(Code::kUnavailable, "nftables: libnftables.so.1: {}", error);
  return &a;
}

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

}  // namespace

Status Nft::addElements(std::string_view, std::string_view, std::span<const NftElement>) {
  return fail(Code::kUnimplemented, "nftables: element calls are not implemented here");
}

Status Nft::deleteElements(std::string_view, std::string_view, std::span<const NftElement>) {
  return fail(Code::kUnimplemented, "nftables: element calls are not implemented here");
}

Result<bool> Nft::hasElement(std::string_view, std::string_view, const NftElement&) {
  return fail(Code::kUnimplemented, "nftables: element calls are not implemented here");
}

Result<std::unique_ptr<LibNftables>> LibNftables::create() {
  auto ns = BERTH_TRY(NetNs::current());
  mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (s == nullptr) return failErrno("nftables: netlink socket");
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(s);
    return failErrno(err, "nftables: netlink bind");
  }
  return std::unique_ptr<LibNftables>(new LibNftables(s, std::move(ns)));
}

LibNftables::LibNftables(mnl_socket* sock, NetNs ns)
    : sock_(sock), ns_(std::move(ns)), seq_(static_cast<unsigned>(::time(nullptr))) {}

LibNftables::~LibNftables() {
  if (ctx_ != nullptr) {
    if (auto a = api(); a) (*a)->ctxFree(ctx_);
  }
  mnl_socket_close(sock_);
}

Result<nft_ctx*> LibNftables::context() {
  if (ctx_ != nullptr) return ctx_;
  const Api* a = BERTH_TRY(api());
  // The context's socket belongs to the namespace this object was created in.
  auto ctx = inNetNs(ns_, [&]() -> Result<nft_ctx*> {
    nft_ctx* c = a->ctxNew(NFT_CTX_DEFAULT);
    if (c == nullptr) return fail(Code::kInternal, "nftables: cannot create a context");
    return c;
  });
  ctx_ = BERTH_TRY(std::move(ctx));
  a->bufferOutput(ctx_);
  a->bufferError(ctx_);
  return ctx_;
}

namespace {

Result<uint8_t> nfproto(std::string_view family) {
  if (family == "inet") return NFPROTO_INET;
  if (family == "ip") return NFPROTO_IPV4;
  if (family == "ip6") return NFPROTO_IPV6;
  if (family == "bridge") return NFPROTO_BRIDGE;
  if (family == "arp") return NFPROTO_ARP;
  if (family == "netdev") return NFPROTO_NETDEV;
  return fail(Code::kInvalidArgument, "nftables: unknown family \"{}\"", family);
}

nlmsghdr* putNfMsg(void* buf, uint16_t type, uint16_t flags, uint8_t family, uint32_t seq,
                   uint16_t resId) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(resId);
  return nlh;
}

void putData(nlmsghdr* nlh, uint16_t type, const std::vector<uint8_t>& bytes) {
  nlattr* nest = mnl_attr_nest_start(nlh, type);
  mnl_attr_put(nlh, NFTA_DATA_VALUE, bytes.size(), bytes.data());
  mnl_attr_nest_end(nlh, nest);
}

// NFTA_SET_ELEM_LIST_ELEMENTS' entries; values and comments only when adding.
void putElement(nlmsghdr* nlh, const NftElement& e, bool withValue) {
  nlattr* item = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  putData(nlh, NFTA_SET_ELEM_KEY, e.key);
  if (!e.keyEnd.empty()) putData(nlh, NFTA_SET_ELEM_KEY_END, e.keyEnd);
  if (e.intervalEnd) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
  if (withValue && !e.data.empty()) putData(nlh, NFTA_SET_ELEM_DATA, e.data);
  if (withValue && !e.comment.empty()) {
    // nft's user data: a comment TLV (type 0, length with the terminating NUL).
    std::vector<uint8_t> ud{0, static_cast<uint8_t>(e.comment.size() + 1)};
    ud.insert(ud.end(), e.comment.begin(), e.comment.end());
    ud.push_back(0);
    mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, ud.size(), ud.data());
  }
  mnl_attr_nest_end(nlh, item);
}

// libmnl's iteration macros assign void* (C only); the same walk, typed.
template <class F>
void forEachNested(const nlattr* nest, F&& f) {
  const auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
  const char* tail = reinterpret_cast<const char*>(nest) + nest->nla_len;
  while (mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a)))) {
    f(a);
    a = mnl_attr_next(a);
  }
}

// The first error the kernel queued for a batch: processing is synchronous within sendmsg, so
// whatever it has to say is already in the socket (libnftables reads it the same way).
Status drainErrors(mnl_socket* sock) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  int first = 0;
  for (;;) {
    ssize_t n = ::recv(mnl_socket_get_fd(sock), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return failErrno("nftables: netlink receive");
    }
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    while (mnl_nlmsg_ok(nlh, len)) {
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (err->error != 0 && first == 0) first = -err->error;
      }
      nlh = mnl_nlmsg_next(nlh, &len);
    }
  }
  if (first != 0) return failErrno(first, "nftables");
  return {};
}

}  // namespace

Status LibNftables::elements(bool add, std::string_view family, std::string_view table,
                             std::span<const NftElement> elements) {
  uint8_t fam = BERTH_TRY(nfproto(family));
  if (elements.empty()) return {};
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 2);
  // libmnl: the buffer is twice the limit, room for the message that overflows it.
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size() / 2);
  auto next = [&] { return mnl_nlmsg_batch_next(batch); };
  bool fits = true;
  putNfMsg(mnl_nlmsg_batch_current(batch), NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, ++seq_,
           NFNL_SUBSYS_NFTABLES);
  fits = fits && next();
  // One message per set, in the order the sets first appear.
  std::vector<std::string_view> sets;
  for (const auto& e : elements) {
    if (std::find(sets.begin(), sets.end(), e.set) == sets.end()) sets.push_back(e.set);
  }
  std::string tableName(table);
  for (auto set : sets) {
    uint16_t type = (NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
    nlmsghdr* nlh =
        putNfMsg(mnl_nlmsg_batch_current(batch), type, add ? NLM_F_CREATE : 0, fam, ++seq_, 0);
    std::string setName(set);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, tableName.c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, setName.c_str());
    nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
    for (const auto& e : elements) {
      if (e.set == set) putElement(nlh, e, add);
    }
    mnl_attr_nest_end(nlh, list);
    fits = fits && next();
  }
  putNfMsg(mnl_nlmsg_batch_current(batch), NFNL_MSG_BATCH_END, 0, AF_UNSPEC, ++seq_,
           NFNL_SUBSYS_NFTABLES);
  fits = fits && next();
  size_t size = mnl_nlmsg_batch_size(batch);
  mnl_nlmsg_batch_stop(batch);
  if (!fits) return fail(Code::kInvalidArgument, "nftables: too many elements for one batch");
  if (mnl_socket_sendto(sock_, buf.data(), size) < 0) return failErrno("nftables: netlink send");
  return drainErrors(sock_);
}

Status LibNftables::addElements(std::string_view family, std::string_view table,
                                std::span<const NftElement> els) {
  return elements(true, family, table, els);
}

Status LibNftables::deleteElements(std::string_view family, std::string_view table,
                                   std::span<const NftElement> els) {
  return elements(false, family, table, els);
}

Result<bool> LibNftables::hasElement(std::string_view family, std::string_view table,
                                     const NftElement& element) {
  uint8_t fam = BERTH_TRY(nfproto(family));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  unsigned seq = ++seq_;
  nlmsghdr* nlh = putNfMsg(buf.data(), (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM, NLM_F_ACK,
                           fam, seq, 0);
  std::string tableName(table), setName(element.set);
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, tableName.c_str());
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, setName.c_str());
  nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  putElement(nlh, element, false);
  mnl_attr_nest_end(nlh, list);
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) return failErrno("nftables: netlink send");

  // The element comes back as NEWSETELEM (the kernel may return an enclosing interval: only an
  // exact key counts), then the ACK.
  bool found = false;
  std::vector<char> rbuf(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, rbuf.data(), rbuf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return failErrno("nftables: netlink receive");
    }
    auto* r = reinterpret_cast<nlmsghdr*>(rbuf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(r, len); r = mnl_nlmsg_next(r, &len)) {
      if (r->nlmsg_seq != seq) continue;
      if (r->nlmsg_type == NLMSG_ERROR) {
        int err = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(r))->error;
        if (err == 0) return found;
        if (err == ENOENT) return false;
        return failErrno(err, "nftables: get element");
      }
      // Attributes: table, set, elements { element { key { value }, flags, ... } }.
      const auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(r, sizeof(nfgenmsg)));
      int left = static_cast<int>(static_cast<const char*>(mnl_nlmsg_get_payload_tail(r)) -
                                  reinterpret_cast<const char*>(a));
      for (; mnl_attr_ok(a, left); a = mnl_attr_next(a)) {
        if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS) continue;
        forEachNested(a, [&](const nlattr* el) {
          std::vector<uint8_t> key;
          bool end = false;
          forEachNested(el, [&](const nlattr* f) {
            if (mnl_attr_get_type(f) == NFTA_SET_ELEM_FLAGS) {
              end = (ntohl(mnl_attr_get_u32(f)) & NFT_SET_ELEM_INTERVAL_END) != 0;
            }
            if (mnl_attr_get_type(f) != NFTA_SET_ELEM_KEY) return;
            forEachNested(f, [&](const nlattr* v) {
              if (mnl_attr_get_type(v) != NFTA_DATA_VALUE) return;
              const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(v));
              key.assign(p, p + mnl_attr_get_payload_len(v));
            });
          });
          if (key == element.key && end == element.intervalEnd) found = true;
        });
      }
    }
  }
}

Status LibNftables::run(std::string_view batch) {
  const Api* a = BERTH_TRY(api());
  nft_ctx* ctx = BERTH_TRY(context());
  std::string text(batch);
  if (a->runCmd(ctx, text.c_str()) != 0) {
    std::string err = trimmed(a->errorBuffer(ctx));
    return fail(Code::kInternal, "nftables: {}", err.empty() ? "transaction failed" : err);
  }
  return {};
}

Result<std::string> LibNftables::listJson(std::string_view command) {
  const Api* a = BERTH_TRY(api());
  nft_ctx* ctx = BERTH_TRY(context());
  unsigned flags = a->getFlags(ctx);
  a->setFlags(ctx, flags | NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  std::string text(command);
  int rc = a->runCmd(ctx, text.c_str());
  a->setFlags(ctx, flags);
  if (rc != 0) {
    std::string err = trimmed(a->errorBuffer(ctx));
    return fail(Code::kNotFound, "nftables: {}", err.empty() ? "list failed" : err);
  }
  return std::string(a->outputBuffer(ctx));
}

}  // namespace berth
