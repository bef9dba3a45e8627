// The wire table against the descriptions: every described field has a protobuf number and
// every number names a described field, so a description change that forgets the table fails
// here; and the table's own syntax errors.
#include "controlplane/schema/wire_table.h"

#include <set>

#include <gtest/gtest.h>

namespace berth::controlplane::schema {
namespace {

void collect(const WireMessage& m, std::set<const Field*>& out) {
  for (const WireField& wf : m.fields) {
    if (wf.embedded != nullptr) {
      collect(*wf.embedded, out);
    } else {
      out.insert(wf.field);
    }
  }
}

TEST(WireTable, EveryDescribedFieldHasANumberAndEveryNumberAField) {
  const auto& table = WireTable::builtin();
  ASSERT_TRUE(table) << table.error().message();
  int messages = 0;
  for (const TypeDef* type : Registry::builtin().types()) {
    if (!type->isStruct()) continue;
    const WireMessage* m = table->find(*type);
    if (m == nullptr) continue;  // "-": no protobuf form
    ++messages;
    std::set<const Field*> numbered;
    collect(*m, numbered);
    for (const Field& f : type->fields) {
      EXPECT_TRUE(numbered.contains(&f) || WireTable::inEnvelope(*type, f))
          << type->name << "." << f.name << " has no protobuf number";
    }
    for (const Field* f : numbered) {
      EXPECT_TRUE(f >= type->fields.data() && f < type->fields.data() + type->fields.size())
          << type->name << ": a number names " << f->name << ", not one of its fields";
    }
  }
  EXPECT_GT(messages, 300);
}

TEST(WireTable, FactsOfKubernetes132) {
  const auto& table = WireTable::builtin();
  ASSERT_TRUE(table) << table.error().message();
  const Registry& types = Registry::builtin();
  auto number = [&](std::string_view type, std::string_view field) -> std::uint32_t {
    const TypeDef* t = types.find(type);
    if (t == nullptr || table->find(*t) == nullptr) return 0;
    std::vector<const WireMessage*> todo{table->find(*t)};
    while (!todo.empty()) {
      const WireMessage* m = todo.back();
      todo.pop_back();
      for (const WireField& wf : m->fields) {
        if (wf.embedded != nullptr) todo.push_back(wf.embedded);
        if (wf.field != nullptr && wf.field->name == field) return wf.number;
      }
    }
    return 0;
  };
  EXPECT_EQ(number("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "managedFields"), 17u);
  EXPECT_EQ(number("io.k8s.api.apps.v1.DeploymentSpec", "progressDeadlineSeconds"), 9u);
  EXPECT_EQ(number("io.k8s.api.core.v1.Volume", "configMap"), 19u);  // inside volumeSource = 2
  EXPECT_EQ(number("io.k8s.api.core.v1.ServiceSpec", "ipFamilyPolicy"), 17u);
  const TypeDef* spec = types.find("io.k8s.api.apps.v1.DeploymentSpec");
  ASSERT_NE(spec, nullptr);
  EXPECT_TRUE(table->find(*spec)->byNumber(1)->pointer);   // replicas *int32
  EXPECT_FALSE(table->find(*spec)->byNumber(5)->pointer);  // minReadySeconds int32
  const TypeDef* tableType = types.find("io.k8s.apimachinery.pkg.apis.meta.v1.Table");
  ASSERT_NE(tableType, nullptr);
  EXPECT_EQ(table->find(*tableType), nullptr);
}

constexpr std::string_view kTypes = R"(
package t.v1
type Thing kind=t/v1/Thing : t
  apiVersion string : a
  kind       string : k
  name       string : n
  items      []string : i
  child      Child : c
type Child : c
  x int32 : x
type Other : o
  y string : y
)";

std::string loadError(std::string_view wire) {
  DescriptionFile desc{"t.k8s", kTypes};
  auto types = Registry::load(std::span(&desc, 1));
  EXPECT_TRUE(types) << types.error().message();
  if (!types) return {};
  DescriptionFile file{"t.k8swire", wire};
  auto table = WireTable::load(*types, std::span(&file, 1));
  return table ? std::string("loaded") : table.error().message();
}

TEST(WireTable, ErrorsNameTheLineAndTheField) {
  struct Case {
    std::string_view wire;
    std::string_view error;
  };
  const Case cases[] = {
      {"package t.v1\nThing name=1 items=2 child=3\nChild x=1\nOther y=1\n", "loaded"},
      {"package t.v1\nThing name=1 items=2[]\n  child=3\nChild x=1*\nOther -\n", "loaded"},
      {"package t.v1\nThing name=1 items=2\nChild x=1\nOther y=1\n",
       "t.k8swire:2: t.v1.Thing.child has no protobuf number"},
      {"package t.v1\nThing name=1 items=2 child=3 extra=4\n",
       "t.k8swire:2: t.v1.Thing has no field extra"},
      {"package t.v1\nThing name=1 items=1 child=3\n", "t.k8swire:2: items=1: number used twice"},
      {"package t.v1\nThing name=1 name=2 items=3 child=4\n", "t.k8swire:2: name numbered twice"},
      {"package t.v1\nThing name=1 items=2 child=3*\n",
       "t.k8swire:2: child: * on a field that is not a scalar"},
      {"package t.v1\nThing name=1[] items=2 child=3\n",
       "t.k8swire:2: name: [] on a field that is not a list"},
      {"package t.v1\nThing name=1 g=2{ items=1 child=3\n", "t.k8swire:2: a { with no }"},
      {"package t.v1\nThing name=1 } items=2 child=3\n", "t.k8swire:2: a } with no {"},
      {"package t.v1\nThing name=0 items=2 child=3\n", "t.k8swire:2: name=0: not a field number"},
      {"package t.v1\nThing name items=2 child=3\n", "t.k8swire:2: name is not field=number"},
      {"package t.v1\nThing name=1 items=2 child=3\nChild x=1\n",
       "t.v1.Other is not in the wire table (a type without numbers)"},
      {"package t.v1\nThing -\nThing -\n", "t.k8swire:3: t.v1.Thing listed twice"},
      {"package t.v1\nNothing -\n", "t.k8swire:2: unknown type t.v1.Nothing"},
      {"Thing -\n", "t.k8swire:1: a type before any package line"},
      {"  name=1\n", "t.k8swire:1: a continuation line outside a type"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(loadError(c.wire), c.error) << c.wire;
}

}  // namespace
}  // namespace berth::controlplane::schema
