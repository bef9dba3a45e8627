#include "kubelet/cri_log.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <limits>

#include "common/event_loop.h"
#include "common/file_util.h"
#include "common/unique_fd.h"

namespace berth::kubelet {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& value) {
  if (pos + n > s.size()) return false;
  value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

Result<LogTime> parseRfc3339(std::string_view s) {
  // 2006-01-02T15:04:05[.fraction](Z|±hh:mm)
  int year, month, day, hour, minute, second;
  bool ok = digits(s, 0, 4, year) && s.size() > 19 && s[4] == '-' && digits(s, 5, 2, month) &&
            s[7] == '-' && digits(s, 8, 2, day) && (s[10] == 'T' || s[10] == 't') &&
            digits(s, 11, 2, hour) && s[13] == ':' && digits(s, 14, 2, minute) && s[16] == ':' &&
            digits(s, 17, 2, second);
  if (!ok) return fail(Code::kInvalidArgument, "timestamp {:?}: not RFC 3339", s);
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (n == 0) return fail(Code::kInvalidArgument, "timestamp {:?}: empty fraction", s);
    for (; n < 9; ++n)
      nanos *= 10;
  }
  int offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else {
    int oh, om;
    if (pos + 6 != s.size() || (s[pos] != '+' && s[pos] != '-') || !digits(s, pos + 1, 2, oh) ||
        s[pos + 3] != ':' || !digits(s, pos + 4, 2, om))
      return fail(Code::kInvalidArgument, "timestamp {:?}: bad zone", s);
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  }
  if (pos != s.size()) return fail(Code::kInvalidArgument, "timestamp {:?}: trailing text", s);
  tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = month - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = minute;
  t.tm_sec = second;
  std::int64_t secs = ::timegm(&t) - offset;
  return LogTime{secs * kNanosPerSecond + nanos, offset};
}

std::string formatRfc3339NanoFixed(LogTime time) {
  std::int64_t secs = time.unixNanos / kNanosPerSecond;
  std::int64_t nanos = time.unixNanos % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --secs;
  }
  time_t local = static_cast<time_t>(secs + time.offsetSeconds);
  tm t{};
  ::gmtime_r(&local, &t);
  std::string zone = "Z";
  if (time.offsetSeconds != 0) {
    int off = time.offsetSeconds < 0 ? -time.offsetSeconds : time.offsetSeconds;
    zone = fmt::format("{}{:02}:{:02}", time.offsetSeconds < 0 ? '-' : '+', off / 3600,
                       off % 3600 / 60);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}{}", t.tm_year + 1900, t.tm_mon + 1,
                     t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, nanos, zone);
}

Result<CriLogLine> parseCriLogLine(std::string_view line) {
  auto field = [&line](std::string_view what) -> Result<std::string_view> {
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) return fail(Code::kInvalidArgument, "log line: no {}", what);
    auto f = line.substr(0, sp);
    line.remove_prefix(sp + 1);
    return f;
  };
  CriLogLine out;
  out.time = BERTH_TRY(parseRfc3339(BERTH_TRY(field("timestamp"))));
  out.stream = BERTH_TRY(field("stream"));
  if (out.stream != "stdout" && out.stream != "stderr")
    return fail(Code::kInvalidArgument, "log line: unknown stream {:?}", out.stream);
  // The tag is "P" or "F", possibly with more ':'-separated tags after it (CRI).
  auto tags = BERTH_TRY(field("tag"));
  auto first = tags.substr(0, tags.find(':'));
  if (first != "P" && first != "F")
    return fail(Code::kInvalidArgument, "log line: unknown tag {:?}", tags);
  out.partial = first == "P";
  out.text = line;
  return out;
}

LogDecoder::LogDecoder(const LogOptions& options)
    : since_(options.sinceNanos),
      timestamps_(options.timestamps),
      remaining_(options.limitBytes.value_or(std::numeric_limits<std::int64_t>::max())) {}

bool LogDecoder::decode(std::string_view fileLine, std::string& out) {
  if (remaining_ <= 0) return false;
  auto line = parseCriLogLine(fileLine);
  if (!line) return true;
  if (since_ && line->time.unixNanos < *since_) return true;
  std::string piece;
  if (timestamps_ && atLineStart_) piece = formatRfc3339NanoFixed(line->time) + " ";
  piece.append(line->text);
  if (!line->partial) piece += '\n';
  atLineStart_ = !line->partial;
  if (static_cast<std::int64_t>(piece.size()) > remaining_)
    piece.resize(static_cast<std::size_t>(remaining_));
  remaining_ -= static_cast<std::int64_t>(piece.size());
  out += piece;
  return remaining_ > 0;
}

Result<std::int64_t> tailStartOffset(int fd, std::int64_t lines) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return failErrno("fstat log file");
  std::int64_t end = st.st_size;
  if (lines <= 0) return end;
  // Walk back in blocks counting '\n'; a newline that ends the file does not start a line.
  constexpr std::int64_t kBlock = 4096;
  std::int64_t pos = end;
  std::int64_t found = 0;
  char buf[kBlock];
  while (pos > 0) {
    std::int64_t start = pos > kBlock ? pos - kBlock : 0;
    auto n = ::pread(fd, buf, static_cast<std::size_t>(pos - start), start);
    if (n < 0) return failErrno("read log file");
    if (n != pos - start) return fail(Code::kDataLoss, "log file shrank while reading it");
    for (std::int64_t i = n - 1; i >= 0; --i) {
      if (buf[i] != '\n' || start + i == end - 1) continue;
      if (++found == lines) return start + i + 1;
    }
    pos = start;
  }
  return 0;
}

namespace {

// Reads complete lines from the current offset; keeps an incomplete last line for later.
class LineReader {
 public:
  explicit LineReader(UniqueFd fd) : fd_(std::move(fd)) {}

  // Calls onLine for each complete line available now; false when onLine asked to stop.
  Result<bool> readAvailable(const std::function<bool(std::string_view)>& onLine) {
    char buf[32 * 1024];
    while (true) {
      auto n = ::read(fd_.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return failErrno("read log file");
      }
      if (n == 0) return true;
      pending_.append(buf, static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (auto nl = pending_.find('\n'); nl != std::string::npos;
           nl = pending_.find('\n', start)) {
        if (!onLine(std::string_view(pending_).substr(start, nl - start))) return false;
        start = nl + 1;
      }
      pending_.erase(0, start);
    }
  }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string pending_;
};

// Waits for writes to one file with inotify through the event loop.
class FileWatch {
 public:
  static Result<FileWatch> open(const std::filesystem::path& path) {
    UniqueFd in(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!in) return failErrno("inotify_init1");
    if (::inotify_add_watch(in.get(), path.c_str(), IN_MODIFY | IN_CLOSE_WRITE) < 0)
      return failErrno("watch " + path.string());
    auto loop = BERTH_TRY(EventLoop::create());
    FileWatch w(std::move(in), std::move(loop));
    return w;
  }
  // True when the file changed within `timeout`.
  Result<bool> wait(std::chrono::milliseconds timeout) {
    bool changed = false;
    int fd = inotify_.get();
    BERTH_TRY(loop_->add(fd, EPOLLIN, [fd, &changed](std::uint32_t) {
      char buf[4096];
      while (::read(fd, buf, sizeof buf) > 0) {
      }
      changed = true;
    }));
    auto ran = loop_->runOnce(static_cast<int>(timeout.count()));
    loop_->remove(fd);
    if (!ran) return std::unexpected(ran.error());
    return changed;
  }

 private:
  FileWatch(UniqueFd inotify, EventLoop loop)
      : inotify_(std::move(inotify)), loop_(std::make_unique<EventLoop>(std::move(loop))) {}
  UniqueFd inotify_;
  std::unique_ptr<EventLoop> loop_;
};

}  // namespace

Status readContainerLog(const std::filesystem::path& path, const LogOptions& options,
                        const std::function<bool(std::string)>& sink, const FollowHooks& hooks) {
  auto fd = BERTH_TRY_CTX(openFd(path, O_RDONLY | O_CLOEXEC), "open log file " + path.string());
  if (options.tailLines) {
    auto start = BERTH_TRY(tailStartOffset(fd.get(), *options.tailLines));
    if (::lseek(fd.get(), start, SEEK_SET) < 0) return failErrno("seek log file");
  }
  std::optional<FileWatch> watch;
  if (options.follow) watch = BERTH_TRY(FileWatch::open(path));
  LineReader reader(std::move(fd));
  LogDecoder decoder(options);
  bool stopped = false;
  auto drain = [&]() -> Status {
    std::string out;
    auto more = BERTH_TRY(reader.readAvailable([&](std::string_view line) {
      bool go = decoder.decode(line, out);
      // Hand over in pieces of bounded size so a big file streams.
      if (out.size() >= 32 * 1024 || !go) {
        if (!sink(std::move(out))) go = false;
        out.clear();
      }
      return go;
    }));
    if (!out.empty() && !sink(std::move(out))) more = false;
    stopped = !more || decoder.exhausted();
    return {};
  };
  BERTH_TRY(drain());
  while (options.follow && !stopped) {
    if (hooks.cancelled && hooks.cancelled()) return {};
    bool changed = BERTH_TRY(watch->wait(hooks.recheck));
    if (!changed && hooks.containerRunning && !hooks.containerRunning()) {
      // It exited: what it wrote before is in the file now.
      return drain();
    }
    BERTH_TRY(drain());
  }
  return {};
}

std::string lastLogOutput(const std::filesystem::path& path) {
  constexpr std::int64_t kLines = 80;
  constexpr std::size_t kBytes = 2048;
  std::string out;
  Status st = readContainerLog(path, {.tailLines = kLines}, [&](std::string piece) {
    out += piece;
    return true;
  });
  if (!st) return "Error on reading termination message from logs: " + st.error().message();
  if (out.size() > kBytes) out.erase(0, out.size() - kBytes);
  return out;
}

}  // namespace berth::kubelet
