// What parseSpec accepts and what toJson writes: field values, Go field order, omission rules and
// full-document round trips (testdata/ holds a config with every field and `runc spec` output).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "ocispec/spec_json.h"

namespace berth::ocispec {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::string readTestdata(const char* name) {
  auto text = readFile(std::filesystem::path(OCISPEC_TESTDATA) / name);
  EXPECT_TRUE(text.has_value()) << name;
  return text.value_or("");
}

Spec parseOk(std::string_view json) {
  auto spec = parseSpec(json);
  EXPECT_TRUE(spec.has_value()) << (spec ? "" : spec.error().message());
  return spec.value_or(Spec{});
}

std::vector<std::string> keys(const OrderedJson& j) {
  std::vector<std::string> out;
  for (const auto& [key, value] : j.items())
    out.push_back(key);
  return out;
}

using Keys = std::vector<std::string>;

TEST(ParseSpec, FullConfigFieldValues) {
  Spec s = parseOk(readTestdata("full_config.json"));
  EXPECT_EQ(s.ociVersion, "1.2.0");
  ASSERT_TRUE(s.process);
  const Process& p = *s.process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.consoleSize);
  EXPECT_EQ(p.consoleSize->height, 25u);
  EXPECT_EQ(p.consoleSize->width, 80u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1001u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additionalGids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/server", "--port=8080"}));
  EXPECT_EQ(p.cwd, "/srv");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->inheritable, (std::vector<std::string>{"CAP_KILL"}));
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].soft, 65536u);
  EXPECT_EQ(p.rlimits[0].hard, 1048576u);
  EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
  EXPECT_TRUE(p.noNewPrivileges);
  EXPECT_EQ(p.oomScoreAdj, -997);
  ASSERT_TRUE(p.scheduler);
  EXPECT_EQ(p.scheduler->policy, "SCHED_DEADLINE");
  EXPECT_EQ(p.scheduler->nice, -5);
  EXPECT_EQ(p.scheduler->priority, 0);  // set to 0, not absent
  EXPECT_EQ(p.scheduler->runtime, 10000000u);
  ASSERT_TRUE(p.ioPriority);
  EXPECT_EQ(p.ioPriority->ioClass, "IOPRIO_CLASS_BE");
  EXPECT_EQ(p.ioPriority->priority, 4);
  ASSERT_TRUE(p.execCPUAffinity);
  EXPECT_EQ(p.execCPUAffinity->final, "2-3");

  ASSERT_TRUE(s.root);
  EXPECT_EQ(s.root->path, "rootfs");
  EXPECT_TRUE(s.root->readonly);
  EXPECT_EQ(s.domainname, "cluster.local");
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[1].source, "/var/lib/kubelet/pods/1234/volumes/data");
  ASSERT_EQ(s.mounts[1].uidMappings.size(), 1u);
  EXPECT_EQ(s.mounts[1].uidMappings[0].hostID, 100000u);
  ASSERT_TRUE(s.hooks);
  ASSERT_EQ(s.hooks->createRuntime.size(), 1u);
  EXPECT_EQ(s.hooks->createRuntime[0].timeout, 10);
  EXPECT_EQ(s.hooks->poststop[0].args, (std::vector<std::string>{"cleanup", "--all"}));
  EXPECT_EQ(s.annotations.at("io.kubernetes.cri.sandbox-id"), "0123456789abcdef");
}

TEST(ParseSpec, FullConfigLinuxValues) {
  Spec s = parseOk(readTestdata("full_config.json"));
  ASSERT_TRUE(s.linux);
  const Linux& l = *s.linux;
  EXPECT_EQ(l.gidMappings.at(0).hostID, 200000u);
  EXPECT_EQ(l.sysctl.at("net.ipv4.ping_group_range"), "0 2147483647");
  EXPECT_EQ(l.cgroupsPath, "kubepods-burstable-pod1234.slice:cri-containerd:abcdef");
  ASSERT_EQ(l.namespaces.size(), 8u);
  EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/cni-1234");
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(l.devices[0].fileMode, 0666u);
  ASSERT_TRUE(l.seccomp);
  EXPECT_EQ(l.seccomp->defaultErrnoRet, 1u);
  ASSERT_EQ(l.seccomp->syscalls.size(), 4u);
  EXPECT_EQ(l.seccomp->syscalls[2].errnoRet, 38u);
  EXPECT_EQ(l.seccomp->syscalls[2].args.at(0).op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(l.seccomp->syscalls[2].args.at(0).valueTwo, 0u);
  EXPECT_EQ(l.seccomp->syscalls[1].args.at(0).value, 4294967295u);
  EXPECT_EQ(l.rootfsPropagation, "rslave");
  EXPECT_EQ(l.maskedPaths.size(), 3u);
  ASSERT_TRUE(l.intelRdt);
  EXPECT_TRUE(l.intelRdt->enableCMT);
  ASSERT_TRUE(l.personality);
  EXPECT_EQ(l.personality->domain, "LINUX");
  EXPECT_EQ(l.timeOffsets.at("monotonic").secs, -60);
  EXPECT_EQ(l.timeOffsets.at("monotonic").nanosecs, 500u);

  ASSERT_TRUE(l.resources);
  const Resources& r = *l.resources;
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_FALSE(r.devices[0].allow);
  EXPECT_FALSE(r.devices[0].type);
  EXPECT_EQ(r.devices[1].major, 1);
  ASSERT_TRUE(r.memory);
  EXPECT_EQ(r.memory->limit, 536870912);
  EXPECT_EQ(r.memory->kernel, -1);
  EXPECT_EQ(r.memory->swappiness, 0u);
  EXPECT_EQ(r.memory->disableOOMKiller, false);
  ASSERT_TRUE(r.cpu);
  EXPECT_EQ(r.cpu->quota, 50000);
  EXPECT_EQ(r.cpu->idle, true);
  ASSERT_TRUE(r.pids);
  EXPECT_EQ(r.pids->limit, 1024);
  ASSERT_TRUE(r.blockIO);
  EXPECT_EQ(r.blockIO->weightDevice.at(0).leafWeight, 300);
  EXPECT_EQ(r.blockIO->throttleWriteBpsDevice.at(0).minor, 16);
  EXPECT_EQ(r.hugepageLimits.at(0).pageSize, "2MB");
  ASSERT_TRUE(r.network);
  EXPECT_EQ(r.network->priorities.at(0).name, "eth0");
  EXPECT_EQ(r.rdma.at("mlx5_1").hcaObjects, 10000u);
  EXPECT_EQ(r.unified.at("memory.high"), "400000000");
}

// The fixture is laid out in specs-go field order (checked against Go's encoding/json), so writing
// it back must reproduce it byte for byte.
TEST(ToJson, FullConfigReproducesTheDocument) {
  std::string text = readTestdata("full_config.json");
  EXPECT_EQ(toJson(parseOk(text)).dump(2) + "\n", text);
}

TEST(ToJson, RoundTripIsStable) {
  OrderedJson first = toJson(parseOk(readTestdata("full_config.json")));
  OrderedJson second = toJson(parseOk(first.dump()));
  EXPECT_EQ(first, second);
}

// `runc spec` output is Go-marshalled with tab indentation: identical text means identical keys,
// values and order.
TEST(ToJson, RuncSpecReproducesTheDocument) {
  std::string text = readTestdata("runc_spec.json");
  Spec s = parseOk(text);
  EXPECT_EQ(s.ociVersion, "1.0.2-dev");
  ASSERT_TRUE(s.process);
  EXPECT_EQ(s.process->args, std::vector<std::string>{"sh"});
  EXPECT_EQ(s.mounts.size(), 7u);
  ASSERT_TRUE(s.linux);
  EXPECT_EQ(s.linux->namespaces.size(), 5u);
  EXPECT_EQ(toJson(s).dump(1, '\t'), text);
}

TEST(ToJson, SpecFieldOrder) {
  OrderedJson j = toJson(parseOk(readTestdata("full_config.json")));
  EXPECT_EQ(keys(j), (Keys{"ociVersion", "process", "root", "hostname", "domainname", "mounts",
                           "hooks", "annotations", "linux"}));
  EXPECT_EQ(keys(j["process"]),
            (Keys{"terminal", "consoleSize", "user", "args", "env", "cwd", "capabilities",
                  "rlimits", "noNewPrivileges", "apparmorProfile", "oomScoreAdj", "scheduler",
                  "selinuxLabel", "ioPriority", "execCPUAffinity"}));
  EXPECT_EQ(keys(j["process"]["user"]),
            (Keys{"uid", "gid", "umask", "additionalGids", "username"}));
  EXPECT_EQ(keys(j["process"]["rlimits"][0]), (Keys{"type", "hard", "soft"}));
  EXPECT_EQ(keys(j["root"]), (Keys{"path", "readonly"}));
  EXPECT_EQ(keys(j["mounts"][1]),
            (Keys{"destination", "type", "source", "options", "uidMappings", "gidMappings"}));
  EXPECT_EQ(keys(j["hooks"]), (Keys{"prestart", "createRuntime", "createContainer",
                                    "startContainer", "poststart", "poststop"}));
  EXPECT_EQ(keys(j["hooks"]["createRuntime"][0]), (Keys{"path", "args", "env", "timeout"}));
}

TEST(ToJson, LinuxFieldOrder) {
  OrderedJson j = toJson(parseOk(readTestdata("full_config.json")))["linux"];
  EXPECT_EQ(keys(j),
            (Keys{"uidMappings", "gidMappings", "sysctl", "resources", "cgroupsPath", "namespaces",
                  "devices", "seccomp", "rootfsPropagation", "maskedPaths", "readonlyPaths",
                  "mountLabel", "intelRdt", "personality", "timeOffsets"}));
  EXPECT_EQ(keys(j["uidMappings"][0]), (Keys{"containerID", "hostID", "size"}));
  EXPECT_EQ(keys(j["devices"][0]),
            (Keys{"path", "type", "major", "minor", "fileMode", "uid", "gid"}));
  EXPECT_EQ(keys(j["seccomp"]), (Keys{"defaultAction", "defaultErrnoRet", "architectures", "flags",
                                      "listenerPath", "listenerMetadata", "syscalls"}));
  EXPECT_EQ(keys(j["seccomp"]["syscalls"][2]), (Keys{"names", "action", "errnoRet", "args"}));
  EXPECT_EQ(keys(j["seccomp"]["syscalls"][2]["args"][0]),
            (Keys{"index", "value", "valueTwo", "op"}));
  EXPECT_EQ(keys(j["resources"]), (Keys{"devices", "memory", "cpu", "pids", "blockIO",
                                        "hugepageLimits", "network", "rdma", "unified"}));
  EXPECT_EQ(keys(j["resources"]["devices"][1]),
            (Keys{"allow", "type", "major", "minor", "access"}));
  EXPECT_EQ(keys(j["resources"]["cpu"]),
            (Keys{"shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus",
                  "mems", "idle"}));
  EXPECT_EQ(keys(j["intelRdt"]),
            (Keys{"closID", "l3CacheSchema", "memBwSchema", "enableCMT", "enableMBM"}));
}

TEST(ToJson, OmitsUnsetOptionalsAndFalseBools) {
  Spec s;
  s.ociVersion = "1.2.0";
  s.root = Root{.path = "rootfs"};
  s.process = Process{};
  s.process->args = {"sh"};
  s.process->cwd = "/";
  s.linux = Linux{};
  s.linux->resources = Resources{};
  s.linux->resources->cpu = Cpu{.idle = false};
  // ociVersion, root.path, user.uid/gid and cwd are not omitempty in Go; everything else unset is
  // left out, and cpu.idle is written as the integer the schema wants.
  EXPECT_EQ(toJson(s).dump(),
            R"({"ociVersion":"1.2.0","process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"},)"
            R"("root":{"path":"rootfs"},"linux":{"resources":{"cpu":{"idle":0}}}})");
}

TEST(ToJson, SetOptionalsAreWrittenEvenWhenZero) {
  Process p;
  p.args = {"true"};
  p.cwd = "/";
  p.oomScoreAdj = 0;
  p.apparmorProfile = "";
  EXPECT_EQ(toJson(p).dump(),
            R"({"user":{"uid":0,"gid":0},"args":["true"],"cwd":"/","apparmorProfile":"",)"
            R"("oomScoreAdj":0})");
}

TEST(ParseSpec, MinimalDocument) {
  Spec s = parseOk(R"({"ociVersion": "1.2.0"})");
  EXPECT_EQ(s.ociVersion, "1.2.0");
  EXPECT_FALSE(s.process);
  EXPECT_FALSE(s.root);
  EXPECT_FALSE(s.hooks);
  EXPECT_FALSE(s.linux);
  EXPECT_TRUE(s.mounts.empty());
  EXPECT_EQ(toJson(s).dump(), R"({"ociVersion":"1.2.0"})");
}

// config.md "Extensibility": unknown properties MUST be ignored, at every level.
TEST(ParseSpec, IgnoresUnknownProperties) {
  Spec s = parseOk(R"({
    "ociVersion": "1.2.0", "vm": {"kernel": {"path": "/k"}}, "windows": {"layerFolders": []},
    "process": {"args": ["sh"], "cwd": "/", "commandLine": "sh", "x-extra": {"a": [1]},
                "user": {"uid": 1, "gid": 2, "sid": "S-1"}},
    "root": {"path": "rootfs", "future": true},
    "mounts": [{"destination": "/tmp", "type": "tmpfs", "shiny": 1}],
    "linux": {"netDevices": {"eth1": {"name": "net1"}}, "memoryPolicy": {"mode": "MPOL_BIND"},
              "resources": {"cpu": {"shares": 2, "unknown": "x"}}}
  })");
  ASSERT_TRUE(s.process);
  EXPECT_EQ(s.process->user.gid, 2u);
  EXPECT_EQ(s.mounts.at(0).type, "tmpfs");
  ASSERT_TRUE(s.linux && s.linux->resources && s.linux->resources->cpu);
  EXPECT_EQ(s.linux->resources->cpu->shares, 2u);
  EXPECT_EQ(keys(toJson(s)), (Keys{"ociVersion", "process", "root", "mounts", "linux"}));
}

TEST(ParseSpec, NullIsAbsent) {
  Spec s = parseOk(R"({"ociVersion": "1.2.0", "hostname": null, "process": null,
                       "root": {"path": "r", "readonly": null}})");
  EXPECT_FALSE(s.hostname);
  EXPECT_FALSE(s.process);
  ASSERT_TRUE(s.root);
  EXPECT_FALSE(s.root->readonly);
}

TEST(ParseSpec, AcceptsWhatRuncAccepts) {
  Spec s = parseOk(R"({"ociVersion": "1.2.0",
    "mounts": [{"destination": "data", "type": "bind", "source": "/srv"}],
    "linux": {"devices": [{"type": "p", "path": "/dev/fifo"}],
              "resources": {"memory": {"limit": -1, "swap": -1}, "cpu": {"quota": -1}}}})");
  // A relative destination is kept as written; the runtime resolves it under the rootfs.
  EXPECT_EQ(s.mounts.at(0).destination, "data");
  ASSERT_TRUE(s.linux);
  EXPECT_EQ(s.linux->devices.at(0).major, 0);
  EXPECT_EQ(s.linux->resources->memory->limit, -1);
  EXPECT_EQ(s.linux->resources->cpu->quota, -1);
}

TEST(ParseSpec, ConsoleSizeIsIgnoredWithoutTerminal) {
  Spec without = parseOk(R"({"ociVersion": "1.2.0", "process": {"args": ["sh"], "cwd": "/",
                            "consoleSize": {"height": 24, "width": 80}}})");
  EXPECT_FALSE(without.process->consoleSize);
  Spec with = parseOk(R"({"ociVersion": "1.2.0", "process": {"args": ["sh"], "cwd": "/",
                         "terminal": true, "consoleSize": {"height": 24, "width": 80}}})");
  ASSERT_TRUE(with.process->consoleSize);
  EXPECT_EQ(with.process->consoleSize->height, 24u);
}

TEST(ParseSpec, CpuIdleZeroIsFalse) {
  Spec s = parseOk(R"({"ociVersion": "1.2.0", "linux": {"resources": {"cpu": {"idle": 0}}}})");
  EXPECT_EQ(s.linux->resources->cpu->idle, false);
}

TEST(Spec, FindNamespace) {
  Spec s = parseOk(R"({"ociVersion": "1.2.0", "linux": {"namespaces": [
                        {"type": "pid"}, {"type": "network", "path": "/run/netns/a"}]}})");
  const Namespace* net = s.findNamespace("network");
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->path, "/run/netns/a");
  EXPECT_EQ(s.findNamespace("user"), nullptr);
  EXPECT_EQ(Spec{}.findNamespace("pid"), nullptr);
}

TEST(ParseProcess, ReadsAStandaloneProcess) {
  auto p = parseProcess(R"({"terminal": false, "user": {"uid": 5, "gid": 6}, "args": ["ls", "-l"],
                            "env": ["A=1"], "cwd": "/work", "noNewPrivileges": true})");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->user.uid, 5u);
  EXPECT_EQ(p->args, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(p->cwd, "/work");
  EXPECT_EQ(toJson(*p).dump(),
            R"({"user":{"uid":5,"gid":6},"args":["ls","-l"],"env":["A=1"],"cwd":"/work",)"
            R"("noNewPrivileges":true})");
}

TEST(State, RoundTripAndOrder) {
  State st{.ociVersion = "1.2.0",
           .id = "c1",
           .status = "running",
           .pid = 4242,
           .bundle = "/run/berth/c1",
           .annotations = {{"k", "v"}}};
  OrderedJson j = toJson(st);
  EXPECT_EQ(j.dump(), R"({"ociVersion":"1.2.0","id":"c1","status":"running","pid":4242,)"
                      R"("bundle":"/run/berth/c1","annotations":{"k":"v"}})");
  auto back = parseState(j.dump());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->bundle, "/run/berth/c1");
  EXPECT_EQ(back->annotations.at("k"), "v");
  EXPECT_EQ(toJson(*back), j);
}

TEST(State, StoppedWithoutPidOmitsIt) {
  State st{.ociVersion = "1.2.0", .id = "c1", .status = "stopped", .bundle = "/b"};
  EXPECT_EQ(toJson(st).dump(),
            R"({"ociVersion":"1.2.0","id":"c1","status":"stopped","bundle":"/b"})");
  auto back = parseState(toJson(st).dump());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->pid, 0);
}

class LoadSpec : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ocispec-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LoadSpec, ReadsTheFile) {
  ASSERT_TRUE(writeFile(dir_ / "config.json", readTestdata("runc_spec.json")));
  auto s = loadSpec(dir_ / "config.json");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->hostname, "runc");
}

TEST_F(LoadSpec, PrefixesParseErrorsWithThePath) {
  ASSERT_TRUE(writeFile(dir_ / "config.json", R"({"ociVersion": "1", "process": {"cwd": "/"}})"));
  auto s = loadSpec(dir_ / "config.json");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(s.error().message(),
            (dir_ / "config.json").string() + ": process.args: must be a non-empty array");
}

TEST_F(LoadSpec, MissingFileIsNotFound) {
  auto s = loadSpec(dir_ / "nope.json");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kNotFound);
  EXPECT_NE(s.error().message().find((dir_ / "nope.json").string()), std::string::npos);
}

}  // namespace
}  // namespace berth::ocispec
