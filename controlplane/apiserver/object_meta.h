#pragma once
// ObjectMeta validation on create and update (ValidateObjectMeta, ValidateObjectMetaUpdate),
// with the name rule of the resource.
#include "controlplane/apiserver/api_error.h"
#include "controlplane/apiserver/strategy.h"

namespace berth::controlplane::apiserver {

FieldErrors validateObjectMeta(const Json& object, bool namespaced, Strategy::NameRule rule);
// The above plus what an update may not change: name, namespace, uid, creationTimestamp, and no
// new finalizers once the object is being deleted.
FieldErrors validateObjectMetaUpdate(const Json& object, const Json& old, bool namespaced,
                                     Strategy::NameRule rule);

}  // namespace berth::controlplane::apiserver
