#include "proxy/categorize.h"

#include <algorithm>

namespace berth::proxy {

namespace {

template <class Pred>
std::vector<Endpoint> filtered(const std::vector<Endpoint>& in, Pred&& keep) {
  std::vector<Endpoint> out;
  std::copy_if(in.begin(), in.end(), std::back_inserter(out), keep);
  return out;
}

bool hasZoneHint(const Endpoint& e, const std::string& zone) {
  return std::find(e.zoneHints.begin(), e.zoneHints.end(), zone) != e.zoneHints.end();
}

// kube-proxy's canUseTopology: hints are used only when every ready endpoint has some, the node
// has a zone, and some ready endpoint is hinted for it (else traffic would go nowhere).
bool canUseTopology(const std::vector<Endpoint>& endpoints, const NodeInfo& node) {
  if (node.zone.empty()) return false;
  bool forZone = false;
  for (const Endpoint& e : endpoints) {
    if (!e.ready) continue;
    if (e.zoneHints.empty()) return false;
    forZone = forZone || hasZoneHint(e, node.zone);
  }
  return forZone;
}

bool servingTerminating(const Endpoint& e) {
  return e.serving && e.terminating;
}

}  // namespace

CategorizedEndpoints categorizeEndpoints(std::vector<Endpoint> endpoints, const ServicePort& port,
                                         const NodeInfo& node, bool topologyHints) {
  for (Endpoint& e : endpoints)
    e.local = !node.name.empty() && e.nodeName == node.name;
  std::sort(endpoints.begin(), endpoints.end(), [](const Endpoint& a, const Endpoint& b) {
    return std::tie(a.ip, a.port) < std::tie(b.ip, b.port);
  });

  CategorizedEndpoints out;
  if (port.usesClusterEndpoints()) {
    bool topology = topologyHints && canUseTopology(endpoints, node);
    out.cluster = filtered(endpoints, [&](const Endpoint& e) {
      return e.ready && (!topology || hasZoneHint(e, node.zone));
    });
    // No ready endpoint anywhere: terminating ones that still serve, as kube-proxy falls back.
    if (out.cluster.empty()) out.cluster = filtered(endpoints, servingTerminating);
    out.hasAny = !out.cluster.empty();
  }
  if (!port.usesLocalEndpoints()) {
    out.allReachable = out.cluster;
    return out;
  }

  bool localReady = false, localServingTerminating = false;
  for (const Endpoint& e : endpoints) {
    if (e.ready) {
      out.hasAny = true;
      localReady = localReady || e.local;
    } else if (servingTerminating(e)) {
      out.hasAny = true;
      localServingTerminating = localServingTerminating || e.local;
    }
  }
  if (localReady) {
    out.local = filtered(endpoints, [](const Endpoint& e) { return e.local && e.ready; });
  } else if (localServingTerminating) {
    out.local =
        filtered(endpoints, [](const Endpoint& e) { return e.local && servingTerminating(e); });
  }
  if (!port.usesClusterEndpoints()) {
    out.allReachable = out.local;
    return out;
  }
  // The union: cluster may hold remote endpoints, local terminating or out-of-zone ones.
  out.allReachable = out.cluster;
  for (const Endpoint& e : out.local) {
    if (std::find(out.allReachable.begin(), out.allReachable.end(), e) == out.allReachable.end())
      out.allReachable.push_back(e);
  }
  std::sort(out.allReachable.begin(), out.allReachable.end(),
            [](const Endpoint& a, const Endpoint& b) {
              return std::tie(a.ip, a.port) < std::tie(b.ip, b.port);
            });
  return out;
}

}  // namespace berth::proxy
