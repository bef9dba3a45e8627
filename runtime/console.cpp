#include "runtime/console.h"

#include "common/unix_socket.h"

namespace berth::runtime {

Result<UniqueFd> connectConsoleSocket(const std::string& path) {
  return withContext(connectUnix(path), "console socket");
}

}  // namespace berth::runtime
