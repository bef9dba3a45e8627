// The protobuf decoder on hand-built bytes: each wire type and special message on a small type
// described for the test, malformed input, and builtin kinds laid out as client-go writes them.
#include "controlplane/schema/protobuf_decoder.h"

#include <gtest/gtest.h>

#include "controlplane/schema/protobuf_test_encoder.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;
using testing::PbWriter;

constexpr std::string_view kDescriptions = R"(
package io.k8s.apimachinery.pkg.apis.meta.v1
type Time scalar=time : t
type MicroTime scalar=microtime : t
type Duration scalar=object : d
type FieldsV1 scalar=object : f
type DeleteOptions kind=* : d
  apiVersion         string : a
  kind               string : k
  gracePeriodSeconds int64 : g

package io.k8s.apimachinery.pkg.api.resource
type Quantity scalar=quantity : q

package io.k8s.apimachinery.pkg.util.intstr
type IntOrString scalar=intorstring : i

package io.k8s.apimachinery.pkg.runtime
type RawExtension scalar=object : r

package test.example.v1
use meta io.k8s.apimachinery.pkg.apis.meta.v1
use resource io.k8s.apimachinery.pkg.api.resource
use intstr io.k8s.apimachinery.pkg.util.intstr
use runtime io.k8s.apimachinery.pkg.runtime

type Widget kind=example.test/v1/Widget : w
  apiVersion string : a
  kind       string : k
  name       string : n
  count      int32 : c
  total      int64 : t
  replicas   int32 : r
  enabled    bool : e
  ratio      double : r
  data       bytes : d
  tags       []string : t
  ports      []int32 : p
  verbs      []string : v
  labels     map[string]string : l
  blobs      map[string]bytes : b
  extra      map[string][]string : e
  limits     map[string]resource.Quantity : l
  parts      []Part : p
  byName     map[string]Part : b
  spec       Part : s
  created    meta.Time : c
  renewed    meta.MicroTime : r
  timeout    meta.Duration : t
  size       resource.Quantity : s
  port       intstr.IntOrString : p
  object     runtime.RawExtension : o
  fields     meta.FieldsV1 : f
  observed   int32 always : o
  host       string : h
  path       string : p

type Part : p
  name  string : n
  value int64 : v
)";

constexpr std::string_view kWire = R"(
package io.k8s.apimachinery.pkg.apis.meta.v1
DeleteOptions gracePeriodSeconds=1*

package test.example.v1
Widget name=1 count=2 total=3 replicas=4* enabled=5 ratio=6 data=7 tags=8 ports=9 verbs=10[]
    labels=11 blobs=12 extra=13 limits=14 parts=15 byName=16 spec=17 created=18 renewed=19
    timeout=20 size=21 port=22 object=23 fields=24 observed=25 source=30{ host=1 path=2 }
Part name=1 value=2
)";

class ProtobufDecoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    DescriptionFile desc{"test.k8s", kDescriptions};
    auto types = Registry::load(std::span(&desc, 1));
    ASSERT_TRUE(types) << types.error().message();
    types_ = new Registry(std::move(*types));
    DescriptionFile wire{"test.k8swire", kWire};
    auto table = WireTable::load(*types_, std::span(&wire, 1));
    ASSERT_TRUE(table) << table.error().message();
    wire_ = new WireTable(std::move(*table));
  }

  // A Widget body around `fields`.
  static Result<json> widget(const PbWriter& fields) {
    return ProtobufDecoder(*types_, *wire_)
        .decode(PbWriter::envelope("example.test/v1", "Widget", fields));
  }
  static json widgetOk(const PbWriter& fields) {
    auto r = widget(fields);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : json();
  }
  static std::string widgetError(const PbWriter& fields) {
    auto r = widget(fields);
    EXPECT_FALSE(r) << r->dump();
    return r ? std::string() : r.error().message();
  }

  static Registry* types_;
  static WireTable* wire_;
};

Registry* ProtobufDecoderTest::types_ = nullptr;
WireTable* ProtobufDecoderTest::wire_ = nullptr;

TEST_F(ProtobufDecoderTest, ScalarsAndTheEnvelope) {
  PbWriter w;
  w.bytes(1, "gear").int64(2, -5).int64(3, -1234567890123).varint(5, 1).doubleValue(6, 0.25);
  w.bytes(7, std::string("\x00\xff\x10", 3));
  EXPECT_EQ(widgetOk(w), json::parse(R"({"apiVersion": "example.test/v1", "kind": "Widget",
      "name": "gear", "count": -5, "total": -1234567890123, "enabled": true, "ratio": 0.25,
      "data": "AP8Q"})"));
}

TEST_F(ProtobufDecoderTest, Int32KeepsTheLowBitsAsGoDoes) {
  PbWriter w;
  w.varint(2, 0x1'0000'0007);
  EXPECT_EQ(widgetOk(w)["count"], 7);
}

TEST_F(ProtobufDecoderTest, PresenceFollowsTheWireAndGoPointers) {
  // Every plain Go scalar is on the wire, zero or not: zeros go, as Go's JSON leaves them out.
  PbWriter zeros;
  zeros.bytes(1, "").varint(2, 0).varint(3, 0).varint(5, 0).doubleValue(6, 0).bytes(7, "");
  EXPECT_EQ(widgetOk(zeros), json::parse(R"({"apiVersion": "example.test/v1", "kind": "Widget"})"));
  // A pointer's zero was set; a field Go always writes keeps its zero.
  PbWriter set;
  set.varint(4, 0).varint(25, 0);
  json j = widgetOk(set);
  EXPECT_EQ(j["replicas"], 0);
  EXPECT_EQ(j["observed"], 0);
  // What is not on the wire is not in the JSON, `always` or not.
  EXPECT_FALSE(widgetOk(PbWriter()).contains("observed"));
}

TEST_F(ProtobufDecoderTest, RepeatedFieldsPackedUnpackedAndWrapped) {
  PbWriter w;
  w.bytes(8, "a").bytes(8, "").bytes(8, "c");
  w.varint(9, 80);
  w.bytes(9, PbWriter::varintBytes(443) + PbWriter::varintBytes(8080));  // packed
  w.int64(9, -1);
  PbWriter verbs;
  verbs.bytes(1, "get").bytes(1, "list");
  w.message(10, verbs);
  json j = widgetOk(w);
  EXPECT_EQ(j["tags"], json::parse(R"(["a", "", "c"])"));
  EXPECT_EQ(j["ports"], json::parse("[80, 443, 8080, -1]"));
  EXPECT_EQ(j["verbs"], json::parse(R"(["get", "list"])"));
}

TEST_F(ProtobufDecoderTest, MapsOfEveryValueKind) {
  PbWriter w;
  w.message(11, PbWriter().bytes(1, "app").bytes(2, "web"));
  w.message(11, PbWriter().bytes(1, "tier").bytes(2, "old"));
  w.message(11, PbWriter().bytes(1, "tier").bytes(2, "front"));  // the last one wins
  w.message(11, PbWriter().bytes(1, "empty"));                   // no value: the zero value
  w.message(12, PbWriter().bytes(1, "key").bytes(2, "\x01\x02"));
  w.message(13, PbWriter()
                    .bytes(1, "groups")
                    .message(2, PbWriter().bytes(1, "a").bytes(1, "b")));  // ExtraValue{items}
  w.message(14, PbWriter().bytes(1, "cpu").message(2, PbWriter().bytes(1, "500m")));
  w.message(16, PbWriter().bytes(1, "first").message(2, PbWriter().bytes(1, "x").varint(2, 3)));
  json j = widgetOk(w);
  EXPECT_EQ(j["labels"], json::parse(R"({"app": "web", "tier": "front", "empty": ""})"));
  EXPECT_EQ(j["blobs"], json::parse(R"({"key": "AQI="})"));
  EXPECT_EQ(j["extra"], json::parse(R"({"groups": ["a", "b"]})"));
  EXPECT_EQ(j["limits"], json::parse(R"({"cpu": "500m"})"));
  EXPECT_EQ(j["byName"], json::parse(R"({"first": {"name": "x", "value": 3}})"));
}

TEST_F(ProtobufDecoderTest, NestedMessagesMergeAndEmbeddedStructsInline) {
  PbWriter w;
  w.message(15, PbWriter().bytes(1, "a").varint(2, 1));
  w.message(15, PbWriter());  // an element with nothing set is still an element
  w.message(17, PbWriter().bytes(1, "first"));
  w.message(17, PbWriter().varint(2, 9));  // merged into the first, as Go merges
  w.message(30, PbWriter().bytes(1, "h1").bytes(2, "/p"));
  json j = widgetOk(w);
  EXPECT_EQ(j["parts"], json::parse(R"([{"name": "a", "value": 1}, {}])"));
  EXPECT_EQ(j["spec"], json::parse(R"({"name": "first", "value": 9})"));
  EXPECT_EQ(j["host"], "h1");
  EXPECT_EQ(j["path"], "/p");
}

TEST_F(ProtobufDecoderTest, TimesAndDurations) {
  PbWriter w;
  // 2024-05-01T10:20:30.123456789Z: Time drops the fraction, MicroTime keeps microseconds.
  w.message(18, PbWriter().int64(1, 1714558830).varint(2, 123456789));
  w.message(19, PbWriter().int64(1, 1714558830).varint(2, 123456789));
  w.message(20, PbWriter().int64(1, 3'723'500'000'000));
  json j = widgetOk(w);
  EXPECT_EQ(j["created"], "2024-05-01T10:20:30Z");
  EXPECT_EQ(j["renewed"], "2024-05-01T10:20:30.123456Z");
  EXPECT_EQ(j["timeout"], "1h2m3.5s");
  // An empty Time is Go's zero time: left out like any zero.
  EXPECT_FALSE(widgetOk(PbWriter().message(18, PbWriter())).contains("created"));
  EXPECT_EQ(widgetOk(PbWriter().message(18, PbWriter().int64(1, 0)))["created"],
            "1970-01-01T00:00:00Z");
  EXPECT_EQ(widgetError(PbWriter().message(18, PbWriter().int64(1, 1LL << 40))),
            "example.test/v1 Widget: created: time 1099511627776s is outside the years 1678 to "
            "2262");
}

TEST_F(ProtobufDecoderTest, QuantitiesAndIntOrStrings) {
  EXPECT_EQ(widgetOk(PbWriter().message(21, PbWriter().bytes(1, "1Gi")))["size"], "1Gi");
  EXPECT_EQ(widgetOk(PbWriter().message(21, PbWriter()))["size"], "0");
  EXPECT_EQ(widgetError(PbWriter().message(21, PbWriter().bytes(1, "lots"))),
            "example.test/v1 Widget: size: quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  EXPECT_EQ(widgetOk(PbWriter().message(22, PbWriter().varint(1, 0).varint(2, 8080)))["port"],
            8080);
  EXPECT_EQ(widgetOk(PbWriter().message(22, PbWriter().varint(1, 1).bytes(3, "http")))["port"],
            "http");
  EXPECT_EQ(widgetOk(PbWriter().message(22, PbWriter()))["port"], 0);
  EXPECT_EQ(widgetError(PbWriter().message(22, PbWriter().varint(1, 2))),
            "example.test/v1 Widget: port: IntOrString type 2 is neither 0 (int) nor 1 (string)");
}

TEST_F(ProtobufDecoderTest, RawExtensionsAndFields) {
  PbWriter w;
  w.message(23, PbWriter().bytes(1, R"({"kind":"Pod","spec":{}})"));
  w.message(24, PbWriter().bytes(1, R"({"f:metadata":{}})"));
  json j = widgetOk(w);
  EXPECT_EQ(j["object"], json::parse(R"({"kind": "Pod", "spec": {}})"));
  EXPECT_EQ(j["fields"], json::parse(R"({"f:metadata": {}})"));
  // An object in its own envelope is decoded as one.
  std::string inner = PbWriter::envelope("example.test/v1", "Widget", PbWriter().bytes(1, "in"));
  EXPECT_EQ(widgetOk(PbWriter().message(23, PbWriter().bytes(1, inner)))["object"],
            json::parse(R"({"apiVersion": "example.test/v1", "kind": "Widget", "name": "in"})"));
  EXPECT_EQ(widgetError(PbWriter().message(23, PbWriter().bytes(1, "{nope"))),
            "example.test/v1 Widget: object: raw is neither JSON nor a protobuf envelope");
}

TEST_F(ProtobufDecoderTest, UnknownFieldsAreSkipped) {
  PbWriter w;
  w.varint(99, 1).fixed64(100, 2).fixed32(101, 3).bytes(102, "x");
  w.tag(103, 3).varint(1, 5).tag(103, 4);  // a group
  w.bytes(1, "kept");
  EXPECT_EQ(widgetOk(w)["name"], "kept");
}

TEST_F(ProtobufDecoderTest, MalformedInputNamesTheField) {
  // A truncated varint inside a list element.
  PbWriter part;
  part.raw(std::string("\x10\xff", 2));
  EXPECT_EQ(widgetError(PbWriter().message(15, PbWriter()).message(15, part)),
            "example.test/v1 Widget: parts[1].value: truncated or malformed varint");
  // A length past the end of its message.
  EXPECT_EQ(widgetError(PbWriter().message(17, PbWriter().raw("\x0a\x05"
                                                              "ab"))),
            "example.test/v1 Widget: spec.name: length runs past the end of the message");
  EXPECT_EQ(widgetError(PbWriter().varint(1, 5)),
            "example.test/v1 Widget: name: wire type 0 (varint) where length-delimited is "
            "expected");
  EXPECT_EQ(widgetError(PbWriter().bytes(6, "x")),
            "example.test/v1 Widget: ratio: wire type 2 (length-delimited) where fixed64 is "
            "expected");
  EXPECT_EQ(widgetError(PbWriter().raw(std::string("\x00\x01", 2))),
            "example.test/v1 Widget: malformed field tag");
  EXPECT_EQ(widgetError(PbWriter().raw("\x10")),
            "example.test/v1 Widget: count: truncated or malformed varint");
  EXPECT_EQ(widgetError(PbWriter().bytes(8, "ok").raw("\x80")),
            "example.test/v1 Widget: malformed field tag");
  EXPECT_EQ(widgetError(PbWriter().bytes(99, "ab").tag(99, 7)),
            "example.test/v1 Widget: malformed value of unknown field 99 (invalid)");
  EXPECT_EQ(widgetError(PbWriter().raw("\x07")), "example.test/v1 Widget: field number 0");
  EXPECT_EQ(widgetError(PbWriter().message(11, PbWriter().bytes(1, "\xff"))),
            "example.test/v1 Widget: labels: string is not valid UTF-8");
  EXPECT_EQ(widgetError(PbWriter().message(11, PbWriter().bytes(1, "k").bytes(2, "\xc0\x80"))),
            "example.test/v1 Widget: labels[k]: string is not valid UTF-8");
}

TEST_F(ProtobufDecoderTest, DeepNestingIsRefused) {
  std::string body = PbWriter::envelope("example.test/v1", "Widget", PbWriter());
  for (int i = 0; i < 150; ++i) {
    body = PbWriter::envelope("example.test/v1", "Widget",
                              PbWriter().message(23, PbWriter().bytes(1, body)));
  }
  auto r = ProtobufDecoder(*types_, *wire_).decode(body);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("messages nested deeper than 100"), std::string::npos);
}

TEST_F(ProtobufDecoderTest, EnvelopeErrors) {
  ProtobufDecoder decoder(*types_, *wire_);
  auto err = [&](std::string_view body) {
    auto r = decoder.decode(body);
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message();
  };
  EXPECT_EQ(err(R"({"kind":"Widget"})"),
            "protobuf envelope: the body does not start with the magic bytes \"k8s\\x00\"");
  EXPECT_EQ(err(PbWriter::envelope("v1", "Gadget", PbWriter())),
            "no kind \"Gadget\" is registered for version \"v1\"");
  EXPECT_EQ(err(PbWriter::envelope("other/v1", "Widget", PbWriter())),
            "no kind \"Widget\" is registered for version \"other/v1\"");
  EXPECT_EQ(err(std::string("k8s\0", 4)), "protobuf envelope: no kind");
  EXPECT_EQ(err(std::string("k8s\0\x0a\x09", 6)),
            "protobuf envelope: typeMeta: length runs past the end of the message");
  std::string gzip = PbWriter::envelope("example.test/v1", "Widget", PbWriter()) +
                     PbWriter().bytes(3, "gzip").str();
  EXPECT_EQ(err(gzip), "protobuf envelope: content encoding gzip is not supported");
  std::string asJson = PbWriter::envelope("example.test/v1", "Widget", PbWriter()) +
                       PbWriter().bytes(4, "application/json").str();
  EXPECT_EQ(err(asJson), "protobuf envelope: content type application/json is not supported");
}

TEST_F(ProtobufDecoderTest, KindsOfEveryGroupVersion) {
  ProtobufDecoder decoder(*types_, *wire_);
  for (std::string_view version : {"v1", "apps/v1", "meta.k8s.io/v1"}) {
    auto r = decoder.decode(PbWriter::envelope(version, "DeleteOptions", PbWriter().varint(1, 0)));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(
        *r, json({{"apiVersion", version}, {"kind", "DeleteOptions"}, {"gracePeriodSeconds", 0}}));
  }
}

}  // namespace
}  // namespace berth::controlplane::schema
