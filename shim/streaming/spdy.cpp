#include "shim/streaming/spdy.h"

#include <array>
#include <cstring>

namespace berth::shim::spdy {
namespace {

constexpr std::uint16_t kVersion = 3;
constexpr std::size_t kFrameHeader = 8;

// SPDY/3's dictionary: length-prefixed header names and values, then common value fragments.
constexpr std::array<std::string_view, 65> kDictionaryWords = {"options",
                                                               "head",
                                                               "post",
                                                               "put",
                                                               "delete",
                                                               "trace",
                                                               "accept",
                                                               "accept-charset",
                                                               "accept-encoding",
                                                               "accept-language",
                                                               "accept-ranges",
                                                               "age",
                                                               "allow",
                                                               "authorization",
                                                               "cache-control",
                                                               "connection",
                                                               "content-base",
                                                               "content-encoding",
                                                               "content-language",
                                                               "content-length",
                                                               "content-location",
                                                               "content-md5",
                                                               "content-range",
                                                               "content-type",
                                                               "date",
                                                               "etag",
                                                               "expect",
                                                               "expires",
                                                               "from",
                                                               "host",
                                                               "if-match",
                                                               "if-modified-since",
                                                               "if-none-match",
                                                               "if-range",
                                                               "if-unmodified-since",
                                                               "last-modified",
                                                               "location",
                                                               "max-forwards",
                                                               "pragma",
                                                               "proxy-authenticate",
                                                               "proxy-authorization",
                                                               "range",
                                                               "referer",
                                                               "retry-after",
                                                               "server",
                                                               "te",
                                                               "trailer",
                                                               "transfer-encoding",
                                                               "upgrade",
                                                               "user-agent",
                                                               "vary",
                                                               "via",
                                                               "warning",
                                                               "www-authenticate",
                                                               "method",
                                                               "get",
                                                               "status",
                                                               "200 OK",
                                                               "version",
                                                               "HTTP/1.1",
                                                               "url",
                                                               "public",
                                                               "set-cookie",
                                                               "keep-alive",
                                                               "origin"};
constexpr std::string_view kDictionaryTail =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
    "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
    "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, "
    "Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,"
    "application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch"
    "charset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

void put32(std::string& out, std::uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

std::uint32_t get32(std::string_view in, std::size_t at) {
  auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i]));
  };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

std::string buildDictionary() {
  std::string d;
  for (std::string_view w : kDictionaryWords) {
    put32(d, static_cast<std::uint32_t>(w.size()));
    d.append(w);
  }
  d.append(kDictionaryTail);
  return d;
}

// The 8-byte header of a control frame, then its payload.
std::string controlFrame(FrameType type, std::uint8_t flags, std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeader + payload.size());
  put32(out, 0x80000000u | kVersion << 16 | static_cast<std::uint16_t>(type));
  put32(out, static_cast<std::uint32_t>(flags) << 24 | static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

}  // namespace

std::string_view headerDictionary() {
  static const std::string kDictionary = buildDictionary();
  return kDictionary;
}

std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

FrameReader::FrameReader() : inflate_(std::make_unique<z_stream>()) {
  std::memset(inflate_.get(), 0, sizeof(z_stream));
  inflateInit(inflate_.get());
}

FrameReader::~FrameReader() {
  inflateEnd(inflate_.get());
}

Result<Headers> FrameReader::decodeHeaders(std::string_view block) {
  // Inflate the whole block (the peer flushed at its end) with the shared context.
  std::string raw;
  z_stream* z = inflate_.get();
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  z->avail_in = static_cast<uInt>(block.size());
  std::array<char, 4096> out;
  for (;;) {
    z->next_out = reinterpret_cast<Bytef*>(out.data());
    z->avail_out = static_cast<uInt>(out.size());
    int rc = ::inflate(z, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      auto d = headerDictionary();
      if (inflateSetDictionary(z, reinterpret_cast<const Bytef*>(d.data()),
                               static_cast<uInt>(d.size())) != Z_OK)
        return fail(Code::kInvalidArgument, "spdy: header block dictionary mismatch");
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return fail(Code::kInvalidArgument, "spdy: corrupt header block (zlib {})", rc);
    raw.append(out.data(), out.size() - z->avail_out);
    if (raw.size() > kMaxFrameLength)
      return fail(Code::kInvalidArgument, "spdy: header block too large");
    if ((z->avail_in == 0 && z->avail_out != 0) || rc == Z_BUF_ERROR) break;
  }
  // count, then (length, name, length, value) pairs, all lengths 32-bit big-endian.
  Headers headers;
  std::size_t at = 0;
  auto take = [&](std::string& s) -> bool {
    if (raw.size() - at < 4) return false;
    std::uint32_t n = get32(raw, at);
    at += 4;
    if (raw.size() - at < n) return false;
    s.assign(raw, at, n);
    at += n;
    return true;
  };
  if (raw.size() < 4) return fail(Code::kInvalidArgument, "spdy: short header block");
  std::uint32_t count = get32(raw, 0);
  at = 4;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string name, value;
    if (!take(name) || !take(value))
      return fail(Code::kInvalidArgument, "spdy: truncated header block");
    if (name.empty()) return fail(Code::kInvalidArgument, "spdy: empty header name");
    headers.emplace_back(std::move(name), std::move(value));
  }
  return headers;
}

Status FrameReader::parseControl(Frame& f, std::string_view p) {
  auto need = [&](std::size_t n) -> Status {
    if (p.size() < n)
      return fail(Code::kInvalidArgument, "spdy: control frame type {} too short ({} bytes)",
                  static_cast<int>(f.type), p.size());
    return {};
  };
  switch (f.type) {
    case FrameType::kSynStream:
      BERTH_TRY(need(10));
      f.streamId = get32(p, 0) & 0x7fffffff;
      f.associatedStreamId = get32(p, 4) & 0x7fffffff;
      f.priority = static_cast<std::uint8_t>(static_cast<unsigned char>(p[8]) >> 5);
      f.headers = BERTH_TRY(decodeHeaders(p.substr(10)));
      break;
    case FrameType::kSynReply:
    case FrameType::kHeaders:
      BERTH_TRY(need(4));
      f.streamId = get32(p, 0) & 0x7fffffff;
      f.headers = BERTH_TRY(decodeHeaders(p.substr(4)));
      break;
    case FrameType::kRstStream:
      BERTH_TRY(need(8));
      f.streamId = get32(p, 0) & 0x7fffffff;
      f.status = get32(p, 4);
      break;
    case FrameType::kPing:
      BERTH_TRY(need(4));
      f.pingId = get32(p, 0);
      break;
    case FrameType::kGoAway:
      BERTH_TRY(need(8));
      f.lastGoodStreamId = get32(p, 0) & 0x7fffffff;
      f.status = get32(p, 4);
      break;
    case FrameType::kWindowUpdate:
      BERTH_TRY(need(8));
      f.streamId = get32(p, 0) & 0x7fffffff;
      f.deltaWindowSize = get32(p, 4) & 0x7fffffff;
      break;
    case FrameType::kSettings:
      break;  // nothing we act on
    default:
      return fail(Code::kInvalidArgument, "spdy: unknown control frame type {}",
                  static_cast<int>(f.type));
  }
  if (f.streamId == 0 && (f.type == FrameType::kSynStream || f.type == FrameType::kSynReply))
    return fail(Code::kInvalidArgument, "spdy: stream id 0 is not allowed");
  return {};
}

Result<std::optional<Frame>> FrameReader::next() {
  if (buffer_.size() < kFrameHeader) return std::nullopt;
  std::uint32_t word0 = get32(buffer_, 0), word1 = get32(buffer_, 4);
  std::uint32_t length = word1 & 0xffffff;
  if (length > kMaxFrameLength)
    return fail(Code::kInvalidArgument, "spdy: frame of {} bytes is too large", length);
  if (buffer_.size() < kFrameHeader + length) return std::nullopt;
  Frame f;
  f.flags = static_cast<std::uint8_t>(word1 >> 24);
  std::string_view payload = std::string_view(buffer_).substr(kFrameHeader, length);
  if (word0 & 0x80000000u) {
    std::uint16_t version = static_cast<std::uint16_t>((word0 >> 16) & 0x7fff);
    if (version != kVersion)
      return fail(Code::kInvalidArgument, "spdy: unsupported version {}", version);
    f.type = static_cast<FrameType>(word0 & 0xffff);
    BERTH_TRY(parseControl(f, payload));
  } else {
    f.type = FrameType::kData;
    f.streamId = word0 & 0x7fffffff;
    if (f.streamId == 0) return fail(Code::kInvalidArgument, "spdy: data frame on stream 0");
    f.data.assign(payload);
  }
  buffer_.erase(0, kFrameHeader + length);
  return f;
}

FrameWriter::FrameWriter() : deflate_(std::make_unique<z_stream>()) {
  std::memset(deflate_.get(), 0, sizeof(z_stream));
  deflateInit(deflate_.get(), Z_BEST_COMPRESSION);
  auto d = headerDictionary();
  deflateSetDictionary(deflate_.get(), reinterpret_cast<const Bytef*>(d.data()),
                       static_cast<uInt>(d.size()));
}

FrameWriter::~FrameWriter() {
  deflateEnd(deflate_.get());
}

std::string FrameWriter::encodeHeaders(const Headers& headers) {
  std::string raw;
  put32(raw, static_cast<std::uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    put32(raw, static_cast<std::uint32_t>(name.size()));
    raw.append(name);
    put32(raw, static_cast<std::uint32_t>(value.size()));
    raw.append(value);
  }
  std::string out;
  z_stream* z = deflate_.get();
  z->next_in = reinterpret_cast<Bytef*>(raw.data());
  z->avail_in = static_cast<uInt>(raw.size());
  std::array<char, 4096> buf;
  do {
    z->next_out = reinterpret_cast<Bytef*>(buf.data());
    z->avail_out = static_cast<uInt>(buf.size());
    ::deflate(z, Z_SYNC_FLUSH);
    out.append(buf.data(), buf.size() - z->avail_out);
  } while (z->avail_out == 0);
  return out;
}

std::string FrameWriter::synStream(std::uint32_t streamId, const Headers& h, std::uint8_t flags) {
  std::string p;
  put32(p, streamId & 0x7fffffff);
  put32(p, 0);
  p.append(2, '\0');  // priority and slot
  p += encodeHeaders(h);
  return controlFrame(FrameType::kSynStream, flags, p);
}

std::string FrameWriter::synReply(std::uint32_t streamId, const Headers& h, std::uint8_t flags) {
  std::string p;
  put32(p, streamId & 0x7fffffff);
  p += encodeHeaders(h);
  return controlFrame(FrameType::kSynReply, flags, p);
}

std::string FrameWriter::headers(std::uint32_t streamId, const Headers& h, std::uint8_t flags) {
  std::string p;
  put32(p, streamId & 0x7fffffff);
  p += encodeHeaders(h);
  return controlFrame(FrameType::kHeaders, flags, p);
}

std::string FrameWriter::data(std::uint32_t streamId, std::string_view bytes, std::uint8_t flags) {
  std::string out;
  out.reserve(kFrameHeader + bytes.size());
  put32(out, streamId & 0x7fffffff);
  put32(out, static_cast<std::uint32_t>(flags) << 24 | static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
  return out;
}

std::string FrameWriter::rstStream(std::uint32_t streamId, std::uint32_t status) {
  std::string p;
  put32(p, streamId & 0x7fffffff);
  put32(p, status);
  return controlFrame(FrameType::kRstStream, 0, p);
}

std::string FrameWriter::ping(std::uint32_t id) {
  std::string p;
  put32(p, id);
  return controlFrame(FrameType::kPing, 0, p);
}

std::string FrameWriter::goAway(std::uint32_t lastGoodStreamId, std::uint32_t status) {
  std::string p;
  put32(p, lastGoodStreamId & 0x7fffffff);
  put32(p, status);
  return controlFrame(FrameType::kGoAway, 0, p);
}

std::string FrameWriter::windowUpdate(std::uint32_t streamId, std::uint32_t delta) {
  std::string p;
  put32(p, streamId & 0x7fffffff);
  put32(p, delta & 0x7fffffff);
  return controlFrame(FrameType::kWindowUpdate, 0, p);
}

}  // namespace berth::shim::spdy
