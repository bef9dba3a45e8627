#pragma once
// Image references as docker and containerd read them (distribution/reference
// ParseNormalizedNamed + TagNameOnly): `busybox` is `docker.io/library/busybox:latest`,
// `host:port/repo:tag`, `repo@sha256:<hex>`, `repo:tag@sha256:<hex>` (the digest wins when
// pulling).

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::images {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";

class Reference {
 public:
  // Parses and normalises; errors are kInvalidArgument: `invalid reference "X": <what is wrong>`.
  [[nodiscard]] static Result<Reference> parse(std::string_view text);

  // "docker.io", "localhost:5000", "[::1]:5000".
  const std::string& domain() const { return domain_; }
  // The repository path inside the registry: "library/busybox".
  const std::string& path() const { return path_; }
  const std::optional<std::string>& tag() const { return tag_; }
  const std::optional<std::string>& digest() const { return digest_; }

  // "docker.io/library/busybox".
  std::string name() const { return domain_ + "/" + path_; }
  // The full normalised form: name[:tag][@digest].
  std::string string() const;
  // What the registry's manifests endpoint is asked for: the digest if there is one, else the tag.
  std::string manifestReference() const { return digest_ ? *digest_ : tag_.value_or("latest"); }

  friend bool operator==(const Reference&, const Reference&) = default;

 private:
  Reference() = default;
  std::string domain_;
  std::string path_;
  std::optional<std::string> tag_;
  std::optional<std::string> digest_;
};

}  // namespace berth::images
