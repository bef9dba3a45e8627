#include "runtime/systemd_bus.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/unix_socket.h"

namespace berth::runtime {

namespace {

constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kInterface = "org.freedesktop.systemd1.Manager";
constexpr const char* kDestination = "org.freedesktop.systemd1";

// D-Bus marshalling (little-endian): every value aligned to its type's size from the start of
// the message.
class Writer {
 public:
  explicit Writer(size_t base = 0) : base_(base) {}
  std::string& data() { return out_; }
  void align(size_t n) {
    while ((base_ + out_.size()) % n)
      out_.push_back('\0');
  }
  void byte(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    align(4);
    out_.append(reinterpret_cast<const char*>(&v), 4);
  }
  void u64(uint64_t v) {
    align(8);
    out_.append(reinterpret_cast<const char*>(&v), 8);
  }
  void str(const std::string& s) {  // s and o
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
    out_.push_back('\0');
  }
  void sig(const std::string& s) {  // g
    byte(static_cast<uint8_t>(s.size()));
    out_ += s;
    out_.push_back('\0');
  }
  // Arrays: the length covers the elements only, after the padding to their alignment.
  size_t beginArray(size_t elementAlign) {
    u32(0);
    size_t lengthAt = out_.size() - 4;
    align(elementAlign);
    start_ = out_.size();
    return lengthAt;
  }
  void endArray(size_t lengthAt, size_t start) {
    uint32_t len = static_cast<uint32_t>(out_.size() - start);
    std::memcpy(&out_[lengthAt], &len, 4);
  }
  size_t lastArrayStart() const { return start_; }

 private:
  size_t base_;
  std::string out_;
  size_t start_ = 0;
};

void writeVariant(Writer& w, const UnitValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          w.sig("s");
          w.str(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          w.sig("b");
          w.u32(v ? 1 : 0);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          w.sig("t");
          w.u64(v);
        } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
          w.sig("au");
          size_t at = w.beginArray(4);
          size_t start = w.lastArrayStart();
          for (uint32_t x : v)
            w.u32(x);
          w.endArray(at, start);
        } else {
          w.sig("ay");
          size_t at = w.beginArray(1);
          size_t start = w.lastArrayStart();
          for (uint8_t x : v)
            w.byte(x);
          w.endArray(at, start);
        }
      },
      value);
}

Result<std::string> readExactly(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    // systemd answers in milliseconds; a stuck manager must not hang the runtime forever.
    int r = ::poll(&p, 1, 30000);
    if (r == 0) return fail(Code::kDeadlineExceeded, "systemd did not answer within 30s");
    if (r < 0) {
      if (errno == EINTR) continue;
      return failErrno("poll systemd socket");
    }
    ssize_t k = ::read(fd, out.data() + got, n - got);
    if (k == 0) return fail(Code::kUnavailable, "systemd closed the connection");
    if (k < 0) {
      if (errno == EINTR) continue;
      return failErrno("read from systemd");
    }
    got += static_cast<size_t>(k);
  }
  return out;
}

uint32_t u32At(const std::string& s, size_t at) {
  uint32_t v = 0;
  if (at + 4 <= s.size()) std::memcpy(&v, s.data() + at, 4);
  return v;
}

}  // namespace

Result<SystemdBus> SystemdBus::connect(const std::string& socketPath) {
  UniqueFd fd = BERTH_TRY_CTX(connectUnix(socketPath), "connect to systemd (is systemd PID 1?)");
  // SASL EXTERNAL with our uid in hex-encoded decimal, then BEGIN.
  std::string uid = std::to_string(::geteuid()), hex;
  for (char c : uid)
    hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  BERTH_TRY(writeAll(fd.get(), std::string(1, '\0') + "AUTH EXTERNAL " + hex + "\r\n"));
  std::string line;
  while (line.find("\r\n") == std::string::npos) {
    auto chunk = BERTH_TRY(readExactly(fd.get(), 1));
    line += chunk;
    if (line.size() > 512) break;
  }
  if (line.rfind("OK ", 0) != 0)
    return fail(Code::kUnauthenticated, "systemd refused authentication: {}", line);
  BERTH_TRY(writeAll(fd.get(), "BEGIN\r\n"));
  return SystemdBus(std::move(fd));
}

std::string SystemdBus::encodeStartTransientUnitBody(const std::string& name,
                                                     const std::vector<UnitProperty>& properties) {
  Writer w;
  w.str(name);
  w.str("fail");
  size_t at = w.beginArray(8);
  size_t start = w.lastArrayStart();
  for (const auto& p : properties) {
    w.align(8);  // struct (sv)
    w.str(p.name);
    writeVariant(w, p.value);
  }
  w.endArray(at, start);
  size_t aux = w.beginArray(8);  // a(sa(sv)): no auxiliary units
  w.endArray(aux, w.lastArrayStart());
  return w.data();
}

std::string SystemdBus::encodeCall(uint32_t serial, const std::string& member,
                                   const std::string& signature, const std::string& body) {
  Writer w;
  w.byte('l');  // little-endian
  w.byte(1);    // METHOD_CALL
  w.byte(0);    // flags
  w.byte(1);    // protocol version
  w.u32(static_cast<uint32_t>(body.size()));
  w.u32(serial);
  size_t at = w.beginArray(8);
  size_t start = w.lastArrayStart();
  auto field = [&](uint8_t code, const char* type, const std::string& value) {
    w.align(8);
    w.byte(code);
    w.sig(type);
    if (type[0] == 'g')
      w.sig(value);
    else
      w.str(value);
  };
  field(1, "o", kPath);
  field(2, "s", kInterface);
  field(3, "s", member);
  field(6, "s", kDestination);
  if (!signature.empty()) field(8, "g", signature);
  w.endArray(at, start);
  w.align(8);
  return w.data() + body;
}

Status SystemdBus::call(const std::string& member, const std::string& signature,
                        const std::string& body) {
  uint32_t serial = ++serial_;
  BERTH_TRY(writeAll(fd_.get(), encodeCall(serial, member, signature, body)));
  // Messages until the reply to ours (the private socket sends no signals we did not ask for).
  for (;;) {
    auto fixed = BERTH_TRY(readExactly(fd_.get(), 16));
    uint8_t type = static_cast<uint8_t>(fixed[1]);
    uint32_t bodyLen = u32At(fixed, 4);
    uint32_t fieldsLen = u32At(fixed, 12);
    size_t headerLen = 16 + fieldsLen;
    size_t padded = (headerLen + 7) & ~size_t{7};
    auto rest = BERTH_TRY(readExactly(fd_.get(), padded - 16 + bodyLen));
    std::string message = fixed + rest;
    // Header fields: REPLY_SERIAL (5, u), ERROR_NAME (4, s).
    uint32_t replySerial = 0;
    std::string errorName;
    for (size_t pos = 16; pos < headerLen;) {
      pos = (pos + 7) & ~size_t{7};
      if (pos >= headerLen) break;
      uint8_t code = static_cast<uint8_t>(message[pos]);
      uint8_t sigLen = static_cast<uint8_t>(message[pos + 1]);
      char t = message[pos + 2];
      pos += 2 + sigLen + 1;
      if (t == 'u') {
        pos = (pos + 3) & ~size_t{3};
        if (code == 5) replySerial = u32At(message, pos);
        pos += 4;
      } else if (t == 's' || t == 'o') {
        pos = (pos + 3) & ~size_t{3};
        uint32_t len = u32At(message, pos);
        if (code == 4) errorName = message.substr(pos + 4, len);
        pos += 4 + len + 1;
      } else if (t == 'g') {
        uint8_t len = static_cast<uint8_t>(message[pos]);
        pos += 1 + len + 1;
      } else {
        break;  // no other types in the fields we read up to here
      }
    }
    spdlog::debug("systemd: message type {} reply to {} (ours is {}) {}", type, replySerial, serial,
                  errorName);
    if (replySerial != serial) continue;  // a signal or someone else's reply
    if (type == 2) return {};             // METHOD_RETURN
    if (type == 3) {                      // ERROR: body starts with the message string
      std::string text;
      if (bodyLen >= 4) text = message.substr(padded + 4, u32At(message, padded));
      return fail(Code::kFailedPrecondition, "systemd {}: {} ({})", member, text, errorName);
    }
  }
}

Status SystemdBus::startTransientUnit(const std::string& name,
                                      const std::vector<UnitProperty>& properties) {
  return call("StartTransientUnit", "ssa(sv)a(sa(sv))",
              encodeStartTransientUnitBody(name, properties));
}

Status SystemdBus::stopUnit(const std::string& name) {
  Writer w;
  w.str(name);
  w.str("replace");
  auto st = call("StopUnit", "ss", w.data());
  if (!st && st.error().message().find("NoSuchUnit") != std::string::npos) return {};
  return st;
}

}  // namespace berth::runtime
