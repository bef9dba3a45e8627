#include "controlplane/controllers/node_ipam_controller.h"

#include "controlplane/controllers/controller_log.h"
#include "kubeapi/event_recorder.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

// --cluster-cidr's CIDRs with their node mask sizes as CidrSets.
Result<std::vector<CidrSet>> cidrSets(const ControllerOptions& options) {
  std::vector<CidrSet> sets;
  std::string_view rest = options.clusterCidr;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view text = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    auto cidr = IpNet::parse(text);
    if (!cidr) return fail(Code::kInvalidArgument, "--cluster-cidr: invalid CIDR \"{}\"", text);
    int mask = cidr->ip().isV4() ? options.nodeCidrMaskSizeIpv4 : options.nodeCidrMaskSizeIpv6;
    auto set = CidrSet::create(*cidr, mask);
    if (!set) return std::unexpected(set.error().context("--cluster-cidr"));
    sets.push_back(std::move(*set));
  }
  if (sets.size() > 2 ||
      (sets.size() == 2 && sets[0].cluster().ip().family() == sets[1].cluster().ip().family()))
    return fail(Code::kInvalidArgument,
                "--cluster-cidr: at most one IPv4 and one IPv6 CIDR, got \"{}\"",
                options.clusterCidr);
  return sets;
}

// spec.podCIDRs, or spec.podCIDR for a node written before dual-stack.
std::vector<IpNet> nodePodCidrs(const json& node) {
  const json& spec = jsonField(node, "spec");
  std::vector<std::string> texts;
  for (const json& c : jsonArray(spec, "podCIDRs"))
    if (c.is_string()) texts.push_back(c.get<std::string>());
  if (texts.empty() && !jsonString(spec, "podCIDR").empty())
    texts.push_back(jsonString(spec, "podCIDR"));
  std::vector<IpNet> out;
  for (const auto& t : texts)
    if (auto n = IpNet::parse(t)) out.push_back(n->canonical());
  return out;
}

}  // namespace

NodeIpamController::NodeIpamController(ControllerContext& context)
    : context_(context),
      nodes_(&context.informers.informer({"", "v1", "nodes"}, false)),
      recorder_(std::make_unique<kubeapi::EventRecorder>(
          context.client, kubeapi::EventSource{.component = "cidrAllocator"})),
      worker_("nodeipam", [this](const std::string& key) { return sync(key); }) {
  if (auto sets = cidrSets(context.options); sets)
    sets_ = std::move(*sets);
  else
    controllerLog()->error("no pod CIDRs will be allocated: {}", sets.error().message());
  nodes_->addEventHandler({
      .onAdd = [this](const kubeapi::ObjectPtr& n) { worker_.addObject(n); },
      .onUpdate = [this](const kubeapi::ObjectPtr&,
                         const kubeapi::ObjectPtr& n) { worker_.addObject(n); },
      .onDelete = [this](const kubeapi::ObjectPtr& n) { worker_.addObject(n); },
  });
}

NodeIpamController::~NodeIpamController() {
  stop();
}

void NodeIpamController::start() {
  if (sets_.empty()) return;
  // Occupy before any worker allocates: a restart must not hand out a CIDR a Node holds.
  for (const auto& node : nodes_->cache().list())
    occupy(jsonString((*node)["metadata"], "name"), nodePodCidrs(*node));
  worker_.start(1);
}

void NodeIpamController::stop() {
  worker_.stop();
  recorder_->flush();
}

void NodeIpamController::occupy(const std::string& name, const std::vector<IpNet>& cidrs) {
  if (cidrs.empty()) return;
  std::lock_guard lock(mu_);
  for (const auto& cidr : cidrs)
    for (auto& set : sets_)
      if (set.cluster().ip().family() == cidr.ip().family()) {
        if (auto s = set.occupy(cidr); !s)
          controllerLog()->warn("[node={}] podCIDR not occupied: {}", name, s.error().message());
      }
  byNode_[name] = cidrs;
}

Result<std::vector<IpNet>> NodeIpamController::allocate(const std::string& name) {
  std::lock_guard lock(mu_);
  std::vector<IpNet> got;
  for (auto& set : sets_) {
    auto cidr = set.allocateNext();
    if (!cidr) {
      for (size_t i = 0; i < got.size(); ++i)
        (void)sets_[i].release(got[i]);
      return std::unexpected(cidr.error());
    }
    got.push_back(*cidr);
  }
  byNode_[name] = got;
  return got;
}

void NodeIpamController::release(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = byNode_.find(name);
  if (it == byNode_.end()) return;
  for (const auto& cidr : it->second)
    for (auto& set : sets_)
      if (set.cluster().ip().family() == cidr.ip().family()) (void)set.release(cidr);
  controllerLog()->info("[node={}] released podCIDRs", name);
  byNode_.erase(it);
}

Status NodeIpamController::sync(const std::string& name) {
  auto node = nodes_->cache().get(name);
  if (!node || jsonField((*node)["metadata"], "deletionTimestamp").is_string()) {
    release(name);
    return {};
  }
  if (auto held = nodePodCidrs(*node); !held.empty()) {
    occupy(name, held);
    return {};
  }
  auto cidrs = allocate(name);
  if (!cidrs) {
    // RecordNodeStatusChange(recorder, node, "CIDRNotAvailable").
    recorder_->event(kubeapi::objectReference(*node), "Normal", "CIDRNotAvailable",
                     fmt::format("Node {} status is now: CIDRNotAvailable", name));
    return std::unexpected(cidrs.error().context("node " + name));
  }
  json podCidrs = json::array();
  for (const auto& c : *cidrs)
    podCidrs.push_back(c.str());
  json patch = {{"spec", {{"podCIDR", podCidrs[0]}, {"podCIDRs", podCidrs}}}};
  auto nodes = context_.client->resource({"", "v1", "nodes"}, false);
  auto patched = nodes.patch(name, kubeapi::PatchType::kMerge, patch.dump());
  if (!patched) {
    release(name);
    return std::unexpected(patched.error().toError().context("set podCIDRs of node " + name));
  }
  controllerLog()->info("[node={}] podCIDRs {}", name, podCidrs.dump());
  return {};
}

}  // namespace berth::controlplane::controllers
