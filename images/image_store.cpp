#include "images/image_store.h"

#include <unistd.h>

#include <algorithm>

#include "common/file_util.h"
#include "images/digest.h"
#include "images/paths.h"
#include "images/reference.h"
#include "ocispec/json_reader.h"

namespace berth::images {
namespace {

using ocispec::JsonReader;

Result<ocispec::Descriptor> descriptorAt(const ocispec::Json& doc, const std::string& path) {
  auto d = ocispec::parseDescriptor(doc.dump());
  if (!d) return std::unexpected(std::move(d).error().context(path));
  return d;
}

}  // namespace

std::string ImageRecord::repoDigest() const {
  auto ref = Reference::parse(name);
  std::string repo = ref ? ref->name() : name;
  return repo + "@" + indexDigest.value_or(manifestDigest);
}

nlohmann::ordered_json toJson(const ImageRecord& r) {
  nlohmann::ordered_json j;
  j["name"] = r.name;
  j["id"] = r.id;
  if (r.indexDigest) j["indexDigest"] = *r.indexDigest;
  j["manifestDigest"] = r.manifestDigest;
  j["manifestMediaType"] = r.manifestMediaType;
  j["config"] = ocispec::toJson(r.config);
  j["layers"] = nlohmann::ordered_json::array();
  for (const auto& l : r.layers)
    j["layers"].push_back(ocispec::toJson(l));
  j["diffIds"] = r.diffIds;
  j["chainIds"] = r.chainIds;
  j["size"] = r.size;
  j["created"] = r.created;
  return j;
}

Result<ImageRecord> parseImageRecord(std::string_view json) {
  auto doc = BERTH_TRY(ocispec::parseDocument(json));
  auto r = BERTH_TRY(JsonReader::open(doc, ""));
  ImageRecord out;
  BERTH_TRY(r.required("name", out.name));
  BERTH_TRY(r.required("id", out.id));
  BERTH_TRY(r.optional("indexDigest", out.indexDigest));
  BERTH_TRY(r.required("manifestDigest", out.manifestDigest));
  BERTH_TRY(r.required("manifestMediaType", out.manifestMediaType));
  for (const auto& [key, digest] :
       {std::pair{"id", &out.id}, {"manifestDigest", &out.manifestDigest}}) {
    if (auto st = sha256Hex(*digest); !st) return r.invalid(key, st.error().message());
  }
  if (out.indexDigest) {
    if (auto st = sha256Hex(*out.indexDigest); !st)
      return r.invalid("indexDigest", st.error().message());
  }
  if (!doc.contains("config")) return r.invalid("config", "required");
  out.config = BERTH_TRY(descriptorAt(doc["config"], "config"));
  if (!doc.contains("layers") || !doc["layers"].is_array()) {
    return r.invalid("layers", "must be an array");
  }
  for (size_t i = 0; i < doc["layers"].size(); ++i) {
    out.layers.push_back(
        BERTH_TRY(descriptorAt(doc["layers"][i], ocispec::indexPath("layers", i))));
  }
  BERTH_TRY(r.required("diffIds", out.diffIds));
  BERTH_TRY(r.required("chainIds", out.chainIds));
  if (out.diffIds.size() != out.layers.size() || out.chainIds.size() != out.layers.size()) {
    return r.invalid("diffIds", "must have one entry per layer");
  }
  BERTH_TRY(r.required("size", out.size));
  BERTH_TRY(r.optional("created", out.created));
  return out;
}

Result<ImageStore> ImageStore::open(std::filesystem::path root) {
  BERTH_TRY(makeDirs(paths::imagesDir(root), 0700));
  return ImageStore(std::move(root));
}

std::filesystem::path ImageStore::recordPath(std::string_view name) const {
  return paths::imagesDir(root_) / (sha256Of(name).substr(7) + ".json");
}

Status ImageStore::put(const ImageRecord& r) {
  return writeFileAtomic(recordPath(r.name), toJson(r).dump(2) + "\n", 0600);
}

Result<ImageRecord> ImageStore::get(std::string_view name) const {
  auto path = recordPath(name);
  auto text = readFile(path);
  if (!text) {
    if (text.error().sysErrno() == ENOENT) return fail(Code::kNotFound, "image {} not found", name);
    return std::unexpected(text.error());
  }
  return withContext(parseImageRecord(*text), path.string());
}

Result<std::vector<ImageRecord>> ImageStore::list() const {
  std::vector<ImageRecord> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(paths::imagesDir(root_), ec)) {
    if (e.path().extension() != ".json") continue;  // skips writeFileAtomic's temp files
    auto text = readFile(e.path());
    if (!text) {
      if (text.error().sysErrno() == ENOENT) continue;  // removed meanwhile
      return std::unexpected(text.error());
    }
    out.push_back(BERTH_TRY_CTX(parseImageRecord(*text), e.path().string()));
  }
  if (ec) return failErrno(ec.value(), "list " + paths::imagesDir(root_).string());
  std::sort(out.begin(), out.end(),
            [](const ImageRecord& a, const ImageRecord& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<ImageRecord>> ImageStore::resolve(std::string_view nameOrId) const {
  auto all = BERTH_TRY(list());
  // An id, full or a prefix of its hex (as `docker rmi 3f57`, `crictl rmi 3f57`).
  std::string_view hex = nameOrId;
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  bool maybeId = hex.size() >= 3 && hex.size() <= 64 &&
                 hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  if (maybeId) {
    std::vector<ImageRecord> byId;
    std::string matchedId;
    for (auto& r : all) {
      if (!std::string_view(r.id).substr(7).starts_with(hex)) continue;
      if (!matchedId.empty() && matchedId != r.id) {
        return fail(Code::kInvalidArgument, "image id prefix {} is ambiguous", nameOrId);
      }
      matchedId = r.id;
      byId.push_back(r);
    }
    if (!byId.empty()) return byId;
  }
  auto ref = Reference::parse(nameOrId);
  if (ref) {
    for (auto& r : all) {
      if (r.name == ref->string()) return std::vector<ImageRecord>{r};
    }
    // name@digest: any record of that repository whose pulled digest matches.
    if (ref->digest()) {
      std::vector<ImageRecord> out;
      for (auto& r : all) {
        if (r.repoDigest() == ref->name() + "@" + *ref->digest()) out.push_back(r);
      }
      if (!out.empty()) return out;
    }
  } else if (!maybeId) {
    return std::unexpected(ref.error());
  }
  return fail(Code::kNotFound, "image {} not found", nameOrId);
}

Result<std::vector<ImageRecord>> ImageStore::remove(std::string_view nameOrId) {
  auto records = BERTH_TRY(resolve(nameOrId));
  for (const auto& r : records) {
    auto path = recordPath(r.name);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return failErrno("remove " + path.string());
  }
  return records;
}

}  // namespace berth::images
