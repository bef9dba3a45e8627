#include "controlplane/storage/backend.h"

namespace berth::controlplane::storage {

Result<std::optional<KeyValue>> Backend::get(std::string_view key) {
  auto result = BERTH_TRY(range(key, {}, 0, 0));
  if (result.kvs.empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(result.kvs.front()));
}

std::string prefixEnd(std::string_view prefix) {
  // etcd's rule: the prefix with its last byte below 0xff incremented (trailing 0xff bytes
  // dropped); "\0" when every byte is 0xff, which means "no upper bound".
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

bool inRange(std::string_view key, std::string_view start, std::string_view end) {
  if (end.empty()) return key == start;
  if (key < start) return false;
  return end == std::string_view("\0", 1) || key < end;
}

}  // namespace berth::controlplane::storage
