#include "common/http/tls_context.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/stat.h>

#include <array>
#include <memory>
#include <mutex>
#include <string_view>

#include "common/http/ssl_error.h"

namespace berth::http {
namespace {

// ALPN protocols in our order of preference.
constexpr std::string_view kH2 = "h2";
constexpr std::string_view kHttp11 = "http/1.1";

// The client's list is length-prefixed names (RFC 7301 3.1); the server's preference wins.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* in,
               unsigned int inLength, void* arg) {
  bool offerHttp2 = arg != nullptr;
  std::array<std::string_view, 2> ours = {kH2, kHttp11};
  for (std::string_view want : ours) {
    if (want == kH2 && !offerHttp2) continue;
    for (unsigned int i = 0; i < inLength;) {
      unsigned int n = in[i];
      if (i + 1 + n > inLength) break;
      if (std::string_view(reinterpret_cast<const char*>(in + i + 1), n) == want) {
        *out = in + i + 1;
        *outLength = static_cast<unsigned char>(n);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + n;
    }
  }
  // Nothing in common: carry on without ALPN (HTTP/1.1), as lenient clients expect.
  return SSL_TLSEXT_ERR_NOACK;
}

std::string entryText(X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

// A certificate chain and key read from files again whenever either file changes (its
// resolved inode, size or mtime: a rotation swaps a symlink to a new file), handed to each new
// connection from the context's certificate callback.
class ReloadingCertificate {
 public:
  ReloadingCertificate(std::string certFile, std::string keyFile)
      : certFile_(std::move(certFile)), keyFile_(std::move(keyFile)) {}

  // SSL_CTX_set_cert_cb: 1 with the pair set on `ssl`, 0 (the handshake fails) without one.
  static int select(SSL* ssl, void* arg) {
    return static_cast<ReloadingCertificate*>(arg)->apply(ssl) ? 1 : 0;
  }

 private:
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator==(const FileId& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
  using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  struct ChainFree {
    void operator()(STACK_OF(X509) * chain) const { sk_X509_pop_free(chain, X509_free); }
  };
  using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

  static std::optional<FileId> fileId(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return FileId{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
  }

  bool apply(SSL* ssl) {
    std::lock_guard lock(mu_);
    auto certId = fileId(certFile_);
    auto keyId = fileId(keyFile_);
    if (!certId || !keyId) return false;
    if (!loaded_ || !(*certId == certId_) || !(*keyId == keyId_)) {
      if (!load()) return false;
      certId_ = *certId;
      keyId_ = *keyId;
    }
    return SSL_use_cert_and_key(ssl, cert_.get(), key_.get(), chain_.get(), 1) == 1;
  }

  // The leaf, the certificates after it and the first private key; nothing changes on failure
  // (a file caught half-written keeps the previous pair until it is whole).
  bool load() {
    BIO* certBio = BIO_new_file(certFile_.c_str(), "r");
    if (certBio == nullptr) return false;
    X509Ptr cert(PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr), X509_free);
    ChainPtr chain(sk_X509_new_null());
    while (X509* extra = PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr))
      sk_X509_push(chain.get(), extra);
    BIO_free(certBio);
    BIO* keyBio = BIO_new_file(keyFile_.c_str(), "r");
    if (keyBio == nullptr) return false;
    PkeyPtr key(PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr), EVP_PKEY_free);
    BIO_free(keyBio);
    ERR_clear_error();  // the end of the PEM data is an "error" too
    if (!cert || !key || X509_check_private_key(cert.get(), key.get()) != 1) {
      ERR_clear_error();
      return false;
    }
    cert_ = std::move(cert);
    key_ = std::move(key);
    chain_ = std::move(chain);
    loaded_ = true;
    return true;
  }

  const std::string certFile_;
  const std::string keyFile_;
  std::mutex mu_;
  bool loaded_ = false;
  FileId certId_;
  FileId keyId_;
  X509Ptr cert_{nullptr, X509_free};
  PkeyPtr key_{nullptr, EVP_PKEY_free};
  ChainPtr chain_;
};

// The context owns its ReloadingCertificate through ex_data, freed with the context.
int reloaderIndex() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* p, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<ReloadingCertificate*>(p);
      });
  return index;
}

}  // namespace

std::string sslErrorText() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Result<std::unique_ptr<net::ssl::context>> makeTlsContext(const TlsServerConfig& config,
                                                          bool offerHttp2) {
  std::unique_ptr<net::ssl::context> ctx;
  try {
    ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  } catch (const std::exception& e) {
    return fail(Code::kInternal, "tls context: {}", e.what());
  }
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (config.reloadCertificate) {
    auto* reloader = new ReloadingCertificate(config.certFile, config.keyFile);
    SSL_CTX_set_ex_data(native, reloaderIndex(), reloader);
    SSL_CTX_set_cert_cb(native, &ReloadingCertificate::select, reloader);
  } else {
    if (SSL_CTX_use_certificate_chain_file(native, config.certFile.c_str()) != 1)
      return fail(Code::kInvalidArgument, "tls certificate {}: {}", config.certFile,
                  sslErrorText());
    if (SSL_CTX_use_PrivateKey_file(native, config.keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
      return fail(Code::kInvalidArgument, "tls key {}: {}", config.keyFile, sslErrorText());
    if (SSL_CTX_check_private_key(native) != 1)
      return fail(Code::kInvalidArgument, "tls key {} does not match certificate {}",
                  config.keyFile, config.certFile);
  }
  if (!config.clientCaFile.empty()) {
    if (SSL_CTX_load_verify_locations(native, config.clientCaFile.c_str(), nullptr) != 1)
      return fail(Code::kInvalidArgument, "tls client CA {}: {}", config.clientCaFile,
                  sslErrorText());
    // The CA names go in the CertificateRequest, so clients pick a certificate that chains.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.clientCaFile.c_str());
    if (names == nullptr)
      return fail(Code::kInvalidArgument, "tls client CA {}: no certificate", config.clientCaFile);
    SSL_CTX_set_client_CA_list(native, names);
    // Without SSL_VERIFY_FAIL_IF_NO_PEER_CERT: a client without a certificate gets through.
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
    // A client certificate must be allowed for client authentication (extKeyUsage clientAuth
    // when it has an extKeyUsage), as Go's verifier checks ExtKeyUsageClientAuth.
    SSL_CTX_set_purpose(native, X509_PURPOSE_SSL_CLIENT);
  }
  SSL_CTX_set_alpn_select_cb(
      native, selectAlpn, offerHttp2 && config.enableHttp2 ? static_cast<void*>(native) : nullptr);
  return ctx;
}

std::optional<PeerCertificate> peerCertificate(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  PeerCertificate peer;
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    // Go's pkix.Name keeps the last CN and every O in order; the apiserver's user and groups.
    if (nid == NID_commonName) peer.commonName = entryText(entry);
    if (nid == NID_organizationName) peer.organizations.push_back(entryText(entry));
  }
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (PEM_write_bio_X509(bio, cert) == 1) {
      char* data = nullptr;
      long n = BIO_get_mem_data(bio, &data);
      if (n > 0) peer.pem.assign(data, static_cast<std::size_t>(n));
    }
    BIO_free(bio);
  }
  X509_free(cert);
  return peer;
}

std::string closeNotify(SSL* ssl) {
  BIO* memory = BIO_new(BIO_s_mem());
  if (memory == nullptr) return {};
  // Asio's engine owns the write BIO (one end of a BIO pair): keep a reference while the alert
  // goes to a memory BIO instead, then put it back.
  BIO* engine = SSL_get_wbio(ssl);
  BIO_up_ref(engine);
  SSL_set0_wbio(ssl, memory);
  SSL_shutdown(ssl);
  std::string out;
  char* data = nullptr;
  long n = BIO_get_mem_data(memory, &data);
  if (n > 0) out.assign(data, static_cast<std::size_t>(n));
  SSL_set0_wbio(ssl, engine);  // frees the memory BIO
  ERR_clear_error();
  return out;
}

std::string alpnProtocol(SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(ssl, &data, &n);
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), n);
}

}  // namespace berth::http
