#include "shim/image_service.h"

#include "shim/unimplemented.h"

namespace berth::cri {

BERTH_CRI_UNIMPLEMENTED_UNARY(ImageService, ListImages, ListImagesRequest, ListImagesResponse)
BERTH_CRI_UNIMPLEMENTED_STREAM(ImageService, StreamImages, StreamImagesRequest,
                               StreamImagesResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(ImageService, ImageStatus, ImageStatusRequest, ImageStatusResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(ImageService, PullImage, PullImageRequest, PullImageResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(ImageService, RemoveImage, RemoveImageRequest, RemoveImageResponse)
BERTH_CRI_UNIMPLEMENTED_UNARY(ImageService, ImageFsInfo, ImageFsInfoRequest, ImageFsInfoResponse)

}  // namespace berth::cri
