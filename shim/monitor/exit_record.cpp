#include "shim/monitor/exit_record.h"

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "shim/monitor/cri_log.h"

namespace berth::shim {

std::string exitRecordToJson(const ExitRecord& record) {
  timespec ts{static_cast<time_t>(record.exitedAtNs / 1000000000),
              static_cast<long>(record.exitedAtNs % 1000000000)};
  nlohmann::ordered_json j = {{"exitCode", record.exitCode},
                              {"signal", record.signal},
                              {"exitedAt", formatRfc3339Nano(ts)},
                              {"exitedAtNs", record.exitedAtNs}};
  return j.dump();
}

Result<ExitRecord> parseExitRecord(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return fail(Code::kDataLoss, "exit record is not a JSON object");
  auto integer = [&](const char* key) -> Result<std::int64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
      return fail(Code::kDataLoss, "exit record: {} is missing or not an integer", key);
    return it->get<std::int64_t>();
  };
  ExitRecord r;
  r.exitCode = static_cast<int>(BERTH_TRY(integer("exitCode")));
  r.signal = static_cast<int>(BERTH_TRY(integer("signal")));
  r.exitedAtNs = BERTH_TRY(integer("exitedAtNs"));
  return r;
}

Status writeExitRecord(const std::filesystem::path& path, const ExitRecord& record) {
  return withContext(writeFileAtomic(path, exitRecordToJson(record) + "\n", 0600),
                     fmt::format("write exit file {}", path.string()));
}

Result<ExitRecord> readExitRecord(const std::filesystem::path& path) {
  std::string data = BERTH_TRY(readFile(path));
  return withContext(parseExitRecord(data), path.string());
}

}  // namespace berth::shim
