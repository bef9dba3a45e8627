#pragma once
// An image's execution defaults for the CRI: its config (Entrypoint, Cmd, Env, WorkingDir, User,
// ExposedPorts, Volumes, Labels) read back from the content store, and the user split as CRI
// ImageStatus reports it (containerd's getUserFromImage): a numeric user is a uid, anything else
// a username; the group part is dropped.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "images/content_store.h"
#include "images/image_store.h"
#include "ocispec/image_spec.h"

namespace berth::images {

// The record's config blob, parsed; errors name the digest.
[[nodiscard]] Result<ocispec::ImageConfig> loadImageConfig(const ContentStore& content,
                                                           const ImageRecord& record);

struct ImageUser {
  std::optional<int64_t> uid;  // "1000", "1000:1000"
  std::string username;        // "nobody", "nobody:nogroup"; empty when uid is set or no User
};
ImageUser imageUser(std::string_view user);

}  // namespace berth::images
