#pragma once
// Request bodies in Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf), what
// client-go's typed clients send (kubectl create <kind>, drain, certificate approve), read into
// the JSON object the server works on, as the apiserver's Go decoder followed by its JSON encoder
// would write it:
// - the envelope: "k8s\0", then runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding,
//   contentType}; the kind picks the described type, raw is its message;
// - each field by its number (WireTable) and its described type: strings, bytes (base64), int32,
//   int64, bool, double, nested messages, repeated fields (packed or not), maps (key/value entry
//   messages), and the special messages Time, MicroTime, Duration, Quantity, IntOrString,
//   RawExtension and FieldsV1 in their JSON forms;
// - presence: a field on the wire is in the JSON, an absent one is not; but a zero scalar of a
//   plain (non-pointer) Go field is left out, as Go writes every such field on the wire and its
//   JSON encoder omits it again (omitempty), unless the description says Go always writes it;
// - unknown field numbers are skipped; malformed input is an error naming the type and the field.
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/schema/registry.h"
#include "controlplane/schema/wire_table.h"

namespace berth::controlplane::schema {

class ProtobufDecoder {
 public:
  // Both must outlive the decoder.
  ProtobufDecoder(const Registry& types, const WireTable& wire);

  // A whole body, envelope included; apiVersion and kind come from the envelope.
  [[nodiscard]] Result<nlohmann::json> decode(std::string_view body) const;
  // The message of `type` alone (runtime.Unknown's raw).
  [[nodiscard]] Result<nlohmann::json> decodeMessage(const TypeDef& type,
                                                     std::string_view raw) const;

  // The envelope's magic bytes.
  static constexpr std::string_view kMagic{"k8s\0", 4};

 private:
  class Walk;

  const Registry& types_;
  const WireTable& wire_;
  // Kinds served in every group version (DeleteOptions), by kind.
  std::unordered_map<std::string_view, const TypeDef*> anyVersion_;
};

}  // namespace berth::controlplane::schema
