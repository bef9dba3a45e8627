#pragma once
// What berth-cri and berth-monitor agree on (berth-monitor links no gRPC; berth-cri links no
// monitor code): the socket names in the monitor's directory, the attach frame layout, the
// control requests and the start-up report on the sync fd.
//
//   <socket-dir>/attach   SOCK_SEQPACKET. Monitor → client: one byte kAttachStdout/kAttachStderr
//                         then up to kAttachFrameSize bytes of output. Client → monitor: raw bytes
//                         for the container's stdin; the client's close ends its attach (and
//                         closes stdin when the container was created with --stdin-once).
//   <socket-dir>/ctl      SOCK_SEQPACKET, one request per message, one reply per request:
//                         "reopen" (the CRI log file, after the kubelet rotated it),
//                         "resize <rows> <cols>" (the tty), "close-stdin".
//                         Replies: "ok" or "error <message>".
//   --sync-fd             once: {"pid":<container init pid>} or {"error":"<message>"}, then EOF.
//   --exit-file           written atomically when the init exits: see exit_record.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace berth::shim {

inline constexpr std::string_view kAttachSocketName = "attach";
inline constexpr std::string_view kCtlSocketName = "ctl";

inline constexpr std::uint8_t kAttachStdout = 1;
inline constexpr std::uint8_t kAttachStderr = 2;
inline constexpr std::size_t kAttachFrameSize = 8192;

inline constexpr std::string_view kCtlReopen = "reopen";
inline constexpr std::string_view kCtlResize = "resize";
inline constexpr std::string_view kCtlCloseStdin = "close-stdin";
inline constexpr std::string_view kCtlOk = "ok";

}  // namespace berth::shim
