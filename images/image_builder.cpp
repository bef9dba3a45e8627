#include "images/image_builder.h"

#include <ctime>

#include "images/digest.h"

namespace berth::images {
namespace {

std::string nowRfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<ImageRecord> buildImageRecord(std::string name, const ChosenManifest& chosen,
                                     std::string_view configText, const PlatformSpec& platform) {
  const ocispec::Manifest& manifest = chosen.manifest;
  auto config =
      BERTH_TRY_CTX(ocispec::parseImageConfig(configText), "config " + manifest.config.digest);
  if (!chosen.indexDigest &&
      (config.os != platform.os || config.architecture != platform.architecture)) {
    return fail(Code::kNotFound, "image is for {}/{}, not {}", config.os, config.architecture,
                platform.string());
  }
  if (config.rootfs.diff_ids.size() != manifest.layers.size()) {
    return fail(Code::kDataLoss, "manifest {} has {} layers but its config {} diff ids",
                chosen.digest, manifest.layers.size(), config.rootfs.diff_ids.size());
  }
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    if (!ocispec::isLayerMediaType(manifest.layers[i].mediaType)) {
      return fail(Code::kUnimplemented, "manifest {}: layers[{}]: unsupported media type \"{}\"",
                  chosen.digest, i, manifest.layers[i].mediaType);
    }
  }
  ImageRecord record;
  record.name = std::move(name);
  record.id = manifest.config.digest;
  record.indexDigest = chosen.indexDigest;
  record.manifestDigest = chosen.digest;
  record.manifestMediaType = manifest.mediaType.value_or(chosen.mediaType);
  record.config = manifest.config;
  record.layers = manifest.layers;
  record.diffIds = config.rootfs.diff_ids;
  record.size = manifest.config.size;
  std::string parent;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    record.size += manifest.layers[i].size;
    parent = chainId(parent, record.diffIds[i]);
    record.chainIds.push_back(parent);
  }
  record.created = nowRfc3339();
  return record;
}

Result<bool> unpackImageLayer(const ContentStore& content, Snapshotter& snapshots,
                              const ImageRecord& record, size_t i, const UnpackOptions& options) {
  const std::string& chain = record.chainIds[i];
  if (snapshots.has(chain)) return false;
  auto fd = BERTH_TRY(content.openBlob(record.layers[i].digest));
  BERTH_TRY(snapshots.unpack({chain, record.diffIds[i], i == 0 ? "" : record.chainIds[i - 1]},
                             fd.get(), options));
  return true;
}

}  // namespace berth::images
