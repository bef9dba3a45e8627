#include "images/image_config.h"

#include <charconv>

namespace berth::images {

Result<ocispec::ImageConfig> loadImageConfig(const ContentStore& content,
                                             const ImageRecord& record) {
  auto text = BERTH_TRY_CTX(content.read(record.config.digest), "image " + record.name);
  return withContext(ocispec::parseImageConfig(text), "config " + record.config.digest);
}

ImageUser imageUser(std::string_view user) {
  ImageUser out;
  std::string_view name = user.substr(0, user.find(':'));
  if (name.empty()) return out;
  int64_t uid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), uid);
  if (ec == std::errc() && end == name.data() + name.size() && uid >= 0) {
    out.uid = uid;
  } else {
    out.username = std::string(name);
  }
  return out;
}

}  // namespace berth::images
