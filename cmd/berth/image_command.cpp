#include "cmd/berth/image_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "images/container_mounts.h"
#include "images/content_store.h"
#include "images/gc.h"
#include "images/image_config.h"
#include "images/image_store.h"
#include "images/importer.h"
#include "images/puller.h"
#include "images/snapshotter.h"

namespace berth::cmd {
namespace {

using images::ImageRecord;

int report(const Error& e) {
  std::fprintf(stderr, "berth: %s\n", e.message().c_str());
  return 1;
}

// docker's units.HumanSize: 3 significant digits, decimal units.
std::string humanSize(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  size_t i = 0;
  while (bytes >= 1000 && i + 1 < std::size(kUnits)) {
    bytes /= 1000;
    ++i;
  }
  return fmt::format("{:.4g}{}", bytes, kUnits[i]);
}

Status pull(const GlobalFlags& g, const std::string& ref, const std::string& platform,
            const std::string& user, bool noUnpack) {
  auto config = BERTH_TRY(images::RegistryConfig::load(g.registryConfig));
  images::PullOptions options;
  if (!user.empty()) {
    // ctr's --user USER[:PASSWORD]; without a password it is read from stdin (one line).
    auto colon = user.find(':');
    images::RegistryAuth auth{.username = user.substr(0, colon)};
    if (colon != std::string::npos) {
      auth.password = user.substr(colon + 1);
    } else if (!std::getline(std::cin, auth.password)) {
      return fail(Code::kInvalidArgument, "--user {}: no password on stdin", user);
    }
    options.auth = std::move(auth);
  }
  if (!platform.empty()) options.platform = BERTH_TRY(images::parsePlatform(platform));
  options.unpack = !noUnpack;
  options.unpackOptions.privileged = ::geteuid() == 0;
  if (g.debug) options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
  images::Puller puller(g.root, std::move(config));
  auto record = BERTH_TRY(puller.pull(ref, options));
  std::cout << "Image is up to date for " << record.id << "\n";
  return {};
}

// ctr images import: each file's images, named as their archive names them.
Status import(const GlobalFlags& g, const std::vector<std::string>& files,
              const std::string& platform, bool noUnpack) {
  images::ImportOptions options;
  if (!platform.empty()) options.platform = BERTH_TRY(images::parsePlatform(platform));
  options.unpack = !noUnpack;
  options.unpackOptions.privileged = ::geteuid() == 0;
  if (g.debug) options.progress = [](std::string_view line) { std::cerr << line << "\n"; };
  images::Importer importer(g.root);
  for (const auto& f : files) {
    for (const auto& r : BERTH_TRY(importer.importArchive(f, options)))
      std::cout << "Imported " << r.name << " (" << r.id << ")\n";
  }
  return {};
}

Status list(const GlobalFlags& g, bool quiet) {
  auto store = BERTH_TRY(images::ImageStore::open(g.root));
  auto records = BERTH_TRY(store.list());
  if (quiet) {
    for (const auto& r : records)
      std::cout << r.id << "\n";
    return {};
  }
  std::cout << fmt::format("{:<60} {:<13} {}\n", "IMAGE", "IMAGE ID", "SIZE");
  for (const auto& r : records) {
    std::cout << fmt::format("{:<60} {:<13} {}\n", r.name, r.id.substr(7, 13),
                             humanSize(static_cast<double>(r.size)));
  }
  return {};
}

Status inspect(const GlobalFlags& g, const std::string& what) {
  auto store = BERTH_TRY(images::ImageStore::open(g.root));
  auto content = BERTH_TRY(images::ContentStore::open(g.root));
  auto records = BERTH_TRY(store.resolve(what));
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& r : records) {
    auto j = images::toJson(r);
    j["repoDigests"] = {r.repoDigest()};
    auto config = BERTH_TRY(images::loadImageConfig(content, r));
    j["imageConfig"] = ocispec::toJson(config);
    out.push_back(std::move(j));
  }
  std::cout << out.dump(2) << "\n";
  return {};
}

Status remove(const GlobalFlags& g, const std::vector<std::string>& what) {
  auto store = BERTH_TRY(images::ImageStore::open(g.root));
  for (const auto& w : what) {
    for (const auto& r : BERTH_TRY(store.remove(w)))
      std::cout << "Deleted: " << r.name << "\n";
  }
  BERTH_TRY(images::collectGarbage(g.root));
  return {};
}

Status mount(const GlobalFlags& g, const std::string& image, const std::string& id, bool readOnly) {
  auto store = BERTH_TRY(images::ImageStore::open(g.root));
  auto records = BERTH_TRY(store.resolve(image));
  auto lock = BERTH_TRY(images::lockStore(g.root, /*exclusive=*/false));
  auto mounts = BERTH_TRY(images::ContainerMounts::open(g.root));
  auto info = BERTH_TRY(mounts.mount(id, records[0].chainIds, {.readOnly = readOnly}));
  std::cout << info.merged.string() << "\n";
  return {};
}

Status unmount(const GlobalFlags& g, const std::string& id) {
  auto mounts = BERTH_TRY(images::ContainerMounts::open(g.root));
  return mounts.remove(id);
}

Status gc(const GlobalFlags& g) {
  auto r = BERTH_TRY(images::collectGarbage(g.root));
  std::cout << fmt::format(
      "removed {} blobs, {} snapshots and {} stale partial downloads, {} freed\n",
      r.blobsRemoved.size(), r.snapshotsRemoved.size(), r.ingestsRemoved.size(),
      humanSize(static_cast<double>(r.bytesFreed)));
  return {};
}

Status df(const GlobalFlags& g) {
  auto u = BERTH_TRY(images::diskUsage(g.root));
  std::cout << fmt::format("{} bytes, {} inodes\n", u.bytes, u.inodes);
  return {};
}

}  // namespace

template <class F>
void ImageCommand::run(F&& f) {
  auto st = f();
  status_ = st ? 0 : report(st.error());
}

ImageCommand::ImageCommand(CLI::App& app, const GlobalFlags& g) : global_(g) {
  auto* image = app.add_subcommand("image", "manage images");
  image->require_subcommand(1);

  auto* pullCmd = image->add_subcommand("pull", "pull an image from a registry");
  pullCmd->add_option("reference", ref_, "image reference")->required();
  pullCmd->add_option("--platform", platform_, "os/arch[/variant] (default: this host)");
  pullCmd->add_flag("--no-unpack", noUnpack_, "fetch only");
  pullCmd->add_option("-u,--user", user_,
                      "USER[:PASSWORD] for the image's registry (password from stdin if left out)");
  pullCmd->callback(
      [this] { run([&] { return pull(global_, ref_, platform_, user_, noUnpack_); }); });

  auto* importCmd = image->add_subcommand(
      "import", "import images from OCI image layout or docker save archives (tar, tar.gz)");
  importCmd->add_option("file", files_, "archive files")->required();
  importCmd->add_option("--platform", platform_,
                        "os/arch[/variant] chosen from an index (default: this host)");
  importCmd->add_flag("--no-unpack", noUnpack_, "store the blobs only");
  importCmd->callback(
      [this] { run([&] { return import(global_, files_, platform_, noUnpack_); }); });

  auto* lsCmd = image->add_subcommand("ls", "list images");
  lsCmd->add_flag("-q,--quiet", quiet_, "only image ids");
  lsCmd->callback([this] { run([&] { return list(global_, quiet_); }); });

  auto* inspectCmd = image->add_subcommand("inspect", "an image's record and config as JSON");
  inspectCmd->add_option("image", what_, "name or id")->required();
  inspectCmd->callback([this] { run([&] { return inspect(global_, what_); }); });

  auto* rmCmd = image->add_subcommand("rm", "remove images (by name or id) and their data");
  rmCmd->add_option("image", toRemove_, "names or ids")->required();
  rmCmd->callback([this] { run([&] { return remove(global_, toRemove_); }); });

  auto* mountCmd = image->add_subcommand("mount", "mount an image's filesystem for a container");
  mountCmd->add_option("image", mountImage_, "name or id")->required();
  mountCmd->add_option("id", containerId_, "container id")->required();
  mountCmd->add_flag("--read-only", readOnly_, "a read-only view, no upper dir");
  mountCmd->callback(
      [this] { run([&] { return mount(global_, mountImage_, containerId_, readOnly_); }); });

  auto* umountCmd = image->add_subcommand("umount", "unmount and remove a container filesystem");
  umountCmd->add_option("id", containerId_, "container id")->required();
  umountCmd->callback([this] { run([&] { return unmount(global_, containerId_); }); });

  image->add_subcommand("gc", "remove blobs and snapshots no image or container uses")
      ->callback([this] { run([&] { return gc(global_); }); });
  image->add_subcommand("df", "disk usage of the image store")->callback([this] {
    run([&] { return df(global_); });
  });
}

}  // namespace berth::cmd
