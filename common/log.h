#pragma once
// Logging setup: one named spdlog logger per component. The runtime writes the log formats runc
// writes (logrus text or JSON lines with level, msg, time) because containerd parses them.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace berth {

enum class LogFormat { kPattern, kLogrusText, kLogrusJson };

struct LogOptions {
  std::string name;  // the logger's name, e.g. "runtime"
  std::string path;  // file to append to; empty: stderr
  LogFormat format = LogFormat::kPattern;
  spdlog::level::level_enum level = spdlog::level::info;
};

// Creates the logger, registers it as spdlog's default and returns it. Fails when the file can't
// be opened.
std::shared_ptr<spdlog::logger> setupLogging(const LogOptions& options);

// The logger a daemon registered under `name`, else spdlog's default: for library code that logs
// as whichever daemon links it.
std::shared_ptr<spdlog::logger> namedLogger(const std::string& name);

// One line in logrus' format (no trailing newline); exposed for tests.
std::string formatLogrus(LogFormat format, spdlog::level::level_enum level, std::string_view msg,
                         std::chrono::system_clock::time_point when);

}  // namespace berth
