#include "shim/monitor/cri_log.h"

#include <fcntl.h>

#include <fmt/format.h>

#include "common/file_util.h"

namespace berth::shim {

std::string_view logStreamName(LogStream stream) {
  return stream == LogStream::kStdout ? "stdout" : "stderr";
}

std::string formatRfc3339Nano(const timespec& ts) {
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (ts.tv_nsec != 0) {
    std::string frac = fmt::format(".{:09}", ts.tv_nsec);
    while (frac.back() == '0')
      frac.pop_back();
    out += frac;
  }
  out += 'Z';
  return out;
}

namespace {

timespec realtimeNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

Result<UniqueFd> openLog(const std::filesystem::path& path) {
  return withContext(openFd(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640),
                     fmt::format("open container log {}", path.string()));
}

}  // namespace

CriLogWriter::CriLogWriter(std::filesystem::path path, UniqueFd fd, Clock clock,
                           std::size_t maxLine)
    : path_(std::move(path)), fd_(std::move(fd)), clock_(std::move(clock)), maxLine_(maxLine) {
  if (!clock_) clock_ = realtimeNow;
}

Result<CriLogWriter> CriLogWriter::open(std::filesystem::path path, Clock clock,
                                        std::size_t maxLine) {
  if (maxLine == 0) return fail(Code::kInvalidArgument, "log line size must be positive");
  UniqueFd fd = BERTH_TRY(openLog(path));
  return CriLogWriter(std::move(path), std::move(fd), std::move(clock), maxLine);
}

void CriLogWriter::appendRecord(std::string& out, std::string_view timestamp, LogStream stream,
                                std::string_view content, bool partial) {
  if (!partial && !content.empty() && content.back() == '\r') content.remove_suffix(1);
  out += timestamp;
  out += ' ';
  out += logStreamName(stream);
  out += partial ? " P " : " F ";
  out += content;
  out += '\n';
}

Status CriLogWriter::flush(std::string& out) {
  if (out.empty()) return {};
  return withContext(writeAll(fd_.get(), out), fmt::format("write {}", path_.string()));
}

Status CriLogWriter::write(LogStream stream, std::string_view data) {
  std::string& pending = pending_[static_cast<int>(stream)];
  // One timestamp for what arrived in one read: the lines reached us together (and a clock
  // read and format per line would cost more than the rest of the formatting).
  std::string ts = formatRfc3339Nano(clock_());
  std::string out;
  out.reserve(data.size() + data.size() / 8);
  while (!data.empty()) {
    std::size_t nl = data.find('\n');
    std::string_view piece = data.substr(0, nl);
    if (pending.size() + piece.size() > maxLine_) {
      // The line outgrows the maximum: emit a partial chunk of exactly maxLine_ bytes.
      std::size_t take = maxLine_ - pending.size();
      pending.append(data.substr(0, take));
      appendRecord(out, ts, stream, pending, /*partial=*/true);
      pending.clear();
      data.remove_prefix(take);
      continue;
    }
    if (nl == std::string_view::npos) {
      pending.append(data);
      break;
    }
    if (pending.empty()) {
      appendRecord(out, ts, stream, piece, false);
    } else {
      pending.append(piece);
      appendRecord(out, ts, stream, pending, false);
      pending.clear();
    }
    data.remove_prefix(nl + 1);
  }
  return flush(out);
}

Status CriLogWriter::finish(LogStream stream) {
  std::string& pending = pending_[static_cast<int>(stream)];
  if (pending.empty()) return {};
  std::string out;
  appendRecord(out, formatRfc3339Nano(clock_()), stream, pending, false);
  pending.clear();
  return flush(out);
}

Status CriLogWriter::reopen() {
  fd_ = BERTH_TRY(openLog(path_));
  return {};
}

}  // namespace berth::shim
