#include "common/crypto/key_pair.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <optional>

#include "common/crypto/base64url.h"
#include "common/crypto/openssl_util.h"

namespace berth::crypto {

namespace {

struct PemBlock {
  std::string name;
  std::string header;
  std::string data;
};

// The next PEM block of any type; nullopt at the end of the input.
std::optional<PemBlock> readPemBlock(BIO* bio) {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  if (PEM_read_bio(bio, &name, &header, &data, &length) != 1) {
    ERR_clear_error();  // PEM_R_NO_START_LINE at the end of the input
    return std::nullopt;
  }
  PemBlock block{name, header, std::string(reinterpret_cast<char*>(data), length)};
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return block;
}

// The key of one DER block by its PEM type; null for types that hold no key.
Result<ossl::PkeyPtr> keyFromBlock(const PemBlock& block) {
  if (!block.header.empty()) {
    return fail(Code::kInvalidArgument, "encrypted PEM block \"{}\" is not supported", block.name);
  }
  const auto* p = reinterpret_cast<const unsigned char*>(block.data.data());
  const long size = static_cast<long>(block.data.size());
  ossl::PkeyPtr key;
  if (block.name == "PUBLIC KEY") {
    key.reset(d2i_PUBKEY(nullptr, &p, size));
  } else if (block.name == "RSA PUBLIC KEY") {
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, size));
  } else if (block.name == "CERTIFICATE") {
    ossl::X509Ptr cert(d2i_X509(nullptr, &p, size));
    if (cert) key.reset(X509_get_pubkey(cert.get()));
  } else if (block.name == "RSA PRIVATE KEY" || block.name == "EC PRIVATE KEY" ||
             block.name == "PRIVATE KEY") {
    key.reset(d2i_AutoPrivateKey(nullptr, &p, size));
  } else {
    return ossl::PkeyPtr();
  }
  if (!key) {
    return fail(Code::kInvalidArgument,
                ossl::errorMessage(fmt::format("parse PEM block \"{}\"", block.name)));
  }
  return key;
}

bool isPrivateKeyBlock(const PemBlock& block) {
  return block.name == "RSA PRIVATE KEY" || block.name == "EC PRIVATE KEY" ||
         block.name == "PRIVATE KEY";
}

}  // namespace

Result<std::vector<PublicKey>> PublicKey::allFromPem(std::string_view pem) {
  auto bio = ossl::memoryBio(pem);
  std::vector<PublicKey> keys;
  while (auto block = readPemBlock(bio.get())) {
    auto key = BERTH_TRY(keyFromBlock(*block));
    if (key) keys.emplace_back(ossl::sharePkey(std::move(key)));
  }
  if (keys.empty()) return fail(Code::kInvalidArgument, "no public or private key in PEM data");
  return keys;
}

bool PublicKey::isRsa() const {
  return EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_RSA;
}

Result<std::string> PublicKey::der() const {
  return ossl::toDer<EVP_PKEY>(i2d_PUBKEY, key_.get(), "public key");
}

Result<std::string> PublicKey::pem() const {
  auto bio = ossl::writableBio();
  if (PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return ossl::failSsl("write public key");
  return ossl::bioContents(bio.get());
}

Result<std::string> PublicKey::keyId() const {
  std::string spki = BERTH_TRY(der());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(spki.data(), spki.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return ossl::failSsl("hash public key");
  }
  return base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), length));
}

bool PublicKey::verify(std::string_view data, std::string_view signature) const {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  ERR_clear_error();
  return ok;
}

Result<KeyPair> KeyPair::generate(KeyAlgorithm algorithm, int rsaBits) {
  ossl::PkeyPtr key(algorithm == KeyAlgorithm::kRsa
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsaBits))
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return ossl::failSsl("generate key");
  return KeyPair(ossl::sharePkey(std::move(key)));
}

Result<KeyPair> KeyPair::fromPem(std::string_view pem) {
  auto bio = ossl::memoryBio(pem);
  while (auto block = readPemBlock(bio.get())) {
    if (!isPrivateKeyBlock(*block)) continue;
    auto key = BERTH_TRY(keyFromBlock(*block));
    const int type = EVP_PKEY_get_base_id(key.get());
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
      return fail(Code::kInvalidArgument, "unsupported private key type (RSA or ECDSA only)");
    }
    return KeyPair(ossl::sharePkey(std::move(key)));
  }
  return fail(Code::kInvalidArgument, "no private key in PEM data");
}

KeyAlgorithm KeyPair::algorithm() const {
  return EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_RSA ? KeyAlgorithm::kRsa
                                                          : KeyAlgorithm::kEcdsaP256;
}

Result<std::string> KeyPair::privateKeyPem() const {
  auto bio = ossl::writableBio();
  if (PEM_write_bio_PrivateKey_traditional(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                           nullptr) != 1) {
    return ossl::failSsl("write private key");
  }
  return ossl::bioContents(bio.get());
}

Result<std::string> KeyPair::sign(std::string_view data) const {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return ossl::failSsl("sign");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return ossl::failSsl("sign");
  }
  signature.resize(length);
  return signature;
}

}  // namespace berth::crypto
