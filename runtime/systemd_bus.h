#pragma once
// A minimal D-Bus client for systemd's manager, enough for the systemd cgroup driver: start a
// transient scope for a pid with unit properties, and stop it. It speaks to systemd's private
// socket (/run/systemd/private, root only, no bus daemon in between) with EXTERNAL auth.
// berth-runtime links statically and Debian ships no static libsystemd, hence this instead of
// sd-bus; the wire format is D-Bus 1.0 (little-endian), the calls are the ones sd-bus/go-systemd
// make for runc.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::runtime {

// A unit property value: D-Bus signatures s, b, t, au, ay.
using UnitValue =
    std::variant<std::string, bool, uint64_t, std::vector<uint32_t>, std::vector<uint8_t>>;
struct UnitProperty {
  std::string name;
  UnitValue value;
};

class SystemdBus {
 public:
  // Connects to `socketPath` (default: systemd's private socket) and authenticates.
  [[nodiscard]] static Result<SystemdBus> connect(
      const std::string& socketPath = "/run/systemd/private");

  // org.freedesktop.systemd1.Manager.StartTransientUnit(name, "fail", properties, []).
  [[nodiscard]] Status startTransientUnit(const std::string& name,
                                          const std::vector<UnitProperty>& properties);
  // org.freedesktop.systemd1.Manager.StopUnit(name, "replace"); a unit that is not loaded is fine.
  [[nodiscard]] Status stopUnit(const std::string& name);

  // The D-Bus message for a call, exposed for unit tests of the encoding.
  static std::string encodeCall(uint32_t serial, const std::string& member,
                                const std::string& signature, const std::string& body);
  static std::string encodeStartTransientUnitBody(const std::string& name,
                                                  const std::vector<UnitProperty>& properties);

 private:
  explicit SystemdBus(UniqueFd fd) : fd_(std::move(fd)) {}
  // Sends a call and waits for its reply; a D-Bus error becomes an Error with its message.
  [[nodiscard]] Status call(const std::string& member, const std::string& signature,
                            const std::string& body);
  UniqueFd fd_;
  uint32_t serial_ = 0;
};

}  // namespace berth::runtime
