#pragma once
// Watch events and the consumer side of a watch (client-go's watch.Interface): a stream of
// {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}} read one event at a time
// with a timeout, stopped by the consumer or closed by the server.
#include <chrono>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kubeapi/api_error.h"

namespace berth::kubeapi {

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  nlohmann::json object;  // the object, or a Status for kError

  static std::optional<Type> parseType(std::string_view s);
  static std::string_view typeName(Type t);
};

struct WatchNext {
  enum class Kind {
    kEvent,    // `event` is set
    kTimeout,  // nothing arrived in time; the watch goes on
    kClosed,   // the stream ended: by the server (error unset: a clean end, e.g. its timeout)
               // or by a failure (error set), or by stop()
  };
  Kind kind = Kind::kTimeout;
  WatchEvent event;
  std::optional<ApiError> error;
};

class Watcher {
 public:
  virtual ~Watcher() = default;
  [[nodiscard]] virtual WatchNext next(std::chrono::milliseconds timeout) = 0;
  // Ends the watch; next() then returns kClosed. Safe from any thread.
  virtual void stop() = 0;
};

}  // namespace berth::kubeapi
