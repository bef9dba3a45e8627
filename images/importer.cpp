#include "images/importer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "common/file_util.h"
#include "images/archive_reader.h"
#include "images/content_store.h"
#include "images/digest.h"
#include "images/gc.h"
#include "images/image_builder.h"
#include "images/reference.h"
#include "images/snapshotter.h"
#include "ocispec/json_reader.h"

namespace berth::images {
namespace {

// Manifests, indexes and configs are kept in memory between the passes up to this size.
constexpr int64_t kMaxDocument = 4 << 20;
constexpr std::string_view kBlobDir = "blobs/sha256/";
constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";

// A regular entry as the first pass saw it.
struct Entry {
  std::string digest;
  int64_t size = 0;
  std::string head;  // the first bytes: the compression of a docker save layer
};

struct Scan {
  std::map<std::string, Entry> entries;          // by normalised name
  std::map<std::string, std::string> documents;  // JSON-looking entries by digest
};

struct Plan {
  std::vector<ImageRecord> images;  // checked, to be written once their blobs are stored
  std::set<std::string> blobs;      // digests the images use
  std::map<std::string, std::string> madeManifests;  // digest -> body (docker save)
};

// "./blobs//sha256/x" -> "blobs/sha256/x"; absolute names and ".." refused.
Result<std::string> entryName(archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (!raw) return fail(Code::kInvalidArgument, "an entry has no name");
  auto parts = BERTH_TRY_CTX(splitEntryPath(raw), fmt::format("entry \"{}\"", raw));
  std::string name;
  for (const auto& p : parts)
    name += (name.empty() ? "" : "/") + p;
  return name;
}

// Calls `onFile(name, entry)` for each regular entry of `file`; onFile reads or skips its data.
template <class OnFile>
Status forEachFile(const std::filesystem::path& file, OnFile&& onFile) {
  auto fd = BERTH_TRY(openFd(file, O_RDONLY | O_CLOEXEC));
  ArchivePtr a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_fd(a.get(), fd.get(), kArchiveReadBlock) != ARCHIVE_OK) {
    return fail(Code::kInvalidArgument, "not a tar archive: {}", archiveError(a.get()));
  }
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) return {};
    if (rc < ARCHIVE_WARN) {
      return fail(Code::kInvalidArgument, "not a tar archive or a damaged one: {}",
                  archiveError(a.get()));
    }
    auto name = BERTH_TRY(entryName(e));
    auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) continue;
    if (type != AE_IFREG || archive_entry_hardlink(e)) {
      return fail(Code::kInvalidArgument,
                  "entry \"{}\": only files and directories belong in an image archive", name);
    }
    BERTH_TRY_CTX(onFile(name, a.get(), e), fmt::format("entry \"{}\"", name));
  }
}

// Reads the entry's data, giving it to `sink` block by block.
template <class Sink>
Status readData(archive* a, Sink&& sink) {
  std::vector<char> buf(kArchiveReadBlock);
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n < 0) return fail(Code::kDataLoss, "read: {}", archiveError(a));
    if (n == 0) return {};
    BERTH_TRY(sink(buf.data(), static_cast<size_t>(n)));
  }
}

// Pass 1: names, digests and the JSON documents.
Result<Scan> scanArchive(const std::filesystem::path& file) {
  Scan scan;
  BERTH_TRY(forEachFile(file, [&](const std::string& name, archive* a, archive_entry* e) -> Status {
    Entry entry{.size = archive_entry_size(e)};
    Sha256 hash;
    std::string data;
    bool keep = entry.size <= kMaxDocument;
    BERTH_TRY(readData(a, [&](const char* p, size_t n) -> Status {
      hash.update(p, n);
      if (entry.head.size() < 8) entry.head.append(p, std::min(n, 8 - entry.head.size()));
      if (keep) data.append(p, n);
      return {};
    }));
    entry.digest = hash.digest();
    if (name.starts_with(kBlobDir)) {
      std::string named = "sha256:" + name.substr(kBlobDir.size());
      BERTH_TRY(sha256Hex(named));
      if (named != entry.digest) {
        return fail(Code::kDataLoss, "content digest is {}, not the {} its name says", entry.digest,
                    named);
      }
    } else if (name.starts_with("blobs/")) {
      return fail(Code::kUnimplemented, "only sha256 blobs are supported");
    }
    if (keep && (data.starts_with('{') || data.starts_with('[')))
      scan.documents.emplace(entry.digest, std::move(data));
    if (!scan.entries.emplace(name, std::move(entry)).second) {
      return fail(Code::kInvalidArgument, "appears twice");
    }
    return {};
  }));
  return scan;
}

Result<std::string> document(const Scan& scan, const std::string& digest, std::string_view what) {
  auto it = scan.documents.find(digest);
  if (it == scan.documents.end()) {
    return fail(Code::kNotFound, "{} {} is not in the archive (or not JSON of at most {} bytes)",
                what, digest, kMaxDocument);
  }
  return it->second;
}

Result<std::string> normalisedName(std::string_view name) {
  return BERTH_TRY(Reference::parse(name)).string();
}

// The name an index.json entry gives its image, if any: a ref.name that is only a tag
// ("latest", as docker 25 writes beside io.containerd.image.name) names nothing by itself.
std::optional<std::string> annotatedName(const ocispec::Descriptor& d) {
  if (auto it = d.annotations.find(std::string(kContainerdNameAnnotation));
      it != d.annotations.end()) {
    return it->second;
  }
  if (auto it = d.annotations.find(std::string(kRefNameAnnotation)); it != d.annotations.end()) {
    if (it->second.find_first_of("/:@") != std::string::npos) return it->second;
  }
  return std::nullopt;
}

// The image's record, checked as a pull checks it, before anything is stored.
Status addImage(const Scan& scan, const PlatformSpec& platform, Plan& plan, const std::string& name,
                const ChosenManifest& chosen) {
  auto config = BERTH_TRY(document(scan, chosen.manifest.config.digest, "config"));
  auto normalised = BERTH_TRY(normalisedName(name));
  auto record =
      BERTH_TRY_CTX(buildImageRecord(normalised, chosen, config, platform), "image " + normalised);
  plan.blobs.insert(record.manifestDigest);
  if (record.indexDigest) plan.blobs.insert(*record.indexDigest);
  plan.blobs.insert(record.config.digest);
  for (const auto& l : record.layers)
    plan.blobs.insert(l.digest);
  plan.images.push_back(std::move(record));
  return {};
}

Result<ocispec::Manifest> manifestDocument(const Scan& scan, const std::string& digest) {
  auto body = BERTH_TRY(document(scan, digest, "manifest"));
  return BERTH_TRY_CTX(ocispec::parseManifest(body), "manifest " + digest);
}

// index.json's named entries; an entry that is an index gives this platform's manifest.
Status planFromIndex(const Scan& scan, std::string_view indexJson, const PlatformSpec& platform,
                     Plan& plan) {
  auto index = BERTH_TRY_CTX(ocispec::parseIndex(indexJson), "index.json");
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    const auto& d = index.manifests[i];
    auto name = annotatedName(d);
    if (!name) continue;
    auto ctx = fmt::format("index.json: manifests[{}] ({})", i, *name);
    auto body = BERTH_TRY_CTX(document(scan, d.digest, "manifest"), ctx);
    auto kind = ocispec::detectManifestKind(d.mediaType, body);
    if (kind == ocispec::ManifestKind::kIndex) {
      auto inner = BERTH_TRY_CTX(ocispec::parseIndex(body), ctx);
      auto chosen = BERTH_TRY_CTX(selectManifest(inner, platform), ctx);
      auto manifest = BERTH_TRY_CTX(manifestDocument(scan, chosen.digest), ctx);
      BERTH_TRY_CTX(addImage(scan, platform, plan, *name,
                             {.digest = chosen.digest,
                              .mediaType = chosen.mediaType,
                              .manifest = std::move(manifest),
                              .indexDigest = d.digest}),
                    ctx);
    } else if (kind == ocispec::ManifestKind::kManifest) {
      auto manifest = BERTH_TRY_CTX(ocispec::parseManifest(body), ctx);
      BERTH_TRY_CTX(
          addImage(scan, platform, plan, *name,
                   {.digest = d.digest, .mediaType = d.mediaType, .manifest = std::move(manifest)}),
          ctx);
    } else {
      return fail(Code::kUnimplemented, "{}: unsupported media type \"{}\"", ctx, d.mediaType);
    }
  }
  return {};
}

std::string layerMediaType(const Entry& layer) {
  if (layer.head.starts_with("\x1f\x8b")) return std::string(ocispec::kMediaTypeOciLayerGzip);
  if (layer.head.starts_with("\x28\xb5\x2f\xfd")) {
    return std::string(ocispec::kMediaTypeOciLayerZstd);
  }
  return std::string(ocispec::kMediaTypeOciLayer);
}

// docker save's manifest.json: an OCI manifest is made for each entry, as containerd's importer
// does, and the image recorded under each of its RepoTags.
Status planFromDockerManifest(const Scan& scan, std::string_view manifestJson,
                              const PlatformSpec& platform, Plan& plan) {
  auto doc = BERTH_TRY_CTX(ocispec::parseDocument(manifestJson), "manifest.json");
  if (!doc.is_array()) return fail(Code::kInvalidArgument, "manifest.json: not an array");
  auto entryOf = [&](const nlohmann::json& path, std::string_view ctx) -> Result<const Entry*> {
    if (!path.is_string()) return fail(Code::kInvalidArgument, "{}: not a string", ctx);
    auto it = scan.entries.find(path.get<std::string>());
    if (it == scan.entries.end()) {
      return fail(Code::kNotFound, "{}: \"{}\" is not in the archive", ctx,
                  path.get<std::string>());
    }
    return &it->second;
  };
  for (size_t i = 0; i < doc.size(); ++i) {
    const auto& item = doc[i];
    auto ctx = fmt::format("manifest.json[{}]", i);
    if (!item.is_object()) return fail(Code::kInvalidArgument, "{}: not an object", ctx);
    const Entry* config =
        BERTH_TRY(entryOf(item.value("Config", nlohmann::json()), ctx + ".Config"));
    nlohmann::ordered_json manifest = {{"schemaVersion", 2},
                                       {"mediaType", std::string(ocispec::kMediaTypeOciManifest)},
                                       {"config",
                                        {{"mediaType", std::string(ocispec::kMediaTypeOciConfig)},
                                         {"digest", config->digest},
                                         {"size", config->size}}},
                                       {"layers", nlohmann::ordered_json::array()}};
    const auto layers = item.value("Layers", nlohmann::json::array());
    if (!layers.is_array()) return fail(Code::kInvalidArgument, "{}.Layers: not an array", ctx);
    for (size_t l = 0; l < layers.size(); ++l) {
      const Entry* layer = BERTH_TRY(entryOf(layers[l], fmt::format("{}.Layers[{}]", ctx, l)));
      manifest["layers"].push_back({{"mediaType", layerMediaType(*layer)},
                                    {"digest", layer->digest},
                                    {"size", layer->size}});
    }
    std::string body = manifest.dump();
    std::string digest = sha256Of(body);
    auto parsed = BERTH_TRY_CTX(ocispec::parseManifest(body), ctx);
    plan.madeManifests[digest] = body;
    const auto tags = item.value("RepoTags", nlohmann::json::array());
    for (const auto& tag : tags.is_array() ? tags : nlohmann::json::array()) {
      if (!tag.is_string()) return fail(Code::kInvalidArgument, "{}.RepoTags: not strings", ctx);
      BERTH_TRY_CTX(addImage(scan, platform, plan, tag.get<std::string>(),
                             {.digest = digest,
                              .mediaType = std::string(ocispec::kMediaTypeOciManifest),
                              .manifest = parsed}),
                    ctx);
    }
  }
  return {};
}

Result<Plan> planImport(const Scan& scan, const PlatformSpec& platform) {
  Plan plan;
  auto read = [&](const char* name) -> std::optional<std::string> {
    auto it = scan.entries.find(name);
    if (it == scan.entries.end()) return std::nullopt;
    auto doc = scan.documents.find(it->second.digest);
    return doc == scan.documents.end() ? std::optional<std::string>("") : doc->second;
  };
  auto indexJson = read("index.json");
  auto manifestJson = read("manifest.json");
  if (!indexJson && !manifestJson) {
    return fail(Code::kInvalidArgument,
                "neither index.json nor manifest.json: not an OCI image layout or docker save "
                "archive");
  }
  if (indexJson) BERTH_TRY(planFromIndex(scan, *indexJson, platform, plan));
  if (plan.images.empty() && manifestJson) {
    BERTH_TRY(planFromDockerManifest(scan, *manifestJson, platform, plan));
  }
  if (plan.images.empty()) {
    return fail(Code::kInvalidArgument,
                "no image has a name (index.json annotation {} or {}, or manifest.json RepoTags)",
                kContainerdNameAnnotation, kRefNameAnnotation);
  }
  // Every blob must be in the archive: nothing is fetched.
  std::set<std::string> inArchive;
  for (const auto& [name, e] : scan.entries)
    inArchive.insert(e.digest);
  for (const auto& digest : plan.blobs) {
    if (!inArchive.contains(digest) && !plan.madeManifests.contains(digest)) {
      return fail(Code::kNotFound, "blob {} is not in the archive", digest);
    }
  }
  return plan;
}

// Pass 2: the blobs the plan uses into the content store.
Status copyBlobs(const std::filesystem::path& file, const Scan& scan, const Plan& plan,
                 ContentStore& content) {
  for (const auto& [digest, body] : plan.madeManifests)
    BERTH_TRY(content.put(digest, body));
  return forEachFile(file, [&](const std::string& name, archive* a, archive_entry*) -> Status {
    auto it = scan.entries.find(name);
    if (it == scan.entries.end()) return fail(Code::kAborted, "the file changed while it was read");
    const Entry& e = it->second;
    if (!plan.blobs.contains(e.digest) || content.has(e.digest)) return {};
    auto writer = BERTH_TRY(content.ingest(e.digest, e.size));
    if (!writer) return {};
    if (writer->offset() != 0) BERTH_TRY(writer->restart());
    BERTH_TRY(readData(a, [&](const char* p, size_t n) { return writer->write(p, n); }));
    return writer->commit();
  });
}

bool isImageArchive(const std::filesystem::path& p) {
  std::string name = p.filename().string();
  for (std::string_view suffix :
       {".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz", ".tar.bz2", ".tar.lz4"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

}  // namespace

Result<std::vector<ImageRecord>> Importer::importArchive(const std::filesystem::path& file,
                                                         const ImportOptions& options) {
  auto run = [&]() -> Result<std::vector<ImageRecord>> {
    auto scan = BERTH_TRY(scanArchive(file));
    auto plan = BERTH_TRY(planImport(scan, options.platform));
    // Shared, as a pull: GC waits until the records name what was copied.
    auto lock = BERTH_TRY(lockStore(root_, /*exclusive=*/false));
    auto content = BERTH_TRY(ContentStore::open(root_));
    auto images = BERTH_TRY(ImageStore::open(root_));
    auto snapshots = BERTH_TRY(Snapshotter::open(root_));
    BERTH_TRY(copyBlobs(file, scan, plan, content));
    for (const auto& record : plan.images) {
      for (size_t i = 0; options.unpack && i < record.layers.size(); ++i) {
        bool unpacked =
            BERTH_TRY_CTX(unpackImageLayer(content, snapshots, record, i, options.unpackOptions),
                          fmt::format("image {}: layer {}", record.name, record.layers[i].digest));
        if (unpacked && options.progress) {
          options.progress(fmt::format("unpacked {}", record.diffIds[i]));
        }
      }
    }
    for (const auto& r : plan.images) {
      BERTH_TRY(images.put(r));
      if (options.progress) options.progress(fmt::format("imported {} ({})", r.name, r.id));
    }
    return plan.images;
  };
  return withContext(run(), file.string());
}

Result<std::vector<ImageRecord>> Importer::importDirectory(const std::filesystem::path& dir,
                                                           const ImportOptions& options) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec) && isImageArchive(e.path())) files.push_back(e.path());
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return failErrno(ec.value(), "list " + dir.string());
  }
  std::sort(files.begin(), files.end());
  std::vector<ImageRecord> out;
  for (const auto& f : files) {
    auto records = BERTH_TRY(importArchive(f, options));
    out.insert(out.end(), records.begin(), records.end());
  }
  return out;
}

}  // namespace berth::images
