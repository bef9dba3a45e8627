#include "shim/engine/records.h"

#include <sys/random.h>

#include <chrono>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

namespace berth::cri {

namespace {

using Json = nlohmann::json;

std::string phaseName(Phase p) {
  switch (p) {
    case Phase::kCreating:
      return "creating";
    case Phase::kReady:
      return "ready";
    case Phase::kStopped:
      return "stopped";
  }
  return "creating";
}

std::string containerPhaseName(ContainerPhase p) {
  switch (p) {
    case ContainerPhase::kCreating:
      return "creating";
    case ContainerPhase::kCreated:
      return "created";
    case ContainerPhase::kRunning:
      return "running";
  }
  return "creating";
}

Json protoToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return Json::parse(out, nullptr, false);
}

Status protoFromJson(const Json& j, google::protobuf::Message* m, std::string_view field) {
  auto st = google::protobuf::util::JsonStringToMessage(j.dump(), m);
  if (!st.ok()) {
    return fail(Code::kDataLoss, "{}: {}", field, std::string(st.message()));
  }
  return {};
}

template <class T>
T get(const Json& j, const char* key, T otherwise = {}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return otherwise;
  return it->get<T>();
}

Result<Json> parseObject(std::string_view text) {
  auto j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return fail(Code::kDataLoss, "not a JSON object");
  return j;
}

}  // namespace

bool labelsMatch(const google::protobuf::Map<std::string, std::string>& labels,
                 const google::protobuf::Map<std::string, std::string>& selector) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

std::string protoJson(const google::protobuf::Message& m) {
  return protoToJson(m).dump();
}

std::string newId() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string podRecordToJson(const PodRecord& r) {
  Json j = {{"id", r.id},
            {"name", r.name},
            {"config", protoToJson(r.config)},
            {"runtimeHandler", r.runtimeHandler},
            {"phase", phaseName(r.phase)},
            {"createdAtNs", r.createdAtNs},
            {"netns", r.netns},
            {"ipcns", r.ipcns},
            {"utsns", r.utsns},
            {"pidInit", r.pidInit},
            {"networkAttached", r.networkAttached},
            {"ip", r.ip},
            {"additionalIps", r.additionalIps},
            {"cniResult", r.cniResult},
            {"resources", r.resources}};
  return j.dump(2);
}

Result<PodRecord> parsePodRecord(std::string_view text) {
  Json j = BERTH_TRY(parseObject(text));
  PodRecord r;
  try {
    r.id = get<std::string>(j, "id");
    r.name = get<std::string>(j, "name");
    r.runtimeHandler = get<std::string>(j, "runtimeHandler");
    std::string phase = get<std::string>(j, "phase");
    r.phase = phase == "ready"     ? Phase::kReady
              : phase == "stopped" ? Phase::kStopped
                                   : Phase::kCreating;
    r.createdAtNs = get<std::int64_t>(j, "createdAtNs");
    r.netns = get<std::string>(j, "netns");
    r.ipcns = get<std::string>(j, "ipcns");
    r.utsns = get<std::string>(j, "utsns");
    r.pidInit = get<int>(j, "pidInit", -1);
    r.networkAttached = get<bool>(j, "networkAttached");
    r.ip = get<std::string>(j, "ip");
    r.additionalIps = get<std::vector<std::string>>(j, "additionalIps");
    r.cniResult = get<std::string>(j, "cniResult");
    r.resources = get<std::string>(j, "resources");
  } catch (const Json::exception& e) {
    return fail(Code::kDataLoss, "pod record: {}", e.what());
  }
  if (r.id.empty()) return fail(Code::kDataLoss, "pod record: no id");
  BERTH_TRY(protoFromJson(j.value("config", Json::object()), &r.config, "pod record config"));
  return r;
}

std::string containerRecordToJson(const ContainerRecord& r) {
  Json j = {{"id", r.id},
            {"podId", r.podId},
            {"name", r.name},
            {"config", protoToJson(r.config)},
            {"imageRef", r.imageRef},
            {"imageId", r.imageId},
            {"imageName", r.imageName},
            {"runtimeHandler", r.runtimeHandler},
            {"phase", containerPhaseName(r.phase)},
            {"createdAtNs", r.createdAtNs},
            {"startedAtNs", r.startedAtNs},
            {"pid", r.pid},
            {"logPath", r.logPath},
            {"cgroupsPath", r.cgroupsPath},
            {"stopSignal", r.stopSignal}};
  return j.dump(2);
}

Result<ContainerRecord> parseContainerRecord(std::string_view text) {
  Json j = BERTH_TRY(parseObject(text));
  ContainerRecord r;
  try {
    r.id = get<std::string>(j, "id");
    r.podId = get<std::string>(j, "podId");
    r.name = get<std::string>(j, "name");
    r.imageRef = get<std::string>(j, "imageRef");
    r.imageId = get<std::string>(j, "imageId");
    r.imageName = get<std::string>(j, "imageName");
    r.runtimeHandler = get<std::string>(j, "runtimeHandler");
    std::string phase = get<std::string>(j, "phase");
    r.phase = phase == "running"   ? ContainerPhase::kRunning
              : phase == "created" ? ContainerPhase::kCreated
                                   : ContainerPhase::kCreating;
    r.createdAtNs = get<std::int64_t>(j, "createdAtNs");
    r.startedAtNs = get<std::int64_t>(j, "startedAtNs");
    r.pid = get<int>(j, "pid", -1);
    r.logPath = get<std::string>(j, "logPath");
    r.cgroupsPath = get<std::string>(j, "cgroupsPath");
    r.stopSignal = get<std::string>(j, "stopSignal");
  } catch (const Json::exception& e) {
    return fail(Code::kDataLoss, "container record: {}", e.what());
  }
  if (r.id.empty() || r.podId.empty()) return fail(Code::kDataLoss, "container record: no id");
  BERTH_TRY(protoFromJson(j.value("config", Json::object()), &r.config, "container record config"));
  return r;
}

}  // namespace berth::cri
