// libFuzzer over the protobuf decoder with the builtin descriptions: any input is an error or a
// JSON object that serializes, never a crash, a leak or undefined behaviour (built with ASan and
// UBSan). An input that starts with the envelope's magic is a whole body; any other picks a
// described type with its first byte and is that type's message, so the fuzzer reaches every
// field's decoding without first having to find a served kind's name.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "controlplane/schema/protobuf_decoder.h"

namespace {

using berth::controlplane::schema::ProtobufDecoder;
using berth::controlplane::schema::Registry;
using berth::controlplane::schema::TypeDef;
using berth::controlplane::schema::WireTable;

const WireTable& wireTable() {
  const auto& table = WireTable::builtin();
  if (!table) {
    std::fprintf(stderr, "wire table: %s\n", table.error().message().c_str());
    std::abort();
  }
  return *table;
}

struct Target {
  const ProtobufDecoder decoder{Registry::builtin(), wireTable()};
  std::vector<const TypeDef*> messages;  // every type with a protobuf form

  Target() {
    for (const TypeDef* type : Registry::builtin().types())
      if (wireTable().find(*type) != nullptr) messages.push_back(type);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Target target;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded =
      input.starts_with(ProtobufDecoder::kMagic) || input.empty()
          ? target.decoder.decode(input)
          : target.decoder.decodeMessage(
                *target.messages[static_cast<std::uint8_t>(input[0]) % target.messages.size()],
                input.substr(1));
  // Serializing throws on what JSON can't hold (invalid UTF-8): that would be a decoder bug.
  if (decoded) (void)decoded->dump();
  return 0;
}
