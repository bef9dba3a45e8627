#pragma once
// What a pull and an import share once an image's manifest and config are in the content store:
// the checks that make it an image this node can run, the record it becomes, and its layers
// unpacked into chain-id snapshots (paths.h). The puller fetches layers in parallel and unpacks
// each as it arrives; the importer has them all already. Both end here.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "images/content_store.h"
#include "images/image_store.h"
#include "images/layer_unpacker.h"
#include "images/platform.h"
#include "images/snapshotter.h"
#include "ocispec/image_spec.h"

namespace berth::images {

struct ChosenManifest {
  std::string digest;
  std::string mediaType;  // from the document, else what it was served or listed as
  ocispec::Manifest manifest;
  std::optional<std::string> indexDigest;  // the index it was chosen from, if any
};

// The record `name` gets for `chosen`, whose config is `configText` (the blob of
// chosen.manifest.config). A manifest not chosen from an index must be for `platform` (kNotFound
// otherwise); the config needs one diff id per layer and every layer a media type the unpacker
// reads. `created` is now.
[[nodiscard]] Result<ImageRecord> buildImageRecord(std::string name, const ChosenManifest& chosen,
                                                   std::string_view configText,
                                                   const PlatformSpec& platform);

// Unpacks layer `i` of `record` (its blob in `content`) onto the snapshot of the layers below,
// unless its snapshot is there. True when it unpacked.
[[nodiscard]] Result<bool> unpackImageLayer(const ContentStore& content, Snapshotter& snapshots,
                                            const ImageRecord& record, size_t i,
                                            const UnpackOptions& options);

}  // namespace berth::images
