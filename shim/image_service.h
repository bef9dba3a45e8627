#pragma once
// runtime.v1.ImageService. Every RPC answers UNIMPLEMENTED naming itself until the images library
// (issue 5) is wired in.

#include "shim/runtime_service.h"

namespace berth::cri {

class ImageService final : public v1::ImageService::Service {
 public:
  BERTH_CRI_DECLARE_UNARY(ListImages, ListImagesRequest, ListImagesResponse);
  BERTH_CRI_DECLARE_STREAM(StreamImages, StreamImagesRequest, StreamImagesResponse);
  BERTH_CRI_DECLARE_UNARY(ImageStatus, ImageStatusRequest, ImageStatusResponse);
  BERTH_CRI_DECLARE_UNARY(PullImage, PullImageRequest, PullImageResponse);
  BERTH_CRI_DECLARE_UNARY(RemoveImage, RemoveImageRequest, RemoveImageResponse);
  BERTH_CRI_DECLARE_UNARY(ImageFsInfo, ImageFsInfoRequest, ImageFsInfoResponse);
};

}  // namespace berth::cri
