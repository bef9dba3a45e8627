#pragma once
// For the schema's tests: the built-in registry's types by name.
#include <string_view>

#include <gtest/gtest.h>

#include "controlplane/schema/registry.h"

namespace berth::controlplane::schema {

inline constexpr std::string_view kPodTypeName = "io.k8s.api.core.v1.Pod";

// A type the built-in registry must have (the tests name only served types).
inline const TypeDef& builtinType(std::string_view name) {
  const TypeDef* t = Registry::builtin().find(name);
  EXPECT_NE(t, nullptr) << name;
  return *t;
}

}  // namespace berth::controlplane::schema
