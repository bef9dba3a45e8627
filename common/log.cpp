#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>

#include <fmt/chrono.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <nlohmann/json.hpp>

namespace berth {

namespace {

std::string_view logrusLevel(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warning";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "fatal";
    default:
      return "info";
  }
}

// Writes each record with one write(2) on an O_APPEND fd, so lines from concurrent runtime
// processes sharing a log file never interleave.
class LogrusSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  LogrusSink(int fd, bool ownsFd, LogFormat format) : fd_(fd), ownsFd_(ownsFd), format_(format) {}
  ~LogrusSink() override {
    if (ownsFd_) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line = formatLogrus(
        format_, msg.level, std::string_view(msg.payload.data(), msg.payload.size()), msg.time);
    line += '\n';
    [[maybe_unused]] ssize_t n = ::write(fd_, line.data(), line.size());
  }
  void flush_() override {}

 private:
  int fd_;
  bool ownsFd_;
  LogFormat format_;
};

}  // namespace

std::string formatLogrus(LogFormat format, spdlog::level::level_enum level, std::string_view msg,
                         std::chrono::system_clock::time_point when) {
  // RFC 3339 in UTC to the second: logrus' default timestamp, which runc keeps.
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(when);
  std::string time = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(secs));
  if (format == LogFormat::kLogrusJson) {
    nlohmann::ordered_json j;
    j["level"] = logrusLevel(level);
    j["msg"] = std::string(msg);
    j["time"] = time;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  // logrus quotes values that need it; msg is always quoted here, with JSON-style escaping.
  nlohmann::json quoted = std::string(msg);
  return fmt::format("time=\"{}\" level={} msg={}", time, logrusLevel(level),
                     quoted.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::shared_ptr<spdlog::logger> setupLogging(const LogOptions& options) {
  spdlog::sink_ptr sink;
  if (options.format == LogFormat::kPattern) {
    if (options.path.empty())
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.path);
  } else {
    int fd = STDERR_FILENO;
    bool owns = false;
    if (!options.path.empty()) {
      fd = ::open(options.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        fd = STDERR_FILENO;
      else
        owns = true;
    }
    sink = std::make_shared<LogrusSink>(fd, owns, options.format);
  }
  auto logger = std::make_shared<spdlog::logger>(options.name, std::move(sink));
  logger->set_level(options.level);
  spdlog::set_default_logger(logger);
  return logger;
}

std::shared_ptr<spdlog::logger> namedLogger(const std::string& name) {
  auto log = spdlog::get(name);
  return log ? log : spdlog::default_logger();
}

}  // namespace berth
