#include "common/nft.h"

#include <dlfcn.h>
#include <nftables/libnftables.h>

#include <string>

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

Result<std::unique_ptr<LibNftables>> LibNftables::create() {
  const Api* a = BERTH_TRY(api());
  nft_ctx* ctx = a->ctxNew(NFT_CTX_DEFAULT);
  if (ctx == nullptr) return fail(Code::kInternal, "nftables: cannot create a context");
  a->bufferOutput(ctx);
  a->bufferError(ctx);
  return std::unique_ptr<LibNftables>(new LibNftables(ctx));
}

LibNftables::~LibNftables() {
  if (auto a = api(); a) (*a)->ctxFree(ctx_);
}

Status LibNftables::run(std::string_view batch) {
  const Api* a = BERTH_TRY(api());
  std::string text(batch);
  if (a->runCmd(ctx_, text.c_str()) != 0) {
    std::string err = trimmed(a->errorBuffer(ctx_));
    return fail(Code::kInternal, "nftables: {}", err.empty() ? "transaction failed" : err);
  }
  return {};
}

Result<std::string> LibNftables::listJson(std::string_view command) {
  const Api* a = BERTH_TRY(api());
  unsigned flags = a->getFlags(ctx_);
  a->setFlags(ctx_, flags | NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  std::string text(command);
  int rc = a->runCmd(ctx_, text.c_str());
  a->setFlags(ctx_, flags);
  if (rc != 0) {
    std::string err = trimmed(a->errorBuffer(ctx_));
    return fail(Code::kNotFound, "nftables: {}", err.empty() ? "list failed" : err);
  }
  return std::string(a->outputBuffer(ctx_));
}

}  // namespace berth
