#pragma once
// OCI image-spec 1.1 (descriptor.md, manifest.md, image-index.md, config.md) and the Docker
// image manifest v2 schema 2 types that registries still serve, with strict parsing: a wrong type,
// a missing REQUIRED property or an invalid digest is an error whose message starts with the JSON
// path ("layers[2].digest: ..."). Unknown properties are ignored (image-spec "Extensibility").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::ocispec {

// media-types.md, and the Docker schema 2 equivalents (distribution/manifest/schema2).
inline constexpr std::string_view kMediaTypeOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kMediaTypeOciManifest =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kMediaTypeOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kMediaTypeOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kMediaTypeOciLayerGzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kMediaTypeOciLayerZstd =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kMediaTypeDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kMediaTypeDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kMediaTypeDockerConfig =
    "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kMediaTypeDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kMediaTypeDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
// Schema 1 is refused; these are recognised only to say so.
inline constexpr std::string_view kMediaTypeDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kMediaTypeDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

struct Platform {            // image-index.md "platform"
  std::string architecture;  // REQUIRED
  std::string os;            // REQUIRED
  std::optional<std::string> osVersion;
  std::vector<std::string> osFeatures;
  std::optional<std::string> variant;
};

struct Descriptor {       // descriptor.md
  std::string mediaType;  // REQUIRED
  std::string digest;     // REQUIRED, validated (descriptor.md "Digests")
  int64_t size = 0;       // REQUIRED, >= 0
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::optional<std::string> artifactType;
};

// An image manifest (OCI or Docker schema 2; the shapes are the same).
struct Manifest {
  int schemaVersion = 2;  // REQUIRED, must be 2
  std::optional<std::string> mediaType;
  std::optional<std::string> artifactType;
  Descriptor config;               // REQUIRED
  std::vector<Descriptor> layers;  // REQUIRED (may be empty for artifacts)
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
};

// An image index (OCI) or manifest list (Docker).
struct Index {
  int schemaVersion = 2;  // REQUIRED, must be 2
  std::optional<std::string> mediaType;
  std::optional<std::string> artifactType;
  std::vector<Descriptor> manifests;  // REQUIRED
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
};

// config.md "config": the execution defaults a runtime uses when the CRI request leaves them out.
struct ExecConfig {
  std::optional<std::string> User;
  std::map<std::string, nlohmann::json> ExposedPorts;  // "80/tcp": {}
  std::vector<std::string> Env;
  std::vector<std::string> Entrypoint;
  std::vector<std::string> Cmd;
  std::map<std::string, nlohmann::json> Volumes;  // "/data": {}
  std::optional<std::string> WorkingDir;
  std::map<std::string, std::string> Labels;
  std::optional<std::string> StopSignal;
  std::optional<bool> ArgsEscaped;
};

struct RootFs {
  std::string type;                   // REQUIRED, "layers"
  std::vector<std::string> diff_ids;  // REQUIRED
};

struct History {
  std::optional<std::string> created;
  std::optional<std::string> created_by;
  std::optional<std::string> author;
  std::optional<std::string> comment;
  bool empty_layer = false;
};

struct ImageConfig {  // config.md
  std::optional<std::string> created;
  std::optional<std::string> author;
  std::string architecture;  // REQUIRED
  std::string os;            // REQUIRED
  std::optional<std::string> variant;
  std::optional<std::string> osVersion;  // "os.version"
  std::optional<ExecConfig> config;
  RootFs rootfs;  // REQUIRED
  std::vector<History> history;
};

// What a manifest document is, from its mediaType property (or, when absent, its shape).
enum class ManifestKind { kIndex, kManifest, kSchema1, kUnknown };

// Decides from the Content-Type the registry sent and the document itself. Schema 1 and an
// unknown type are reported as such; the caller turns them into errors.
ManifestKind detectManifestKind(std::string_view contentType, std::string_view body);
// True for the media types of a single-image manifest / of an index.
bool isManifestMediaType(std::string_view mediaType);
bool isIndexMediaType(std::string_view mediaType);
// True for layer media types this implementation can unpack (tar, gzip, zstd; OCI and Docker).
bool isLayerMediaType(std::string_view mediaType);

// descriptor.md "Digests": algorithm ":" encoded, with sha256/sha512 checked for length and hex.
[[nodiscard]] Status validateDigest(std::string_view digest);

[[nodiscard]] Result<Descriptor> parseDescriptor(std::string_view json);
[[nodiscard]] Result<Manifest> parseManifest(std::string_view json);
[[nodiscard]] Result<Index> parseIndex(std::string_view json);
[[nodiscard]] Result<ImageConfig> parseImageConfig(std::string_view json);

nlohmann::ordered_json toJson(const Descriptor& d);
nlohmann::ordered_json toJson(const Platform& p);
nlohmann::ordered_json toJson(const Manifest& m);
nlohmann::ordered_json toJson(const Index& i);
nlohmann::ordered_json toJson(const ImageConfig& c);

}  // namespace berth::ocispec
