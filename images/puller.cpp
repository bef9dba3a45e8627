#include "images/puller.h"

#include <atomic>
#include <future>
#include <thread>

#include <fmt/ranges.h>

#include "images/content_store.h"
#include "images/digest.h"
#include "images/gc.h"
#include "images/image_builder.h"
#include "images/reference.h"
#include "images/registry_client.h"
#include "images/snapshotter.h"

namespace berth::images {
namespace {

// One pull from one endpoint.
class PullFrom {
 public:
  PullFrom(RegistryClient& client, const Reference& ref, const PullOptions& options,
           ContentStore& content, Snapshotter& snapshots)
      : client_(client), ref_(ref), options_(options), content_(content), snapshots_(snapshots) {}

  Result<ImageRecord> run() {
    std::optional<std::string> indexDigest;
    auto top = BERTH_TRY(client_.getManifest(ref_.manifestReference()));
    BERTH_TRY(checkKind(top));
    FetchedManifest manifestDoc = std::move(top);
    if (manifestDoc.kind == ocispec::ManifestKind::kIndex) {
      auto index =
          BERTH_TRY_CTX(ocispec::parseIndex(manifestDoc.body), "index " + manifestDoc.digest);
      BERTH_TRY(content_.put(manifestDoc.digest, manifestDoc.body));
      indexDigest = manifestDoc.digest;
      auto chosen =
          BERTH_TRY_CTX(selectManifest(index, options_.platform), "index " + manifestDoc.digest);
      manifestDoc = BERTH_TRY(client_.getManifest(chosen.digest));
      BERTH_TRY(checkKind(manifestDoc));
      if (manifestDoc.kind != ocispec::ManifestKind::kManifest) {
        return fail(Code::kInvalidArgument, "index {}: entry {} is not an image manifest",
                    *indexDigest, chosen.digest);
      }
    }
    auto manifest =
        BERTH_TRY_CTX(ocispec::parseManifest(manifestDoc.body), "manifest " + manifestDoc.digest);
    BERTH_TRY(content_.put(manifestDoc.digest, manifestDoc.body));
    BERTH_TRY_CTX(fetch(client_, manifest.config), "config " + manifest.config.digest);
    ChosenManifest chosen{.digest = manifestDoc.digest,
                          .mediaType = manifestDoc.mediaType,
                          .manifest = std::move(manifest),
                          .indexDigest = indexDigest};
    auto configText = BERTH_TRY(content_.read(chosen.manifest.config.digest));
    auto record = BERTH_TRY(buildImageRecord(ref_.string(), chosen, configText, options_.platform));
    BERTH_TRY(fetchAndUnpackLayers(record));
    return record;
  }

 private:
  Status checkKind(const FetchedManifest& m) {
    switch (m.kind) {
      case ocispec::ManifestKind::kSchema1:
        return fail(Code::kUnimplemented,
                    "{}: Docker image manifest schema 1 is not supported (deprecated by Docker "
                    "and removed from containerd 2.0); push the image with a current client",
                    ref_.string());
      case ocispec::ManifestKind::kUnknown:
        return fail(Code::kInvalidArgument, "{}: unsupported manifest media type \"{}\"",
                    ref_.string(), m.mediaType);
      default:
        return {};
    }
  }

  Status fetch(RegistryClient& client, const ocispec::Descriptor& d) {
    auto writer = BERTH_TRY(content_.ingest(d.digest, d.size));
    if (!writer) return {};
    if (options_.progress && writer->offset() > 0) {
      options_.progress(
          fmt::format("resuming {} at {} of {} bytes", d.digest, writer->offset(), d.size));
    }
    BERTH_TRY(client.fetchBlob(*writer));
    if (options_.progress)
      options_.progress(fmt::format("fetched {} ({} bytes)", d.digest, d.size));
    return {};
  }

  // Downloads run on worker threads; this thread unpacks layer i once it (and every layer below,
  // unpacked before it) is there, so unpacking overlaps the downloads.
  Status fetchAndUnpackLayers(const ImageRecord& record) {
    size_t n = record.layers.size();
    std::vector<std::promise<Status>> done(n);
    std::vector<std::future<Status>> results;
    for (auto& p : done)
      results.push_back(p.get_future());
    std::atomic<size_t> next{0};
    std::atomic<bool> cancelled{false};
    auto worker = [&] {
      RegistryClient client = client_.clone();
      for (size_t i = next++; i < n; i = next++) {
        if (cancelled) {
          done[i].set_value(fail(Code::kCancelled, "cancelled"));
          continue;
        }
        auto st = withContext(fetch(client, record.layers[i]),
                              fmt::format("layer {}", record.layers[i].digest));
        if (!st) cancelled = true;
        done[i].set_value(std::move(st));
      }
    };
    size_t workers =
        std::min<size_t>(n, static_cast<size_t>(std::max(1, options_.parallelDownloads)));
    Status result;
    {
      std::vector<std::jthread> threads;
      for (size_t t = 0; t < workers; ++t)
        threads.emplace_back(worker);
      for (size_t i = 0; i < n; ++i) {
        auto st = results[i].get();
        if (!st) {
          result = std::move(st);
          cancelled = true;
          break;
        }
        if (!options_.unpack) continue;
        auto unpacked = unpackImageLayer(content_, snapshots_, record, i, options_.unpackOptions);
        if (!unpacked) {
          result = std::unexpected(unpacked.error());
          cancelled = true;
          break;
        }
        if (*unpacked && options_.progress) {
          options_.progress(fmt::format("unpacked {}", record.diffIds[i]));
        }
      }
    }  // joins the workers
    // A cancelled layer's error is only a consequence; report the first real one.
    if (!result && result.error().code() == Code::kCancelled) {
      for (auto& f : results) {
        if (!f.valid()) continue;
        auto st = f.get();
        if (!st && st.error().code() != Code::kCancelled) return st;
      }
    }
    return result;
  }

  RegistryClient& client_;
  const Reference& ref_;
  const PullOptions& options_;
  ContentStore& content_;
  Snapshotter& snapshots_;
};

}  // namespace

Result<ImageRecord> Puller::pull(std::string_view text, const PullOptions& options) {
  auto ref = BERTH_TRY(Reference::parse(text));
  auto lock = BERTH_TRY(lockStore(root_, /*exclusive=*/false));
  auto content = BERTH_TRY(ContentStore::open(root_));
  auto images = BERTH_TRY(ImageStore::open(root_));
  auto snapshots = BERTH_TRY(Snapshotter::open(root_));
  std::vector<std::string> errors;
  std::optional<Code> code;
  for (auto endpoint : config_.endpoints(ref.domain())) {
    // containerd's CRI gives the request's credentials to the image's registry host, whatever
    // the scheme (an http:// mirror of the same host too), and never to other hosts.
    if (options.auth && (endpoint.isDefault || endpoint.host == ref.domain())) {
      endpoint.auth = options.auth;
    }
    RegistryClient client(endpoint, endpoint.repository(ref.path()));
    auto record = PullFrom(client, ref, options, content, snapshots).run();
    if (record) {
      BERTH_TRY(images.put(*record));
      return record;
    }
    // As containerd's resolver: any error moves on to the next endpoint; the first one that is
    // not "not found" says why the pull failed, and it is "not found" only when every endpoint
    // said so (a mirror lacking an image is no reason to hide an unreachable registry).
    if (!code || (*code == Code::kNotFound && record.error().code() != Code::kNotFound)) {
      code = record.error().code();
    }
    // The client's URL: an insecure loopback registry may have moved to plain HTTP.
    errors.push_back(fmt::format("{}: {}", client.endpoint().url, record.error().message()));
  }
  return fail(code.value_or(Code::kUnavailable), "pull {}: {}", ref.string(),
              fmt::format("{}", fmt::join(errors, "; ")));
}

}  // namespace berth::images
