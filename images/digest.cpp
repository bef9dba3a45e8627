#include "images/digest.h"

#include <cstdlib>

#include "ocispec/image_spec.h"

namespace berth::images {

Result<std::string> sha256Hex(std::string_view digest) {
  BERTH_TRY(ocispec::validateDigest(digest));
  if (!digest.starts_with("sha256:")) {
    return fail(Code::kUnimplemented, "digest \"{}\": only sha256 is supported", digest);
  }
  return std::string(digest.substr(7));
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

void Sha256::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) std::abort();
}

std::string Sha256::digest() const {
  std::unique_ptr<EVP_MD_CTX, Deleter> copy(EVP_MD_CTX_new());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1 ||
      EVP_DigestFinal_ex(copy.get(), md, &len) != 1) {
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

std::string sha256Of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.digest();
}

std::string chainId(std::string_view parentChainId, std::string_view diffId) {
  if (parentChainId.empty()) return std::string(diffId);
  return sha256Of(fmt::format("{} {}", parentChainId, diffId));
}

}  // namespace berth::images
