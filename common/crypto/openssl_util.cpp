#include "common/crypto/openssl_util.h"

#include <arpa/inet.h>
#include <openssl/err.h>

namespace berth::crypto::ossl {

std::string errorMessage(std::string_view what) {
  std::string message(what);
  bool first = true;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    message += first ? ": " : "; ";
    message += buffer;
    first = false;
  }
  return message;
}

std::unexpected<Error> failSsl(std::string_view what) {
  return fail(Code::kInternal, errorMessage(what));
}

BioPtr memoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

BioPtr writableBio() {
  return BioPtr(BIO_new(BIO_s_mem()));
}

std::string bioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::shared_ptr<EVP_PKEY> sharePkey(PkeyPtr key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
}

std::shared_ptr<X509> shareX509(X509Ptr cert) {
  return std::shared_ptr<X509>(cert.release(), X509_free);
}

namespace {

std::string asn1Text(const ASN1_STRING* value) {
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

}  // namespace

std::vector<std::string> nameEntries(const X509_NAME* name, int nid) {
  std::vector<std::string> values;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    values.push_back(asn1Text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))));
  }
  return values;
}

Result<X509NamePtr> buildName(std::string_view commonName,
                              const std::vector<std::string>& organizations) {
  X509NamePtr name(X509_NAME_new());
  auto add = [&](const char* field, std::string_view value) {
    return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  for (const auto& organization : organizations) {
    if (!add("O", organization)) return failSsl("subject O");
  }
  if (!commonName.empty() && !add("CN", commonName)) return failSsl("subject CN");
  return name;
}

std::vector<std::string> generalNames(const GENERAL_NAMES* names, int type) {
  std::vector<std::string> values;
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != type) continue;
    if (type != GEN_IPADD) {
      values.push_back(asn1Text(name->d.ia5));
      continue;
    }
    const ASN1_OCTET_STRING* ip = name->d.iPAddress;
    char text[INET6_ADDRSTRLEN] = {};
    const int family = ip->length == 4 ? AF_INET : ip->length == 16 ? AF_INET6 : 0;
    if (family != 0 && inet_ntop(family, ip->data, text, sizeof text) != nullptr) {
      values.emplace_back(text);
    }
  }
  return values;
}

Result<GeneralNamesPtr> buildGeneralNames(const std::vector<std::string>& dnsNames,
                                          const std::vector<std::string>& ipAddresses,
                                          const std::vector<std::string>& emails,
                                          const std::vector<std::string>& uris) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  auto addText = [&](int type, const std::string& value) {
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    ASN1_STRING_set(text, value.data(), static_cast<int>(value.size()));
    GENERAL_NAME_set0_value(name, type, text);
    sk_GENERAL_NAME_push(names.get(), name);
  };
  for (const auto& dns : dnsNames)
    addText(GEN_DNS, dns);
  for (const auto& ip : ipAddresses) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr) {
      ERR_clear_error();
      return fail(Code::kInvalidArgument, "invalid IP address \"{}\"", ip);
    }
    GENERAL_NAME* name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, GEN_IPADD, octets);
    sk_GENERAL_NAME_push(names.get(), name);
  }
  for (const auto& email : emails)
    addText(GEN_EMAIL, email);
  for (const auto& uri : uris)
    addText(GEN_URI, uri);
  return names;
}

Result<std::chrono::system_clock::time_point> toTimePoint(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return failSsl("parse certificate time");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Status setTime(ASN1_TIME* time, std::chrono::system_clock::time_point tp) {
  if (ASN1_TIME_set(time, std::chrono::system_clock::to_time_t(tp)) == nullptr) {
    return failSsl("set certificate time");
  }
  return {};
}

}  // namespace berth::crypto::ossl
