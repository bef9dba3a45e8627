// Watch requests: a chunked stream of WatchEvents fed by the watch cache's dispatch thread. No
// thread waits on a watch: the cache writes events into the response's queue, the client's
// going away or the server-side timeout ends it.
#include <random>

#include "controlplane/apiserver/api_call.h"

namespace berth::controlplane::apiserver {
namespace {

// One watch response and what must be released with it, from whichever side ends first.
struct WatchStream {
  std::shared_ptr<http::ResponseWriter> writer;
  std::mutex mu;
  std::unique_ptr<storage::WatchHandle> handle;
  bool ended = false;
  bool first = true;  // the first Table event carries the column definitions
  std::function<void()> cancelTimeout;

  // Drops the cache's watcher; safe to call more than once, never from the cache's thread.
  void end(bool finishResponse) {
    std::unique_ptr<storage::WatchHandle> dropped;
    std::function<void()> cancel;
    {
      std::lock_guard lock(mu);
      if (ended) return;
      ended = true;
      dropped = std::move(handle);
      if (!finishResponse) cancel = cancelTimeout;
    }
    dropped.reset();
    if (cancel) cancel();
    if (finishResponse) writer->finish();
  }
};

std::chrono::seconds spreadTimeout(std::chrono::seconds base) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(1.0, 2.0);
  return std::chrono::seconds(static_cast<std::int64_t>(base.count() * factor(rng)));
}

}  // namespace

void ApiServer::watch(Call& call) {
  auto options = parseListOptions(call.request.query);
  if (options) {
    if (auto checked = checkFieldSelector(call, *options); !checked) {
      options = std::unexpected(checked.error());
    }
  }
  if (!options) {
    call.writer->respond(statusResponse(options.error()));
    return;
  }

  auto stream = std::make_shared<WatchStream>();
  stream->writer = call.writer;
  call.writer->onClose([stream] { stream->end(false); });
  http::Headers headers;
  headers.set("Content-Type", Encoder::contentType(call.output));
  headers.set("Cache-Control", "no-cache, private");
  if (!call.writer->start(200, std::move(headers))) return;

  const schema::ServedResource& served = *call.served;
  Negotiated output = call.output;
  const Encoder& encoder = encoder_;
  auto sink = [this, stream, &served, output, &encoder](const storage::WatchEvent& event) {
    bool withColumns;
    {
      std::lock_guard lock(stream->mu);
      if (stream->ended) return false;
      withColumns = stream->first;
      stream->first = false;
    }
    bool open = stream->writer->write(encoder.watchEvent(output, served, event, withColumns));
    if (event.type == storage::WatchEvent::Type::kError) {
      // The cache ends this watch; the response ends off the cache's thread.
      watchTimeouts_.add(WatchTimeouts::Clock::now(), [stream] { stream->end(true); });
      return false;
    }
    return open;
  };
  auto handle = call.store().watch(call.info.namespace_, *options, std::move(sink));
  if (!handle) {
    // As the apiserver: the stream is open, the failure is its one ERROR event.
    std::string line = R"({"type":"ERROR","object":)" + handle.error().body() + "}\n";
    call.writer->write(std::move(line));
    stream->end(true);
    return;
  }
  {
    std::lock_guard lock(stream->mu);
    if (stream->ended) return;  // the client left while we registered; the handle goes now
    stream->handle = std::move(*handle);
  }
  std::chrono::seconds timeout =
      options->timeout.value_or(spreadTimeout(options_.minRequestTimeout));
  std::uint64_t id =
      watchTimeouts_.add(WatchTimeouts::Clock::now() + timeout, [stream] { stream->end(true); });
  std::lock_guard lock(stream->mu);
  stream->cancelTimeout = [this, id] { watchTimeouts_.cancel(id); };
  if (stream->ended) watchTimeouts_.cancel(id);
}

}  // namespace berth::controlplane::apiserver
