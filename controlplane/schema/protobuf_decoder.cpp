#include "controlplane/schema/protobuf_decoder.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <bit>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "common/base64.h"
#include "controlplane/schema/go_values.h"
#include "kubeapi/go_duration.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::schema {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using Json = nlohmann::json;

enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Messages (and envelopes inside RawExtensions) nested deeper than this are refused, so a crafted
// body cannot exhaust the stack; Go's protobuf decoder has the same limit.
constexpr int kMaxDepth = 100;

constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";
// metav1.Duration has no scalar kind of its own in the descriptions: it is known by its name.
constexpr std::string_view kDurationType = "io.k8s.apimachinery.pkg.apis.meta.v1.Duration";
// Go's zero time.Time as Unix seconds (January 1, year 1): JSON null.
constexpr std::int64_t kGoZeroTimeSeconds = -62135596800;
// kubeapi::Time counts nanoseconds in an int64: years 1678 to 2262.
constexpr std::int64_t kMaxTimeSeconds = 9'000'000'000;

std::string_view wireTypeName(std::uint32_t wireType) {
  switch (wireType) {
    case kVarint:
      return "varint";
    case kFixed64:
      return "fixed64";
    case kLengthDelimited:
      return "length-delimited";
    case 3:
      return "start group";
    case 4:
      return "end group";
    case kFixed32:
      return "fixed32";
    default:
      return "invalid";
  }
}

// The wire type a packed list element has inside its packed run.
std::optional<std::uint32_t> packedWireType(const TypeRef& elem) {
  switch (elem.kind) {
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kBool:
      return kVarint;
    case ValueKind::kDouble:
      return kFixed64;
    default:
      return std::nullopt;
  }
}

bool isDuration(const TypeDef& def) {
  return def.name == kDurationType;
}

// A described struct, decoded field by field from its WireMessage.
bool isMessage(const TypeRef& ref) {
  return ref.kind == ValueKind::kNamed && ref.def->isStruct() && !isDuration(*ref.def);
}

bool validUtf8(std::string_view s) {
  // The smallest code point of each length: shorter ones are overlong forms.
  static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;  // continuation bytes
    if ((c & 0xe0) == 0xc0) {
      n = 1;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
    } else if (c >= 0x80) {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    std::uint32_t cp = c & (0x7fu >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < kMin[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
    i += n + 1;
  }
  return true;
}

// What Go's JSON encoder leaves out of an omitempty field, and the zero Time (null).
bool isZero(const TypeRef& ref, const Json& v) {
  switch (ref.kind) {
    case ValueKind::kString:
    case ValueKind::kBytes:
      return v.is_string() && v.get_ref<const std::string&>().empty();
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kDouble:
      return v == 0;
    case ValueKind::kBool:
      return v == false;
    default:
      return v.is_null();
  }
}

// The JSON of a Go zero value: a map entry that carries no value.
Json zeroOf(const TypeRef& ref) {
  switch (ref.kind) {
    case ValueKind::kString:
    case ValueKind::kBytes:
      return "";
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kDouble:
      return 0;
    case ValueKind::kBool:
      return false;
    case ValueKind::kArray:
      return Json::array();
    case ValueKind::kMap:
      return Json::object();
    case ValueKind::kNamed:
      break;
  }
  if (isDuration(*ref.def)) return "0s";
  switch (ref.def->scalar) {
    case Scalar::kNone:
      return Json::object();
    case Scalar::kQuantity:
      return "0";
    case Scalar::kIntOrString:
      return 0;
    default:
      return nullptr;
  }
}

// One message's bytes, read with protobuf's own wire reader.
class Stream {
 public:
  explicit Stream(std::string_view bytes)
      : bytes_(bytes),
        in_(reinterpret_cast<const std::uint8_t*>(bytes.data()), static_cast<int>(bytes.size())) {}

  bool atEnd() const { return position() == bytes_.size(); }
  // 0 for a malformed tag; call only when not atEnd().
  std::uint32_t tag() { return in_.ReadTagNoLastTag(); }
  bool varint(std::uint64_t& value) { return in_.ReadVarint64(&value); }
  bool fixed64(std::uint64_t& value) { return in_.ReadLittleEndian64(&value); }
  bool skip(std::uint32_t tag) { return WireFormatLite::SkipField(&in_, tag); }

  // A length-delimited value, as a view into the input; nullopt when it runs past the end.
  std::optional<std::string_view> payload() {
    std::uint64_t length = 0;
    if (!in_.ReadVarint64(&length)) return std::nullopt;
    std::size_t at = position();
    if (length > bytes_.size() - at || !in_.Skip(static_cast<int>(length))) return std::nullopt;
    return bytes_.substr(at, length);
  }

 private:
  std::size_t position() const { return static_cast<std::size_t>(in_.CurrentPosition()); }

  std::string_view bytes_;
  CodedInputStream in_;
};

// The field path while it grows: "spec.template.spec.containers[0].ports[1]".
class PathScope {
 public:
  PathScope(std::string& path, std::string_view field) : path_(path), size_(path.size()) {
    if (!path_.empty()) path_ += '.';
    path_ += field;
  }
  PathScope(std::string& path, std::string_view key, bool) : path_(path), size_(path.size()) {
    path_ += fmt::format("[{}]", key);
  }
  ~PathScope() { path_.resize(size_); }
  PathScope(const PathScope&) = delete;
  PathScope& operator=(const PathScope&) = delete;

 private:
  std::string& path_;
  std::size_t size_;
};

}  // namespace

// One decode: the path to the field being read, for errors, and the nesting depth.
class ProtobufDecoder::Walk {
 public:
  Walk(const ProtobufDecoder& decoder, int depth) : d_(decoder), depth_(depth) {}

  Result<Json> envelope(std::string_view body);
  Status message(const WireMessage& layout, std::string_view raw, Json& into);
  Result<const WireMessage*> layoutOf(const TypeDef& type) const;

 private:
  // Calls on(number, wireType, stream) -> Result<bool> for each field; false: skipped as unknown.
  template <class OnField>
  Status forEachField(std::string_view raw, OnField&& on);
  Status field(const WireField& wf, std::uint32_t wireType, Stream& in, Json& into);
  Status repeated(const TypeRef& elem, std::uint32_t wireType, Stream& in, Json& list);
  Status wrappedItems(const TypeRef& elem, std::string_view raw, Json& list);
  Status mapEntry(const TypeRef& elem, std::string_view raw, Json& map);
  Result<Json> value(const TypeRef& ref, std::uint32_t wireType, Stream& in);
  Result<Json> named(const TypeDef& def, std::string_view raw);
  Result<Json> quantity(std::string_view raw);
  Result<Json> intOrString(std::string_view raw);
  Result<Json> time(std::string_view raw, bool micro);
  Result<Json> duration(std::string_view raw);
  Result<Json> embeddedObject(std::string_view raw);

  Status expect(std::uint32_t wireType, std::uint32_t want) const;
  Result<std::string_view> payload(std::uint32_t wireType, Stream& in) const;
  Result<std::string_view> text(std::uint32_t wireType, Stream& in) const;
  Result<std::uint64_t> varint(std::uint32_t wireType, Stream& in) const;
  std::unexpected<Error> error(std::string_view what) const;

  const ProtobufDecoder& d_;
  int depth_;
  std::string path_;
};

std::unexpected<Error> ProtobufDecoder::Walk::error(std::string_view what) const {
  if (path_.empty()) return fail(Code::kInvalidArgument, std::string(what));
  return fail(Code::kInvalidArgument, "{}: {}", path_, what);
}

Status ProtobufDecoder::Walk::expect(std::uint32_t wireType, std::uint32_t want) const {
  if (wireType == want) return {};
  return error(fmt::format("wire type {} ({}) where {} is expected", wireType,
                           wireTypeName(wireType), wireTypeName(want)));
}

Result<std::string_view> ProtobufDecoder::Walk::payload(std::uint32_t wireType, Stream& in) const {
  BERTH_TRY(expect(wireType, kLengthDelimited));
  auto bytes = in.payload();
  if (!bytes) return error("length runs past the end of the message");
  return *bytes;
}

Result<std::string_view> ProtobufDecoder::Walk::text(std::uint32_t wireType, Stream& in) const {
  std::string_view s = BERTH_TRY(payload(wireType, in));
  if (!validUtf8(s)) return error("string is not valid UTF-8");
  return s;
}

Result<std::uint64_t> ProtobufDecoder::Walk::varint(std::uint32_t wireType, Stream& in) const {
  BERTH_TRY(expect(wireType, kVarint));
  std::uint64_t v = 0;
  if (!in.varint(v)) return error("truncated or malformed varint");
  return v;
}

template <class OnField>
Status ProtobufDecoder::Walk::forEachField(std::string_view raw, OnField&& on) {
  Stream in(raw);
  while (!in.atEnd()) {
    std::uint32_t tag = in.tag();
    if (tag == 0) return error("malformed field tag");
    std::uint32_t number = WireFormatLite::GetTagFieldNumber(tag);
    std::uint32_t wireType = tag & 7;
    if (number == 0) return error("field number 0");
    bool handled = BERTH_TRY(on(number, wireType, in));
    if (!handled && !in.skip(tag)) {
      return error(
          fmt::format("malformed value of unknown field {} ({})", number, wireTypeName(wireType)));
    }
  }
  return {};
}

Result<const WireMessage*> ProtobufDecoder::Walk::layoutOf(const TypeDef& type) const {
  const WireMessage* layout = d_.wire_.find(type);
  if (layout == nullptr) return error(fmt::format("{} has no protobuf form", type.name));
  return layout;
}

Status ProtobufDecoder::Walk::message(const WireMessage& layout, std::string_view raw, Json& into) {
  if (depth_ >= kMaxDepth) return error(fmt::format("messages nested deeper than {}", kMaxDepth));
  ++depth_;
  Status s = forEachField(
      raw, [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        const WireField* wf = layout.byNumber(number);
        if (wf == nullptr) return false;
        BERTH_TRY(field(*wf, wireType, in, into));
        return true;
      });
  --depth_;
  return s;
}

Status ProtobufDecoder::Walk::field(const WireField& wf, std::uint32_t wireType, Stream& in,
                                    Json& into) {
  if (wf.embedded != nullptr) {
    // A Go embedded struct: its own message on the wire, its fields this object's in JSON.
    std::string_view raw = BERTH_TRY(payload(wireType, in));
    return message(*wf.embedded, raw, into);
  }
  const Field& f = *wf.field;
  std::string key(f.name);
  PathScope scope(path_, f.name);
  const TypeRef& ref = f.type;
  if (ref.kind == ValueKind::kArray) {
    Json& list = into[key];
    if (!list.is_array()) list = Json::array();
    if (!wf.wrappedList) return repeated(*ref.elem, wireType, in, list);
    std::string_view raw = BERTH_TRY(payload(wireType, in));
    return wrappedItems(*ref.elem, raw, list);
  }
  if (ref.kind == ValueKind::kMap) {
    std::string_view raw = BERTH_TRY(payload(wireType, in));
    Json& map = into[key];
    if (!map.is_object()) map = Json::object();
    return mapEntry(*ref.elem, raw, map);
  }
  if (isMessage(ref)) {
    // A message that comes twice is merged into the first, as Go's decoder does.
    std::string_view raw = BERTH_TRY(payload(wireType, in));
    const WireMessage* layout = BERTH_TRY(layoutOf(*ref.def));
    Json& object = into[key];
    if (!object.is_object()) object = Json::object();
    return message(*layout, raw, object);
  }
  Json v = BERTH_TRY(value(ref, wireType, in));
  if (isZero(ref, v) && !wf.pointer && !f.always) {
    into.erase(key);
  } else {
    into[key] = std::move(v);
  }
  return {};
}

Status ProtobufDecoder::Walk::repeated(const TypeRef& elem, std::uint32_t wireType, Stream& in,
                                       Json& list) {
  auto packed = packedWireType(elem);
  if (!packed || wireType != kLengthDelimited) {
    PathScope scope(path_, std::to_string(list.size()), true);
    Json v = BERTH_TRY(value(elem, wireType, in));
    list.push_back(std::move(v));
    return {};
  }
  // A packed run: the elements back to back in one length-delimited value.
  std::string_view raw = BERTH_TRY(payload(wireType, in));
  Stream run(raw);
  while (!run.atEnd()) {
    PathScope scope(path_, std::to_string(list.size()), true);
    Json v = BERTH_TRY(value(elem, *packed, run));
    list.push_back(std::move(v));
  }
  return {};
}

Status ProtobufDecoder::Walk::wrappedItems(const TypeRef& elem, std::string_view raw, Json& list) {
  return forEachField(
      raw, [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        if (number != 1) return false;
        BERTH_TRY(repeated(elem, wireType, in, list));
        return true;
      });
}

Status ProtobufDecoder::Walk::mapEntry(const TypeRef& elem, std::string_view raw, Json& map) {
  std::optional<std::string> key;
  std::optional<Json> value;
  BERTH_TRY(forEachField(
      raw, [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        if (number == 1) {
          key = std::string(BERTH_TRY(text(wireType, in)));
          return true;
        }
        if (number != 2) return false;
        PathScope scope(path_, key ? *key : std::string(), true);
        value = BERTH_TRY(this->value(elem, wireType, in));
        return true;
      }));
  map[key.value_or("")] = value ? std::move(*value) : zeroOf(elem);
  return {};
}

Result<Json> ProtobufDecoder::Walk::value(const TypeRef& ref, std::uint32_t wireType, Stream& in) {
  switch (ref.kind) {
    case ValueKind::kString:
      return Json(std::string(BERTH_TRY(text(wireType, in))));
    case ValueKind::kBytes:
      return Json(base64Encode(BERTH_TRY(payload(wireType, in))));
    case ValueKind::kInt32:
      // Go keeps the low 32 bits (a negative int32 is sign-extended to ten bytes on the wire).
      return Json(
          static_cast<std::int32_t>(static_cast<std::uint32_t>(BERTH_TRY(varint(wireType, in)))));
    case ValueKind::kInt64:
      return Json(static_cast<std::int64_t>(BERTH_TRY(varint(wireType, in))));
    case ValueKind::kBool:
      return Json(BERTH_TRY(varint(wireType, in)) != 0);
    case ValueKind::kDouble: {
      BERTH_TRY(expect(wireType, kFixed64));
      std::uint64_t bits = 0;
      if (!in.fixed64(bits)) return error("truncated fixed64");
      double d = std::bit_cast<double>(bits);
      // Go's JSON encoder refuses them too.
      if (!std::isfinite(d)) return error("a double that is not a finite number");
      return Json(d);
    }
    case ValueKind::kArray: {
      // A list as a map value: Go's named slice types travel wrapped (ExtraValue).
      std::string_view raw = BERTH_TRY(payload(wireType, in));
      Json list = Json::array();
      BERTH_TRY(wrappedItems(*ref.elem, raw, list));
      return list;
    }
    case ValueKind::kMap:
      return error("a map inside a map has no protobuf form");
    case ValueKind::kNamed:
      break;
  }
  std::string_view raw = BERTH_TRY(payload(wireType, in));
  return named(*ref.def, raw);
}

Result<Json> ProtobufDecoder::Walk::named(const TypeDef& def, std::string_view raw) {
  if (isDuration(def)) return duration(raw);
  switch (def.scalar) {
    case Scalar::kNone: {
      const WireMessage* layout = BERTH_TRY(layoutOf(def));
      Json object = Json::object();
      BERTH_TRY(message(*layout, raw, object));
      return object;
    }
    case Scalar::kQuantity:
      return quantity(raw);
    case Scalar::kIntOrString:
      return intOrString(raw);
    case Scalar::kTime:
      return time(raw, false);
    case Scalar::kMicroTime:
      return time(raw, true);
    case Scalar::kObject:
      return embeddedObject(raw);
  }
  return error("unknown scalar kind");
}

// resource.Quantity: {string = 1}, the text parsed as the JSON path parses it.
Result<Json> ProtobufDecoder::Walk::quantity(std::string_view raw) {
  std::optional<std::string> s;
  BERTH_TRY(forEachField(
      raw, [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        if (number != 1) return false;
        s = std::string(BERTH_TRY(text(wireType, in)));
        return true;
      }));
  if (!s) return Json("0");  // Go's zero Quantity
  if (auto why = quantityError(*s)) return error(*why);
  return Json(std::move(*s));
}

// intstr.IntOrString: {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}.
Result<Json> ProtobufDecoder::Walk::intOrString(std::string_view raw) {
  std::int64_t type = 0;
  std::int32_t intVal = 0;
  std::string strVal;
  BERTH_TRY(forEachField(
      raw, [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        if (number == 1) {
          type = static_cast<std::int64_t>(BERTH_TRY(varint(wireType, in)));
        } else if (number == 2) {
          intVal = static_cast<std::int32_t>(
              static_cast<std::uint32_t>(BERTH_TRY(varint(wireType, in))));
        } else if (number == 3) {
          strVal = std::string(BERTH_TRY(text(wireType, in)));
        } else {
          return false;
        }
        return true;
      }));
  if (type == 0) return Json(intVal);
  if (type == 1) return Json(std::move(strVal));
  return error(fmt::format("IntOrString type {} is neither 0 (int) nor 1 (string)", type));
}

// meta/v1 Time and MicroTime: {seconds = 1, nanos = 2}; empty is Go's zero time (null). Time
// drops the nanoseconds and MicroTime keeps microseconds, as their Go decoders do.
Result<Json> ProtobufDecoder::Walk::time(std::string_view raw, bool micro) {
  if (raw.empty()) return Json(nullptr);
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;
  BERTH_TRY(forEachField(
      raw, [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        if (number == 1) {
          seconds = static_cast<std::int64_t>(BERTH_TRY(varint(wireType, in)));
        } else if (number == 2) {
          nanos = static_cast<std::int32_t>(
              static_cast<std::uint32_t>(BERTH_TRY(varint(wireType, in))));
        } else {
          return false;
        }
        return true;
      }));
  std::int64_t kept = micro ? nanos - nanos % 1000 : 0;
  if (seconds == kGoZeroTimeSeconds && kept == 0) return Json(nullptr);
  if (seconds > kMaxTimeSeconds || seconds < -kMaxTimeSeconds) {
    return error(fmt::format("time {}s is outside the years 1678 to 2262", seconds));
  }
  kubeapi::Time t{std::chrono::seconds(seconds) + std::chrono::nanoseconds(kept)};
  return Json(micro ? kubeapi::formatMicroTime(t) : kubeapi::formatTime(t));
}

// meta/v1 Duration: {duration = 1} nanoseconds, written as Go's time.Duration text.
Result<Json> ProtobufDecoder::Walk::duration(std::string_view raw) {
  std::int64_t nanos = 0;
  BERTH_TRY(forEachField(
      raw, [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        if (number != 1) return false;
        nanos = static_cast<std::int64_t>(BERTH_TRY(varint(wireType, in)));
        return true;
      }));
  return Json(kubeapi::formatGoDuration(std::chrono::nanoseconds(nanos)));
}

// runtime.RawExtension and FieldsV1: {raw = 1}, JSON bytes, or an object in its own envelope.
Result<Json> ProtobufDecoder::Walk::embeddedObject(std::string_view raw) {
  std::string_view bytes;
  BERTH_TRY(forEachField(
      raw, [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        if (number != 1) return false;
        bytes = BERTH_TRY(payload(wireType, in));
        return true;
      }));
  if (bytes.empty()) return Json(nullptr);
  if (bytes.starts_with(kMagic)) {
    if (depth_ >= kMaxDepth) return error(fmt::format("messages nested deeper than {}", kMaxDepth));
    Walk inner(d_, depth_ + 1);
    auto object = inner.envelope(bytes);
    if (!object) return error(object.error().message());
    return std::move(*object);
  }
  Json object = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return error("raw is neither JSON nor a protobuf envelope");
  return object;
}

Result<Json> ProtobufDecoder::Walk::envelope(std::string_view body) {
  if (!body.starts_with(kMagic)) {
    return fail(Code::kInvalidArgument,
                "protobuf envelope: the body does not start with the magic bytes \"k8s\\x00\"");
  }
  std::string apiVersion, kind, encoding, contentType;
  std::string_view raw;
  auto read = forEachField(
      body.substr(kMagic.size()),
      [&](std::uint32_t number, std::uint32_t wireType, Stream& in) -> Result<bool> {
        if (number == 1) {  // typeMeta
          PathScope scope(path_, "typeMeta");
          std::string_view meta = BERTH_TRY(payload(wireType, in));
          BERTH_TRY(
              forEachField(meta, [&](std::uint32_t n, std::uint32_t wt, Stream& m) -> Result<bool> {
                if (n != 1 && n != 2) return false;
                PathScope field(path_, n == 1 ? "apiVersion" : "kind");
                (n == 1 ? apiVersion : kind) = std::string(BERTH_TRY(text(wt, m)));
                return true;
              }));
        } else if (number == 2) {
          PathScope scope(path_, "raw");
          raw = BERTH_TRY(payload(wireType, in));
        } else if (number == 3 || number == 4) {
          PathScope scope(path_, number == 3 ? "contentEncoding" : "contentType");
          (number == 3 ? encoding : contentType) = std::string(BERTH_TRY(text(wireType, in)));
        } else {
          return false;
        }
        return true;
      });
  if (!read) return std::unexpected(std::move(read).error().context("protobuf envelope"));
  if (kind.empty()) return fail(Code::kInvalidArgument, "protobuf envelope: no kind");
  if (!encoding.empty()) {
    return fail(Code::kInvalidArgument, "protobuf envelope: content encoding {} is not supported",
                encoding);
  }
  if (!contentType.empty() && contentType != kProtobufContentType) {
    return fail(Code::kInvalidArgument, "protobuf envelope: content type {} is not supported",
                contentType);
  }
  std::size_t slash = apiVersion.find('/');
  std::string_view group =
      slash == std::string::npos ? "" : std::string_view(apiVersion).substr(0, slash);
  std::string_view version = slash == std::string::npos
                                 ? std::string_view(apiVersion)
                                 : std::string_view(apiVersion).substr(slash + 1);
  const TypeDef* type = d_.types_.findKind(group, version, kind);
  if (type == nullptr && !version.empty()) {
    auto any = d_.anyVersion_.find(kind);
    if (any != d_.anyVersion_.end()) type = any->second;
  }
  if (type == nullptr) {
    return fail(Code::kInvalidArgument, "no kind \"{}\" is registered for version \"{}\"", kind,
                apiVersion);
  }
  std::string what = fmt::format("{} {}", apiVersion, kind);
  auto layout = layoutOf(*type);
  if (!layout) return std::unexpected(std::move(layout).error().context(what));
  Json object = Json::object();
  if (auto s = message(**layout, raw, object); !s) {
    return std::unexpected(std::move(s).error().context(what));
  }
  object["apiVersion"] = std::move(apiVersion);
  object["kind"] = std::move(kind);
  return object;
}

ProtobufDecoder::ProtobufDecoder(const Registry& types, const WireTable& wire)
    : types_(types), wire_(wire) {
  for (const TypeDef* type : types.types())
    if (type->everyGroupVersion) anyVersion_.emplace(type->shortName(), type);
}

Result<Json> ProtobufDecoder::decode(std::string_view body) const {
  if (body.size() > INT_MAX) return fail(Code::kInvalidArgument, "protobuf body too large");
  return Walk(*this, 0).envelope(body);
}

Result<Json> ProtobufDecoder::decodeMessage(const TypeDef& type, std::string_view raw) const {
  if (raw.size() > INT_MAX) return fail(Code::kInvalidArgument, "protobuf message too large");
  Walk walk(*this, 0);
  const WireMessage* layout = BERTH_TRY(walk.layoutOf(type));
  Json object = Json::object();
  BERTH_TRY(walk.message(*layout, raw, object));
  return object;
}

}  // namespace berth::controlplane::schema
