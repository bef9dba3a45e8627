#include "common/nft.h"

#include <nftables/libnftables.h>

#include <string>

namespace berth {

Result<std::unique_ptr<LibNftables>> LibNftables::create() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) return fail(Code::kInternal, "nftables: cannot create a context");
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return std::unique_ptr<LibNftables>(new LibNftables(ctx));
}

LibNftables::~LibNftables() {
  nft_ctx_free(ctx_);
}

Status LibNftables::run(std::string_view batch) {
  std::string text(batch);
  if (nft_run_cmd_from_buffer(ctx_, text.c_str()) != 0) {
    std::string err = nft_ctx_get_error_buffer(ctx_);
    while (!err.empty() && err.back() == '\n')
      err.pop_back();
    return fail(Code::kInternal, "nftables: {}", err.empty() ? "transaction failed" : err);
  }
  return {};
}

Result<std::string> LibNftables::listJson(std::string_view command) {
  unsigned flags = nft_ctx_output_get_flags(ctx_);
  nft_ctx_output_set_flags(ctx_, flags | NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  std::string text(command);
  int rc = nft_run_cmd_from_buffer(ctx_, text.c_str());
  nft_ctx_output_set_flags(ctx_, flags);
  if (rc != 0) {
    std::string err = nft_ctx_get_error_buffer(ctx_);
    while (!err.empty() && err.back() == '\n')
      err.pop_back();
    return fail(Code::kNotFound, "nftables: {}", err.empty() ? "list failed" : err);
  }
  return std::string(nft_ctx_get_output_buffer(ctx_));
}

}  // namespace berth
