#include "common/http/stream_proxy.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

namespace berth::http {
namespace {

// How long the backend may take to answer the request with a response head.
constexpr auto kHeadTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxHeadBytes = 64 * 1024;
constexpr std::size_t kMaxErrorBodyBytes = 1 << 20;

// Hop-by-hop for a proxy, or ours to set. For an upgrade the Connection/Upgrade pair goes
// through, since that is the point.
bool dropRequestHeader(std::string_view name, bool upgrade) {
  for (std::string_view h : {"Host", "Authorization", "Content-Length", "Transfer-Encoding",
                             "Proxy-Connection", "Proxy-Authorization", "Keep-Alive", "TE"})
    if (Headers::nameEquals(name, h)) return true;
  if (upgrade) return false;
  // No compression asked for: the body is relayed as the backend sends it.
  for (std::string_view h : {"Connection", "Upgrade", "Accept-Encoding"})
    if (Headers::nameEquals(name, h)) return true;
  return false;
}

bool dropResponseHeader(std::string_view name) {
  for (std::string_view h : {"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive"})
    if (Headers::nameEquals(name, h)) return true;
  return false;
}

struct Head {
  int status = 0;
  Headers headers;
};

Result<Head> parseHead(std::string_view head) {
  auto eol = head.find("\r\n");
  std::string_view statusLine = head.substr(0, eol);
  if (!statusLine.starts_with("HTTP/1.") || statusLine.size() < 12)
    return fail(Code::kInternal, "backend: bad status line {:?}", statusLine);
  Head h;
  h.status = std::atoi(std::string(statusLine.substr(9, 3)).c_str());
  for (std::size_t pos = eol + 2; pos < head.size();) {
    auto end = head.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    std::string_view line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
      h.headers.add(std::string(line.substr(0, colon)), std::string(value));
    }
    pos = end + 2;
  }
  return h;
}

// The backend's response as it arrives: bytes read but not yet used stay in buffer_.
class ResponseReader {
 public:
  explicit ResponseReader(BackendConnection& conn) : conn_(conn) {}

  Result<Head> head() {
    while (true) {
      if (auto end = buffer_.find("\r\n\r\n"); end != std::string::npos) {
        auto head = BERTH_TRY(parseHead(std::string_view(buffer_).substr(0, end + 2)));
        buffer_.erase(0, end + 4);
        return head;
      }
      if (buffer_.size() > kMaxHeadBytes)
        return fail(Code::kInternal, "backend: response head too large");
      if (!BERTH_TRY(fill(kHeadTimeout)))
        return fail(Code::kUnavailable, "backend closed the connection before answering");
    }
  }

  // Reads more into the buffer; false at the end of the stream.
  Result<bool> fill(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    char chunk[16 * 1024];
    auto n = BERTH_TRY(conn_.read(std::span<char>(chunk, sizeof chunk), timeout));
    buffer_.append(chunk, n);
    return n > 0;
  }

  // Up to `max` bytes, at least one unless the stream ended ("").
  Result<std::string> some(std::size_t max) {
    if (buffer_.empty() && !BERTH_TRY(fill())) return std::string();
    std::string out = buffer_.substr(0, max);
    buffer_.erase(0, out.size());
    return out;
  }

  Result<std::string> line() {
    while (true) {
      if (auto end = buffer_.find("\r\n"); end != std::string::npos) {
        std::string out = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return out;
      }
      if (buffer_.size() > kMaxHeadBytes || !BERTH_TRY(fill()))
        return fail(Code::kUnavailable, "backend: truncated chunked body");
    }
  }

  std::string& buffer() { return buffer_; }

 private:
  BackendConnection& conn_;
  std::string buffer_;
};

Result<std::unique_ptr<BackendConnection>> sendRequest(const Request& request,
                                                       const std::string& url,
                                                       const ClientTlsConfig* tls, bool upgrade) {
  auto u = BERTH_TRY(parseBackendUrl(url));
  auto conn = BERTH_TRY(BackendConnection::dial(u, tls));
  std::string out =
      fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method, u.pathAndQuery, u.hostHeader);
  for (const auto& [name, value] : request.headers.fields())
    if (!dropRequestHeader(name, upgrade)) out += fmt::format("{}: {}\r\n", name, value);
  if (!upgrade) out += "Connection: close\r\n";
  if (!request.body.empty()) out += fmt::format("Content-Length: {}\r\n", request.body.size());
  out += "\r\n";
  out += request.body;
  BERTH_TRY(conn->writeAll(out));
  return conn;
}

// A refusal from the backend (a bad token, an unknown container) goes to the client as it is.
void relayRefusal(ResponseReader& reader, Head head, ResponseWriter& writer) {
  std::size_t want = kMaxErrorBodyBytes;
  if (auto cl = head.headers.get("Content-Length"))
    want = std::min<std::size_t>(want, std::strtoull(std::string(*cl).c_str(), nullptr, 10));
  std::string& body = reader.buffer();
  while (body.size() < want) {
    auto more = reader.fill(kHeadTimeout);
    if (!more || !*more) break;
  }
  body.resize(std::min(body.size(), want));
  Response r{.status = head.status, .body = std::move(body)};
  for (const auto& [name, value] : head.headers.fields())
    if (!dropResponseHeader(name)) r.headers.add(name, value);
  writer.respond(std::move(r));
}

// Copies both ways; when either direction ends, both connections close (as the
// UpgradeAwareHandler does: the stream protocols end their own streams before that).
void splice(Stream& client, BackendConnection& backend) {
  std::thread up([&client, &backend] {
    char buf[32 * 1024];
    while (true) {
      auto n = client.read(std::span<char>(buf, sizeof buf));
      if (!n || *n == 0) break;
      if (!backend.writeAll(std::string_view(buf, *n))) break;
    }
    backend.shutdown();
  });
  char buf[32 * 1024];
  while (true) {
    auto n = backend.read(std::span<char>(buf, sizeof buf));
    if (!n || *n == 0) break;
    if (!client.writeAll(std::string_view(buf, *n))) break;
  }
  client.close();
  backend.shutdown();
  up.join();
}

// The body after the head, framed as the backend framed it, to the client as it comes.
Status relayBody(ResponseReader& reader, const Head& head, ResponseWriter& writer) {
  constexpr std::size_t kPiece = 32 * 1024;
  auto te = head.headers.get("Transfer-Encoding");
  if (te && te->find("chunked") != std::string_view::npos) {
    while (true) {
      std::string sizeLine = BERTH_TRY(reader.line());
      std::size_t size = std::strtoull(sizeLine.c_str(), nullptr, 16);
      if (size == 0) return {};  // trailers, if any, are not relayed
      while (size > 0) {
        std::string piece = BERTH_TRY(reader.some(std::min(size, kPiece)));
        if (piece.empty()) return fail(Code::kUnavailable, "backend: truncated chunked body");
        size -= piece.size();
        if (!writer.write(std::move(piece))) return {};
      }
      BERTH_TRY(reader.line());
    }
  }
  std::optional<std::size_t> left;
  if (auto cl = head.headers.get("Content-Length"))
    left = std::strtoull(std::string(*cl).c_str(), nullptr, 10);
  while (!left || *left > 0) {
    std::string piece = BERTH_TRY(reader.some(left ? std::min(*left, kPiece) : kPiece));
    if (piece.empty()) return {};
    if (left) *left -= piece.size();
    if (!writer.write(std::move(piece))) return {};
  }
  return {};
}

}  // namespace

bool isUpgradeRequest(const Request& request) {
  bool connectionUpgrade = false;
  for (const auto& v : request.headers.values("Connection")) {
    std::string lower(v);
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.find("upgrade") != std::string::npos) connectionUpgrade = true;
  }
  return connectionUpgrade && request.headers.has("Upgrade");
}

Status proxyUpgrade(const Request& request, ResponseWriter& writer, const std::string& url,
                    const ClientTlsConfig* tls) {
  auto backend = BERTH_TRY(sendRequest(request, url, tls, true));
  ResponseReader reader(*backend);
  auto head = BERTH_TRY(reader.head());
  if (head.status != 101) {
    relayRefusal(reader, std::move(head), writer);
    return {};
  }
  auto client = BERTH_TRY(writer.upgrade(Response{.status = 101, .headers = head.headers}));
  if (!reader.buffer().empty() && !client->writeAll(reader.buffer())) return {};
  splice(*client, *backend);
  return {};
}

Status proxyRequest(const Request& request, ResponseWriter& writer, const std::string& url,
                    const ClientTlsConfig* tls) {
  std::shared_ptr<BackendConnection> backend = BERTH_TRY(sendRequest(request, url, tls, false));
  ResponseReader reader(*backend);
  auto head = BERTH_TRY(reader.head());
  Headers headers;
  for (const auto& [name, value] : head.headers.fields())
    if (!dropResponseHeader(name)) headers.add(name, value);
  // A client that goes away ends a followed log, which would otherwise wait for the next line.
  writer.onClose([weak = std::weak_ptr(backend)] {
    if (auto b = weak.lock()) b->shutdown();
  });
  if (!writer.start(head.status, std::move(headers))) return {};
  auto st = relayBody(reader, head, writer);
  writer.finish();
  return st;
}

}  // namespace berth::http
