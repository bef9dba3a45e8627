#pragma once
// nftables: the seam (`Nft`) plugin logic writes rulesets against, and the real one over
// libnftables' in-process API. A batch of commands is one nft transaction: it applies whole or not
// at all, so an ADD or DEL never leaves half a ruleset.

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

struct nft_ctx;

namespace berth {

class Nft {
 public:
  virtual ~Nft() = default;
  // Applies `batch` (nft syntax, one command per line) atomically.
  [[nodiscard]] virtual Status run(std::string_view batch) = 0;
  // Runs a list command and returns nft's JSON output.
  [[nodiscard]] virtual Result<std::string> listJson(std::string_view command) = 0;
};

class LibNftables final : public Nft {
 public:
  // The context talks to the netns the calling thread is in when it is created.
  [[nodiscard]] static Result<std::unique_ptr<LibNftables>> create();
  ~LibNftables() override;
  Status run(std::string_view batch) override;
  Result<std::string> listJson(std::string_view command) override;

 private:
  explicit LibNftables(nft_ctx* ctx) : ctx_(ctx) {}
  nft_ctx* ctx_;
};

}  // namespace berth
