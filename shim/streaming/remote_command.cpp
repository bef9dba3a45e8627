#include "shim/streaming/remote_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "shim/streaming/spdy_connection.h"

namespace berth::shim {
namespace {

constexpr std::array<std::string_view, 4> kProtocols = {kRemoteCommandV4, kRemoteCommandV3,
                                                        kRemoteCommandV2, kRemoteCommandV1};
// How long the peer has to close after we said GOAWAY.
constexpr std::chrono::milliseconds kCloseGrace{5000};

Status makePipe(UniqueFd& r, UniqueFd& w) {
  std::tie(r, w) = BERTH_TRY(berth::makePipe());
  return {};
}

enum Channel { kError, kStdin, kStdout, kStderr, kResize, kChannels };

std::optional<Channel> channelOf(std::string_view streamType) {
  static constexpr std::array<std::string_view, kChannels> kNames = {"error", "stdin", "stdout",
                                                                     "stderr", "resize"};
  for (int i = 0; i < kChannels; ++i)
    if (kNames[i] == streamType) return static_cast<Channel>(i);
  return std::nullopt;
}

// What the reader thread and the serving thread share.
struct Session {
  std::mutex mu;
  std::condition_variable cv;
  std::array<std::uint32_t, kChannels> ids{};  // 0: not opened
  int opened = 0;
  bool readerDone = false;
  UniqueFd stdinWrite;  // written by the reader thread
  std::string resizeBuf;
  ResizeQueue resizes;
};

void parseResizes(Session& s, std::string_view data) {
  // A stream of JSON objects {"Width":w,"Height":h}, split across frames at will.
  s.resizeBuf.append(data);
  std::size_t end;
  while ((end = s.resizeBuf.find('}')) != std::string::npos) {
    auto j = nlohmann::json::parse(s.resizeBuf.substr(0, end + 1), nullptr, false);
    s.resizeBuf.erase(0, end + 1);
    if (!j.is_object()) continue;
    TerminalSize t;
    t.width = j.value("Width", std::uint16_t{0});
    t.height = j.value("Height", std::uint16_t{0});
    s.resizes.push(t);
  }
}

// Forwards a pipe to a stream until every write end is closed, then ends the stream.
void pump(SpdyConnection& conn, int fd, std::uint32_t streamId) {
  char buf[32 * 1024];
  bool connected = true;
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    // Once the client is gone, keep draining: a writer blocked on a full pipe would never exit.
    if (connected)
      connected = !!conn.send(streamId, std::string_view(buf, static_cast<std::size_t>(n)));
  }
  if (connected) (void)conn.send(streamId, {}, /*fin=*/true);
}

}  // namespace

void ResizeQueue::push(TerminalSize size) {
  {
    std::lock_guard lock(mu_);
    sizes_.push_back(size);
  }
  cv_.notify_all();
}

void ResizeQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::optional<TerminalSize> ResizeQueue::pop() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return closed_ || !sizes_.empty(); });
  if (sizes_.empty()) return std::nullopt;
  TerminalSize t = sizes_.front();
  sizes_.pop_front();
  return t;
}

std::string remoteCommandStatusJson(const CommandOutcome& o) {
  nlohmann::ordered_json j;
  j["metadata"] = nlohmann::json::object();
  if (o.error.empty() && o.exitCode == 0) {
    j["status"] = "Success";
  } else if (o.error.empty()) {
    // client-go's v4 decoder turns this into an exit error carrying the code.
    j["status"] = "Failure";
    j["message"] = fmt::format("command terminated with non-zero exit code: {}", o.exitDetail);
    j["reason"] = "NonZeroExitCode";
    j["details"]["causes"] = {{{"reason", "ExitCode"}, {"message", std::to_string(o.exitCode)}}};
  } else {
    j["status"] = "Failure";
    j["message"] = "Internal error occurred: " + o.error;
    j["reason"] = "InternalError";
    j["details"]["causes"] = {{{"message", o.error}}};
    j["code"] = 500;
  }
  return j.dump();
}

Status serveRemoteCommand(UniqueFd socket, const HttpRequest& request, std::string pending,
                          const RemoteCommandOptions& options, const CommandRunner& run) {
  std::string protocol = BERTH_TRY(acceptSpdyUpgrade(socket.get(), request, kProtocols));
  bool v4 = protocol == kRemoteCommandV4;
  bool resizable = v4 || protocol == kRemoteCommandV3;

  // The channels the request asked for (error always).
  std::array<bool, kChannels> wanted{};
  wanted[kError] = true;
  wanted[kStdin] = options.stdin;
  wanted[kStdout] = options.stdout;
  wanted[kStderr] = options.stderr && !options.tty;
  wanted[kResize] = options.tty && resizable;
  int expected = static_cast<int>(std::count(wanted.begin(), wanted.end(), true));

  SpdyConnection conn(std::move(socket), std::move(pending));
  Session s;
  CommandStreams streams;
  streams.tty = options.tty;
  // Every pipe before the reader thread starts: nothing below may fail before it is joined.
  UniqueFd stdoutRead, stderrRead;
  if (wanted[kStdin]) BERTH_TRY(makePipe(streams.stdinRead, s.stdinWrite));
  if (wanted[kStdout]) BERTH_TRY(makePipe(stdoutRead, streams.stdoutWrite));
  if (wanted[kStderr]) BERTH_TRY(makePipe(stderrRead, streams.stderrWrite));

  SpdyConnection::Handlers h;
  h.onStream = [&](const spdy::Frame& f) {
    auto type = spdy::findHeader(f.headers, "streamtype");
    auto channel = type ? channelOf(*type) : std::nullopt;
    if (!channel) {
      (void)conn.reset(f.streamId, spdy::kRefusedStream);
      return;
    }
    (void)conn.reply(f.streamId);
    std::lock_guard lock(s.mu);
    if (s.ids[*channel] == 0 && wanted[*channel]) ++s.opened;
    s.ids[*channel] = f.streamId;
    s.cv.notify_all();
  };
  h.onData = [&](std::uint32_t id, std::string_view data, bool fin) {
    std::uint32_t stdinId, resizeId;
    {
      std::lock_guard lock(s.mu);
      stdinId = s.ids[kStdin];
      resizeId = s.ids[kResize];
    }
    if (id != 0 && id == stdinId && s.stdinWrite) {
      if (!data.empty() && !writeAll(s.stdinWrite.get(), data)) s.stdinWrite.reset();
      if (fin) s.stdinWrite.reset();
    } else if (id != 0 && id == resizeId) {
      parseResizes(s, data);
    }
  };
  h.onReset = [&](std::uint32_t id) {
    std::lock_guard lock(s.mu);
    if (id == s.ids[kStdin]) s.stdinWrite.reset();
  };
  std::thread reader([&] {
    (void)conn.serve(h);
    s.stdinWrite.reset();  // the client is gone: EOF for the command's stdin
    s.resizes.close();
    std::lock_guard lock(s.mu);
    s.readerDone = true;
    s.cv.notify_all();
  });
  auto finish = [&] {
    conn.closeAfter(kCloseGrace);
    reader.join();
  };

  {
    std::unique_lock lock(s.mu);
    bool all = s.cv.wait_for(lock, options.streamCreationTimeout,
                             [&] { return s.opened >= expected || s.readerDone; });
    if (!all || s.opened < expected) {
      lock.unlock();
      finish();
      return fail(Code::kDeadlineExceeded, "remote command: timed out waiting for {} streams",
                  expected);
    }
  }
  // Output pipes, forwarded by one thread each.
  std::vector<std::thread> pumps;
  if (stdoutRead) pumps.emplace_back(pump, std::ref(conn), stdoutRead.get(), s.ids[kStdout]);
  if (stderrRead) pumps.emplace_back(pump, std::ref(conn), stderrRead.get(), s.ids[kStderr]);
  if (wanted[kResize]) streams.resizes = &s.resizes;

  CommandOutcome outcome = run(streams);
  streams = CommandStreams{};  // whatever the runner kept open ends here
  for (auto& t : pumps)
    t.join();

  std::string report;
  if (v4)
    report = remoteCommandStatusJson(outcome);
  else if (!outcome.error.empty())
    report = outcome.error;
  else if (outcome.exitCode != 0)
    report = fmt::format("command terminated with non-zero exit code: {}", outcome.exitDetail);
  (void)conn.send(s.ids[kError], report, /*fin=*/true);
  finish();
  return {};
}

}  // namespace berth::shim
