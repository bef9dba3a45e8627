#pragma once
// Splits a watch response body into WatchEvents. The apiserver writes one JSON object per event,
// newline-terminated, in chunks that may cut an event anywhere; client-go reads the stream with
// a JSON decoder, so values are found by their braces (strings and escapes respected) and any
// whitespace between them is accepted.
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kubeapi/watch.h"

namespace berth::kubeapi {

class WatchDecoder {
 public:
  // Consumes a chunk and returns the events it completed. An event that is not valid JSON, has
  // an unknown type or no object is an error (the stream is then unusable).
  [[nodiscard]] Result<std::vector<WatchEvent>> feed(std::string_view chunk);
  // Bytes of an incomplete event held back.
  size_t pending() const { return buffer_.size() - scanned_start_; }

 private:
  std::string buffer_;
  size_t scanned_start_ = 0;  // where the current (incomplete) value starts
  size_t pos_ = 0;            // how far the scan went
  int depth_ = 0;
  bool inString_ = false;
  bool escaped_ = false;
};

// Decodes one event object ({"type":..., "object":...}).
[[nodiscard]] Result<WatchEvent> decodeWatchEvent(std::string_view json);

}  // namespace berth::kubeapi
