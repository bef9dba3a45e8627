#include "controlplane/controllers/controller_manager.h"

#include <algorithm>

#include "controlplane/controllers/controller_log.h"
#include "kubeapi/informer_factory.h"

namespace berth::controlplane::controllers {

bool controllerEnabled(const std::vector<std::string>& flags, const ControllerDescriptor& d) {
  auto has = [&](const std::string& f) { return std::ranges::find(flags, f) != flags.end(); };
  if (has("-" + d.name)) return false;
  if (has(d.name)) return true;
  return has("*") && d.enabledByDefault;
}

Status validateControllerFlags(const std::vector<std::string>& flags) {
  for (const auto& flag : flags) {
    if (flag == "*") continue;
    std::string_view name = flag;
    if (name.starts_with('-')) name.remove_prefix(1);
    bool known = std::ranges::any_of(knownControllers(),
                                     [&](const ControllerDescriptor& d) { return d.name == name; });
    if (!known)
      return fail(Code::kInvalidArgument, "--controllers: unknown controller \"{}\"", name);
  }
  return {};
}

ControllerManager::ControllerManager(std::shared_ptr<kubeapi::RestClient> client,
                                     ControllerOptions options)
    : options_(std::move(options)),
      ownInformers_(std::make_unique<kubeapi::InformerFactory>(std::move(client))),
      informers_(*ownInformers_),
      context_{.client = informers_.client(), .informers = informers_, .options = options_} {}

ControllerManager::ControllerManager(kubeapi::InformerFactory& informers, ControllerOptions options)
    : options_(std::move(options)),
      informers_(informers),
      context_{.client = informers_.client(), .informers = informers_, .options = options_} {}

ControllerManager::~ControllerManager() {
  stop();
}

Status ControllerManager::start(std::chrono::milliseconds syncTimeout) {
  if (auto s = validateControllerFlags(options_.controllers); !s) return s;
  for (const auto& d : knownControllers()) {
    if (!controllerEnabled(options_.controllers, d)) continue;
    controllers_.push_back(d.create(context_));
    names_.push_back(d.name);
  }
  informers_.start();
  if (!informers_.waitForCacheSync(syncTimeout))
    return fail(Code::kDeadlineExceeded, "controller manager: informers did not sync");
  for (auto& c : controllers_)
    c->start();
  controllerLog()->info("controllers started: {}", fmt::join(names_, ","));
  return {};
}

void ControllerManager::stop() {
  for (auto it = controllers_.rbegin(); it != controllers_.rend(); ++it)
    (*it)->stop();
  if (ownInformers_) ownInformers_->stop();
}

}  // namespace berth::controlplane::controllers
