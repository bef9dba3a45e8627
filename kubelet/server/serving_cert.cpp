#include "kubelet/server/serving_cert.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>

#include "common/file_util.h"

namespace berth::kubelet::server {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

std::string bioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Status addExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || !X509_add_ext(cert, ext.get(), -1))
    return fail(Code::kInternal, "certificate extension {:?}", value);
  return {};
}

Result<std::pair<std::string, std::string>> generate(const std::string& hostName,
                                                     const std::vector<std::string>& ips) {
  PkeyPtr key(EVP_RSA_gen(2048));
  if (!key) return fail(Code::kInternal, "generate RSA key");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  // Upstream's subject: "<host>-ca@<unix time>" for its CA and "<host>@<unix time>".
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string cn = fmt::format("{}@{}", hostName, now);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san = "DNS:" + hostName;
  for (const auto& ip : ips)
    san += ",IP:" + ip;
  BERTH_TRY(addExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  BERTH_TRY(addExtension(cert.get(), NID_key_usage,
                         "critical,digitalSignature,keyEncipherment,keyCertSign"));
  BERTH_TRY(addExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  BERTH_TRY(addExtension(cert.get(), NID_subject_alt_name, san));
  if (!X509_sign(cert.get(), key.get(), EVP_sha256()))
    return fail(Code::kInternal, "sign certificate");
  BioPtr certBio(BIO_new(BIO_s_mem())), keyBio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(certBio.get(), cert.get()) ||
      !PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr))
    return fail(Code::kInternal, "encode certificate");
  return std::pair{bioString(certBio.get()), bioString(keyBio.get())};
}

}  // namespace

Result<CertKeyPaths> ensureSelfSignedCert(const std::filesystem::path& certDir,
                                          const std::string& hostName,
                                          const std::vector<std::string>& ips) {
  CertKeyPaths paths{certDir / "kubelet.crt", certDir / "kubelet.key"};
  std::error_code ec;
  if (std::filesystem::exists(paths.certFile, ec) && std::filesystem::exists(paths.keyFile, ec))
    return paths;
  auto [certPem, keyPem] = BERTH_TRY_CTX(generate(hostName, ips), "self-signed kubelet cert");
  BERTH_TRY(makeDirs(certDir, 0755));
  // The key first: a certificate on disk always has its key.
  BERTH_TRY(writeFileAtomic(paths.keyFile, keyPem, 0600));
  BERTH_TRY(writeFileAtomic(paths.certFile, certPem, 0644));
  return paths;
}

}  // namespace berth::kubelet::server
