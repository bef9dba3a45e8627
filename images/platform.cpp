#include "images/platform.h"

#include <sys/utsname.h>

#include <fmt/ranges.h>

namespace berth::images {
namespace {

// containerd platforms.Normalize: default variants compare as absent.
std::string normalVariant(std::string_view arch, std::string_view variant) {
  if (arch == "arm64" && (variant == "v8" || variant == "8")) return "";
  if (arch == "amd64" && variant == "v1") return "";
  if (arch == "arm" && variant.size() == 1) return "v" + std::string(variant);
  return std::string(variant);
}

}  // namespace

std::string PlatformSpec::string() const {
  return variant.empty() ? fmt::format("{}/{}", os, architecture)
                         : fmt::format("{}/{}/{}", os, architecture, variant);
}

PlatformSpec hostPlatform() {
  PlatformSpec p{.os = "linux"};
  utsname u{};
  ::uname(&u);
  std::string_view m = u.machine;
  if (m == "x86_64") {
    p.architecture = "amd64";
  } else if (m == "aarch64" || m == "arm64") {
    p.architecture = "arm64";
    p.variant = "v8";
  } else if (m.starts_with("armv7")) {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (m.starts_with("armv6")) {
    p.architecture = "arm";
    p.variant = "v6";
  } else if (m == "i386" || m == "i686") {
    p.architecture = "386";
  } else {
    p.architecture = std::string(m);  // ppc64le, s390x, riscv64 share GOARCH names
  }
  return p;
}

Result<PlatformSpec> parsePlatform(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    auto slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
    return fail(Code::kInvalidArgument, "invalid platform \"{}\" (want os/arch[/variant])", text);
  }
  return PlatformSpec{
      .os = parts[0], .architecture = parts[1], .variant = parts.size() == 3 ? parts[2] : ""};
}

Result<ocispec::Descriptor> selectManifest(const ocispec::Index& index, const PlatformSpec& want) {
  std::string wantVariant = normalVariant(want.architecture, want.variant);
  const ocispec::Descriptor* fallback = nullptr;
  std::vector<std::string> available;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    const auto& p = *d.platform;
    std::string variant = normalVariant(p.architecture, p.variant.value_or(""));
    available.push_back(PlatformSpec{p.os, p.architecture, p.variant.value_or("")}.string());
    if (p.os != want.os || p.architecture != want.architecture) continue;
    if (!ocispec::isManifestMediaType(d.mediaType)) continue;  // attestations and the like
    if (variant == wantVariant) return d;
    if (variant.empty() && !fallback) fallback = &d;
  }
  if (fallback) return *fallback;
  return fail(Code::kNotFound, "no image for platform {} (the index has: {})", want.string(),
              available.empty() ? "no platforms" : fmt::format("{}", fmt::join(available, ", ")));
}

}  // namespace berth::images
