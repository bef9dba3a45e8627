#pragma once
// The PKI building blocks (keys, certificates, CSRs, OpenSSL glue, base64url) live in
// common/crypto, since the kubelet's TLS bootstrap needs them too; the auth code names them as
// its own.
#include "common/crypto/base64url.h"
#include "common/crypto/certificate.h"
#include "common/crypto/certificate_request.h"
#include "common/crypto/key_pair.h"
#include "common/crypto/openssl_util.h"

namespace berth::controlplane::auth {

using crypto::base64UrlDecode;
using crypto::base64UrlEncode;
using crypto::Certificate;
using crypto::CertificateRequest;
using crypto::CertificateRequestSubject;
using crypto::CertificateTemplate;
using crypto::KeyAlgorithm;
using crypto::KeyPair;
using crypto::PublicKey;
using crypto::signCertificate;
namespace ossl = crypto::ossl;

}  // namespace berth::controlplane::auth
