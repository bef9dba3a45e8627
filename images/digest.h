#pragma once
// sha256 content digests ("sha256:<64 hex>"): the only algorithm the store keeps, as containerd
// (a descriptor with another algorithm is refused when it is fetched).

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::images {

// Validates a digest the store can hold and returns its hex part (a file name).
[[nodiscard]] Result<std::string> sha256Hex(std::string_view digest);

// A streaming sha256.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // "sha256:<hex>" of everything so far; the hasher can keep going afterwards.
  std::string digest() const;

 private:
  struct Deleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Deleter> ctx_;
};

std::string sha256Of(std::string_view data);

// image-spec config.md "Layer ChainID": ChainID(L0) = DiffID(L0),
// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
std::string chainId(std::string_view parentChainId, std::string_view diffId);

}  // namespace berth::images
