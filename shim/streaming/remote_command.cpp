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

constexpr std::array<std::string_view, 4> kSpdyProtocols = {kRemoteCommandV4, kRemoteCommandV3,
                                                            kRemoteCommandV2, kRemoteCommandV1};

// The SPDY stream types, indexed by CommandChannel.
constexpr std::array<std::string_view, kCommandChannels> kStreamTypes = {
    "stdin", "stdout", "stderr", "error", "resize"};

std::optional<CommandChannel> channelOf(std::string_view streamType) {
  for (std::size_t i = 0; i < kCommandChannels; ++i)
    if (kStreamTypes[i] == streamType) return static_cast<CommandChannel>(i);
  return std::nullopt;
}

// Forwards a pipe to a channel until every write end is closed, then ends the channel.
void pump(const CommandSession::Send& send, int fd, CommandChannel channel) {
  char buf[32 * 1024];
  bool connected = true;
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    // Once the client is gone, keep draining: a writer blocked on a full pipe would never exit.
    if (connected)
      connected = send(channel, std::string_view(buf, static_cast<std::size_t>(n)), false);
  }
  if (connected) (void)send(channel, {}, /*fin=*/true);
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

Result<std::unique_ptr<CommandSession>> CommandSession::create(const RemoteCommandOptions& options,
                                                               bool resizable) {
  std::unique_ptr<CommandSession> s(new CommandSession());
  auto want = [&](CommandChannel c, bool on) { s->wanted_[static_cast<int>(c)] = on; };
  want(CommandChannel::kError, true);
  want(CommandChannel::kStdin, options.stdin);
  want(CommandChannel::kStdout, options.stdout);
  want(CommandChannel::kStderr, options.stderr && !options.tty);
  want(CommandChannel::kResize, options.tty && resizable);
  s->streams_.tty = options.tty;
  if (s->wants(CommandChannel::kStdin))
    std::tie(s->streams_.stdinRead, s->stdinWrite_) = BERTH_TRY(makePipe());
  if (s->wants(CommandChannel::kStdout))
    std::tie(s->stdoutRead_, s->streams_.stdoutWrite) = BERTH_TRY(makePipe());
  if (s->wants(CommandChannel::kStderr))
    std::tie(s->stderrRead_, s->streams_.stderrWrite) = BERTH_TRY(makePipe());
  if (s->wants(CommandChannel::kResize)) s->streams_.resizes = &s->resizes_;
  return s;
}

void CommandSession::input(CommandChannel channel, std::string_view data) {
  if (channel == CommandChannel::kStdin && stdinWrite_) {
    if (!data.empty() && !writeAll(stdinWrite_.get(), data)) stdinWrite_.reset();
  } else if (channel == CommandChannel::kResize && wants(CommandChannel::kResize)) {
    // A stream of JSON objects {"Width":w,"Height":h}, split across messages at will.
    resizeBuf_.append(data);
    std::size_t end;
    while ((end = resizeBuf_.find('}')) != std::string::npos) {
      auto j = nlohmann::json::parse(resizeBuf_.substr(0, end + 1), nullptr, false);
      resizeBuf_.erase(0, end + 1);
      if (!j.is_object()) continue;
      TerminalSize t;
      t.width = j.value("Width", std::uint16_t{0});
      t.height = j.value("Height", std::uint16_t{0});
      resizes_.push(t);
    }
  }
}

void CommandSession::endInput(CommandChannel channel) {
  if (channel == CommandChannel::kStdin) stdinWrite_.reset();
}

void CommandSession::clientGone() {
  stdinWrite_.reset();  // EOF for the command's stdin
  resizes_.close();
}

std::string CommandSession::run(const CommandRunner& runner, const Send& send, bool statusJson) {
  // Output pipes, forwarded by one thread each.
  std::vector<std::thread> pumps;
  if (stdoutRead_)
    pumps.emplace_back(pump, std::cref(send), stdoutRead_.get(), CommandChannel::kStdout);
  if (stderrRead_)
    pumps.emplace_back(pump, std::cref(send), stderrRead_.get(), CommandChannel::kStderr);
  CommandOutcome outcome = runner(streams_);
  streams_ = CommandStreams{};  // whatever the runner kept open ends here
  for (auto& t : pumps)
    t.join();
  if (statusJson) return remoteCommandStatusJson(outcome);
  if (!outcome.error.empty()) return outcome.error;
  if (outcome.exitCode != 0)
    return fmt::format("command terminated with non-zero exit code: {}", outcome.exitDetail);
  return {};
}

Status serveRemoteCommand(UniqueFd socket, const HttpRequest& request, std::string pending,
                          const RemoteCommandOptions& options, const CommandRunner& run) {
  std::string protocol = BERTH_TRY(acceptSpdyUpgrade(socket.get(), request, kSpdyProtocols));
  bool v4 = protocol == kRemoteCommandV4;
  bool resizable = v4 || protocol == kRemoteCommandV3;
  // Every pipe before the reader thread starts: nothing below may fail before it is joined.
  auto session = BERTH_TRY(CommandSession::create(options, resizable));
  int expected = 0;
  for (std::size_t i = 0; i < kCommandChannels; ++i)
    expected += session->wants(static_cast<CommandChannel>(i));

  SpdyConnection conn(std::move(socket), std::move(pending));
  // What the reader thread and this one share: the stream id of each channel (0: not opened).
  std::mutex mu;
  std::condition_variable cv;
  std::array<std::uint32_t, kCommandChannels> ids{};
  int opened = 0;
  bool readerDone = false;
  auto idOf = [&](CommandChannel c) {
    std::lock_guard lock(mu);
    return ids[static_cast<int>(c)];
  };

  SpdyConnection::Handlers h;
  h.onStream = [&](const spdy::Frame& f) {
    auto type = spdy::findHeader(f.headers, "streamtype");
    auto channel = type ? channelOf(*type) : std::nullopt;
    if (!channel) {
      (void)conn.reset(f.streamId, spdy::kRefusedStream);
      return;
    }
    (void)conn.reply(f.streamId);
    std::lock_guard lock(mu);
    auto& id = ids[static_cast<int>(*channel)];
    if (id == 0 && session->wants(*channel)) ++opened;
    id = f.streamId;
    cv.notify_all();
  };
  h.onData = [&](std::uint32_t id, std::string_view data, bool fin) {
    for (auto c : {CommandChannel::kStdin, CommandChannel::kResize}) {
      if (id == 0 || id != idOf(c)) continue;
      session->input(c, data);
      if (fin) session->endInput(c);
    }
  };
  h.onReset = [&](std::uint32_t id) {
    if (id == idOf(CommandChannel::kStdin)) session->endInput(CommandChannel::kStdin);
  };
  std::thread reader([&] {
    (void)conn.serve(h);
    session->clientGone();
    std::lock_guard lock(mu);
    readerDone = true;
    cv.notify_all();
  });
  auto finish = [&] {
    conn.closeAfter(kRemoteCommandCloseGrace);
    reader.join();
  };

  {
    std::unique_lock lock(mu);
    bool all = cv.wait_for(lock, options.streamCreationTimeout,
                           [&] { return opened >= expected || readerDone; });
    if (!all || opened < expected) {
      lock.unlock();
      finish();
      return fail(Code::kDeadlineExceeded, "remote command: timed out waiting for {} streams",
                  expected);
    }
  }
  std::string report = session->run(
      run,
      [&](CommandChannel c, std::string_view data, bool fin) {
        return !!conn.send(idOf(c), data, fin);
      },
      v4);
  (void)conn.send(idOf(CommandChannel::kError), report, /*fin=*/true);
  finish();
  return {};
}

}  // namespace berth::shim
