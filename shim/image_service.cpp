#include "shim/image_service.h"

#include <time.h>

#include <map>

#include "images/content_store.h"
#include "images/gc.h"
#include "images/image_config.h"
#include "images/image_store.h"
#include "images/puller.h"
#include "images/reference.h"
#include "images/registry_config.h"
#include "shim/grpc_status.h"
#include "shim/stream_pages.h"

namespace berth::cri {
namespace {

// What an ImageSpec.image names, as the store keys it: a reference normalised as docker does
// (busybox → docker.io/library/busybox:latest), or an image id or id prefix as given.
std::string storeKey(const std::string& image) {
  if (image.rfind("sha256:", 0) == 0) return image;
  auto ref = images::Reference::parse(image);
  return ref ? ref->string() : image;
}

// The records of the image `image` names (every name of it, so that repo_tags are complete);
// empty when there is none.
Result<std::vector<images::ImageRecord>> recordsOf(const images::ImageStore& store,
                                                   const std::string& image) {
  auto found = store.resolve(storeKey(image));
  if (!found) {
    if (found.error().code() == Code::kNotFound) return std::vector<images::ImageRecord>{};
    return std::unexpected(found.error());
  }
  if (found->empty()) return std::vector<images::ImageRecord>{};
  std::string id = found->front().id;
  std::vector<images::ImageRecord> all = BERTH_TRY(store.list());
  std::erase_if(all, [&](const images::ImageRecord& r) { return r.id != id; });
  return all;
}

// One CRI Image from the records of one image id.
Status fillImage(const CriConfig& config, const std::vector<images::ImageRecord>& records,
                 v1::Image* image) {
  const images::ImageRecord& first = records.front();
  image->set_id(first.id);
  image->set_size(static_cast<std::uint64_t>(first.size));
  image->mutable_spec()->set_image(first.id);
  std::set<std::string> tags, digests;
  for (const auto& r : records) {
    if (r.name.find('@') == std::string::npos) tags.insert(r.name);
    digests.insert(r.repoDigest());
  }
  for (const auto& t : tags)
    image->add_repo_tags(t);
  for (const auto& d : digests)
    image->add_repo_digests(d);
  images::ContentStore content = BERTH_TRY(images::ContentStore::open(config.imageRoot));
  ocispec::ImageConfig imageConfig = BERTH_TRY(images::loadImageConfig(content, first));
  std::string user = imageConfig.config ? imageConfig.config->User.value_or("") : "";
  images::ImageUser u = images::imageUser(user);
  if (u.uid)
    image->mutable_uid()->set_value(*u.uid);
  else
    image->set_username(u.username);
  return {};
}

Result<images::ImageStore> openStore(const CriConfig& config) {
  return withContext(images::ImageStore::open(config.imageRoot),
                     fmt::format("image store {}", config.imageRoot.string()));
}

// The store and the records of the image a request's ImageSpec names (none when it is absent).
struct Lookup {
  images::ImageStore store;
  std::vector<images::ImageRecord> records;
};
Result<Lookup> lookUp(const CriConfig& config, const v1::ImageSpec& spec) {
  if (spec.image().empty()) return fail(Code::kInvalidArgument, "image: empty image name");
  images::ImageStore store = BERTH_TRY(openStore(config));
  auto records = BERTH_TRY(recordsOf(store, spec.image()));
  return Lookup{std::move(store), std::move(records)};
}

}  // namespace

grpc::Status ImageService::ListImages(grpc::ServerContext*, const v1::ListImagesRequest* request,
                                      v1::ListImagesResponse* response) {
  auto store = openStore(config_);
  if (!store) return toGrpcStatus(store.error());
  std::vector<images::ImageRecord> records;
  if (request->has_filter() && !request->filter().image().image().empty()) {
    auto found = recordsOf(*store, request->filter().image().image());
    if (!found) return toGrpcStatus(found.error());
    records = std::move(*found);
  } else {
    auto all = store->list();
    if (!all) return toGrpcStatus(all.error());
    records = std::move(*all);
  }
  std::map<std::string, std::vector<images::ImageRecord>> byId;
  for (auto& r : records)
    byId[r.id].push_back(std::move(r));
  for (const auto& [id, group] : byId) {
    Status filled = fillImage(config_, group, response->add_images());
    if (!filled) return toGrpcStatus(filled.error().context(fmt::format("image {}", id)));
  }
  return grpc::Status::OK;
}

grpc::Status ImageService::StreamImages(grpc::ServerContext* context,
                                        const v1::StreamImagesRequest* request,
                                        grpc::ServerWriter<v1::StreamImagesResponse>* writer) {
  v1::ListImagesRequest listRequest;
  if (request->has_filter()) *listRequest.mutable_filter() = request->filter();
  v1::ListImagesResponse list;
  grpc::Status st = ListImages(context, &listRequest, &list);
  if (!st.ok()) return st;
  return writePages(*list.mutable_images(), writer, [](auto& r) { return r.mutable_images(); });
}

grpc::Status ImageService::ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest* request,
                                       v1::ImageStatusResponse* response) {
  auto found = lookUp(config_, request->image());
  if (!found) return toGrpcStatus(found.error());
  const auto* records = &found->records;
  // CRI: an image that isn't present is a response without an image, not an error.
  if (records->empty()) return grpc::Status::OK;
  Status filled = fillImage(config_, *records, response->mutable_image());
  if (!filled) return toGrpcStatus(filled.error());
  if (request->verbose()) {
    auto content = images::ContentStore::open(config_.imageRoot);
    if (!content) return toGrpcStatus(content.error());
    auto imageConfig = images::loadImageConfig(*content, records->front());
    if (!imageConfig) return toGrpcStatus(imageConfig.error());
    nlohmann::ordered_json info = {{"imageSpec", ocispec::toJson(*imageConfig)},
                                   {"chainIds", records->front().chainIds}};
    (*response->mutable_info())["info"] = info.dump();
  }
  return grpc::Status::OK;
}

grpc::Status ImageService::PullImage(grpc::ServerContext*, const v1::PullImageRequest* request,
                                     v1::PullImageResponse* response) {
  const std::string& name = request->image().image();
  if (name.empty()) return toGrpcStatus(Error(Code::kInvalidArgument, "image: empty image name"));
  auto registries = images::RegistryConfig::load(config_.registryConfig);
  if (!registries) return toGrpcStatus(registries.error());
  images::PullOptions options;
  if (request->has_auth()) {
    const v1::AuthConfig& a = request->auth();
    images::RegistryAuth auth{a.username(), a.password(), a.identity_token(), a.registry_token()};
    if (!a.auth().empty() && auth.username.empty()) {
      // AuthConfig.auth is base64("user:password"), as in a docker config.json.
      auto decoded = images::decodeBasicAuth(a.auth());
      if (!decoded) return toGrpcStatus(decoded.error().context("auth"));
      auth.username = decoded->first;
      auth.password = decoded->second;
    }
    options.auth = std::move(auth);
  }
  images::Puller puller(config_.imageRoot, std::move(*registries));
  auto record = puller.pull(name, options);
  // The puller's message names the reference, each registry endpoint tried and its cause.
  if (!record) return pullImageStatus(record.error());
  response->set_image_ref(record->id);
  return grpc::Status::OK;
}

grpc::Status ImageService::RemoveImage(grpc::ServerContext*, const v1::RemoveImageRequest* request,
                                       v1::RemoveImageResponse*) {
  auto found = lookUp(config_, request->image());
  if (!found) return toGrpcStatus(found.error());
  // CRI: RemoveImage is idempotent; an image already gone is success. By name or by id, every
  // name of the image goes, as containerd removes the image and its references.
  for (const auto& r : found->records) {
    auto removed = found->store.remove(r.name);
    if (!removed && removed.error().code() != Code::kNotFound) return toGrpcStatus(removed.error());
  }
  return grpc::Status::OK;
}

grpc::Status ImageService::ImageFsInfo(grpc::ServerContext*, const v1::ImageFsInfoRequest*,
                                       v1::ImageFsInfoResponse* response) {
  // Opening the store makes its root on a node that has pulled nothing yet.
  auto store = openStore(config_);
  if (!store) return toGrpcStatus(store.error());
  auto usage = images::diskUsage(config_.imageRoot);
  if (!usage) return toGrpcStatus(usage.error());
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  auto* fs = response->add_image_filesystems();
  fs->set_timestamp(static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec);
  fs->mutable_fs_id()->set_mountpoint(config_.imageRoot.string());
  fs->mutable_used_bytes()->set_value(usage->bytes);
  fs->mutable_inodes_used()->set_value(usage->inodes);
  return grpc::Status::OK;
}

}  // namespace berth::cri
