#include "kubeapi/watch_decoder.h"

#include <fmt/format.h>

#include "kubeapi/go_format.h"

namespace berth::kubeapi {

std::optional<WatchEvent::Type> WatchEvent::parseType(std::string_view s) {
  if (s == "ADDED") return Type::kAdded;
  if (s == "MODIFIED") return Type::kModified;
  if (s == "DELETED") return Type::kDeleted;
  if (s == "BOOKMARK") return Type::kBookmark;
  if (s == "ERROR") return Type::kError;
  return std::nullopt;
}

std::string_view WatchEvent::typeName(Type t) {
  switch (t) {
    case Type::kAdded:
      return "ADDED";
    case Type::kModified:
      return "MODIFIED";
    case Type::kDeleted:
      return "DELETED";
    case Type::kBookmark:
      return "BOOKMARK";
    case Type::kError:
      return "ERROR";
  }
  return "ERROR";
}

Result<WatchEvent> decodeWatchEvent(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(Code::kDataLoss, "watch event is not a JSON object");
  auto type = j.find("type");
  if (type == j.end() || !type->is_string())
    return fail(Code::kDataLoss, "watch event has no type");
  auto parsed = WatchEvent::parseType(type->get<std::string>());
  if (!parsed)
    return fail(Code::kDataLoss, "watch event has an unknown type {}", type->get<std::string>());
  auto object = j.find("object");
  if (object == j.end() || !object->is_object())
    return fail(Code::kDataLoss, "watch event {} has no object", type->get<std::string>());
  return WatchEvent{*parsed, std::move(*object)};
}

Result<std::vector<WatchEvent>> WatchDecoder::feed(std::string_view chunk) {
  buffer_.append(chunk);
  std::vector<WatchEvent> events;
  for (; pos_ < buffer_.size(); ++pos_) {
    char c = buffer_[pos_];
    if (inString_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        inString_ = false;
      }
      continue;
    }
    if (depth_ == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        scanned_start_ = pos_ + 1;
        continue;
      }
      if (c != '{')
        return fail(Code::kDataLoss, "watch stream: unexpected {} between events",
                    goQuote(std::string_view(&c, 1)));
      scanned_start_ = pos_;
    }
    if (c == '"') {
      inString_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        auto ev = decodeWatchEvent(
            std::string_view(buffer_).substr(scanned_start_, pos_ + 1 - scanned_start_));
        if (!ev) return std::unexpected(std::move(ev).error());
        events.push_back(std::move(*ev));
        scanned_start_ = pos_ + 1;
      }
    }
  }
  // Drop what was consumed so the buffer holds only the incomplete event.
  if (scanned_start_ > 0) {
    buffer_.erase(0, scanned_start_);
    pos_ -= scanned_start_;
    scanned_start_ = 0;
  }
  return events;
}

}  // namespace berth::kubeapi
