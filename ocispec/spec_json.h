#pragma once
// Parsing and writing config.json and state JSON. Parsing is strict about what it reads and
// lenient about what it does not know: unknown properties are ignored (config.md "Extensibility"),
// but a wrong type, a missing REQUIRED property or an invalid value is an error whose message
// starts with the JSON path, e.g. "process.args: must be a non-empty array".

#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "ocispec/runtime_spec.h"

namespace berth::ocispec {

// Parses and validates a config.json document. Errors are kInvalidArgument.
[[nodiscard]] Result<Spec> parseSpec(std::string_view json);
// Reads and parses a file; errors are prefixed with the file's path.
[[nodiscard]] Result<Spec> loadSpec(const std::filesystem::path& configJson);
// Parses a lone process object (runc exec --process process.json), validated as config's process.
[[nodiscard]] Result<Process> parseProcess(std::string_view json);

// Serialises back to JSON: only set optionals and non-empty containers are written.
nlohmann::ordered_json toJson(const Spec& spec);
nlohmann::ordered_json toJson(const Process& process);
nlohmann::ordered_json toJson(const Resources& resources);
nlohmann::ordered_json toJson(const State& state);
[[nodiscard]] Result<State> parseState(std::string_view json);

}  // namespace berth::ocispec
