#pragma once
// runtime.v1.ImageService on the images/ library: pulls through images::Puller with the
// request's credentials and registries.yaml, lists and reports images from the ImageStore
// (records grouped by image id, the config digest), removes by name or id, reports the store's
// disk usage. StreamImages is not served yet.

#include "shim/cri_config.h"
#include "shim/runtime_service.h"

namespace berth::cri {

class ImageService final : public v1::ImageService::Service {
 public:
  // `config` must outlive the service.
  explicit ImageService(const CriConfig& config) : config_(config) {}

  BERTH_CRI_DECLARE_UNARY(ListImages, ListImagesRequest, ListImagesResponse);
  BERTH_CRI_DECLARE_STREAM(StreamImages, StreamImagesRequest, StreamImagesResponse);
  BERTH_CRI_DECLARE_UNARY(ImageStatus, ImageStatusRequest, ImageStatusResponse);
  BERTH_CRI_DECLARE_UNARY(PullImage, PullImageRequest, PullImageResponse);
  BERTH_CRI_DECLARE_UNARY(RemoveImage, RemoveImageRequest, RemoveImageResponse);
  BERTH_CRI_DECLARE_UNARY(ImageFsInfo, ImageFsInfoRequest, ImageFsInfoResponse);

 private:
  const CriConfig& config_;
};

}  // namespace berth::cri
