#include "cni-plugins/cni/nft_elements.h"

#include <fmt/format.h>

namespace berth::cni {

namespace {

// nft's JSON for one key part back in nft syntax.
std::string keyPart(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  if (v.is_object() && v.contains("prefix")) {
    return fmt::format("{}/{}", v["prefix"].value("addr", ""), v["prefix"].value("len", 0));
  }
  if (v.is_object() && v.contains("range") && v["range"].size() == 2) {
    return keyPart(v["range"][0]) + "-" + keyPart(v["range"][1]);
  }
  return v.dump();
}

}  // namespace

std::vector<OwnedElement> ownedElements(const Json& listing,
                                        const std::function<bool(std::string_view)>& ours) {
  std::vector<OwnedElement> out;
  if (!listing.is_object() || !listing.contains("nftables")) return out;
  for (const auto& item : listing["nftables"]) {
    const Json* obj = nullptr;
    if (item.contains("map")) obj = &item["map"];
    if (item.contains("set")) obj = &item["set"];
    if (obj == nullptr || !obj->contains("elem")) continue;
    std::string name = obj->value("name", "");
    if (!ours(name)) continue;
    for (const auto& e : (*obj)["elem"]) {
      // A map element is [key, value]; a set element is the key alone.
      const Json& k = e.is_array() && !e.empty() ? e[0] : e;
      if (!k.is_object() || !k.contains("elem")) continue;
      const Json& inner = k["elem"];
      std::string owner = inner.value("comment", "");
      if (owner.empty()) continue;
      const Json& val = inner["val"];
      std::string key;
      if (val.is_object() && val.contains("concat")) {
        for (const auto& part : val["concat"])
          key += (key.empty() ? "" : " . ") + keyPart(part);
      } else {
        key = keyPart(val);
      }
      out.push_back({obj->value("family", ""), obj->value("table", ""), name, key, owner});
    }
  }
  return out;
}

std::string deleteElements(const std::vector<OwnedElement>& elements) {
  std::string b;
  for (const auto& e : elements) {
    b += fmt::format("delete element {} {} {} {{ {} }}\n", e.family, e.table, e.set, e.key);
  }
  return b;
}

}  // namespace berth::cni
