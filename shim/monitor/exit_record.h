#pragma once
// How a container's init ended, as berth-monitor records it in its --exit-file for berth-cri
// (which may have been down when it happened):
//   {"exitCode":137,"signal":9,"exitedAt":"2026-11-23T23:05:01.5Z","exitedAtNs":1795...}
// exitCode follows the shell convention (128+signal when killed), as ContainerStatus reports it.
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace berth::shim {

struct ExitRecord {
  int exitCode = 0;
  int signal = 0;
  std::int64_t exitedAtNs = 0;  // CLOCK_REALTIME
};

[[nodiscard]] std::string exitRecordToJson(const ExitRecord& record);
[[nodiscard]] Result<ExitRecord> parseExitRecord(std::string_view json);
// Written atomically (temp, fsync, rename): a reader sees all of it or nothing.
[[nodiscard]] Status writeExitRecord(const std::filesystem::path& path, const ExitRecord& record);
// NotFound while the container is still running.
[[nodiscard]] Result<ExitRecord> readExitRecord(const std::filesystem::path& path);

}  // namespace berth::shim
