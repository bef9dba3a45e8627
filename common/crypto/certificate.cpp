#include "common/crypto/certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <map>

#include <fmt/ranges.h>

#include "common/crypto/openssl_util.h"

namespace berth::crypto {

namespace {

std::vector<std::string> subjectAltNames(X509* cert, int type) {
  ossl::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  return ossl::generalNames(names.get(), type);
}

// certificates.k8s.io KeyUsage -> the OpenSSL extension value, split between keyUsage and
// extendedKeyUsage (the signer's keyUsageDict / extKeyUsageDict).
struct UsageName {
  const char* openssl;
  bool extended;
};
const std::map<std::string, UsageName, std::less<>>& usageNames() {
  static const std::map<std::string, UsageName, std::less<>> names = {
      {"signing", {"digitalSignature", false}},
      {"digital signature", {"digitalSignature", false}},
      {"content commitment", {"nonRepudiation", false}},
      {"key encipherment", {"keyEncipherment", false}},
      {"key agreement", {"keyAgreement", false}},
      {"data encipherment", {"dataEncipherment", false}},
      {"cert sign", {"keyCertSign", false}},
      {"crl sign", {"cRLSign", false}},
      {"encipher only", {"encipherOnly", false}},
      {"decipher only", {"decipherOnly", false}},
      {"any", {"anyExtendedKeyUsage", true}},
      {"server auth", {"serverAuth", true}},
      {"client auth", {"clientAuth", true}},
      {"code signing", {"codeSigning", true}},
      {"email protection", {"emailProtection", true}},
      {"s/mime", {"emailProtection", true}},
      {"ipsec end system", {"ipsecEndSystem", true}},
      {"ipsec tunnel", {"ipsecTunnel", true}},
      {"ipsec user", {"ipsecUser", true}},
      {"timestamping", {"timeStamping", true}},
      {"ocsp signing", {"OCSPSigning", true}},
      {"microsoft sgc", {"msSGC", true}},
      {"netscape sgc", {"nsSGC", true}},
  };
  return names;
}

Status addExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ossl::X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return ossl::failSsl(fmt::format("add certificate extension {}={}", OBJ_nid2sn(nid), value));
  }
  return {};
}

Status addUsages(X509* cert, X509V3_CTX* ctx, const std::vector<std::string>& usages, bool isCa) {
  std::string keyUsage = isCa ? "keyCertSign" : "";
  std::string extendedUsage;
  std::vector<std::string> unrecognized;
  for (const auto& usage : usages) {
    auto it = usageNames().find(usage);
    if (it == usageNames().end()) {
      unrecognized.push_back(fmt::format("\"{}\"", usage));
      continue;
    }
    std::string& list = it->second.extended ? extendedUsage : keyUsage;
    if (list.find(it->second.openssl) != std::string::npos) continue;
    if (!list.empty()) list += ",";
    list += it->second.openssl;
  }
  if (!unrecognized.empty()) {
    return fail(Code::kInvalidArgument, "unrecognized usage values: [{}]",
                fmt::join(unrecognized, " "));
  }
  if (!keyUsage.empty()) BERTH_TRY(addExtension(cert, ctx, NID_key_usage, "critical," + keyUsage));
  if (!extendedUsage.empty()) BERTH_TRY(addExtension(cert, ctx, NID_ext_key_usage, extendedUsage));
  return {};
}

Status addSubjectAltNames(X509* cert, const CertificateTemplate& tmpl) {
  auto names = BERTH_TRY(
      ossl::buildGeneralNames(tmpl.dnsNames, tmpl.ipAddresses, tmpl.emailAddresses, tmpl.uris));
  if (sk_GENERAL_NAME_num(names.get()) == 0) return {};
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return ossl::failSsl("add subjectAltName");
  }
  return {};
}

}  // namespace

Result<Certificate> Certificate::fromPem(std::string_view pem) {
  auto bio = ossl::memoryBio(pem);
  ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return fail(Code::kInvalidArgument, "no valid CERTIFICATE in PEM data");
  }
  return Certificate(ossl::shareX509(std::move(cert)));
}

Result<Certificate> Certificate::fromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return fail(Code::kInvalidArgument, ossl::errorMessage("parse certificate"));
  return Certificate(ossl::shareX509(std::move(cert)));
}

Result<std::string> Certificate::pem() const {
  auto bio = ossl::writableBio();
  if (PEM_write_bio_X509(bio.get(), cert_.get()) != 1) return ossl::failSsl("write certificate");
  return ossl::bioContents(bio.get());
}

Result<std::string> Certificate::der() const {
  return ossl::toDer<X509>(i2d_X509, cert_.get(), "certificate");
}

Result<std::string> Certificate::sha256Hex() const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert_.get(), EVP_sha256(), digest, &length) != 1) {
    return ossl::failSsl("hash certificate");
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i)
    hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string Certificate::commonName() const {
  auto names = ossl::nameEntries(X509_get_subject_name(cert_.get()), NID_commonName);
  return names.empty() ? std::string() : names.front();
}

std::vector<std::string> Certificate::organizations() const {
  return ossl::nameEntries(X509_get_subject_name(cert_.get()), NID_organizationName);
}

std::vector<std::string> Certificate::dnsNames() const {
  return subjectAltNames(cert_.get(), GEN_DNS);
}

std::vector<std::string> Certificate::ipAddresses() const {
  return subjectAltNames(cert_.get(), GEN_IPADD);
}

std::chrono::system_clock::time_point Certificate::notBefore() const {
  return ossl::toTimePoint(X509_get0_notBefore(cert_.get()))
      .value_or(std::chrono::system_clock::time_point::max());
}

std::chrono::system_clock::time_point Certificate::notAfter() const {
  return ossl::toTimePoint(X509_get0_notAfter(cert_.get()))
      .value_or(std::chrono::system_clock::time_point::min());
}

bool Certificate::isCa() const {
  return (X509_get_extension_flags(cert_.get()) & EXFLAG_CA) != 0;
}

bool Certificate::allowsExtendedUsage(std::string_view usage) const {
  if ((X509_get_extension_flags(cert_.get()) & EXFLAG_XKUSAGE) == 0) return true;
  const uint32_t flags = X509_get_extended_key_usage(cert_.get());
  if (flags & XKU_ANYEKU) return true;
  if (usage == "client auth") return (flags & XKU_SSL_CLIENT) != 0;
  if (usage == "server auth") return (flags & XKU_SSL_SERVER) != 0;
  return false;
}

bool Certificate::issuedBy(const Certificate& issuer) const {
  bool ok = X509_check_issued(issuer.get(), cert_.get()) == X509_V_OK &&
            X509_verify(cert_.get(), X509_get0_pubkey(issuer.get())) == 1;
  ERR_clear_error();
  return ok;
}

bool Certificate::matchesKey(const KeyPair& key) const {
  bool ok = X509_check_private_key(cert_.get(), key.get()) == 1;
  ERR_clear_error();
  return ok;
}

PublicKey Certificate::publicKey() const {
  EVP_PKEY* key = X509_get0_pubkey(cert_.get());
  EVP_PKEY_up_ref(key);
  return PublicKey(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

Result<Certificate> signCertificate(const CertificateTemplate& tmpl, const PublicKey& subjectKey,
                                    const Certificate* issuer, const KeyPair& issuerKey,
                                    const X509_NAME* subjectName) {
  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return ossl::failSsl("new certificate");
  }
  // A random positive 127-bit serial, unique in practice as client-go's certificates are.
  ossl::BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return ossl::failSsl("certificate serial number");
  }
  BERTH_TRY(ossl::setTime(X509_getm_notBefore(cert.get()), tmpl.notBefore));
  BERTH_TRY(ossl::setTime(X509_getm_notAfter(cert.get()), tmpl.notAfter));
  if (subjectName != nullptr) {
    if (X509_set_subject_name(cert.get(), subjectName) != 1) return ossl::failSsl("subject");
  } else {
    auto name = BERTH_TRY(ossl::buildName(tmpl.commonName, tmpl.organizations));
    if (X509_set_subject_name(cert.get(), name.get()) != 1) return ossl::failSsl("subject");
  }
  const X509_NAME* issuerName =
      issuer != nullptr ? X509_get_subject_name(issuer->get()) : X509_get_subject_name(cert.get());
  if (X509_set_issuer_name(cert.get(), issuerName) != 1 ||
      X509_set_pubkey(cert.get(), subjectKey.get()) != 1) {
    return ossl::failSsl("certificate issuer and key");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->get() : cert.get(), cert.get(), nullptr, nullptr,
                 0);
  BERTH_TRY(addExtension(cert.get(), &ctx, NID_basic_constraints,
                         tmpl.isCa ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  BERTH_TRY(addUsages(cert.get(), &ctx, tmpl.usages, tmpl.isCa));
  BERTH_TRY(addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    BERTH_TRY(addExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  }
  BERTH_TRY(addSubjectAltNames(cert.get(), tmpl));

  if (X509_sign(cert.get(), issuerKey.get(), EVP_sha256()) == 0) {
    return ossl::failSsl("sign certificate");
  }
  return Certificate(ossl::shareX509(std::move(cert)));
}

}  // namespace berth::crypto
