#pragma once
// What is particular to one resource when it is written (the apiserver's RESTCreateStrategy /
// RESTUpdateStrategy / RESTDeleteStrategy, e.g. pkg/registry/core/pod/strategy.go): preparing
// and validating objects, which writes reset the status, which fields a field selector can name,
// graceful deletion. Everything else is the generic ResourceStore's.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/apiserver/api_error.h"
#include "kubeapi/field_selector.h"

namespace berth::controlplane::apiserver {

using Json = nlohmann::json;
// Field-selectable values of an object: "metadata.name" -> "web-1", "spec.nodeName" -> "n1".
using kubeapi::FieldSet;

class Strategy {
 public:
  virtual ~Strategy() = default;

  // The object has a status that only the status subresource writes: a write to the main
  // resource keeps the stored status, a write to /status keeps everything but status (and the
  // metadata a status writer may change: labels, annotations... as upstream's
  // PrepareForUpdate of each status strategy).
  virtual bool hasStatusSubresource() const { return false; }
  // metadata.generation is 1 at create and grows with every change outside metadata and status.
  virtual bool tracksGeneration() const { return false; }
  // An update of an absent object creates it (Endpoints, Leases, Events... upstream).
  virtual bool allowCreateOnUpdate() const { return false; }

  // Defaults the type's own rules add after the description's static defaults (imagePullPolicy
  // from the tag, dnsPolicy, ...), on create and update.
  virtual void applyDefaults(Json& /*object*/) const {}
  virtual void prepareForCreate(Json& /*object*/) const {}
  virtual void prepareForUpdate(Json& /*object*/, const Json& /*old*/) const {}
  virtual FieldErrors validate(const Json& /*object*/) const { return {}; }
  virtual FieldErrors validateUpdate(const Json& object, const Json& /*old*/) const {
    return validate(object);
  }
  // The /status subresource's rules.
  virtual void prepareForStatusUpdate(Json& /*object*/, const Json& /*old*/) const {}
  virtual FieldErrors validateStatusUpdate(const Json& /*object*/, const Json& /*old*/) const {
    return {};
  }

  // The type's selectable fields besides metadata.name and metadata.namespace: their names
  // (a field selector naming another is a 400 "field label not supported") and their values.
  virtual std::vector<std::string> fieldLabels() const { return {}; }
  virtual void addSelectableFields(const Json& /*object*/, FieldSet& /*fields*/) const {}

  // How metadata.name is checked (upstream's ValidateNameFunc of the type).
  enum class NameRule { kSubdomain, kLabel, kPathSegment };
  virtual NameRule nameRule() const { return NameRule::kSubdomain; }

  // Graceful deletion: the grace period the object gets when the client names none (pods:
  // spec.terminationGracePeriodSeconds). nullopt: deleted at once.
  virtual std::optional<std::int64_t> defaultGracePeriodSeconds(const Json& /*object*/) const {
    return std::nullopt;
  }
  // Runs before a delete that would remove the object; true keeps the object (marked as being
  // deleted, with what this changed) until something else finishes it: a namespace with
  // spec.finalizers turns Terminating and waits for the namespace controller.
  virtual bool deferDelete(Json& /*object*/) const { return false; }
  // Whether a graceful delete with this period must wait for the node (pods bound to a node and
  // not yet terminal); otherwise the object goes at once.
  virtual bool deleteWaitsForGrace(const Json& /*object*/, std::int64_t /*grace*/) const {
    return false;
  }
};

// Kept for a type with nothing of its own.
const Strategy& defaultStrategy();

}  // namespace berth::controlplane::apiserver
