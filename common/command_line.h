#pragma once
// CLI11 parsing with runc's answers to a command line that can't run: an unknown command is an
// error even when help is asked for, so a script probing for a command is not told it exists
// (runc: "No help topic for 'foo'"), and every usage error exits 1; help and version exit 0.

#include <optional>

#include <CLI/CLI.hpp>

namespace berth {

// Parses argv into `app` (running the callbacks of the chosen commands). nullopt: go on;
// otherwise the message is printed and this is the exit status.
[[nodiscard]] std::optional<int> parseCommandLine(CLI::App& app, int argc, char** argv);

}  // namespace berth
