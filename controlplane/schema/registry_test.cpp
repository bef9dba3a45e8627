#include "controlplane/schema/registry.h"

#include <gtest/gtest.h>

namespace berth::controlplane::schema {
namespace {

constexpr std::string_view kMeta = R"(# a comment
package io.k8s.apimachinery.pkg.apis.meta.v1

type ObjectMeta : Metadata of an object
  name   string : Its name
  labels map[string]string : Its labels

type Time scalar=time : A point in time
)";

constexpr std::string_view kCore = R"(
use meta io.k8s.apimachinery.pkg.apis.meta.v1
package io.k8s.api.core.v1

type Pod kind=v1/Pod : A pod
  metadata meta.ObjectMeta always : Its metadata
  spec     PodSpec always : What it should run

type PodSpec : What a pod runs
  containers []Container required merge=name patch=merge list=map keys=name : Its containers
  restartPolicy string enum=Always|OnFailure|Never server-default="Always" go=v1.RestartPolicy : When to restart
  matrix [][]int32 : Nested lists

type Container : A container
  name  string required always : Its name
  ports []ContainerPort merge=containerPort patch=merge list=map keys=containerPort,protocol : Its ports

type ContainerPort map=atomic : A port
  containerPort int32 required : The port
  protocol string default="TCP" enum=TCP|UDP|SCTP|"" : Its protocol

type SeccompProfile union=type:localhostProfile=Localhost : A profile
  type string : Kind
  localhostProfile string : Path

columns Pod
  Name string format=name cell=name : The name
  "Nominated Node" string priority=1 path=.status.nominatedNodeName : Where it may go
)";

Result<Registry> loadTwo(std::string_view meta, std::string_view core) {
  DescriptionFile files[] = {{"meta.k8s", meta}, {"core.k8s", core}};
  return Registry::load(files);
}

TEST(RegistryTest, ParsesTypesFieldsAndAttributes) {
  auto r = loadTwo(kMeta, kCore);
  ASSERT_TRUE(r) << r.error().message();
  const TypeDef* pod = r->find("io.k8s.api.core.v1.Pod");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->description, "A pod");
  EXPECT_EQ(pod->shortName(), "Pod");
  EXPECT_EQ(pod->goPackage(), "v1");
  ASSERT_EQ(pod->kinds.size(), 1u);
  EXPECT_EQ(pod->kinds[0].group, "");
  EXPECT_EQ(pod->kinds[0].version, "v1");
  EXPECT_EQ(r->findKind("", "v1", "Pod"), pod);
  EXPECT_EQ(r->findKind("apps", "v1", "Pod"), nullptr);

  const Field* meta = pod->field("metadata");
  ASSERT_NE(meta, nullptr);
  EXPECT_TRUE(meta->always);
  EXPECT_EQ(meta->type.kind, ValueKind::kNamed);
  EXPECT_EQ(meta->type.def, r->find("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
  EXPECT_EQ(pod->field("nope"), nullptr);

  const TypeDef* spec = r->find("io.k8s.api.core.v1.PodSpec");
  const Field* containers = spec->field("containers");
  EXPECT_TRUE(containers->required);
  EXPECT_EQ(containers->patchMergeKey, "name");
  EXPECT_TRUE(containers->mergesByKey());
  EXPECT_EQ(containers->listType, ListType::kMap);
  EXPECT_EQ(containers->listMapKeys, std::vector<std::string_view>{"name"});
  ASSERT_EQ(containers->type.kind, ValueKind::kArray);
  EXPECT_EQ(containers->type.elem->def->shortName(), "Container");

  const Field* restart = spec->field("restartPolicy");
  EXPECT_EQ(restart->enumValues, (std::vector<std::string_view>{"Always", "OnFailure", "Never"}));
  EXPECT_EQ(*restart->serverDefault, "Always");
  EXPECT_FALSE(restart->defaultValue);
  EXPECT_EQ(restart->goType, "v1.RestartPolicy");

  const Field* matrix = spec->field("matrix");
  EXPECT_EQ(matrix->type.elem->kind, ValueKind::kArray);
  EXPECT_EQ(matrix->type.elem->elem->kind, ValueKind::kInt32);

  const TypeDef* port = r->find("io.k8s.api.core.v1.ContainerPort");
  EXPECT_EQ(port->mapType, MapType::kAtomic);
  EXPECT_EQ(*port->field("protocol")->defaultValue, "TCP");
  EXPECT_EQ(port->field("protocol")->enumValues.back(), "");
  EXPECT_EQ(r->find("io.k8s.api.core.v1.Container")->field("ports")->listMapKeys.size(), 2u);

  const TypeDef* profile = r->find("io.k8s.api.core.v1.SeccompProfile");
  ASSERT_EQ(profile->unions.size(), 1u);
  EXPECT_EQ(profile->unions[0].discriminator, "type");
  EXPECT_EQ(profile->unions[0].members[0].second, "Localhost");

  EXPECT_EQ(r->find("io.k8s.apimachinery.pkg.apis.meta.v1.Time")->scalar, Scalar::kTime);

  ASSERT_EQ(pod->columns.size(), 2u);
  EXPECT_EQ(pod->columns[0].cell, "name");
  EXPECT_EQ(pod->columns[0].format, "name");
  EXPECT_EQ(pod->columns[1].name, "Nominated Node");
  EXPECT_EQ(pod->columns[1].priority, 1);
  EXPECT_EQ(pod->columns[1].jsonPath, ".status.nominatedNodeName");
}

TEST(RegistryTest, FieldsKeepTheirDescribedOrder) {
  auto r = loadTwo(kMeta, kCore);
  ASSERT_TRUE(r) << r.error().message();
  const TypeDef* spec = r->find("io.k8s.api.core.v1.PodSpec");
  ASSERT_EQ(spec->fields.size(), 3u);
  EXPECT_EQ(spec->fields[0].name, "containers");
  EXPECT_EQ(spec->fields[2].name, "matrix");
}

TEST(RegistryTest, ErrorsNameTheFileAndLine) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case cases[] = {
      {"package p\ntype A : a\n  f Missing : x\n", "core.k8s:3: unknown type Missing"},
      {"package p\ntype A\n", "core.k8s:2: type A has no description"},
      {"package p\ntype A : a\n  f string\n", "core.k8s:3: field f has no description"},
      {"package p\ntype A : a\n  f string : x\n  f int32 : y\n",
       "core.k8s:4: field f described twice"},
      {"package p\ntype A : a\n  f string bogus : x\n",
       "core.k8s:3: unknown field attribute bogus"},
      {"package p\ntype A : a\n  f string list=weird : x\n",
       "core.k8s:3: list type weird is not atomic, set or map"},
      {"package p\ntype A : a\n  f string default={bad : x\n",
       "core.k8s:3: default: {bad is not JSON"},
      {"package p\ntype A : a\n  f string default=\"open : x\n", "core.k8s:3: unterminated quote"},
      {"type A : a\n", "core.k8s:1: type before any package line"},
      {"package p\n  f string : x\n", "core.k8s:2: an indented line outside a type or columns"},
      {"package p\ntype A kind=x : a\n", "core.k8s:2: kind=x is not [group/]version/Kind"},
      {"package p\ntype A : a\n  f []string merge=name : x\n",
       "p.A.f: a merge key on a field that is not a list of objects"},
      {"package p\ntype A : a\n  f []B merge=name : x\ntype B : b\n  id string : y\n",
       "p.A.f: merge key name is not a field of p.B"},
      {"package p\ncolumns A\n  Name string : x\n", "core.k8s:3: column Name needs one of path="},
      {"package p\ntype A : a\ntype A : b\n", "core.k8s:3: type p.A described twice"},
      {"package p\nfrobnicate\n", "core.k8s:2: unknown line starting with frobnicate"},
  };
  for (const Case& c : cases) {
    auto r = loadTwo(kMeta, c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message().find(c.message), std::string::npos)
        << r.error().message() << " / want " << c.message;
  }
}

TEST(RegistryTest, EmbeddedDescriptionsLoad) {
  auto r = Registry::load(Registry::embeddedFiles());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(Registry::builtin().find("io.k8s.api.core.v1.Pod"), nullptr);
  EXPECT_NE(Registry::builtin().findKind("apps", "v1", "Deployment"), nullptr);
}

}  // namespace
}  // namespace berth::controlplane::schema
