#pragma once
// A protobuf writer for the tests, written apart from the library the decoder reads with, so the
// two sides of a test don't share a mistake: fields appended in order, each its tag and value.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace berth::controlplane::schema::testing {

class PbWriter {
 public:
  static std::string varintBytes(std::uint64_t v) {
    std::string out;
    while (v >= 0x80) {
      out += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
    return out;
  }

  PbWriter& tag(std::uint32_t field, std::uint32_t wireType) {
    bytes_ += varintBytes((static_cast<std::uint64_t>(field) << 3) | wireType);
    return *this;
  }
  PbWriter& varint(std::uint32_t field, std::uint64_t v) {
    tag(field, 0);
    bytes_ += varintBytes(v);
    return *this;
  }
  // int32 and int64 as Go writes them: negative numbers sign-extended to ten bytes.
  PbWriter& int64(std::uint32_t field, std::int64_t v) {
    return varint(field, static_cast<std::uint64_t>(v));
  }
  PbWriter& fixed64(std::uint32_t field, std::uint64_t v) {
    tag(field, 1);
    for (int i = 0; i < 8; ++i)
      bytes_ += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  PbWriter& fixed32(std::uint32_t field, std::uint32_t v) {
    tag(field, 5);
    for (int i = 0; i < 4; ++i)
      bytes_ += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  PbWriter& doubleValue(std::uint32_t field, double d) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof bits);
    return fixed64(field, bits);
  }
  PbWriter& bytes(std::uint32_t field, std::string_view v) {
    tag(field, 2);
    bytes_ += varintBytes(v.size());
    bytes_ += v;
    return *this;
  }
  PbWriter& message(std::uint32_t field, const PbWriter& m) { return bytes(field, m.str()); }
  // Anything, for malformed input.
  PbWriter& raw(std::string_view v) {
    bytes_ += v;
    return *this;
  }

  const std::string& str() const { return bytes_; }

  // "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}.
  static std::string envelope(std::string_view apiVersion, std::string_view kind,
                              const PbWriter& raw) {
    PbWriter typeMeta;
    typeMeta.bytes(1, apiVersion).bytes(2, kind);
    PbWriter unknown;
    unknown.message(1, typeMeta).message(2, raw);
    return std::string("k8s\0", 4) + unknown.str();
  }

 private:
  std::string bytes_;
};

}  // namespace berth::controlplane::schema::testing
