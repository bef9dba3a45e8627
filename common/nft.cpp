#include "common/nft.h"

#include <dlfcn.h>
#include <nftables/libnftables.h>

#include <string>

#include <fmt/format.h>

namespace berth {

namespace {

// libnftables is loaded on first use: a plugin run that needs no nftables (a bridge DEL, an ADD
// without ipMasq) doesn't pay for loading it and its five dependencies at every start.
struct Api {
  decltype(&nft_ctx_new) ctxNew = nullptr;
  decltype(&nft_ctx_free) ctxFree = nullptr;
  decltype(&nft_ctx_buffer_output) bufferOutput = nullptr;
  decltype(&nft_ctx_buffer_error) bufferError = nullptr;
  decltype(&nft_ctx_get_output_buffer) outputBuffer = nullptr;
  decltype(&nft_ctx_get_error_buffer) errorBuffer = nullptr;
  decltype(&nft_ctx_output_get_flags) getFlags = nullptr;
  decltype(&nft_ctx_output_set_flags) setFlags = nullptr;
  decltype(&nft_run_cmd_from_buffer) runCmd = nullptr;
};

Result<const Api*> api() {
  static Api a;
  static std::string error;
  static bool loaded = [] {
    void* lib = ::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = ::dlerror();
      error = e ? e : "dlopen failed";
      return false;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      if (fn == nullptr) error = std::string("missing symbol ") + name;
      return fn != nullptr;
    };
    return sym(a.ctxNew, "nft_ctx_new") && sym(a.ctxFree, "nft_ctx_free") &&
           sym(a.bufferOutput, "nft_ctx_buffer_output") &&
           sym(a.bufferError, "nft_ctx_buffer_error") &&
           sym(a.outputBuffer, "nft_ctx_get_output_buffer") &&
           sym(a.errorBuffer, "nft_ctx_get_error_buffer") &&
           sym(a.getFlags, "nft_ctx_output_get_flags") &&
           sym(a.setFlags, "nft_ctx_output_set_flags") && sym(a.runCmd, "nft_run_cmd_from_buffer");
  }();
  if (!loaded) return fail(Code::kUnavailable, "nftables: libnftables.so.1: {}", error);
  return &a;
}

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

}  // namespace

Status Nft::addElements(std::string_view, std::string_view, std::span<const NftElement>) {
  return fail(Code::kUnimplemented, "nftables: element calls are not implemented here");
}

Status Nft::deleteElements(std::string_view, std::string_view, std::span<const NftElement>) {
  return fail(Code::kUnimplemented, "nftables: element calls are not implemented here");
}

Result<bool> Nft::hasElement(std::string_view, std::string_view, const NftElement&) {
  return fail(Code::kUnimplemented, "nftables: element calls are not implemented here");
}

Result<std::unique_ptr<LibNftables>> LibNftables::create() {
  auto ns = BERTH_TRY(NetNs::current());
  auto writer = BERTH_TRY(nft::NftWriter::open());
  return std::unique_ptr<LibNftables>(new LibNftables(std::move(writer), std::move(ns)));
}

LibNftables::LibNftables(std::unique_ptr<nft::NftWriter> writer, NetNs ns)
    : writer_(std::move(writer)), ns_(std::move(ns)) {}

LibNftables::~LibNftables() {
  if (ctx_ != nullptr) {
    if (auto a = api(); a) (*a)->ctxFree(ctx_);
  }
}

Result<nft_ctx*> LibNftables::context() {
  if (ctx_ != nullptr) return ctx_;
  const Api* a = BERTH_TRY(api());
  // The context's socket belongs to the namespace this object was created in.
  auto ctx = inNetNs(ns_, [&]() -> Result<nft_ctx*> {
    nft_ctx* c = a->ctxNew(NFT_CTX_DEFAULT);
    if (c == nullptr) return fail(Code::kInternal, "nftables: cannot create a context");
    return c;
  });
  ctx_ = BERTH_TRY(std::move(ctx));
  a->bufferOutput(ctx_);
  a->bufferError(ctx_);
  return ctx_;
}

namespace {

Result<nft::Family> nfproto(std::string_view family) {
  if (family == "inet") return nft::Family::kInet;
  if (family == "ip") return nft::Family::kIp;
  if (family == "ip6") return nft::Family::kIp6;
  if (family == "bridge") return nft::Family::kBridge;
  return fail(Code::kInvalidArgument, "nftables: unknown family \"{}\"", family);
}

}  // namespace

Status LibNftables::addElements(std::string_view family, std::string_view table,
                                std::span<const NftElement> els) {
  nft::Family fam = BERTH_TRY(nfproto(family));
  return writer_->sendElements(true, fam, std::string(table), els);
}

Status LibNftables::deleteElements(std::string_view family, std::string_view table,
                                   std::span<const NftElement> els) {
  nft::Family fam = BERTH_TRY(nfproto(family));
  return writer_->sendElements(false, fam, std::string(table), els);
}

Result<bool> LibNftables::hasElement(std::string_view family, std::string_view table,
                                     const NftElement& element) {
  nft::Family fam = BERTH_TRY(nfproto(family));
  return writer_->hasElement(fam, std::string(table), element);
}

Status LibNftables::run(std::string_view batch) {
  const Api* a = BERTH_TRY(api());
  nft_ctx* ctx = BERTH_TRY(context());
  std::string text(batch);
  if (a->runCmd(ctx, text.c_str()) != 0) {
    std::string err = trimmed(a->errorBuffer(ctx));
    return fail(Code::kInternal, "nftables: {}", err.empty() ? "transaction failed" : err);
  }
  return {};
}

Result<std::string> LibNftables::listJson(std::string_view command) {
  const Api* a = BERTH_TRY(api());
  nft_ctx* ctx = BERTH_TRY(context());
  unsigned flags = a->getFlags(ctx);
  a->setFlags(ctx, flags | NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  std::string text(command);
  int rc = a->runCmd(ctx, text.c_str());
  a->setFlags(ctx, flags);
  if (rc != 0) {
    std::string err = trimmed(a->errorBuffer(ctx));
    return fail(Code::kNotFound, "nftables: {}", err.empty() ? "list failed" : err);
  }
  return std::string(a->outputBuffer(ctx));
}

}  // namespace berth
