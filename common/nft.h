#pragma once
// nftables: the seam (`Nft`) plugin logic writes rulesets against, and the real one over
// libnftables' in-process API. A batch of commands is one nft transaction: it applies whole or not
// at all, so an ADD or DEL never leaves half a ruleset.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/netns.h"
#include "common/nft_element.h"
#include "common/nft_writer.h"
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

  // Element changes of one table (`family` as nft spells it: "inet", "bridge", ...) as one
  // transaction straight over nfnetlink: no nft parser, no cache dumps. Adding an identical
  // element is success (`add element`); deleting an absent one fails with ENOENT, as does a
  // missing table or set. The default is kUnimplemented: callers fall back to run().
  [[nodiscard]] virtual Status addElements(std::string_view family, std::string_view table,
                                           std::span<const NftElement> elements);
  [[nodiscard]] virtual Status deleteElements(std::string_view family, std::string_view table,
                                              std::span<const NftElement> elements);
  // Whether the set holds an element with exactly this key (and intervalEnd flag).
  [[nodiscard]] virtual Result<bool> hasElement(std::string_view family, std::string_view table,
                                                const NftElement& element);
};

// run() and listJson() through libnftables, loaded on their first use; the element calls through
// NftWriter (libnftnl, one socket of its own), so a plugin that only touches elements never
// loads libnftables.
class LibNftables final : public Nft {
 public:
  // Talks to the netns the calling thread is in when it is created.
  [[nodiscard]] static Result<std::unique_ptr<LibNftables>> create();
  ~LibNftables() override;
  Status run(std::string_view batch) override;
  Result<std::string> listJson(std::string_view command) override;
  Status addElements(std::string_view family, std::string_view table,
                     std::span<const NftElement> elements) override;
  Status deleteElements(std::string_view family, std::string_view table,
                        std::span<const NftElement> elements) override;
  Result<bool> hasElement(std::string_view family, std::string_view table,
                          const NftElement& element) override;

 private:
  LibNftables(std::unique_ptr<nft::NftWriter> writer, NetNs ns);
  Result<nft_ctx*> context();

  std::unique_ptr<nft::NftWriter> writer_;
  NetNs ns_;  // where the libnftables context is created, on first use
  nft_ctx* ctx_ = nullptr;
};

}  // namespace berth
