#pragma once
// Builds tar layers in memory for the images/ tests (libarchive's writer, pax format), including
// the malicious ones the unpacker must refuse.

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <memory>
#include <string>

namespace berth::images::testing {

enum class Compression { kNone, kGzip, kZstd };

class TarBuilder {
 public:
  TarBuilder() : a_(archive_write_new(), archive_write_free) {
    archive_write_set_format_pax_restricted(a_.get());
    archive_write_set_bytes_in_last_block(a_.get(), 1);
    archive_write_open(a_.get(), &out_, nullptr, append, nullptr);
  }

  TarBuilder& dir(const std::string& name, mode_t mode = 0755, int uid = 0, int gid = 0) {
    return add(name, AE_IFDIR, mode, "", uid, gid);
  }
  TarBuilder& file(const std::string& name, const std::string& data, mode_t mode = 0644,
                   int uid = 0, int gid = 0, std::map<std::string, std::string> xattrs = {}) {
    return add(name, AE_IFREG, mode, data, uid, gid, {}, {}, 0, std::move(xattrs));
  }
  TarBuilder& symlink(const std::string& name, const std::string& target) {
    return add(name, AE_IFLNK, 0777, "", 0, 0, target);
  }
  TarBuilder& hardlink(const std::string& name, const std::string& target) {
    return add(name, AE_IFREG, 0644, "", 0, 0, {}, target);
  }
  TarBuilder& chardev(const std::string& name, unsigned major, unsigned minor) {
    return add(name, AE_IFCHR, 0666, "", 0, 0, {}, {}, makedev(major, minor));
  }
  TarBuilder& fifo(const std::string& name) { return add(name, AE_IFIFO, 0600, ""); }
  // An entry with a raw (unsanitised) name and no data.
  TarBuilder& empty(const std::string& name) { return file(name, ""); }

  // The tar stream, uncompressed.
  std::string finish() {
    archive_write_close(a_.get());
    return out_;
  }

  static std::string compress(const std::string& tar, Compression c) {
    if (c == Compression::kNone) return tar;
    std::string out;
    std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(),
                                                              archive_write_free);
    archive_write_set_format_raw(a.get());
    if (c == Compression::kGzip) archive_write_add_filter_gzip(a.get());
    if (c == Compression::kZstd) archive_write_add_filter_zstd(a.get());
    archive_write_set_bytes_in_last_block(a.get(), 1);
    archive_write_open(a.get(), &out, nullptr, append, nullptr);
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    archive_entry_free);
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_write_header(a.get(), e.get());
    archive_write_data(a.get(), tar.data(), tar.size());
    archive_write_close(a.get());
    return out;
  }

 private:
  static la_ssize_t append(archive*, void* ctx, const void* buf, size_t n) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }

  TarBuilder& add(const std::string& name, unsigned type, mode_t mode, const std::string& data,
                  int uid = 0, int gid = 0, const std::string& symlinkTarget = {},
                  const std::string& hardlinkTarget = {}, dev_t rdev = 0,
                  std::map<std::string, std::string> xattrs = {}) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_uid(e.get(), uid);
    archive_entry_set_gid(e.get(), gid);
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    if (!symlinkTarget.empty()) archive_entry_set_symlink(e.get(), symlinkTarget.c_str());
    if (!hardlinkTarget.empty()) archive_entry_set_hardlink(e.get(), hardlinkTarget.c_str());
    if (rdev) archive_entry_set_rdev(e.get(), rdev);
    for (const auto& [k, v] : xattrs)
      archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    archive_entry_set_size(e.get(),
                           hardlinkTarget.empty() ? static_cast<la_int64_t>(data.size()) : 0);
    archive_write_header(a_.get(), e.get());
    if (!data.empty()) archive_write_data(a_.get(), data.data(), data.size());
    return *this;
  }

  std::unique_ptr<archive, decltype(&archive_write_free)> a_;
  std::string out_;
};

}  // namespace berth::images::testing
