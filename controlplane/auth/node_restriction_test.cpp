#include "controlplane/auth/node_restriction.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "controlplane/auth/crypto_names.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

using Op = AdmissionOperation;

UserInfo n1() {
  return UserInfo{"system:node:n1", "", {"system:nodes", "system:authenticated"}, {}};
}

nlohmann::json parse(const char* text) {
  return nlohmann::json::parse(text);
}

nlohmann::json mirrorPod() {
  return parse(R"({
      "metadata": {"name": "static-web-n1", "namespace": "default",
                   "annotations": {"kubernetes.io/config.mirror": "hash"},
                   "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "n1",
                                        "uid": "n1-uid", "controller": true}]},
      "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "nginx"}]}})");
}

nlohmann::json csr(const std::string& commonName, const char* signer) {
  auto key = KeyPair::generate(KeyAlgorithm::kEcdsaP256);
  auto request = CertificateRequest::create(*key, {commonName, {"system:nodes"}, {}, {}});
  return {{"metadata", {{"name", "csr-1"}}},
          {"spec", {{"signerName", signer}, {"request", base64Encode(*request->pem())}}}};
}

struct Case {
  const char* name;
  AdmissionRequest request;
  nlohmann::json object;
  nlohmann::json oldObject;
  const char* error;  // nullptr: admitted
  Code code = Code::kPermissionDenied;
};

AdmissionRequest req(Op operation, std::string resource, std::string ns, std::string name,
                     std::string subresource = {}, std::string group = {}) {
  AdmissionRequest r;
  r.user = n1();
  r.operation = operation;
  r.resource = std::move(resource);
  r.namespace_ = std::move(ns);
  r.name = std::move(name);
  r.subresource = std::move(subresource);
  r.group = std::move(group);
  return r;
}

class NodeRestrictionTest : public ::testing::Test {
 protected:
  NodeRestrictionTest() {
    lookup_.put("", "nodes", parse(R"({"metadata": {"name": "n1", "uid": "n1-uid"}})"));
    lookup_.put("", "pods", parse(R"({"metadata": {"namespace": "default", "name": "web",
        "uid": "web-uid"}, "spec": {"nodeName": "n1"}})"));
    lookup_.put("", "pods", parse(R"({"metadata": {"namespace": "default", "name": "far",
        "uid": "far-uid"}, "spec": {"nodeName": "n2"}})"));
  }

  void run(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
      AdmissionRequest r = c.request;
      if (!c.object.is_null()) r.object = &c.object;
      if (!c.oldObject.is_null()) r.oldObject = &c.oldObject;
      auto result = admitNodeRestriction(r, lookup_);
      if (c.error == nullptr) {
        EXPECT_TRUE(result) << c.name << ": " << result.error().message();
        continue;
      }
      ASSERT_FALSE(result) << c.name;
      EXPECT_EQ(result.error().message(), c.error) << c.name;
      EXPECT_EQ(result.error().code(), c.code) << c.name;
    }
  }

  testing::MemoryObjectLookup lookup_;
};

TEST_F(NodeRestrictionTest, MirrorPods) {
  auto with = [](auto edit) {
    auto pod = mirrorPod();
    edit(pod);
    return pod;
  };
  const auto create = req(Op::kCreate, "pods", "default", "static-web-n1");
  run({
      {"a mirror pod of its own", create, mirrorPod(), nullptr, nullptr},
      {"not a mirror pod", create, with([](auto& p) { p["metadata"].erase("annotations"); }),
       nullptr,
       "pods \"static-web-n1\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" "
       "annotation, node \"n1\" can only create mirror pods"},
      {"bound elsewhere", create, with([](auto& p) { p["spec"]["nodeName"] = "n2"; }), nullptr,
       "pods \"static-web-n1\" is forbidden: node \"n1\" can only create pods with spec.nodeName "
       "set to itself"},
      {"no owner", create, with([](auto& p) { p["metadata"].erase("ownerReferences"); }), nullptr,
       "pods \"static-web-n1\" is forbidden: node \"n1\" can only create pods with an owner "
       "reference set to itself"},
      {"not the controller", create,
       with([](auto& p) { p["metadata"]["ownerReferences"][0]["controller"] = false; }), nullptr,
       "pods \"static-web-n1\" is forbidden: node \"n1\" can only create pods with a controller "
       "owner reference set to itself"},
      {"blocking deletion", create,
       with([](auto& p) { p["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] = true; }),
       nullptr,
       "pods \"static-web-n1\" is forbidden: node \"n1\" must not set blockOwnerDeletion on an "
       "owner reference"},
      {"another node uid", create,
       with([](auto& p) { p["metadata"]["ownerReferences"][0]["uid"] = "old-uid"; }), nullptr,
       "pods \"static-web-n1\" is forbidden: node n1 UID mismatch: expected old-uid got n1-uid"},
      {"a service account", create,
       with([](auto& p) { p["spec"]["serviceAccountName"] = "default"; }), nullptr,
       "pods \"static-web-n1\" is forbidden: node \"n1\" can not create pods that reference a "
       "service account"},
      {"a secret", create,
       with([](auto& p) { p["spec"]["imagePullSecrets"] = parse(R"([{"name": "pull"}])"); }),
       nullptr,
       "pods \"static-web-n1\" is forbidden: node \"n1\" can not create pods that reference "
       "secrets"},
      {"a configmap", create, with([](auto& p) {
         p["spec"]["volumes"] = parse(R"([{"name": "c", "configMap": {"name": "cm"}}])");
       }),
       nullptr,
       "pods \"static-web-n1\" is forbidden: node \"n1\" can not create pods that reference "
       "configmaps"},
      {"a claim", create, with([](auto& p) {
         p["spec"]["volumes"] =
             parse(R"([{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])");
       }),
       nullptr,
       "pods \"static-web-n1\" is forbidden: node \"n1\" can not create pods that reference "
       "persistentvolumeclaims"},
      {"update", req(Op::kUpdate, "pods", "default", "web"), mirrorPod(), mirrorPod(),
       "pods \"web\" is forbidden: unexpected operation \"UPDATE\", node \"n1\" can only create "
       "and delete mirror pods"},
      {"delete its own", req(Op::kDelete, "pods", "default", "web"), nullptr, nullptr, nullptr},
      {"delete another node's", req(Op::kDelete, "pods", "default", "far"), nullptr, nullptr,
       "pods \"far\" is forbidden: node \"n1\" can only delete pods with spec.nodeName set to "
       "itself"},
      {"delete a missing one", req(Op::kDelete, "pods", "default", "gone"), nullptr, nullptr,
       "pod \"gone\" not found", Code::kNotFound},
      {"exec", req(Op::kCreate, "pods", "default", "web", "exec"), nullptr, nullptr,
       "pods \"web\" is forbidden: unexpected pod subresource \"exec\", only 'status' and "
       "'eviction' are allowed"},
  });
}

TEST_F(NodeRestrictionTest, PodStatusAndEvictions) {
  const auto pod = parse(R"({"metadata": {"name": "web", "labels": {"app": "web"}},
                             "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})");
  auto relabeled = pod;
  relabeled["metadata"]["labels"]["app"] = "evil";
  auto far = pod;
  far["spec"]["nodeName"] = "n2";
  const auto status = req(Op::kUpdate, "pods", "default", "web", "status");
  const auto evict = req(Op::kCreate, "pods", "default", "web", "eviction");
  run({
      {"its pod's status", status, pod, pod, nullptr},
      {"labels through status", status, relabeled, pod,
       "pods \"web\" is forbidden: node \"n1\" cannot update labels through pod status"},
      {"another node's pod", status, far, far,
       "pods \"web\" is forbidden: node \"n1\" can only update pod status for pods with "
       "spec.nodeName set to itself"},
      {"evict its pod", evict, parse(R"({"metadata": {"name": "web"}})"), nullptr, nullptr},
      {"evict another's", req(Op::kCreate, "pods", "default", "far", "eviction"),
       parse(R"({"metadata": {"name": "far"}})"), nullptr,
       "pods \"far\" is forbidden: node n1 can only evict pods with spec.nodeName set to itself"},
  });
}

TEST_F(NodeRestrictionTest, ItsOwnNode) {
  const auto node = parse(R"({"metadata": {"name": "n1", "labels": {
      "kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux",
      "node.kubernetes.io/exclude-from-external-load-balancers": "",
      "example.com/rack": "r1"}},
      "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}})");
  auto tainted = node;
  tainted["spec"]["taints"] = nlohmann::json::array();
  auto restricted = node;
  restricted["metadata"]["labels"]["node-restriction.kubernetes.io/secure"] = "true";
  restricted["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = "";
  auto kubelet = node;
  kubelet["metadata"]["labels"]["topology.kubernetes.io/zone"] = "z1";
  kubelet["metadata"]["labels"]["x.kubelet.kubernetes.io/y"] = "1";
  kubelet["status"] = {{"phase", "Running"}};
  run({
      {"register itself", req(Op::kCreate, "nodes", "", "n1"), node, nullptr, nullptr},
      {"register another", req(Op::kCreate, "nodes", "", "n2"),
       parse(R"({"metadata": {"name": "n2"}})"), nullptr,
       "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\""},
      {"register with restricted labels", req(Op::kCreate, "nodes", "", "n1"), restricted, nullptr,
       "nodes \"n1\" is forbidden: node \"n1\" is not allowed to set the following labels: "
       "node-restriction.kubernetes.io/secure, node-role.kubernetes.io/control-plane"},
      {"register with a config source", req(Op::kCreate, "nodes", "", "n1"),
       parse(R"({"metadata": {"name": "n1"}, "spec": {"configSource": {"configMap": {}}}})"),
       nullptr,
       "nodes \"n1\" is forbidden: node \"n1\" is not allowed to create pods with a non-nil "
       "configSource"},
      {"kubelet labels and status", req(Op::kUpdate, "nodes", "", "n1"), kubelet, node, nullptr},
      {"its taints", req(Op::kUpdate, "nodes", "", "n1"), tainted, node,
       "nodes \"n1\" is forbidden: node \"n1\" is not allowed to modify taints"},
      {"restricted labels", req(Op::kUpdate, "nodes", "", "n1"), restricted, node,
       "nodes \"n1\" is forbidden: is not allowed to modify labels: "
       "node-restriction.kubernetes.io/secure, node-role.kubernetes.io/control-plane"},
      {"removing a kubernetes.io label", req(Op::kUpdate, "nodes", "", "n1"),
       parse(R"({"metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1",
           "kubernetes.io/os": "linux", "example.com/rack": "r1",
           "node.kubernetes.io/exclude-from-external-load-balancers": ""}},
           "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}})"),
       [&] {
         auto old = node;
         old["metadata"]["labels"]["beta.kubernetes.io/fluentd-ds-ready"] = "true";
         return old;
       }(),
       "nodes \"n1\" is forbidden: is not allowed to modify labels: "
       "beta.kubernetes.io/fluentd-ds-ready"},
      {"status of another", req(Op::kUpdate, "nodes", "", "n2", "status"), node, node,
       "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\""},
      {"delete another", req(Op::kDelete, "nodes", "", "n2"), nullptr, nullptr,
       "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\""},
  });
}

TEST_F(NodeRestrictionTest, LeasesTokensClaimsAndCsrs) {
  const auto lease = req(Op::kCreate, "leases", "kube-node-lease", "", "", "coordination.k8s.io");
  const auto token = req(Op::kCreate, "serviceaccounts", "default", "web-sa", "token");
  const auto claim = parse(R"({"metadata": {"name": "data", "resourceVersion": "5"},
      "spec": {"resources": {"requests": {"storage": "1Gi"}}},
      "status": {"capacity": {"storage": "1Gi"}}})");
  auto grown = claim;
  grown["status"]["capacity"]["storage"] = "2Gi";
  grown["metadata"]["resourceVersion"] = "6";
  auto relabeled = claim;
  relabeled["metadata"]["labels"] = {{"a", "b"}};
  const auto csrCreate =
      req(Op::kCreate, "certificatesigningrequests", "", "csr-1", "", "certificates.k8s.io");
  run({
      {"its lease", lease, parse(R"({"metadata": {"name": "n1"}})"), nullptr, nullptr},
      {"another lease", lease, parse(R"({"metadata": {"name": "n2"}})"), nullptr,
       "leases.coordination.k8s.io \"n2\" is forbidden: can only access node lease with the same "
       "name as the requesting node"},
      {"a lease elsewhere", req(Op::kUpdate, "leases", "default", "n1", "", "coordination.k8s.io"),
       parse(R"({"metadata": {"name": "n1"}})"), nullptr,
       "leases.coordination.k8s.io \"n1\" is forbidden: can only access leases in the "
       "\"kube-node-lease\" system namespace"},
      {"a token for its pod", token,
       parse(R"({"spec": {"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "web",
           "uid": "web-uid"}}})"),
       nullptr, nullptr},
      {"an unbound token", token, parse(R"({"spec": {}})"), nullptr,
       "serviceaccounts \"web-sa\" is forbidden: node requested token not bound to a pod"},
      {"a token without the pod uid", token,
       parse(R"({"spec": {"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "web"}}})"),
       nullptr,
       "serviceaccounts \"web-sa\" is forbidden: node requested token with a pod binding without "
       "a uid"},
      {"a token for another node's pod", token,
       parse(R"({"spec": {"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "far",
           "uid": "far-uid"}}})"),
       nullptr,
       "serviceaccounts \"web-sa\" is forbidden: node requested token bound to a pod scheduled "
       "on a different node"},
      {"a token for a recreated pod", token,
       parse(R"({"spec": {"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "web",
           "uid": "old"}}})"),
       nullptr,
       "serviceaccounts \"web-sa\" is forbidden: the UID in the bound object reference (old) does "
       "not match the UID in record. The object might have been deleted and then recreated"},
      {"claim capacity", req(Op::kUpdate, "persistentvolumeclaims", "default", "data", "status"),
       grown, claim, nullptr},
      {"claim labels", req(Op::kUpdate, "persistentvolumeclaims", "default", "data", "status"),
       relabeled, claim,
       "persistentvolumeclaims \"data\" is forbidden: node \"n1\" is not allowed to update fields "
       "other than status.quantity and status.conditions: changed metadata.labels"},
      {"a claim itself", req(Op::kUpdate, "persistentvolumeclaims", "default", "data"), claim,
       claim, "persistentvolumeclaims \"data\" is forbidden: may only update PVC status"},
      {"its client certificate", csrCreate,
       csr("system:node:n1", "kubernetes.io/kube-apiserver-client-kubelet"), nullptr, nullptr},
      {"another node's serving certificate", csrCreate,
       csr("system:node:n2", "kubernetes.io/kubelet-serving"), nullptr,
       "certificatesigningrequests.certificates.k8s.io \"csr-1\" is forbidden: can only create a "
       "node CSR with CN=system:node:n1"},
      {"another signer", csrCreate, csr("anyone", "example.com/signer"), nullptr, nullptr},
      {"garbage", csrCreate,
       parse(R"({"spec": {"signerName": "kubernetes.io/kubelet-serving", "request": "eA=="}})"),
       nullptr,
       "certificatesigningrequests.certificates.k8s.io \"csr-1\" is forbidden: unable to parse "
       "csr: PEM block type must be CERTIFICATE REQUEST"},
      {"its CSI node", req(Op::kUpdate, "csinodes", "", "n1", "", "storage.k8s.io"), nullptr,
       nullptr, nullptr},
      {"another CSI node", req(Op::kDelete, "csinodes", "", "n2", "", "storage.k8s.io"), nullptr,
       nullptr,
       "csinodes.storage.k8s.io \"n2\" is forbidden: can only access CSINode with the same name "
       "as the requesting node"},
  });
}

TEST_F(NodeRestrictionTest, OthersAreNotRestricted) {
  AdmissionRequest r = req(Op::kUpdate, "nodes", "", "n2");
  r.user = UserInfo{"admin", "", {"system:masters"}, {}};
  EXPECT_TRUE(admitNodeRestriction(r, lookup_));
  r.user = UserInfo{"system:node:n1", "", {"system:authenticated"}, {}};  // not in system:nodes
  EXPECT_TRUE(admitNodeRestriction(r, lookup_));
  r.user = UserInfo{"system:node:", "", {"system:nodes"}, {}};
  auto refused = admitNodeRestriction(r, lookup_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "nodes \"n2\" is forbidden: could not determine node from user \"system:node:\"");
}

}  // namespace
}  // namespace berth::controlplane::auth
