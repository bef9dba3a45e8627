#pragma once
// OpenSSL 3 glue for the PKI and token code: one owner type per OpenSSL object, the error queue
// as a message, and PEM/DER conversions. Internal to berth_crypto.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::crypto::ossl {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter>;

// Drains OpenSSL's error queue into "<what>: <reason>[; <reason>...]"; "<what>" alone when the
// queue is empty.
std::string errorMessage(std::string_view what);
// fail(kInternal, errorMessage(what)) for OpenSSL calls that should not fail.
std::unexpected<Error> failSsl(std::string_view what);

// A read-only memory BIO over `data` (which must outlive it).
BioPtr memoryBio(std::string_view data);
// A writable memory BIO and its contents.
BioPtr writableBio();
std::string bioContents(BIO* bio);

// DER of an object through its i2d_* function ("encode <what>" on failure).
template <class T>
[[nodiscard]] Result<std::string> toDer(int (*i2d)(const T*, unsigned char**), const T* object,
                                        std::string_view what) {
  unsigned char* out = nullptr;
  const int length = i2d(object, &out);
  if (length <= 0) return failSsl(std::string("encode ") + std::string(what));
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(length));
  OPENSSL_free(out);
  return der;
}

// The shared (ref-counted) handle of an EVP_PKEY that classes keep.
std::shared_ptr<EVP_PKEY> sharePkey(PkeyPtr key);
std::shared_ptr<X509> shareX509(X509Ptr cert);

// X.509 names: the values of one attribute (NID_commonName, NID_organizationName) in order, and a
// subject built the way Go's pkix.Name orders it (O before CN).
std::vector<std::string> nameEntries(const X509_NAME* name, int nid);
[[nodiscard]] Result<X509NamePtr> buildName(std::string_view commonName,
                                            const std::vector<std::string>& organizations);

// subjectAltName entries of one GEN_* type as text (IP addresses in canonical form).
std::vector<std::string> generalNames(const GENERAL_NAMES* names, int type);
// A subjectAltName value; an invalid IP address is an error naming it.
[[nodiscard]] Result<GeneralNamesPtr> buildGeneralNames(const std::vector<std::string>& dnsNames,
                                                        const std::vector<std::string>& ipAddresses,
                                                        const std::vector<std::string>& emails,
                                                        const std::vector<std::string>& uris);

// ASN1_TIME <-> system_clock.
[[nodiscard]] Result<std::chrono::system_clock::time_point> toTimePoint(const ASN1_TIME* time);
[[nodiscard]] Status setTime(ASN1_TIME* time, std::chrono::system_clock::time_point tp);

}  // namespace berth::crypto::ossl
