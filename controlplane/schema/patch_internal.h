#pragma once
// What the patch implementations share.
#include <nlohmann/json.hpp>

namespace berth::controlplane::schema {

// Removes null members of objects at any depth (null list items stay), as both evanphx's
// pruneNulls and strategicpatch's discardNullValuesFromPatch do to a value new to the object.
void pruneNullMembers(nlohmann::json& value);

}  // namespace berth::controlplane::schema
