#include "common/crypto/certificate_request.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/crypto/openssl_util.h"

namespace berth::crypto {

namespace {

struct ExtensionsDeleter {
  void operator()(STACK_OF(X509_EXTENSION) * extensions) const {
    sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
  }
};

std::vector<std::string> requestAltNames(X509_REQ* request, int type) {
  std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionsDeleter> extensions(
      X509_REQ_get_extensions(request));
  if (!extensions) return {};
  ossl::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509V3_get_d2i(extensions.get(), NID_subject_alt_name, nullptr, nullptr)));
  return ossl::generalNames(names.get(), type);
}

}  // namespace

Result<CertificateRequest> CertificateRequest::fromPem(std::string_view pem) {
  auto bio = ossl::memoryBio(pem);
  ossl::X509ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!request) {
    ERR_clear_error();
    return fail(Code::kInvalidArgument, "PEM block type must be CERTIFICATE REQUEST");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(request.get());
  if (key == nullptr || X509_REQ_verify(request.get(), key) != 1) {
    return fail(Code::kInvalidArgument,
                ossl::errorMessage("certificate request signature does not verify"));
  }
  return CertificateRequest(std::shared_ptr<X509_REQ>(request.release(), X509_REQ_free));
}

Result<CertificateRequest> CertificateRequest::create(const KeyPair& key,
                                                      const CertificateRequestSubject& subject) {
  ossl::X509ReqPtr request(X509_REQ_new());
  if (!request || X509_REQ_set_version(request.get(), X509_REQ_VERSION_1) != 1) {
    return ossl::failSsl("new certificate request");
  }
  auto name = BERTH_TRY(ossl::buildName(subject.commonName, subject.organizations));
  if (X509_REQ_set_subject_name(request.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(request.get(), key.get()) != 1) {
    return ossl::failSsl("certificate request subject");
  }
  auto names = BERTH_TRY(ossl::buildGeneralNames(subject.dnsNames, subject.ipAddresses, {}, {}));
  if (sk_GENERAL_NAME_num(names.get()) > 0) {
    std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionsDeleter> extensions(
        sk_X509_EXTENSION_new_null());
    X509_EXTENSION* san = X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get());
    if (san == nullptr || sk_X509_EXTENSION_push(extensions.get(), san) == 0 ||
        X509_REQ_add_extensions(request.get(), extensions.get()) != 1) {
      return ossl::failSsl("certificate request subjectAltName");
    }
  }
  if (X509_REQ_sign(request.get(), key.get(), EVP_sha256()) == 0) {
    return ossl::failSsl("sign certificate request");
  }
  return CertificateRequest(std::shared_ptr<X509_REQ>(request.release(), X509_REQ_free));
}

Result<std::string> CertificateRequest::pem() const {
  auto bio = ossl::writableBio();
  if (PEM_write_bio_X509_REQ(bio.get(), request_.get()) != 1) {
    return ossl::failSsl("write certificate request");
  }
  return ossl::bioContents(bio.get());
}

std::string CertificateRequest::commonName() const {
  auto names = ossl::nameEntries(X509_REQ_get_subject_name(request_.get()), NID_commonName);
  return names.empty() ? std::string() : names.front();
}

std::vector<std::string> CertificateRequest::organizations() const {
  return ossl::nameEntries(X509_REQ_get_subject_name(request_.get()), NID_organizationName);
}

std::vector<std::string> CertificateRequest::dnsNames() const {
  return requestAltNames(request_.get(), GEN_DNS);
}
std::vector<std::string> CertificateRequest::ipAddresses() const {
  return requestAltNames(request_.get(), GEN_IPADD);
}
std::vector<std::string> CertificateRequest::emailAddresses() const {
  return requestAltNames(request_.get(), GEN_EMAIL);
}
std::vector<std::string> CertificateRequest::uris() const {
  return requestAltNames(request_.get(), GEN_URI);
}

PublicKey CertificateRequest::publicKey() const {
  EVP_PKEY* key = X509_REQ_get0_pubkey(request_.get());
  EVP_PKEY_up_ref(key);
  return PublicKey(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

}  // namespace berth::crypto
