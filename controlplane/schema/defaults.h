#pragma once
// Static defaulting from the descriptions: what the apiserver's SetDefaults functions set no
// matter what else the object says (a pod's restartPolicy and dnsPolicy, a container's
// terminationMessagePath, a port's protocol, a Deployment's replicas and revisionHistoryLimit,
// ...). Defaults that depend on other fields (imagePullPolicy by tag, a service's targetPort,
// a Deployment's rollingUpdate when its type is RollingUpdate, a pod's enableServiceLinks but
// not a template's) stay in the resources' strategies.
//
// Like Go's defaulters, it reaches into every present object, list item and map value, and into
// the value structs a Go object always has (a PersistentVolume's status gets phase Pending even
// when the request had no status).
#include <nlohmann/json.hpp>

#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

struct DefaultsOptions {
  // Also write the Go zero value of every field Go always serializes (value structs, and
  // non-omitempty scalars), so an object reads back as kube-apiserver writes it
  // ("status": {} on a new Deployment).
  bool zeroValues = false;
};

void applyDefaults(nlohmann::json& object, const TypeDef& type, DefaultsOptions options = {});

}  // namespace berth::controlplane::schema
