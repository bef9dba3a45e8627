#include "common/command_line.h"

#include <cstdio>
#include <string>

namespace berth {

namespace {

// The (sub)command whose arguments are being read: the last one named on the command line.
const CLI::App* innermostCommand(const CLI::App& app) {
  const CLI::App* at = &app;
  for (auto parsed = at->get_subcommands(); !parsed.empty(); parsed = at->get_subcommands())
    at = parsed.back();
  return at;
}

// The first word left over that is not an option: a command the app does not have, when the
// innermost command takes commands or help was asked for. Commands that pass their words on
// (prefix commands, extras allowed) have none.
std::optional<std::string> unknownCommand(const CLI::App& app, bool helpAsked) {
  const CLI::App* at = innermostCommand(app);
  if (at->get_prefix_command() || at->get_allow_extras()) return std::nullopt;
  bool takesCommands = !at->get_subcommands([](const CLI::App* sub) {
                            return !sub->get_name().empty();  // not an option group
                          }).empty();
  if (!takesCommands && !helpAsked) return std::nullopt;
  for (const std::string& word : app.remaining(true))
    if (!word.empty() && word[0] != '-') return word;
  return std::nullopt;
}

}  // namespace

std::optional<int> parseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    bool help = dynamic_cast<const CLI::CallForHelp*>(&e) != nullptr ||
                dynamic_cast<const CLI::CallForAllHelp*>(&e) != nullptr;
    if (auto word = unknownCommand(app, help)) {
      std::fprintf(stderr, "No help topic for '%s'\n", word->c_str());
      return 1;
    }
    // Prints help or the version to stdout (0), or the error to stderr.
    int code = app.exit(e);
    return code == 0 ? 0 : 1;
  }
}

}  // namespace berth
