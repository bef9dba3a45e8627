#pragma once
// Strict reading of YAML configuration files (/etc/berth/*.yaml) with yaml-cpp: every error names
// the key by its dotted path and line ("runtime_handlers.runc.type: must be runc-cli (line 7)"),
// unknown and duplicate keys are errors, and no yaml-cpp exception escapes. A separate library
// (berth_yaml) so that the static berth-runtime does not link yaml-cpp.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/result.h"

namespace berth::yaml {

// Parses a document. An empty document gives a null node. Syntax errors are kInvalidArgument
// with line and column.
[[nodiscard]] Result<YAML::Node> parse(std::string_view text);

// A mapping read key by key. Each read*() consumes its key; finish() fails on the first key that
// no read consumed. An absent key leaves the output untouched (the caller's default); an explicit
// null value (`key:` or `key: ~`) is treated as absent.
class MapReader {
 public:
  // `path` is the dotted path of the mapping ("" for the document root). A null node is an
  // empty mapping; any other non-mapping is an error.
  [[nodiscard]] static Result<MapReader> open(const YAML::Node& node, std::string path);

  [[nodiscard]] Status readString(std::string_view key, std::string& out);
  [[nodiscard]] Status readBool(std::string_view key, bool& out);
  [[nodiscard]] Status readInt(std::string_view key, int64_t& out, int64_t min, int64_t max);
  [[nodiscard]] Status readStringList(std::string_view key, std::vector<std::string>& out);
  // A nested mapping, or nullopt when the key is absent.
  [[nodiscard]] Result<std::optional<MapReader>> readMap(std::string_view key);
  // Whether the key is present with a non-null value (does not consume it).
  bool has(std::string_view key) const;
  // The keys of the mapping in document order (for maps keyed by name, e.g. handlers).
  const std::vector<std::string>& keys() const { return keys_; }

  // "<path>.<key>" (or "<key>" at the root).
  std::string pathOf(std::string_view key) const;
  // An error about a key: "<path.key>: <message> (line N)".
  Error keyError(std::string_view key, std::string_view message) const;

  [[nodiscard]] Status finish() const;

 private:
  MapReader(YAML::Node node, std::string path, std::vector<std::string> keys)
      : node_(std::move(node)), path_(std::move(path)), keys_(std::move(keys)) {}
  // The value of key, marking it consumed; nullopt when absent or null.
  std::optional<YAML::Node> take(std::string_view key);
  std::optional<YAML::Node> keyNode(std::string_view key) const;

  YAML::Node node_;
  std::string path_;
  std::vector<std::string> keys_;
  std::set<std::string, std::less<>> consumed_;
};

}  // namespace berth::yaml
