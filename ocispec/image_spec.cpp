#include "ocispec/image_spec.h"

#include <array>

#include "ocispec/json_reader.h"
#include "ocispec/json_writer.h"

namespace berth::ocispec {
namespace {

bool isLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool isAlgorithmComponentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

Status readPlatform(const JsonReader& r, Platform& out) {
  BERTH_TRY(r.required("architecture", out.architecture));
  BERTH_TRY(r.required("os", out.os));
  BERTH_TRY(r.optional("os.version", out.osVersion));
  BERTH_TRY(r.optional("os.features", out.osFeatures));
  return r.optional("variant", out.variant);
}

Status readDescriptor(const JsonReader& r, Descriptor& out) {
  BERTH_TRY(r.required("mediaType", out.mediaType));
  BERTH_TRY(r.required("digest", out.digest));
  if (auto s = validateDigest(out.digest); !s) return r.invalid("digest", s.error().message());
  BERTH_TRY(r.required("size", out.size));
  if (out.size < 0) return r.invalid("size", "must not be negative");
  BERTH_TRY(r.optional("urls", out.urls));
  BERTH_TRY(r.optional("annotations", out.annotations));
  BERTH_TRY(r.object("platform", out.platform, readPlatform));
  return r.optional("artifactType", out.artifactType);
}

Status readSchemaVersion(const JsonReader& r, int& out) {
  BERTH_TRY(r.required("schemaVersion", out));
  if (out != 2) return r.invalid("schemaVersion", "must be 2, not {}", out);
  return {};
}

Status readManifest(const JsonReader& r, Manifest& out) {
  BERTH_TRY(readSchemaVersion(r, out.schemaVersion));
  BERTH_TRY(r.optional("mediaType", out.mediaType));
  if (out.mediaType && !isManifestMediaType(*out.mediaType)) {
    return r.invalid("mediaType", "\"{}\" is not an image manifest", *out.mediaType);
  }
  BERTH_TRY(r.optional("artifactType", out.artifactType));
  if (!r.has("config")) return r.invalid("config", "required");
  BERTH_TRY(r.object("config", out.config, readDescriptor));
  if (!r.has("layers")) return r.invalid("layers", "required");
  BERTH_TRY(r.objects("layers", out.layers, readDescriptor));
  BERTH_TRY(r.object("subject", out.subject, readDescriptor));
  return r.optional("annotations", out.annotations);
}

Status readIndex(const JsonReader& r, Index& out) {
  BERTH_TRY(readSchemaVersion(r, out.schemaVersion));
  BERTH_TRY(r.optional("mediaType", out.mediaType));
  if (out.mediaType && !isIndexMediaType(*out.mediaType)) {
    return r.invalid("mediaType", "\"{}\" is not an image index", *out.mediaType);
  }
  BERTH_TRY(r.optional("artifactType", out.artifactType));
  if (!r.has("manifests")) return r.invalid("manifests", "required");
  BERTH_TRY(r.objects("manifests", out.manifests, readDescriptor));
  BERTH_TRY(r.object("subject", out.subject, readDescriptor));
  return r.optional("annotations", out.annotations);
}

// ExposedPorts and Volumes are Go map[string]struct{}: each value must be an object.
Status readExecConfig(const JsonReader& r, ExecConfig& out) {
  BERTH_TRY(r.optional("User", out.User));
  BERTH_TRY(r.objectMap("ExposedPorts", out.ExposedPorts, [](const JsonReader&, Json& v) -> Status {
    v = Json::object();
    return {};
  }));
  BERTH_TRY(r.optional("Env", out.Env));
  BERTH_TRY(r.optional("Entrypoint", out.Entrypoint));
  BERTH_TRY(r.optional("Cmd", out.Cmd));
  BERTH_TRY(r.objectMap("Volumes", out.Volumes, [](const JsonReader&, Json& v) -> Status {
    v = Json::object();
    return {};
  }));
  BERTH_TRY(r.optional("WorkingDir", out.WorkingDir));
  BERTH_TRY(r.optional("Labels", out.Labels));
  BERTH_TRY(r.optional("StopSignal", out.StopSignal));
  return r.optional("ArgsEscaped", out.ArgsEscaped);
}

Status readRootFs(const JsonReader& r, RootFs& out) {
  BERTH_TRY(r.required("type", out.type));
  if (out.type != "layers") return r.invalid("type", "must be \"layers\", not \"{}\"", out.type);
  BERTH_TRY(r.required("diff_ids", out.diff_ids));
  for (size_t i = 0; i < out.diff_ids.size(); ++i) {
    if (auto s = validateDigest(out.diff_ids[i]); !s) {
      return invalidAt(indexPath(r.pathOf("diff_ids"), i), s.error().message());
    }
  }
  return {};
}

Status readHistory(const JsonReader& r, History& out) {
  BERTH_TRY(r.optional("created", out.created));
  BERTH_TRY(r.optional("created_by", out.created_by));
  BERTH_TRY(r.optional("author", out.author));
  BERTH_TRY(r.optional("comment", out.comment));
  return r.optional("empty_layer", out.empty_layer);
}

Status readImageConfig(const JsonReader& r, ImageConfig& out) {
  BERTH_TRY(r.optional("created", out.created));
  BERTH_TRY(r.optional("author", out.author));
  BERTH_TRY(r.required("architecture", out.architecture));
  BERTH_TRY(r.required("os", out.os));
  BERTH_TRY(r.optional("variant", out.variant));
  BERTH_TRY(r.optional("os.version", out.osVersion));
  BERTH_TRY(r.object("config", out.config, readExecConfig));
  if (!r.has("rootfs")) return r.invalid("rootfs", "required");
  BERTH_TRY(r.object("rootfs", out.rootfs, readRootFs));
  return r.objects("history", out.history, readHistory);
}

template <class T, class Read>
Result<T> parseWith(std::string_view json, Read&& read) {
  auto doc = BERTH_TRY(parseDocument(json));
  auto r = BERTH_TRY(JsonReader::open(doc, ""));
  T out{};
  BERTH_TRY(read(r, out));
  return out;
}

}  // namespace

Status validateDigest(std::string_view digest) {
  // descriptor.md: digest := algorithm ":" encoded; algorithm := component (separator component)*
  auto colon = digest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(Code::kInvalidArgument, "\"{}\" is not a digest (want algorithm:encoded)", digest);
  }
  std::string_view algorithm = digest.substr(0, colon);
  std::string_view encoded = digest.substr(colon + 1);
  bool prevSeparator = true;
  for (char c : algorithm) {
    bool separator = c == '+' || c == '.' || c == '_' || c == '-';
    if (!separator && !isAlgorithmComponentChar(c)) {
      return fail(Code::kInvalidArgument, "digest \"{}\": invalid algorithm", digest);
    }
    if (separator && prevSeparator) {
      return fail(Code::kInvalidArgument, "digest \"{}\": invalid algorithm", digest);
    }
    prevSeparator = separator;
  }
  if (prevSeparator)
    return fail(Code::kInvalidArgument, "digest \"{}\": invalid algorithm", digest);
  size_t want = algorithm == "sha256" ? 64 : algorithm == "sha512" ? 128 : 0;
  if (want != 0) {
    if (encoded.size() != want || !isLowerHex(encoded)) {
      return fail(Code::kInvalidArgument, "digest \"{}\": {} needs {} lowercase hex characters",
                  digest, algorithm, want);
    }
    return {};
  }
  if (encoded.empty()) return fail(Code::kInvalidArgument, "digest \"{}\": empty encoding", digest);
  for (char c : encoded) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '=' || c == '_' || c == '-';
    if (!ok) return fail(Code::kInvalidArgument, "digest \"{}\": invalid encoding", digest);
  }
  return {};
}

bool isManifestMediaType(std::string_view mediaType) {
  return mediaType == kMediaTypeOciManifest || mediaType == kMediaTypeDockerManifest;
}

bool isIndexMediaType(std::string_view mediaType) {
  return mediaType == kMediaTypeOciIndex || mediaType == kMediaTypeDockerManifestList;
}

bool isLayerMediaType(std::string_view mediaType) {
  static constexpr std::array<std::string_view, 6> kLayers = {
      kMediaTypeOciLayer,        kMediaTypeOciLayerGzip,           kMediaTypeOciLayerZstd,
      kMediaTypeDockerLayerGzip, kMediaTypeDockerForeignLayerGzip, "application/x-tar"};
  return isOneOf(kLayers, mediaType);
}

ManifestKind detectManifestKind(std::string_view contentType, std::string_view body) {
  // Content-Type may carry parameters ("; charset=utf-8").
  if (auto semi = contentType.find(';'); semi != std::string_view::npos) {
    contentType = contentType.substr(0, semi);
  }
  while (!contentType.empty() && contentType.back() == ' ')
    contentType.remove_suffix(1);
  auto fromType = [](std::string_view t) {
    if (isIndexMediaType(t)) return ManifestKind::kIndex;
    if (isManifestMediaType(t)) return ManifestKind::kManifest;
    if (t == kMediaTypeDockerSchema1 || t == kMediaTypeDockerSchema1Signed) {
      return ManifestKind::kSchema1;
    }
    return ManifestKind::kUnknown;
  };
  // The document's own mediaType wins over the header (registries send application/json for
  // documents pushed without one).
  Json doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    if (auto it = doc.find("mediaType"); it != doc.end() && it->is_string()) {
      auto kind = fromType(it->get<std::string>());
      if (kind != ManifestKind::kUnknown) return kind;
    }
    if (auto it = doc.find("schemaVersion"); it != doc.end() && *it == 1) {
      return ManifestKind::kSchema1;
    }
  }
  if (auto kind = fromType(contentType); kind != ManifestKind::kUnknown) return kind;
  if (doc.is_object()) {
    if (doc.contains("manifests")) return ManifestKind::kIndex;
    if (doc.contains("config") && doc.contains("layers")) return ManifestKind::kManifest;
  }
  return ManifestKind::kUnknown;
}

Result<Descriptor> parseDescriptor(std::string_view json) {
  return parseWith<Descriptor>(json, readDescriptor);
}
Result<Manifest> parseManifest(std::string_view json) {
  return parseWith<Manifest>(json, readManifest);
}
Result<Index> parseIndex(std::string_view json) {
  return parseWith<Index>(json, readIndex);
}
Result<ImageConfig> parseImageConfig(std::string_view json) {
  return parseWith<ImageConfig>(json, readImageConfig);
}

OrderedJson toJson(const Platform& p) {
  OrderedJson j;
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  putIfSet(j, "os.version", p.osVersion);
  putIfNotEmpty(j, "os.features", p.osFeatures);
  putIfSet(j, "variant", p.variant);
  return j;
}

OrderedJson toJson(const Descriptor& d) {
  OrderedJson j;
  j["mediaType"] = d.mediaType;
  j["digest"] = d.digest;
  j["size"] = d.size;
  putIfNotEmpty(j, "urls", d.urls);
  putIfNotEmpty(j, "annotations", d.annotations);
  if (d.platform) j["platform"] = toJson(*d.platform);
  putIfSet(j, "artifactType", d.artifactType);
  return j;
}

OrderedJson toJson(const Manifest& m) {
  OrderedJson j;
  j["schemaVersion"] = m.schemaVersion;
  putIfSet(j, "mediaType", m.mediaType);
  putIfSet(j, "artifactType", m.artifactType);
  j["config"] = toJson(m.config);
  j["layers"] = OrderedJson::array();
  for (const auto& l : m.layers)
    j["layers"].push_back(toJson(l));
  if (m.subject) j["subject"] = toJson(*m.subject);
  putIfNotEmpty(j, "annotations", m.annotations);
  return j;
}

OrderedJson toJson(const Index& i) {
  OrderedJson j;
  j["schemaVersion"] = i.schemaVersion;
  putIfSet(j, "mediaType", i.mediaType);
  putIfSet(j, "artifactType", i.artifactType);
  j["manifests"] = OrderedJson::array();
  for (const auto& m : i.manifests)
    j["manifests"].push_back(toJson(m));
  if (i.subject) j["subject"] = toJson(*i.subject);
  putIfNotEmpty(j, "annotations", i.annotations);
  return j;
}

OrderedJson toJson(const ImageConfig& c) {
  OrderedJson j;
  putIfSet(j, "created", c.created);
  putIfSet(j, "author", c.author);
  j["architecture"] = c.architecture;
  j["os"] = c.os;
  putIfSet(j, "variant", c.variant);
  putIfSet(j, "os.version", c.osVersion);
  if (c.config) {
    const ExecConfig& e = *c.config;
    OrderedJson cj = OrderedJson::object();
    putIfSet(cj, "User", e.User);
    if (!e.ExposedPorts.empty()) {
      cj["ExposedPorts"] = OrderedJson::object();
      for (const auto& [k, v] : e.ExposedPorts)
        cj["ExposedPorts"][k] = OrderedJson::object();
    }
    putIfNotEmpty(cj, "Env", e.Env);
    putIfNotEmpty(cj, "Entrypoint", e.Entrypoint);
    putIfNotEmpty(cj, "Cmd", e.Cmd);
    if (!e.Volumes.empty()) {
      cj["Volumes"] = OrderedJson::object();
      for (const auto& [k, v] : e.Volumes)
        cj["Volumes"][k] = OrderedJson::object();
    }
    putIfSet(cj, "WorkingDir", e.WorkingDir);
    putIfNotEmpty(cj, "Labels", e.Labels);
    putIfSet(cj, "StopSignal", e.StopSignal);
    putIfSet(cj, "ArgsEscaped", e.ArgsEscaped);
    j["config"] = std::move(cj);
  }
  j["rootfs"] = {{"type", c.rootfs.type}, {"diff_ids", c.rootfs.diff_ids}};
  if (!c.history.empty()) {
    j["history"] = OrderedJson::array();
    for (const auto& h : c.history) {
      OrderedJson hj = OrderedJson::object();
      putIfSet(hj, "created", h.created);
      putIfSet(hj, "created_by", h.created_by);
      putIfSet(hj, "author", h.author);
      putIfSet(hj, "comment", h.comment);
      putIfTrue(hj, "empty_layer", h.empty_layer);
      j["history"].push_back(std::move(hj));
    }
  }
  return j;
}

}  // namespace berth::ocispec
