#include "shim/stats/net_stats.h"

#include <array>
#include <charconv>
#include <sstream>

#include "common/file_util.h"
#include "common/netns.h"

namespace berth::cri::stats {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::vector<NetworkInterfaceUsage>> parseProcNetDev(std::string_view text) {
  std::vector<NetworkInterfaceUsage> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  int lineNo = 0;
  while (std::getline(lines, line)) {
    ++lineNo;
    if (lineNo <= 2 || trim(line).empty()) continue;  // the two header lines
    auto colon = line.find(':');
    if (colon == std::string::npos)
      return fail(Code::kInternal, "/proc/net/dev line {}: no \"name:\" in {:?}", lineNo, line);
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop
    // fifo colls carrier compressed
    std::array<uint64_t, 16> v{};
    std::string_view rest = std::string_view(line).substr(colon + 1);
    for (size_t i = 0; i < v.size(); ++i) {
      rest = trim(rest);
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v[i]);
      if (ec != std::errc())
        return fail(Code::kInternal, "/proc/net/dev line {}: field {} is not a number", lineNo,
                    i + 1);
      rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    }
    NetworkInterfaceUsage u;
    u.name = std::string(trim(std::string_view(line).substr(0, colon)));
    u.rxBytes = v[0];
    u.rxPackets = v[1];
    u.rxErrors = v[2];
    u.rxDropped = v[3];
    u.txBytes = v[8];
    u.txPackets = v[9];
    u.txErrors = v[10];
    u.txDropped = v[11];
    out.push_back(std::move(u));
  }
  return out;
}

Result<NetworkUsage> readNetworkStats(const std::string& netnsPath, int64_t timestamp) {
  auto ns = BERTH_TRY_CTX(NetNs::open(netnsPath), "pod network namespace");
  auto text = BERTH_TRY_CTX(inNetNs(ns, [] { return readFile("/proc/thread-self/net/dev"); }),
                            fmt::format("read interface counters in {}", netnsPath));
  auto all = BERTH_TRY_CTX(parseProcNetDev(text), netnsPath);
  NetworkUsage usage;
  usage.timestamp = timestamp;
  for (auto& iface : all) {
    if (iface.name == "lo") continue;
    if (iface.name == kDefaultInterface) usage.defaultInterface = iface;
    usage.interfaces.push_back(std::move(iface));
  }
  return usage;
}

}  // namespace berth::cri::stats
