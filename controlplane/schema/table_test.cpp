#include "controlplane/schema/table.h"

#include <gtest/gtest.h>

#include "controlplane/schema/registry.h"
#include "controlplane/schema/schema_test_util.h"
#include "controlplane/schema/table_cells.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

const TimePoint kNow = *parseTime("2024-06-01T12:00:00Z");

TableOptions at(IncludeObject include = IncludeObject::kMetadata) {
  TableOptions o;
  o.now = kNow;
  o.includeObject = include;
  return o;
}

std::vector<std::string> columnNames(const json& table) {
  std::vector<std::string> names;
  for (const json& c : table["columnDefinitions"])
    names.push_back(c["name"]);
  return names;
}

TEST(TableTest, EveryNamedCellExists) {
  for (const TypeDef* t : Registry::builtin().types())
    for (const PrinterColumn& c : t->columns)
      if (!c.cell.empty()) {
        EXPECT_NE(findCell(c.cell), nullptr) << t->name << " " << c.cell;
      }
}

TEST(TableTest, PodColumnsAsKubectlGetPodsWide) {
  json pod = json::parse(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"web","namespace":"default","resourceVersion":"42",
                  "creationTimestamp":"2024-06-01T11:55:00Z"},
      "spec":{"nodeName":"node1","containers":[{"name":"a"},{"name":"b"}],
              "readinessGates":[{"conditionType":"x/ready"}]},
      "status":{"phase":"Running","podIPs":[{"ip":"10.0.0.5"}],
        "conditions":[{"type":"Ready","status":"True"},{"type":"x/ready","status":"True"}],
        "containerStatuses":[
          {"name":"a","ready":true,"restartCount":2,"state":{"running":{}},
           "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-06-01T11:58:00Z"}}},
          {"name":"b","ready":true,"restartCount":0,"state":{"running":{}}}]}})");
  json table = toTable(pod, builtinType("io.k8s.api.core.v1.Pod"), at());
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(table["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(columnNames(table),
            (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                      "Nominated Node", "Readiness Gates"}));
  EXPECT_EQ(table["columnDefinitions"][0]["format"], "name");
  EXPECT_EQ(table["columnDefinitions"][5]["priority"], 1);
  EXPECT_EQ(
      table["rows"][0]["cells"],
      json::parse(
          R"j(["web","2/2","Running","2 (2m ago)","5m","10.0.0.5","node1","<none>","1/1"])j"));
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(table["rows"][0]["object"]["metadata"]["name"], "web");
  EXPECT_FALSE(table["rows"][0].contains("conditions"));
}

TEST(TableTest, PodStatusAsUpstreamPrintsIt) {
  struct Case {
    std::string_view name, pod, ready, status, restarts;
  };
  const Case cases[] = {
      {"pending", R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Pending"}})", "0/1",
       "Pending", "0"},
      {"waiting reason", R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Pending",
          "containerStatuses":[{"name":"a","state":{"waiting":{"reason":"ImagePullBackOff"}}}]}})",
       "0/1", "ImagePullBackOff", "0"},
      {"crash loop", R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running",
          "containerStatuses":[{"name":"a","restartCount":5,"state":{"waiting":{"reason":"CrashLoopBackOff"}},
          "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-06-01T10:00:00Z"}}}]}})",
       "0/1", "CrashLoopBackOff", "5 (120m ago)"},
      {"completed", R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Succeeded",
          "containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
       "0/1", "Completed", "0"},
      {"exit code without a reason",
       R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Failed",
          "containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":3}}}]}})",
       "0/1", "ExitCode:3", "0"},
      {"signal", R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Failed",
          "containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":137,"signal":9}}}]}})",
       "0/1", "Signal:9", "0"},
      {"init running",
       R"({"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"a"}]},
          "status":{"phase":"Pending","initContainerStatuses":[
            {"name":"i1","state":{"terminated":{"exitCode":0}}},
            {"name":"i2","state":{"running":{}}}]}})",
       "0/1", "Init:1/2", "0"},
      {"init failed", R"({"spec":{"initContainers":[{"name":"i1"}],"containers":[{"name":"a"}]},
          "status":{"phase":"Pending","initContainerStatuses":[
            {"name":"i1","state":{"terminated":{"exitCode":2,"reason":"Error"}}}]}})",
       "0/1", "Init:Error", "0"},
      {"sidecar counts", R"({"spec":{"initContainers":[{"name":"s","restartPolicy":"Always"}],
          "containers":[{"name":"a"}]},
          "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"}],
            "initContainerStatuses":[{"name":"s","started":true,"ready":true,"restartCount":1,
              "state":{"running":{}}}],
            "containerStatuses":[{"name":"a","ready":true,"state":{"running":{}}}]}})",
       "2/2", "Running", "1"},
      {"scheduling gated", R"({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Pending",
          "conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})",
       "0/1", "SchedulingGated", "0"},
      {"terminating", R"({"metadata":{"deletionTimestamp":"2024-06-01T11:59:00Z"},
          "spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running",
          "containerStatuses":[{"name":"a","ready":true,"state":{"running":{}}}]}})",
       "1/1", "Terminating", "0"},
      {"node lost", R"({"metadata":{"deletionTimestamp":"2024-06-01T11:59:00Z"},
          "spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running","reason":"NodeLost"}})",
       "0/1", "Unknown", "0"},
      {"completed but one still running", R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]},
          "status":{"phase":"Running","containerStatuses":[
            {"name":"a","ready":true,"state":{"running":{}}},
            {"name":"b","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
       "1/2", "NotReady", "0"},
  };
  for (const Case& c : cases) {
    json table = toTable(json::parse(c.pod), builtinType("io.k8s.api.core.v1.Pod"), at());
    const json& cells = table["rows"][0]["cells"];
    EXPECT_EQ(cells[1], c.ready) << c.name;
    EXPECT_EQ(cells[2], c.status) << c.name;
    EXPECT_EQ(cells[3], c.restarts) << c.name;
  }
  json done = toTable(json::parse(R"({"status":{"phase":"Succeeded"}})"),
                      builtinType("io.k8s.api.core.v1.Pod"), at());
  EXPECT_EQ(done["rows"][0]["conditions"][0]["type"], "Completed");
  EXPECT_EQ(done["rows"][0]["conditions"][0]["reason"], "Succeeded");
}

TEST(TableTest, OtherKindsCells) {
  struct Case {
    std::string_view name, type, object, cells;
  };
  const Case cases[] = {
      {"node", "io.k8s.api.core.v1.Node",
       R"({"metadata":{"name":"n1","creationTimestamp":"2024-05-30T12:00:00Z",
           "labels":{"node-role.kubernetes.io/control-plane":"","kubernetes.io/role":"edge"}},
         "spec":{"unschedulable":true},
         "status":{"conditions":[{"type":"Ready","status":"False"}],
           "addresses":[{"type":"InternalIP","address":"192.168.1.2"}],
           "nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian 12"}}})",
       R"(["n1","NotReady,SchedulingDisabled","control-plane,edge","2d","v1.32.0","192.168.1.2",
           "<none>","Debian 12","<unknown>","<unknown>"])"},
      {"service", "io.k8s.api.core.v1.Service",
       R"({"metadata":{"name":"s","creationTimestamp":"2024-06-01T11:00:00Z"},
         "spec":{"type":"NodePort","clusterIPs":["10.96.0.10"],"selector":{"b":"2","a":"1"},
           "ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}})",
       R"(["s","NodePort","10.96.0.10","<none>","80:30080/TCP,53/UDP","60m","a=1,b=2"])"},
      {"load balancer", "io.k8s.api.core.v1.Service",
       R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","clusterIPs":["10.96.0.11"]},
         "status":{"loadBalancer":{}}})",
       R"(["lb","LoadBalancer","10.96.0.11","<pending>","<none>","<unknown>","<none>"])"},
      {"endpoints", "io.k8s.api.core.v1.Endpoints",
       R"({"metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"},
           {"ip":"fd00::3"},{"ip":"10.0.0.4"}],"ports":[{"port":80}]}]})",
       R"(["e","10.0.0.1:80,10.0.0.2:80,[fd00::3]:80 + 1 more...","<unknown>"])"},
      {"deployment", "io.k8s.api.apps.v1.Deployment",
       R"({"metadata":{"name":"d","creationTimestamp":"2024-06-01T11:59:30Z"},
         "spec":{"replicas":3,"selector":{"matchLabels":{"app":"d"},
           "matchExpressions":[{"key":"tier","operator":"In","values":["web","api"]}]},
           "template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}},
         "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})",
       R"j(["d","2/3",3,2,"30s","a,b","a:1,b:1","app=d,tier in (api,web)"])j"},
      {"job", "io.k8s.api.batch.v1.Job",
       R"({"metadata":{"name":"j"},"spec":{"completions":3},
         "status":{"succeeded":3,"startTime":"2024-06-01T11:00:00Z","completionTime":"2024-06-01T11:02:30Z",
           "conditions":[{"type":"Complete","status":"True"}]}})",
       R"(["j","Complete","3/3","2m30s","<unknown>","","","<none>"])"},
      {"cron job", "io.k8s.api.batch.v1.CronJob",
       R"({"metadata":{"name":"c"},"spec":{"schedule":"*/5 * * * *","suspend":false}})",
       R"(["c","*/5 * * * *","<none>","False",0,"<none>","<unknown>","","","<none>"])"},
      {"event", "io.k8s.api.core.v1.Event",
       R"({"metadata":{"name":"web.1"},"type":"Warning","reason":"BackOff","message":" restarting \n",
         "involvedObject":{"kind":"Pod","name":"web","fieldPath":"spec.containers{a}"},
         "source":{"component":"kubelet","host":"node1"},"count":4,
         "firstTimestamp":"2024-06-01T11:00:00Z","lastTimestamp":"2024-06-01T11:59:00Z"})",
       R"(["60s","Warning","BackOff","pod/web","spec.containers{a}","kubelet, node1","restarting",
           "60m",4,"web.1"])"},
      {"events.k8s.io event", "io.k8s.api.events.v1.Event",
       R"({"apiVersion":"events.k8s.io/v1","metadata":{"name":"x"},"type":"Normal",
         "reason":"Scheduled","note":"assigned","regarding":{"kind":"Pod","name":"p"},
         "reportingController":"default-scheduler","eventTime":"2024-06-01T11:58:00.000000Z"})",
       R"(["2m","Normal","Scheduled","pod/p","","default-scheduler","assigned","2m",1,"x"])"},
      {"persistent volume", "io.k8s.api.core.v1.PersistentVolume",
       R"({"metadata":{"name":"pv1"},"spec":{"capacity":{"storage":"1Gi"},
           "accessModes":["ReadWriteMany","ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain",
           "claimRef":{"namespace":"ns","name":"c"},"storageClassName":"fast","volumeMode":"Filesystem"},
         "status":{"phase":"Bound"}})",
       R"(["pv1","1Gi","RWO,RWX","Retain","Bound","ns/c","fast","<unset>","","<unknown>","Filesystem"])"},
      {"storage class", "io.k8s.api.storage.v1.StorageClass",
       R"({"metadata":{"name":"std","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
         "provisioner":"x.io/p"})",
       R"j(["std (default)","x.io/p","Delete","Immediate",false,"<unknown>"])j"},
      {"role binding", "io.k8s.api.rbac.v1.RoleBinding",
       R"({"metadata":{"name":"rb"},"roleRef":{"kind":"ClusterRole","name":"view"},
         "subjects":[{"kind":"User","name":"u1"},{"kind":"ServiceAccount","namespace":"ns","name":"sa"},
                     {"kind":"User","name":"u2"}]})",
       R"(["rb","ClusterRole/view","<unknown>","u1, u2","","ns/sa"])"},
      {"csr", "io.k8s.api.certificates.v1.CertificateSigningRequest",
       R"({"metadata":{"name":"csr1"},"spec":{"signerName":"kubernetes.io/kube-apiserver-client",
         "username":"alice","expirationSeconds":86400},
         "status":{"conditions":[{"type":"Approved","status":"True"}],"certificate":"Zm9v"}})",
       R"(["csr1","<unknown>","kubernetes.io/kube-apiserver-client","alice","24h","Approved,Issued"])"},
      {"controller revision", "io.k8s.api.apps.v1.ControllerRevision",
       R"({"metadata":{"name":"r","ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet",
         "name":"ds","controller":true}]},"revision":3})",
       R"(["r","daemonset.apps/ds",3,"<unknown>"])"},
      {"endpoint slice", "io.k8s.api.discovery.v1.EndpointSlice",
       R"({"metadata":{"name":"es"},"addressType":"IPv4","ports":[{"port":80},{"name":"x"}],
         "endpoints":[{"addresses":["10.0.0.1"]},{"addresses":["10.0.0.2"]}]})",
       R"(["es","IPv4","80,x","10.0.0.1,10.0.0.2","<unknown>"])"},
      {"priority class", "io.k8s.api.scheduling.v1.PriorityClass",
       R"({"metadata":{"name":"high"},"value":1000,"preemptionPolicy":"Never"})",
       R"(["high",1000,false,"<unknown>","Never"])"},
  };
  for (const Case& c : cases) {
    json table = toTable(json::parse(c.object), builtinType(c.type), at());
    EXPECT_EQ(table["rows"][0]["cells"], json::parse(c.cells))
        << c.name << ": " << table["rows"][0]["cells"].dump();
  }
}

TEST(TableTest, ListsDefaultColumnsAndIncludeObject) {
  json list = json::parse(R"({"kind":"RoleList","metadata":{"resourceVersion":"7","continue":"c1"},
      "items":[{"metadata":{"name":"a","creationTimestamp":"2024-01-02T03:04:05Z"}},
               {"metadata":{"name":"b"}}]})");
  json table = toTable(list, builtinType("io.k8s.api.rbac.v1.Role"), at(IncludeObject::kNone));
  EXPECT_EQ(columnNames(table), (std::vector<std::string>{"Name", "Created At"}));
  EXPECT_EQ(table["columnDefinitions"][1]["type"], "date");
  EXPECT_EQ(table["metadata"], json::parse(R"({"resourceVersion":"7","continue":"c1"})"));
  EXPECT_EQ(table["rows"][0]["cells"], json::parse(R"(["a","2024-01-02T03:04:05Z"])"));
  EXPECT_EQ(table["rows"][1]["cells"], json::parse(R"(["b","0001-01-01T00:00:00Z"])"));
  EXPECT_TRUE(table["rows"][0]["object"].is_null());
  json full = toTable(list, builtinType("io.k8s.api.rbac.v1.Role"), at(IncludeObject::kObject));
  EXPECT_EQ(full["rows"][1]["object"], list["items"][1]);
  TableOptions noHeaders = at();
  noHeaders.noHeaders = true;
  EXPECT_TRUE(toTable(list, builtinType("io.k8s.api.rbac.v1.Role"), noHeaders)["columnDefinitions"]
                  .is_null());
}

TEST(TableTest, ParsesIncludeObject) {
  EXPECT_EQ(*parseIncludeObject(""), IncludeObject::kMetadata);
  EXPECT_EQ(*parseIncludeObject("None"), IncludeObject::kNone);
  EXPECT_EQ(*parseIncludeObject("Object"), IncludeObject::kObject);
  EXPECT_FALSE(parseIncludeObject("all"));
}

TEST(HumanDurationTest, AsApimachinery) {
  using namespace std::chrono;
  struct Case {
    nanoseconds d;
    std::string_view want;
  };
  const Case cases[] = {
      {seconds(-2), "<invalid>"},
      {milliseconds(-500), "0s"},
      {seconds(0), "0s"},
      {seconds(119), "119s"},
      {seconds(125), "2m5s"},
      {minutes(9), "9m"},
      {minutes(10), "10m"},
      {minutes(179), "179m"},
      {hours(3), "3h"},
      {minutes(7 * 60 + 59), "7h59m"},
      {hours(47), "47h"},
      {hours(48), "2d"},
      {hours(50), "2d2h"},
      {hours(24 * 8), "8d"},
      {hours(24 * 365 * 2), "2y"},
      {hours(24 * 800), "2y70d"},
      {hours(24 * 365 * 9), "9y"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(humanDuration(c.d), c.want) << c.d.count();
}

}  // namespace
}  // namespace berth::controlplane::schema
