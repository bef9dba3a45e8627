#include "kubelet/server/stats_summary.h"

#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>

#include "common/file_util.h"
#include "kubeapi/meta_time.h"
#include "kubelet/runtime_pod.h"

namespace berth::kubelet::server {
namespace {

namespace cri = ::runtime::v1;
using Json = nlohmann::json;

template <class M>
std::optional<std::uint64_t> opt(bool has, const M& m) {
  if (!has) return std::nullopt;
  return m.value();
}

std::optional<CpuStats> cpuFrom(bool has, const cri::CpuUsage& c) {
  if (!has) return std::nullopt;
  return CpuStats{c.timestamp(), opt(c.has_usage_nano_cores(), c.usage_nano_cores()),
                  opt(c.has_usage_core_nano_seconds(), c.usage_core_nano_seconds())};
}

std::optional<MemoryStats> memoryFrom(bool has, const cri::MemoryUsage& m) {
  if (!has) return std::nullopt;
  return MemoryStats{m.timestamp(),
                     opt(m.has_available_bytes(), m.available_bytes()),
                     opt(m.has_usage_bytes(), m.usage_bytes()),
                     opt(m.has_working_set_bytes(), m.working_set_bytes()),
                     opt(m.has_rss_bytes(), m.rss_bytes()),
                     opt(m.has_page_faults(), m.page_faults()),
                     opt(m.has_major_page_faults(), m.major_page_faults())};
}

InterfaceStats interfaceFrom(const cri::NetworkInterfaceUsage& i) {
  return {i.name(), opt(i.has_rx_bytes(), i.rx_bytes()), opt(i.has_rx_errors(), i.rx_errors()),
          opt(i.has_tx_bytes(), i.tx_bytes()), opt(i.has_tx_errors(), i.tx_errors())};
}

void addTo(std::optional<std::uint64_t>& sum, const std::optional<std::uint64_t>& v) {
  if (v) sum = sum.value_or(0) + *v;
}

// A pod's usage as the sum of its containers', when the runtime gave none for the pod.
void fillFromContainers(PodSummary& pod) {
  if (!pod.cpu) {
    CpuStats sum;
    for (const auto& c : pod.containers)
      if (c.cpu) {
        sum.time = std::max(sum.time, c.cpu->time);
        addTo(sum.usageNanoCores, c.cpu->usageNanoCores);
        addTo(sum.usageCoreNanoSeconds, c.cpu->usageCoreNanoSeconds);
      }
    if (sum.time) pod.cpu = sum;
  }
  if (!pod.memory) {
    MemoryStats sum;
    for (const auto& c : pod.containers)
      if (c.memory) {
        sum.time = std::max(sum.time, c.memory->time);
        addTo(sum.usageBytes, c.memory->usageBytes);
        addTo(sum.workingSetBytes, c.memory->workingSetBytes);
        addTo(sum.rssBytes, c.memory->rssBytes);
      }
    if (sum.time) pod.memory = sum;
  }
}

std::string timeString(std::int64_t nanos) {
  return kubeapi::formatTime(kubeapi::Time(std::chrono::nanoseconds(nanos)));
}

void put(Json& j, const char* key, const std::optional<std::uint64_t>& v) {
  if (v) j[key] = *v;
}

Json cpuJson(const CpuStats& c) {
  Json j = {{"time", timeString(c.time)}};
  put(j, "usageNanoCores", c.usageNanoCores);
  put(j, "usageCoreNanoSeconds", c.usageCoreNanoSeconds);
  return j;
}

Json memoryJson(const MemoryStats& m) {
  Json j = {{"time", timeString(m.time)}};
  put(j, "availableBytes", m.availableBytes);
  put(j, "usageBytes", m.usageBytes);
  put(j, "workingSetBytes", m.workingSetBytes);
  put(j, "rssBytes", m.rssBytes);
  put(j, "pageFaults", m.pageFaults);
  put(j, "majorPageFaults", m.majorPageFaults);
  return j;
}

Json interfaceJson(const InterfaceStats& i) {
  Json j = {{"name", i.name}};
  put(j, "rxBytes", i.rxBytes);
  put(j, "rxErrors", i.rxErrors);
  put(j, "txBytes", i.txBytes);
  put(j, "txErrors", i.txErrors);
  return j;
}

Json networkJson(const NetworkStats& n) {
  Json j = {{"time", timeString(n.time)}};
  if (!n.interfaces.empty()) {
    // The default interface's fields inline, then every interface (stats/v1alpha1).
    j.update(interfaceJson(n.interfaces.front()));
    Json all = Json::array();
    for (const auto& i : n.interfaces)
      all.push_back(interfaceJson(i));
    j["interfaces"] = std::move(all);
  }
  return j;
}

// Prometheus label values escape backslash, quote and newline.
std::string labelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += {'\\', c};
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

class MetricsWriter {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(const char* name, const std::vector<std::pair<const char*, std::string>>& labels,
              double value, std::int64_t timeNanos) {
    out_ << name;
    if (!labels.empty()) {
      out_ << '{';
      for (std::size_t i = 0; i < labels.size(); ++i)
        out_ << (i ? "," : "") << labels[i].first << "=\"" << labelValue(labels[i].second) << '"';
      out_ << '}';
    }
    out_ << ' ' << fmt::format("{}", value);
    if (timeNanos > 0) out_ << ' ' << timeNanos / 1'000'000;
    out_ << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace

std::vector<PodSummary> podSummaries(const std::vector<cri::PodSandboxStats>& pods,
                                     const std::vector<cri::ContainerStats>& containers) {
  std::vector<PodSummary> out;
  std::map<std::string, std::size_t> byUid;
  for (const auto& p : pods) {
    const auto& md = p.attributes().metadata();
    PodSummary s{.name = md.name(), .namespace_ = md.namespace_(), .uid = md.uid()};
    if (p.has_linux()) {
      const auto& l = p.linux();
      s.cpu = cpuFrom(l.has_cpu(), l.cpu());
      s.memory = memoryFrom(l.has_memory(), l.memory());
      if (l.has_network()) {
        NetworkStats n{.time = l.network().timestamp()};
        if (l.network().has_default_interface())
          n.interfaces.push_back(interfaceFrom(l.network().default_interface()));
        for (const auto& i : l.network().interfaces())
          if (!l.network().has_default_interface() ||
              i.name() != l.network().default_interface().name())
            n.interfaces.push_back(interfaceFrom(i));
        s.network = std::move(n);
      }
    }
    byUid[s.uid] = out.size();
    out.push_back(std::move(s));
  }
  for (const auto& c : containers) {
    const auto& labels = c.attributes().labels();
    auto uid = labels.find(kPodUidLabel);
    if (uid == labels.end()) continue;
    auto it = byUid.find(uid->second);
    if (it == byUid.end()) continue;
    out[it->second].containers.push_back({c.attributes().metadata().name(),
                                          cpuFrom(c.has_cpu(), c.cpu()),
                                          memoryFrom(c.has_memory(), c.memory())});
  }
  for (auto& p : out)
    fillFromContainers(p);
  return out;
}

Json summaryJson(const Summary& s) {
  Json node = {{"nodeName", s.node.nodeName}, {"systemContainers", Json::array()}};
  if (s.node.startTime) node["startTime"] = timeString(*s.node.startTime);
  if (s.node.cpu) node["cpu"] = cpuJson(*s.node.cpu);
  if (s.node.memory) node["memory"] = memoryJson(*s.node.memory);
  Json pods = Json::array();
  for (const auto& p : s.pods) {
    Json pod = {{"podRef", {{"name", p.name}, {"namespace", p.namespace_}, {"uid", p.uid}}}};
    Json containers = Json::array();
    for (const auto& c : p.containers) {
      Json cj = {{"name", c.name}};
      if (c.cpu) cj["cpu"] = cpuJson(*c.cpu);
      if (c.memory) cj["memory"] = memoryJson(*c.memory);
      containers.push_back(std::move(cj));
    }
    pod["containers"] = std::move(containers);
    if (p.cpu) pod["cpu"] = cpuJson(*p.cpu);
    if (p.memory) pod["memory"] = memoryJson(*p.memory);
    if (p.network) pod["network"] = networkJson(*p.network);
    pods.push_back(std::move(pod));
  }
  return {{"node", std::move(node)}, {"pods", std::move(pods)}};
}

std::string resourceMetricsText(const Summary& s) {
  // The kubelet's pkg/kubelet/metrics/collectors/resource_metrics.go: families in its order,
  // cpu in seconds, samples stamped with the stats' time in ms.
  MetricsWriter w;
  auto seconds = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e9; };
  w.family("container_cpu_usage_seconds_total", "counter",
           "[STABLE] Cumulative cpu time consumed by the container in core-seconds");
  for (const auto& p : s.pods)
    for (const auto& c : p.containers)
      if (c.cpu && c.cpu->usageCoreNanoSeconds)
        w.sample("container_cpu_usage_seconds_total",
                 {{"container", c.name}, {"namespace", p.namespace_}, {"pod", p.name}},
                 seconds(*c.cpu->usageCoreNanoSeconds), c.cpu->time);
  w.family("container_memory_working_set_bytes", "gauge",
           "[STABLE] Current working set of the container in bytes");
  for (const auto& p : s.pods)
    for (const auto& c : p.containers)
      if (c.memory && c.memory->workingSetBytes)
        w.sample("container_memory_working_set_bytes",
                 {{"container", c.name}, {"namespace", p.namespace_}, {"pod", p.name}},
                 static_cast<double>(*c.memory->workingSetBytes), c.memory->time);
  w.family("node_cpu_usage_seconds_total", "counter",
           "[STABLE] Cumulative cpu time consumed by the node in core-seconds");
  if (s.node.cpu && s.node.cpu->usageCoreNanoSeconds)
    w.sample("node_cpu_usage_seconds_total", {}, seconds(*s.node.cpu->usageCoreNanoSeconds),
             s.node.cpu->time);
  w.family("node_memory_working_set_bytes", "gauge",
           "[STABLE] Current working set of the node in bytes");
  if (s.node.memory && s.node.memory->workingSetBytes)
    w.sample("node_memory_working_set_bytes", {},
             static_cast<double>(*s.node.memory->workingSetBytes), s.node.memory->time);
  w.family("pod_cpu_usage_seconds_total", "counter",
           "[STABLE] Cumulative cpu time consumed by the pod in core-seconds");
  for (const auto& p : s.pods)
    if (p.cpu && p.cpu->usageCoreNanoSeconds)
      w.sample("pod_cpu_usage_seconds_total", {{"namespace", p.namespace_}, {"pod", p.name}},
               seconds(*p.cpu->usageCoreNanoSeconds), p.cpu->time);
  w.family("pod_memory_working_set_bytes", "gauge",
           "[STABLE] Current working set of the pod in bytes");
  for (const auto& p : s.pods)
    if (p.memory && p.memory->workingSetBytes)
      w.sample("pod_memory_working_set_bytes", {{"namespace", p.namespace_}, {"pod", p.name}},
               static_cast<double>(*p.memory->workingSetBytes), p.memory->time);
  w.family("resource_scrape_error", "gauge",
           "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise");
  w.sample("resource_scrape_error", {}, 0, 0);
  return w.str();
}

Result<std::uint64_t> parseProcStatCpu(std::string_view procStat, long ticks) {
  auto eol = procStat.find('\n');
  std::istringstream line(std::string(procStat.substr(0, eol)));
  std::string label;
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                steal = 0;
  line >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  if (label != "cpu" || !line) return fail(Code::kInvalidArgument, "/proc/stat: no cpu line");
  std::uint64_t busy = user + nice + system + irq + softirq + steal;
  return busy * (1'000'000'000ULL / static_cast<std::uint64_t>(ticks));
}

Result<MemoryStats> parseMeminfo(std::string_view meminfo) {
  std::map<std::string, std::uint64_t, std::less<>> kb;
  std::istringstream in{std::string(meminfo)};
  std::string key;
  std::uint64_t value = 0;
  std::string unit;
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    if (l >> key >> value) kb[key.substr(0, key.size() - 1)] = value * 1024;
  }
  for (const char* need : {"MemTotal", "MemFree"})
    if (!kb.contains(need)) return fail(Code::kInvalidArgument, "/proc/meminfo: no {}", need);
  MemoryStats m;
  std::uint64_t usage = kb["MemTotal"] - kb["MemFree"];
  std::uint64_t inactiveFile = kb.contains("Inactive(file)") ? kb["Inactive(file)"] : 0;
  m.usageBytes = usage;
  m.workingSetBytes = usage > inactiveFile ? usage - inactiveFile : 0;
  if (kb.contains("MemAvailable")) m.availableBytes = kb["MemAvailable"];
  if (kb.contains("AnonPages")) m.rssBytes = kb["AnonPages"];
  return m;
}

Result<NodeSummary> NodeUsageSampler::sample(const std::string& nodeName) {
  auto nowNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  NodeSummary n{.nodeName = nodeName};
  auto stat = BERTH_TRY(readFile(procRoot_ + "/stat"));
  auto cpuNs = BERTH_TRY(parseProcStatCpu(stat, ::sysconf(_SC_CLK_TCK)));
  CpuStats cpu{.time = nowNs, .usageCoreNanoSeconds = cpuNs};
  {
    std::lock_guard lock(mu_);
    if (last_ && nowNs > last_->first && cpuNs >= last_->second)
      cpu.usageNanoCores =
          static_cast<std::uint64_t>(static_cast<double>(cpuNs - last_->second) * 1e9 /
                                     static_cast<double>(nowNs - last_->first));
    last_ = {nowNs, cpuNs};
  }
  n.cpu = cpu;
  auto mem = BERTH_TRY(parseMeminfo(BERTH_TRY(readFile(procRoot_ + "/meminfo"))));
  mem.time = nowNs;
  n.memory = mem;
  // btime: boot, seconds since the epoch.
  if (auto p = stat.find("\nbtime "); p != std::string::npos)
    n.startTime = std::stoll(stat.substr(p + 7)) * 1'000'000'000LL;
  return n;
}

}  // namespace berth::kubelet::server
