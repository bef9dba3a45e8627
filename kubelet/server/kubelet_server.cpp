#include "kubelet/server/kubelet_server.h"

#include <charconv>
#include <map>

#include "common/http/stream_proxy.h"
#include "kubeapi/meta_time.h"
#include "kubelet/cri_client.h"
#include "kubelet/cri_log.h"
#include "kubelet/kubelet_log.h"
#include "kubelet/server/serving_cert.h"
#include "kubelet/server/stats_summary.h"

namespace berth::kubelet::server {
namespace {

using Json = nlohmann::json;
using http::Request;
using http::ResponseWriter;
using Writer = std::shared_ptr<ResponseWriter>;

void text(const Writer& w, int status, std::string body) {
  w->respond({status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body)});
}

void json(const Writer& w, const Json& body) {
  w->respond({200, {{"Content-Type", "application/json"}}, body.dump()});
}

Json podList(std::vector<Json> items) {
  return {{"kind", "PodList"},
          {"apiVersion", "v1"},
          {"metadata", Json::object()},
          {"items", Json(std::move(items))}};
}

// A CRI (gRPC) error as the status upstream's streaming.WriteError gives it.
int httpStatusFor(Code code) {
  switch (code) {
    case Code::kNotFound:
      return 404;
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
      return 400;
    case Code::kUnavailable:
      return 503;
    case Code::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::vector<std::string_view> splitComma(std::string_view v) {
  std::vector<std::string_view> out;
  while (true) {
    auto c = v.find(',');
    out.push_back(v.substr(0, c));
    if (c == std::string_view::npos) return out;
    v.remove_prefix(c + 1);
  }
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto seg = path.substr(0, slash);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

enum class Endpoint {
  kHealthz,
  kHealthzPing,
  kHealthzLog,
  kHealthzSyncLoop,
  kPods,
  kRunningPods,
  kContainerLogs,
  kExec,
  kAttach,
  kPortForward,
  kStatsSummary,
  kMetrics,
  kMetricsResource,
  kMetricsProbes,
  kConfigz,
};

struct Route {
  Endpoint endpoint;
  std::string podNamespace, podName, podUid, container;
  bool debugging = false;  // one of enableDebuggingHandlers' endpoints
};

// The kubelet's paths; nullopt is a 404.
std::optional<Route> match(std::string_view path) {
  auto s = segments(path);
  if (s.empty()) return std::nullopt;
  auto one = [&](Endpoint e) -> std::optional<Route> { return Route{.endpoint = e}; };
  std::string_view head = s[0];
  if (head == "healthz") {
    if (s.size() == 1) return one(Endpoint::kHealthz);
    if (s.size() == 2 && s[1] == "ping") return one(Endpoint::kHealthzPing);
    if (s.size() == 2 && s[1] == "log") return one(Endpoint::kHealthzLog);
    if (s.size() == 2 && s[1] == "syncloop") return one(Endpoint::kHealthzSyncLoop);
    return std::nullopt;
  }
  if (s.size() == 1 && head == "pods") return one(Endpoint::kPods);
  if (s.size() == 1 && head == "runningpods") return one(Endpoint::kRunningPods);
  if (s.size() == 1 && head == "configz") return one(Endpoint::kConfigz);
  if (s.size() == 2 && head == "stats" && s[1] == "summary") return one(Endpoint::kStatsSummary);
  if (head == "metrics") {
    if (s.size() == 1) return one(Endpoint::kMetrics);
    if (s.size() == 2 && s[1] == "resource") return one(Endpoint::kMetricsResource);
    if (s.size() == 2 && s[1] == "probes") return one(Endpoint::kMetricsProbes);
    return std::nullopt;
  }
  Route r{.debugging = true};
  auto str = [](std::string_view v) { return std::string(v); };
  if (head == "containerLogs" && s.size() == 4) {
    r.endpoint = Endpoint::kContainerLogs;
    r.podNamespace = str(s[1]), r.podName = str(s[2]), r.container = str(s[3]);
    return r;
  }
  if ((head == "exec" || head == "attach") && (s.size() == 4 || s.size() == 5)) {
    r.endpoint = head == "exec" ? Endpoint::kExec : Endpoint::kAttach;
    r.podNamespace = str(s[1]), r.podName = str(s[2]), r.container = str(s.back());
    if (s.size() == 5) r.podUid = str(s[3]);
    return r;
  }
  if (head == "portForward" && (s.size() == 3 || s.size() == 4)) {
    r.endpoint = Endpoint::kPortForward;
    r.podNamespace = str(s[1]), r.podName = str(s[2]);
    if (s.size() == 4) r.podUid = str(s[3]);
    return r;
  }
  return std::nullopt;
}

bool methodAllowed(Endpoint e, std::string_view method) {
  switch (e) {
    case Endpoint::kExec:
    case Endpoint::kAttach:
    case Endpoint::kPortForward:
      return method == "GET" || method == "POST";
    default:
      return method == "GET" || method == "HEAD";
  }
}

bool truthy(std::optional<std::string_view> v) {
  return v && (*v == "1" || *v == "true" || *v == "True");
}

std::optional<std::int64_t> parseInt(std::string_view v) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return n;
}

// v1.PodLogOptions from the query: 400 when it does not decode, 422 when it is invalid (the
// kubelet's messages).
struct LogRequest {
  LogOptions options;
  bool previous = false;
};
std::expected<LogRequest, std::pair<int, std::string>> parseLogQuery(const Request& req) {
  auto undecodable = std::unexpected(std::pair{400, R"({"message": "Unable to decode query."})"});
  auto invalid = std::unexpected(std::pair{422, R"({"message": "Invalid request."})"});
  LogRequest r;
  auto intParam = [&](std::string_view name, std::optional<std::int64_t>& out) {
    auto v = req.queryParam(name);
    if (!v) return true;
    out = parseInt(*v);
    return out.has_value();
  };
  std::optional<std::int64_t> sinceSeconds;
  auto tail = req.queryParam("tail");  // the kubelet's old name; "all" is no limit
  if (tail && *tail != "all") {
    r.options.tailLines = parseInt(*tail);
    if (!r.options.tailLines) return undecodable;
  }
  if (!intParam("tailLines", r.options.tailLines) ||
      !intParam("limitBytes", r.options.limitBytes) || !intParam("sinceSeconds", sinceSeconds))
    return undecodable;
  std::optional<std::int64_t> sinceTime;
  if (auto v = req.queryParam("sinceTime")) {
    auto t = kubeapi::parseTime(*v);
    if (!t) return undecodable;
    sinceTime = t->time_since_epoch().count();
  }
  r.options.timestamps = truthy(req.queryParam("timestamps"));
  r.options.follow = truthy(req.queryParam("follow"));
  r.previous = truthy(req.queryParam("previous"));
  // ValidatePodLogOptions
  if ((r.options.tailLines && *r.options.tailLines < 0) ||
      (r.options.limitBytes && *r.options.limitBytes < 1) || (sinceSeconds && *sinceSeconds < 1) ||
      (sinceSeconds && sinceTime))
    return invalid;
  if (sinceSeconds)
    r.options.sinceNanos =
        kubeapi::now().time_since_epoch().count() - *sinceSeconds * std::int64_t{1'000'000'000};
  if (sinceTime) r.options.sinceNanos = sinceTime;
  return r;
}

}  // namespace

class KubeletServer::Routes {
 public:
  Routes(const KubeletServerOptions& options, KubeletServerHost& host,
         std::shared_ptr<kubeapi::RestClient> api, kubeapi::Clock& clock)
      : options_(options),
        host_(host),
        authn_(options.authentication, api, clock),
        authz_(options.authorization, api, clock) {}

  void handle(Request& req, const Writer& w) {
    auto route = match(req.path);
    if (!route) return text(w, 404, "404 page not found\n");
    auto user = authn_.authenticate(req);
    if (!user) return text(w, 401, "Unauthorized");
    auto attrs = requestAttributes(*user, req.method, req.path, options_.nodeName);
    auto decision = authz_.authorize(attrs);
    if (!decision) {
      kubeletLog()->warn("authorizing [user={} path={}]: {}", user->name, req.path,
                         decision.error().message());
      return text(w, 500,
                  fmt::format("Authorization error (user={}, verb={}, resource={}, "
                              "subresource(s)=[{}])",
                              attrs.user.name, attrs.verb, attrs.resource, attrs.subresource));
    }
    if (!decision->allowed) return text(w, 403, forbiddenMessage(attrs));
    if (!methodAllowed(route->endpoint, req.method)) return text(w, 405, "Method Not Allowed\n");
    if (route->debugging && !options_.enableDebuggingHandlers)
      return text(w, 405, "Debug endpoints are disabled.\n");
    dispatch(*route, req, w);
  }

 private:
  void dispatch(const Route& r, Request& req, const Writer& w) {
    switch (r.endpoint) {
      case Endpoint::kHealthz:
      case Endpoint::kHealthzPing:
      case Endpoint::kHealthzLog:
      case Endpoint::kHealthzSyncLoop:
        return healthz(r.endpoint, req, w);
      case Endpoint::kPods:
        return json(w, podList(host_.pods()));
      case Endpoint::kRunningPods:
        return json(w, podList(host_.runningPods()));
      case Endpoint::kConfigz:
        return json(w, Json{{"kubeletconfig", host_.configz()}});
      case Endpoint::kContainerLogs:
        return containerLogs(r, req, w);
      case Endpoint::kExec:
      case Endpoint::kAttach:
      case Endpoint::kPortForward:
        return stream(r, req, w);
      case Endpoint::kStatsSummary:
      case Endpoint::kMetricsResource:
        return resourceStats(r.endpoint, w);
      case Endpoint::kMetrics:
        return metrics(w);
      case Endpoint::kMetricsProbes:
        return w->respond({200,
                           {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}},
                           host_.probeMetrics()});
    }
  }

  // k8s.io/apiserver healthz: checks ping, log and syncloop; "ok" or which failed.
  void healthz(Endpoint e, const Request& req, const Writer& w) {
    if (e == Endpoint::kHealthzPing || e == Endpoint::kHealthzLog) return text(w, 200, "ok");
    auto sync = host_.syncLoopHealthy();
    if (e == Endpoint::kHealthzSyncLoop) {
      if (sync) return text(w, 200, "ok");
      return text(w, 500, fmt::format("internal server error: {}\n", sync.error().message()));
    }
    bool verbose = req.queryParam("verbose").has_value();
    if (sync && !verbose) return text(w, 200, "ok");
    std::string body = "[+]ping ok\n[+]log ok\n";
    body += sync ? "[+]syncloop ok\n" : "[-]syncloop failed: reason withheld\n";
    body += sync ? "healthz check passed\n" : "healthz check failed\n";
    text(w, sync ? 200 : 500, std::move(body));
  }

  void containerLogs(const Route& r, const Request& req, const Writer& w) {
    auto parsed = parseLogQuery(req);
    if (!parsed) return text(w, parsed.error().first, parsed.error().second);
    auto where = host_.containerLog(r.podNamespace, r.podName, r.container, parsed->previous);
    if (!where)
      return text(w, where.error().code() == Code::kNotFound ? 404 : 400, where.error().message());
    bool started = false;
    auto sink = [&](std::string data) {
      if (!started) {
        started = true;
        if (!w->start(200, {{"Content-Type", "text/plain; charset=utf-8"}})) return false;
      }
      return w->write(std::move(data));
    };
    FollowHooks hooks{
        .containerRunning = [&] { return host_.containerRunning(where->containerId); },
        .cancelled = [&] { return w->closed(); },
        .recheck = options_.logFollowRecheck};
    auto st = readContainerLog(where->path, parsed->options, sink, hooks);
    if (!st && !started) return text(w, 400, st.error().message());
    if (!st)
      kubeletLog()->warn("container log [pod={}/{} ctr={}]: {}", r.podNamespace, r.podName,
                         r.container, st.error().message());
    if (!started && !w->start(200, {{"Content-Type", "text/plain; charset=utf-8"}})) return;
    w->finish();
  }

  void stream(const Route& r, const Request& req, const Writer& w) {
    if (!http::isUpgradeRequest(req)) return text(w, 400, "Upgrade request required\n");
    auto url = streamUrl(r, req);
    if (!url) {
      int status =
          url.error().code() == Code::kInvalidArgument ? 400 : httpStatusFor(url.error().code());
      return text(w, status, url.error().message());
    }
    auto st = http::proxyUpgrade(req, *w, *url);
    if (!st) {
      kubeletLog()->warn("streaming [pod={}/{}]: {}", r.podNamespace, r.podName,
                         st.error().message());
      if (!w->closed()) text(w, 502, st.error().message());
    }
  }

  // The CRI Exec/Attach/PortForward URL for the request.
  Result<std::string> streamUrl(const Route& r, const Request& req) {
    if (r.endpoint == Endpoint::kPortForward) {
      auto sandbox = BERTH_TRY(host_.podSandboxId(r.podNamespace, r.podName, r.podUid));
      cri::PortForwardRequest pf;
      pf.set_pod_sandbox_id(sandbox);
      // "port=80&port=443" (SPDY) or "ports=80,443" (WebSocket).
      for (auto name : {"port", "ports"})
        for (auto v : req.queryParams(name))
          for (auto part : splitComma(v)) {
            auto n = parseInt(part);
            if (!n || *n <= 0 || *n > 65535)
              return fail(Code::kInvalidArgument, "invalid port {:?}", part);
            pf.add_port(static_cast<std::int32_t>(*n));
          }
      return host_.cri().portForward(pf);
    }
    bool tty = truthy(req.queryParam("tty"));
    bool in = truthy(req.queryParam("stdin")) || truthy(req.queryParam("input"));
    bool out = truthy(req.queryParam("stdout")) || truthy(req.queryParam("output"));
    bool err = !tty && (truthy(req.queryParam("stderr")) || truthy(req.queryParam("error")));
    if (!in && !out && !err)
      return fail(Code::kInvalidArgument, "you must specify at least 1 of stdin, stdout, stderr");
    auto id = BERTH_TRY(host_.containerId(r.podNamespace, r.podName, r.podUid, r.container));
    if (r.endpoint == Endpoint::kAttach) {
      cri::AttachRequest a;
      a.set_container_id(id);
      a.set_tty(tty), a.set_stdin(in), a.set_stdout(out), a.set_stderr(err);
      return host_.cri().attach(a);
    }
    cri::ExecRequest e;
    e.set_container_id(id);
    for (auto c : req.queryParams("command"))
      e.add_cmd(std::string(c));
    e.set_tty(tty), e.set_stdin(in), e.set_stdout(out), e.set_stderr(err);
    return host_.cri().exec(e);
  }

  Result<Summary> summary() {
    Summary s;
    s.node = BERTH_TRY(sampler_.sample(options_.nodeName));
    auto pods = BERTH_TRY(host_.cri().listPodSandboxStats());
    auto containers = BERTH_TRY(host_.cri().listContainerStats());
    s.pods = podSummaries(pods, containers);
    return s;
  }

  void resourceStats(Endpoint e, const Writer& w) {
    auto s = summary();
    if (!s) return text(w, 500, fmt::format("failed to get stats: {}\n", s.error().message()));
    if (e == Endpoint::kStatsSummary) return json(w, summaryJson(*s));
    w->respond({200,
                {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}},
                resourceMetricsText(*s)});
  }

  // A few of the kubelet's own metrics (pkg/kubelet/metrics), from the runtime.
  void metrics(const Writer& w) {
    std::string out = fmt::format(
        "# HELP kubelet_node_name [ALPHA] The node's name. The count is always 1.\n"
        "# TYPE kubelet_node_name gauge\nkubelet_node_name{{node=\"{}\"}} 1\n",
        options_.nodeName);
    out += host_.kubeletMetrics();
    auto sandboxes = host_.cri().listPodSandbox();
    auto containers = host_.cri().listContainers();
    if (sandboxes) {
      int ready = 0;
      for (const auto& s : *sandboxes)
        ready += s.state() == cri::SANDBOX_READY;
      out += fmt::format(
          "# HELP kubelet_running_pods [ALPHA] Number of pods that have a running pod sandbox\n"
          "# TYPE kubelet_running_pods gauge\nkubelet_running_pods {}\n",
          ready);
    }
    if (containers) {
      std::map<std::string, int> byState = {
          {"created", 0}, {"exited", 0}, {"running", 0}, {"unknown", 0}};
      for (const auto& c : *containers) {
        switch (c.state()) {
          case cri::CONTAINER_CREATED:
            ++byState["created"];
            break;
          case cri::CONTAINER_RUNNING:
            ++byState["running"];
            break;
          case cri::CONTAINER_EXITED:
            ++byState["exited"];
            break;
          default:
            ++byState["unknown"];
        }
      }
      out +=
          "# HELP kubelet_running_containers [ALPHA] Number of containers currently running\n"
          "# TYPE kubelet_running_containers gauge\n";
      for (const auto& [state, n] : byState)
        out += fmt::format("kubelet_running_containers{{container_state=\"{}\"}} {}\n", state, n);
    }
    w->respond({200, {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}}, out});
  }

  KubeletServerOptions options_;
  KubeletServerHost& host_;
  Authenticator authn_;
  Authorizer authz_;
  NodeUsageSampler sampler_;
};

Result<std::unique_ptr<KubeletServer>> KubeletServer::start(
    KubeletServerOptions options, KubeletServerHost& host, std::shared_ptr<kubeapi::RestClient> api,
    kubeapi::Clock& clock) {
  std::unique_ptr<KubeletServer> s(new KubeletServer());
  http::TlsServerConfig tls{.certFile = options.tlsCertFile,
                            .keyFile = options.tlsPrivateKeyFile,
                            .clientCaFile = options.clientCaFile,
                            // The apiserver's streams to us are HTTP/1.1 upgrades.
                            .enableHttp2 = false,
                            .reloadCertificate = options.rotatedCertificate};
  if (tls.certFile.empty() && tls.keyFile.empty()) {
    if (options.certDirectory.empty())
      return fail(Code::kInvalidArgument, "kubelet server: no TLS certificate and no cert dir");
    auto paths =
        BERTH_TRY(ensureSelfSignedCert(options.certDirectory, options.nodeName, options.nodeIps));
    tls.certFile = paths.certFile.string();
    tls.keyFile = paths.keyFile.string();
  }
  s->certFile_ = tls.certFile;
  s->routes_ = std::make_unique<Routes>(options, host, std::move(api), clock);
  http::ServerOptions so{.bindAddress = options.bindAddress,
                         .port = options.port,
                         .tls = tls,
                         .workerThreads = options.workerThreads,
                         .upgradedIdleTimeout = options.streamIdleTimeout};
  Routes* routes = s->routes_.get();
  s->server_ = BERTH_TRY_CTX(
      http::Server::start(so, [routes](Request& req, Writer w) { routes->handle(req, w); }),
      fmt::format("kubelet server on {}:{}", options.bindAddress, options.port));
  return s;
}

KubeletServer::~KubeletServer() {
  shutdown(std::chrono::seconds(1));
}

std::uint16_t KubeletServer::port() const {
  return server_->port();
}

void KubeletServer::shutdown(std::chrono::milliseconds grace) {
  if (server_) server_->shutdown(grace);
}

}  // namespace berth::kubelet::server
