#pragma once
// Platform selection from an image index, as containerd's platforms.Default() matcher: the host's
// os/architecture (GOARCH names) and variant; a missing variant in the index matches.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ocispec/image_spec.h"

namespace berth::images {

struct PlatformSpec {
  std::string os;
  std::string architecture;
  std::string variant;  // may be empty
  std::string string() const;
};

// This machine: uname's machine mapped to GOARCH (x86_64 → amd64, aarch64 → arm64/v8, ...).
PlatformSpec hostPlatform();
// "linux/arm64/v8" → {linux, arm64, v8}; errors name the text.
[[nodiscard]] Result<PlatformSpec> parsePlatform(std::string_view text);

// The index entry for `want`: an exact variant match first, then one without a variant (arm64's
// v8 and amd64's v1 are the defaults). kNotFound lists what the index has.
[[nodiscard]] Result<ocispec::Descriptor> selectManifest(const ocispec::Index& index,
                                                         const PlatformSpec& want);

}  // namespace berth::images
